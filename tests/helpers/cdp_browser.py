"""A headless Chromium driven over the DevTools protocol on a pipe: no driver library, no port.

``--remote-debugging-pipe`` makes Chromium read commands from fd 3 and write replies and
events to fd 4, as NUL-terminated JSON. That is enough to see everything a page does: its
console messages and uncaught exceptions, each network request it starts, each dialog it
opens; to run a line of script in it (as a user clicking would) and to take screenshots.
Chromium runs with the same offline flags as the PDF renderer, so nothing can leave the box.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from secposture.report.outputs.pdf import chromium_command, find_chromium

CHROMIUM = find_chromium()


class BrowserError(RuntimeError):
    pass


class Browser:
    """One Chromium process with one page; events are collected for the test to inspect."""

    def __init__(self, profile: Path, *, width: int = 1280, height: int = 800) -> None:
        if CHROMIUM is None:
            raise BrowserError("chromium is not installed")
        self.width, self.height = width, height
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Copies above fd 10, so that putting them on 3 and 4 in the child cannot overwrite
        # one with the other; 3 and 4 are then kept open through exec (pass_fds).
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        command = chromium_command(
            CHROMIUM,
            profile,
            "--remote-debugging-pipe",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size={width},{height}",
            "--hide-scrollbars",
            "about:blank",
        )

        def child_fds() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            command,
            pass_fds=(3, 4),
            preexec_fn=child_fds,  # only dup2, before exec
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(high_r)
        os.close(high_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = self._attach()
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    # -- protocol ---------------------------------------------------------------------------
    def _write(self, message: dict[str, Any]) -> None:
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise BrowserError("no reply from chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(
        self, method: str, *, timeout: float = 30.0, browser: bool = False, **params: Any
    ) -> dict[str, Any]:
        """Send one command to the page (``browser``: to the browser); return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if not browser and getattr(self, "session", None):
            message["sessionId"] = self.session
        self._write(message)
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._event(reply)

    def _event(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            return
        self.events.append(message)
        if message["method"] == "Page.javascriptDialogOpening":
            # Dismiss it so the page goes on; the test still sees that it opened.
            self._next_id += 1
            self._write(
                {
                    "id": self._next_id,
                    "method": "Page.handleJavaScriptDialog",
                    "params": {"accept": False},
                    "sessionId": self.session,
                }
            )

    def _attach(self) -> str:
        self.session = ""
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        attached = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)
        session: str = attached["sessionId"]
        return session

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first event called ``method`` (already received or still to come)."""
        for event in self.events:
            if event["method"] == method:
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._read(deadline - time.monotonic())
            self._event(message)
            if message.get("method") == method:
                return message
        raise BrowserError(f"no {method} within {timeout} s")

    # -- what a test does -------------------------------------------------------------------
    def load(self, url: str) -> None:
        """Open ``url`` and wait until it has loaded and its scripts have run."""
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")

    def evaluate(self, expression: str) -> Any:
        """The value of a script expression in the page (promises are awaited)."""
        reply = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression!r}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        """A PNG of the first screen, or of the whole page."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1},
            )
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors (a CSP
        violation is one) since the page was loaded."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(str(params["exceptionDetails"]))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
                found.append(json.dumps(params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"]["text"])
        return found

    def requests(self) -> list[str]:
        """URLs the page asked for, the page itself included."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def dialogs(self) -> list[str]:
        return [
            e["params"]["message"]
            for e in self.events
            if e["method"] == "Page.javascriptDialogOpening"
        ]

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> str:
        """Stop Chromium; return what it logged on stderr."""
        if self.process.poll() is None:
            with contextlib.suppress(BrowserError):
                self.send("Browser.close", timeout=5, browser=True)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        assert self.process.stderr is not None
        return self.process.stderr.read().decode("utf-8", "replace")

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stderr = self.close()


def have_chromium() -> bool:
    return CHROMIUM is not None and shutil.which(CHROMIUM) is not None
