"""Remember: the inventory store of every sweep, device identity across sweeps, and what changed.

Imports the shared model and the config, never a scanner or the judge."""
