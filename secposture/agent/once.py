"""``secposture agent run --once``: the agent's job now, for cron users and tests."""

from __future__ import annotations

import threading

from secposture.agent.chain import Job
from secposture.agent.runner import Runner
from secposture.agent.runs import RunRecord, RunTrigger
from secposture.agent.stopping import Stopper
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes


def run_once(config: AgencyConfig, job: Job, *, stop_timeout_s: float) -> RunRecord:
    """Run the job once under the agency's sweep lock and return its record.

    The job runs in a worker thread so that the main thread stays free for signals."""
    runner = Runner(config, job, threading.Event())
    Stopper(runner, timeout_s=stop_timeout_s, forced_exit_code=exitcodes.INCOMPLETE).install()
    outcome: list[RunRecord | Exception] = []

    def work() -> None:
        try:
            outcome.append(runner.run(RunTrigger.ONCE))
        except Exception as exc:  # the run log itself failed: re-raised in the main thread
            outcome.append(exc)

    worker = threading.Thread(target=work, name="sweep")
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
    result = outcome[0]
    if isinstance(result, Exception):
        raise result
    return result
