"""The Qt binding must not corrupt Python's reference counts: a console runs for days."""

from __future__ import annotations

import sys

from osc_console.ui.qt import QtCore


class _Sparse(QtCore.QAbstractTableModel):
    """A model that, like every real one, answers None for roles it does not handle."""

    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # noqa: N802
        return 1

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # noqa: N802
        return 1

    def data(self, index: QtCore.QModelIndex, role: int = 0) -> object:
        return None


def test_reading_none_from_a_model_through_qt_keeps_none_alive() -> None:
    model = _Sparse()
    index = model.index(0, 0)
    before = sys.getrefcount(None)
    for _ in range(2000):
        index.data(QtCore.Qt.ItemDataRole.DecorationRole)
    # A binding that loses one reference per call would have dropped 2000 here, and in a
    # long shift would free None itself and crash the console.
    assert sys.getrefcount(None) - before > -50
