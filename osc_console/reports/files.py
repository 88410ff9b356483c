"""How every report reaches the disk: checked first, written whole, never half-written.

Shared by the shift report and the after-action report (and their CSVs): the path is checked
before any work, so that a long export does not fail at its very end; the bytes go to a
temporary file beside it that is moved into place only when writing succeeded; and a PDF is
drawn with Qt's own writer (QtGui only), so it can be made on a worker thread or with no
screen at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from osc_console.reports.pdf_pages import ReportError


def check_writable(path: Path) -> None:
    """Raise ReportError unless ``path`` can be created or replaced (checked before any
    work, so that a long export does not fail at its very end)."""
    if path.is_dir():
        raise ReportError(f"{path}: cannot be written (it is a folder)")
    folder = path.parent
    if not folder.is_dir():
        raise ReportError(f"{path}: cannot be written (the folder {folder} does not exist)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportError(f"{path}: cannot be written (the folder {folder} is read-only)")
    if path.exists() and not os.access(path, os.W_OK):
        raise ReportError(f"{path}: cannot be written (the file is read-only)")


@contextmanager
def atomic_file(path: Path, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """A temporary file beside ``path``, moved over it only when writing succeeded.

    The file is created readable by its owner only (mkstemp's 0600): a report carries a
    protective marking, and who else may read it is the exporter's decision.
    """
    check_writable(path)
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(handle, mode, **kwargs) as stream:
            yield stream
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise ReportError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
    except BaseException:
        _remove(temp)
        raise


def _remove(name: str) -> None:
    with suppress(OSError):
        os.unlink(name)


_APP: Any = None  # the QGuiApplication made here, kept alive for the process


def ensure_gui_application() -> None:
    """QFont and QTextDocument need a QGuiApplication (Qt's font database lives in it).

    In the console one already exists. The command line has none, and a server or a
    scheduled export has no screen, so the one made here uses the "offscreen" platform
    unless the caller chose another: a report needs fonts, never a display.
    """
    global _APP  # noqa: PLW0603 - one application per process, made on first need
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _APP = QGuiApplication(["osc-console-report"])


def write_pdf_file(path: Path | str, render: Callable[[], bytes]) -> Path:
    """Check ``path``, draw the PDF with ``render`` and put it in place whole."""
    target = Path(path)
    check_writable(target)
    ensure_gui_application()
    data = render()
    with atomic_file(target, "wb") as stream:
        stream.write(data)
    return target
