"""Terminal lines for a sweep's progress events (hosts found, scanned, elapsed, ETA)."""

from __future__ import annotations

import time

from secposture.model.i18n import t

QUIET_TICKS_S = 15.0  # a heartbeat line only after this long without any other line


def duration(seconds: float) -> str:
    """``1 m 05 s`` / ``42 s``: short enough for a progress line."""
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} m"
    return f"{minutes} m {secs:02d} s" if minutes else f"{secs} s"


class SweepProgressText:
    """Turns ``run_sweep`` progress events into lines; None when nothing should be printed."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._last_line = time.monotonic()

    def __call__(self, event: str, data: dict[str, object]) -> str | None:
        now = time.monotonic()
        if event == "scanning" and now - self._last_line < QUIET_TICKS_S:
            return None
        line = self._line(event, data)
        if line is not None:
            self._last_line = now
        return line

    def _line(self, event: str, data: dict[str, object]) -> str | None:
        if event == "device":
            return t("device.progress", self.lang, done=data["done"], total=data["total"],
                     name=data["name"])  # fmt: skip
        if event == "unprivileged":
            return t("scan.unprivileged", self.lang)
        if event == "discovered":
            return t("scan.discovered", self.lang, scope=data["scope"], count=data["count"],
                     total=data["total"])  # fmt: skip
        if event in ("scanned", "scanning"):
            eta = data.get("eta")
            shown = (
                duration(float(eta))
                if isinstance(eta, int | float)
                else t("scan.eta_unknown", self.lang)
            )
            elapsed = data.get("elapsed", 0.0)
            return t(
                "scan.progress",
                self.lang,
                done=data["done"],
                total=data["total"],
                elapsed=duration(float(elapsed) if isinstance(elapsed, int | float) else 0.0),
                eta=shown,
            )
        return None
