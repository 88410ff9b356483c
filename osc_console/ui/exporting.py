"""Asking where to save an export, and saying plainly when it could not be written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from osc_console.ui.qt import QtWidgets


def ask_and_write(
    parent: QtWidgets.QWidget,
    title: str,
    default: str,
    pattern: str,
    write: Callable[[Path], None],
) -> Path | None:
    """A save dialog, then ``write``; a failure is shown, never silently swallowed."""
    name, _ = QtWidgets.QFileDialog.getSaveFileName(parent, title, default, pattern)
    if not name:
        return None
    try:
        write(Path(name))
    except (OSError, ValueError) as exc:
        QtWidgets.QMessageBox.warning(parent, title, f"Not exported: {exc}")
        return None
    return Path(name)
