"""The scenario's injects as a table: when each is due, what it is, and whether it is out."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from osc_console.models.exercise_log import exercise_offset
from osc_console.models.scenario import Inject, InjectKind, Scenario
from osc_console.services.exercise import Released
from osc_console.ui.qt import QtCore
from osc_console.ui.queue.format import short_ref

INJECT_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1  # the Inject of a row
AnyIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_ROOT = QtCore.QModelIndex()


class InjectColumn(IntEnum):
    NUMBER = 0
    AT = 1
    KIND = 2
    WHAT = 3
    STATUS = 4

    @property
    def title(self) -> str:
        return ("#", "At", "Kind", "Inject", "Status")[self.value]


def _what(inject: Inject) -> str:
    if inject.incident is not None:
        return inject.incident.summary
    if inject.methane is not None:
        return f"METHANE on {inject.target}: major incident {inject.methane.major_incident}"
    who = inject.team or (inject.agency.value if inject.agency else "")
    prefix = f"{who}: " if who else ""
    if inject.kind is InjectKind.LOG:
        return f"Log on {inject.target}: {prefix}{inject.text}"
    return f"Message to the players: {inject.text}"


class InjectTableModel(QtCore.QAbstractTableModel):
    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.injects: tuple[Inject, ...] = ()
        self.released: dict[int, Released] = {}

    def set_scenario(self, scenario: Scenario | None) -> None:
        self.beginResetModel()
        self.injects = scenario.injects if scenario else ()
        self.released = {}
        self.endResetModel()

    def set_released(self, released: dict[int, Released]) -> None:
        """Mark the rows whose state changed (only those are redrawn)."""
        changed = list(set(released) ^ set(self.released))
        self.released = dict(released)
        for number in changed:
            row = number - 1
            if 0 <= row < len(self.injects):
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(InjectColumn) - 1))

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.injects)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(InjectColumn)

    def headerData(
        self,
        section: int,
        orientation: QtCore.Qt.Orientation,
        role: int = QtCore.Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation is QtCore.Qt.Orientation.Horizontal
            and role == QtCore.Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(InjectColumn)
        ):
            return InjectColumn(section).title
        return None

    def status_text(self, inject: Inject) -> str:
        released = self.released.get(inject.number)
        if released is None:
            return "pending"
        when = exercise_offset(released.exercise_time.total_seconds())
        ref = f" → {short_ref(released.incident_ref)}" if released.incident_ref else ""
        return f"{'released early' if released.early else 'released'} {when}{ref}"

    def data(
        self,
        index: AnyIndex,
        role: int = QtCore.Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.injects):
            return None
        inject = self.injects[index.row()]
        column = InjectColumn(index.column())
        if role == INJECT_ROLE:
            return inject
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if column is InjectColumn.NUMBER:
                return str(inject.number)
            if column is InjectColumn.AT:
                return inject.at_label
            if column is InjectColumn.KIND:
                return inject.kind.value
            if column is InjectColumn.WHAT:
                return _what(inject)
            return self.status_text(inject)
        if role == QtCore.Qt.ItemDataRole.ToolTipRole and column is InjectColumn.WHAT:
            return inject.log_text() or _what(inject)
        return None
