"""Run things where the lab tests need them: code or the CLI in the scanner namespace, the CLI
in the root namespace, tcpdump anywhere."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from secposture.lab import LabState, scanner_exec


def in_scanner(
    lab: LabState,
    code: str,
    *args: str,
    timeout: float = 60,
    check: bool = False,
    **subprocess_kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` inside the lab's scanner namespace; ``check``: it must exit 0."""
    result = scanner_exec(
        lab,
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **subprocess_kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode} in the scanner namespace:\n{result.stderr}")
    return result


def secposture(
    *args: str, lab: LabState | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m secposture ARGS``: inside ``lab``'s scanner namespace, or here without one."""
    argv = [sys.executable, "-m", "secposture", *args]
    if lab is not None:
        return scanner_exec(lab, argv, capture_output=True, text=True, timeout=timeout, check=False)
    # Only for commands that send nothing (score, report) or must refuse to (a sweep here).
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def start_tcpdump(argv: Sequence[str]) -> subprocess.Popen[str]:
    """Start a tcpdump command line and return once it is capturing (stderr says so)."""
    capture = subprocess.Popen(
        list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert capture.stderr is not None
    # With `-i any` tcpdump 4.99 first says "data link type LINUX_SLL2" (and maybe "verbose
    # output suppressed") before "listening on": read until that line, or give up.
    said: list[str] = []
    while not said or ("listening on" not in said[-1] and said[-1] and len(said) < 5):
        said.append(capture.stderr.readline())
    if "listening on" not in said[-1]:
        capture.kill()
        raise AssertionError(f"tcpdump did not start: {said}")
    return capture
