"""Post-sweep hooks: what runs after a sweep is stored and reported (the bundle push).

A hook is any importable ``hook(config, job) -> None`` declared as an entry point in the
``secposture.post_sweep`` group, e.g. in pyproject.toml::

    [project.entry-points."secposture.post_sweep"]
    bundle_push = "secposture.bundle.push:after_sweep"

Hooks run in name order after every sweep the agent stores (complete or not). A hook that
raises does not undo the sweep: its error is recorded on the run and shown by ``agent
status``; the sweep stays stored and the hook can retry on the next run (an outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from secposture.agent.log import event, one_line
from secposture.config.sections import AgencyConfig

if TYPE_CHECKING:  # the pipeline pulls in the scanners; `agent status` must not
    from secposture.job.pipeline import JobResult

GROUP = "secposture.post_sweep"

PostSweepHook = Callable[[AgencyConfig, "JobResult"], None]


def discover_hooks() -> list[tuple[str, PostSweepHook | Exception]]:
    """Every declared hook by name; one that cannot be imported is returned as its error."""
    found: list[tuple[str, PostSweepHook | Exception]] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            found.append((ep.name, ep.load()))
        except Exception as exc:  # a broken plugin must not cost the agency its sweep
            found.append((ep.name, exc))
    return found


def run_hooks(
    config: AgencyConfig,
    job: JobResult,
    hooks: Sequence[tuple[str, PostSweepHook | Exception]] | None = None,
) -> list[str]:
    """Run each hook; return one line per failed hook (empty when all succeeded)."""
    failures: list[str] = []
    for name, hook in discover_hooks() if hooks is None else hooks:
        if isinstance(hook, Exception):
            failures.append(f"post-sweep hook {name} cannot be loaded: {one_line(hook)}")
            continue
        try:
            hook(config, job)
        except Exception as exc:  # recorded on the run, shown by `agent status`
            failures.append(f"post-sweep hook {name} failed: {one_line(exc)}")
            continue
        event("hook_done", hook=name, sweep_id=job.sweep.sweep_id)
    for line in failures:
        event("hook_failed", logging.WARNING, detail=line, sweep_id=job.sweep.sweep_id)
    return failures
