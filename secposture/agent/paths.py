"""Where the agent keeps its files: beside the agency's inventory store, one folder per agency.

(The bundle outbox is the bundle package's: ``secposture.bundle.outbox.outbox_dir``.)
"""

from __future__ import annotations

from pathlib import Path

from secposture.config.sections import AgencyConfig


def state_dir(config: AgencyConfig) -> Path:
    """The agent's folder for this agency: job store, run records and locks."""
    return config.store.path.parent / "agent" / config.agency.id


def job_store_file(config: AgencyConfig) -> Path:
    """SQLite file of the APScheduler job store (owned by one agent process at a time)."""
    return state_dir(config) / "jobs.sqlite"


def runs_file(config: AgencyConfig) -> Path:
    """JSON list of recent runs: started, finished, result, error."""
    return state_dir(config) / "runs.json"


def agent_file(config: AgencyConfig) -> Path:
    """What the running agent was started with (its schedule), for the next start to compare."""
    return state_dir(config) / "agent.json"


def agent_lock_file(config: AgencyConfig) -> Path:
    """Held by ``agent run`` for its whole life: one scheduler per job store."""
    return state_dir(config) / "agent.lock"


def sweep_lock_file(config: AgencyConfig) -> Path:
    """Held for the length of one sweep, by the agent or ``agent run --once``."""
    return state_dir(config) / "sweep.lock"
