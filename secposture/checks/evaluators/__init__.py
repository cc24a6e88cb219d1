"""The evaluators: pure functions of a sweep, the inventory or a device's facts → verdicts."""
