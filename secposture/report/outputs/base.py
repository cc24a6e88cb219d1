"""What every report output shares: where the files go, how each is written, and the one rule
that network text never stops a write.

Every output is rendered in full before any file is written (an error while rendering leaves
the previous report as it was), and each file replaces its old copy atomically with the
report's mode, so a reader never sees half a file nor a file others may read.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from secposture.model.records import Record
from secposture.report.view.text import clean_tree

# The report lists weaknesses of the agency's network: readable by its owner and group only.
REPORT_MODE = 0o640


class ReportPaths(Record):
    """The four files of one agency report."""

    html: Path
    findings_json: Path
    inventory_json: Path
    findings_csv: Path

    @classmethod
    def in_folder(cls, out_dir: Path) -> ReportPaths:
        """The report's files by their usual names in ``out_dir``."""
        return cls(
            html=out_dir / "report.html",
            findings_json=out_dir / "findings.json",
            inventory_json=out_dir / "inventory.json",
            findings_csv=out_dir / "findings.csv",
        )


def clean_document(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every string made encodable (lone surrogates replaced), so writing
    UTF-8 never fails half-way through a report."""
    return dict(clean_tree(document))


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; on success it takes ``path``'s place with
    the report's mode, on any error it is removed and ``path`` is left as it was."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, REPORT_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder so a reader never sees half a file."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_all(contents: Mapping[Path, bytes]) -> None:
    """Write outputs already rendered, each atomically, creating their folders."""
    for path in contents:
        path.parent.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        write_atomic(path, data)
