"""report.pdf through headless Chromium: the same page, laid out by its print stylesheet.

Chromium is what the agencies' browsers are built on, so the PDF is what "Print" in the browser
gives, and the report needs no second layout engine. It runs with everything that could reach
a network turned off: the page fetches nothing by its CSP, and the browser's own update, sync
and lookup traffic is disabled, names resolve to nothing and any connection would go to a
closed local port.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from secposture.report.outputs.base import atomic_path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
PDF_TIMEOUT_S = 120.0

# Flags that keep a headless Chromium off every network; shared with the browser tests.
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",  # the agent runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
)


class PdfError(RuntimeError):
    """The PDF could not be made; the message says why in one line."""


class ChromiumMissing(PdfError):
    """No Chromium on this machine."""


def find_chromium() -> str | None:
    """The Chromium binary on PATH, if any."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def chromium_command(binary: str, profile: Path, *args: str) -> list[str]:
    """A headless, offline Chromium command with its own throw-away profile folder."""
    return [binary, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]


def render_pdf(html: Path, pdf: Path, *, timeout: float = PDF_TIMEOUT_S) -> Path:
    """Print ``html`` to ``pdf`` (A4, the page's print stylesheet); replaces it atomically.

    Raises :class:`ChromiumMissing` when Chromium is not installed and :class:`PdfError` when
    it fails or writes no PDF.
    """
    binary = find_chromium()
    if binary is None:
        raise ChromiumMissing("chromium is not installed (Debian: apt-get install chromium)")
    # The PDF lists the network's weaknesses as the HTML does: written like every output.
    with atomic_path(pdf) as tmp:
        with tempfile.TemporaryDirectory(prefix="secposture-chromium-") as profile:
            command = chromium_command(
                binary,
                Path(profile),
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp}",
                html.resolve().as_uri(),
            )
            try:
                run = subprocess.run(
                    command, capture_output=True, text=True, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise PdfError(f"chromium did not finish the PDF within {timeout:.0f} s") from exc
        if run.returncode != 0 or not tmp.read_bytes().startswith(b"%PDF-"):
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise PdfError(f"chromium exited {run.returncode} without a PDF: {last}")
    return pdf
