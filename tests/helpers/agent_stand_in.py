"""Stand-in jobs for the agent tests (``agent run --job agent_stand_in:…``).

A real sweep of the lab takes about 50 s, too long to watch a scheduler fire several times,
overrun, miss and restart within a unit test. These jobs stand in for the sweep: they record
each start and end in a JSON-lines file (``AGENT_TEST_LOG``), sleep as the test asks
(``AGENT_TEST_SLEEP`` seconds) and commit a hand-made sweep to the real inventory store, so
the tests can check what the agent did and that the store is readable afterwards. Everything
around the job (scheduler, job store, locks, run records, signals) is the real agent.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from factories import host, sweep

from inventory.store import Inventory
from secposture.agent.chain import ChainResult, RunContext
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes
from secposture.model.records import utcnow
from secposture.scoring.score import score_findings


def _note(event: str, **fields: object) -> None:
    line = json.dumps({"event": event, "t": time.time(), "pid": os.getpid(), **fields})
    with Path(os.environ["AGENT_TEST_LOG"]).open("a") as fh:
        fh.write(line + "\n")


def _starts() -> int:
    path = Path(os.environ["AGENT_TEST_LOG"])
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text().splitlines() if '"start"' in line)


def _commit(config: AgencyConfig) -> str:
    result = sweep(host("10.77.0.5"), sweep_id=f"stand-in-{time.time_ns()}", started=utcnow())
    Inventory(config.store.path).commit_sweep(result, [], score_findings([]))
    return str(result.sweep_id)


def _sweep(config: AgencyConfig, sleep: Callable[[float], None]) -> ChainResult:
    _note("start")
    sleep(float(os.environ.get("AGENT_TEST_SLEEP", "0")))
    hold = os.environ.get("AGENT_TEST_HOLD")
    while hold and not Path(hold).exists():  # the test releases the sweep by creating the file
        sleep(0.05)
    sweep_id = _commit(config)
    _note("end", sweep_id=sweep_id)
    return ChainResult(exitcodes.OK, sweep_id)


def record_run(config: AgencyConfig, run: RunContext) -> ChainResult:
    """Sleep with stop checkpoints (as the sweep's progress calls give), then store a sweep."""
    return _sweep(config, run.sleep)


def fail_first(config: AgencyConfig, run: RunContext) -> ChainResult:
    """Raise on the first run, then behave like :func:`record_run`."""
    if _starts() == 0:
        _note("start")
        raise RuntimeError("stand-in sweep failed on purpose")
    return record_run(config, run)


def stubborn(config: AgencyConfig, run: RunContext) -> ChainResult:
    """Ignore the stop request (a sweep stuck in a long scan): the agent must not wait forever."""
    return _sweep(config, time.sleep)


def incomplete(config: AgencyConfig, run: RunContext) -> ChainResult:
    """A sweep that stored its result but could not reach every host."""
    _note("start")
    return ChainResult(exitcodes.INCOMPLETE, _commit(config))
