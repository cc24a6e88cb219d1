"""The agent: a long-running scheduler that sweeps the agency's LAN on its weekly schedule.

``scheduler`` runs APScheduler, ``runner`` runs one sweep under the agency's lock and records
it in ``runs``, ``chain`` is the sweep → report → post-sweep hooks job, ``status`` reads it all
back for ``secposture agent status``.
"""
