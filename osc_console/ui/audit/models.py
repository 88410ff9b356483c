"""The workstation's audit trail as a table, its filters, and both records as CSV rows.

Each entry is an event of the log (signed by whoever was at the keyboard, or by the
workstation itself for a failed sign-in), read on the database worker and held here as a
plain list. Break-glass sign-ins stand out by colour *and* by a mark and a word, so that
nobody needs to tell colours apart to see them.
"""

from __future__ import annotations

from enum import Enum, IntEnum
from typing import Any, ClassVar

from osc_console.models.events import Event
from osc_console.models.payloads import Kind
from osc_console.reports.audit_csv import SERVER, WORKSTATION, AuditCsvRow
from osc_console.services.administration import AuditLine
from osc_console.services.audit import AuditRecord, is_break_glass
from osc_console.signing.documents import DEVICE_PREFIX
from osc_console.ui import theme
from osc_console.ui.admin.models import ListTableModel, london_label, utc_label, where_from
from osc_console.ui.dialogs.fields import swatch
from osc_console.ui.qt import QtCore, QtGui

Qt = QtCore.Qt
AnyIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex
CATEGORY_ROLE = int(Qt.ItemDataRole.UserRole) + 3
BREAK_GLASS_MARK = "⚠"


class AuditFilter(Enum):
    """What the reviewer wants to see."""

    ALL = "All entries"
    BREAK_GLASS = "Break-glass uses"
    FAILED = "Failed sign-ins"
    LOCKS = "Locks"

    @property
    def label(self) -> str:
        return self.value


def categories(event: Event) -> frozenset[AuditFilter]:
    """The filters an entry shows under (besides All)."""
    if is_break_glass(event):
        return frozenset({AuditFilter.BREAK_GLASS})
    if event.kind == Kind.SESSION_SIGN_IN_FAILED:
        # A failure that locked the account is a lock as well.
        locked = bool(event.payload.get("locked_until"))
        return frozenset(
            {AuditFilter.FAILED, AuditFilter.LOCKS} if locked else {AuditFilter.FAILED}
        )
    if event.kind in (Kind.SESSION_LOCKED, Kind.SESSION_UNLOCKED):
        return frozenset({AuditFilter.LOCKS})
    return frozenset()


def who(event: Event) -> str:
    """The person, or the workstation itself for what it signed while nobody could."""
    if event.actor.startswith(DEVICE_PREFIX):
        return f"the workstation itself ({event.actor.removeprefix(DEVICE_PREFIX)})"
    return event.actor


def signature(event: Event) -> str:
    return "signed" if event.is_signed else "unsigned (before signing)"


class AuditColumn(IntEnum):
    WHEN = 0
    WHO = 1
    WORKSTATION = 2
    WHAT = 3


class AuditTrailTableModel(ListTableModel):
    """This workstation's audit entries (its own, and those synced from others), newest first."""

    columns = AuditColumn
    labels: ClassVar[dict[int, str]] = {
        AuditColumn.WHEN: "When",
        AuditColumn.WHO: "Who",
        AuditColumn.WORKSTATION: "Workstation",
        AuditColumn.WHAT: "What",
    }
    tips: ClassVar[dict[int, str]] = {
        AuditColumn.WHEN: "London time; UTC on hover",
        AuditColumn.WHO: "Who was signed in (for a break-glass use, the account; the person's "
        "declared name is in What)",
        AuditColumn.WORKSTATION: "Where it happened",
        AuditColumn.WHAT: "What happened",
    }

    def record(self, row: int) -> AuditRecord | None:
        found = self.item(row)
        return found if isinstance(found, AuditRecord) else None

    def data(self, index: AnyIndex, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if int(role) == CATEGORY_ROLE:
            found = self.record(index.row()) if index.isValid() else None
            return categories(found.event) if found is not None else None
        return super().data(index, role)

    def display(self, item: Any, column: int) -> str:
        record: AuditRecord = item
        event = record.event
        if column == AuditColumn.WHEN:
            return london_label(event.recorded_at, seconds=True)
        if column == AuditColumn.WHO:
            return who(event)
        if column == AuditColumn.WORKSTATION:
            return event.workstation
        text = record.what
        return f"{BREAK_GLASS_MARK} {text}" if is_break_glass(event) else text

    def sort_key(self, item: Any, column: int) -> Any:
        record: AuditRecord = item
        if column == AuditColumn.WHEN:
            return f"{record.event.recorded_at} {record.event.id}"
        return super().sort_key(item, column)

    def tooltip(self, item: Any, column: int) -> str | None:
        record: AuditRecord = item
        event = record.event
        if column == AuditColumn.WHEN:
            return f"{utc_label(event.recorded_at)} · {signature(event)}"
        if column == AuditColumn.WHAT:
            return record.what
        return None

    def foreground(self, item: Any, column: int) -> QtGui.QColor | None:
        event = item.event
        palette = theme.current_palette()
        if is_break_glass(event) and column in (AuditColumn.WHAT, AuditColumn.WHO):
            return QtGui.QColor(palette.danger if palette.name == "light" else "#FF8A8E")
        if event.kind == Kind.SESSION_SIGN_IN_FAILED and column == AuditColumn.WHAT:
            return QtGui.QColor(palette.warning)
        return None

    def background(self, item: Any) -> QtGui.QColor | None:
        if is_break_glass(item.event):
            tint = QtGui.QColor(theme.current_palette().danger)
            tint.setAlpha(40)
            return tint
        return None

    def decoration(self, item: Any, column: int) -> QtGui.QIcon | None:
        if column != AuditColumn.WHEN:
            return None
        event = item.event
        palette = theme.current_palette()
        if is_break_glass(event):
            return swatch(palette.danger, BREAK_GLASS_MARK)
        if event.kind == Kind.SESSION_SIGN_IN_FAILED:
            return swatch(palette.warning, "✕")
        return None


class AuditFilterProxy(QtCore.QSortFilterProxyModel):
    """Shows the entries under one :class:`AuditFilter`."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._filter = AuditFilter.ALL

    @property
    def audit_filter(self) -> AuditFilter:
        return self._filter

    def set_audit_filter(self, wanted: AuditFilter) -> None:
        if wanted is self._filter:
            return
        if hasattr(self, "beginFilterChange"):  # Qt 6.9 and later
            self.beginFilterChange()
            self._filter = wanted
            self.endFilterChange()
        else:
            self._filter = wanted
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self._filter is AuditFilter.ALL:
            return True
        found = self.sourceModel().index(source_row, 0, source_parent).data(CATEGORY_ROLE)
        return bool(found) and self._filter in found


# ---- CSV rows --------------------------------------------------------------------------------
def workstation_row(record: AuditRecord) -> AuditCsvRow:
    event = record.event
    p = event.payload
    subject = ""
    if event.kind == Kind.SESSION_SIGN_IN_FAILED:
        subject = str(p.get("user") or "")
    elif is_break_glass(event):
        subject = str(p.get("declared_name") or "")
    return AuditCsvRow(
        WORKSTATION,
        event.id,
        event.recorded_at,
        event.actor,
        event.workstation,
        record.what,
        subject,
        signature(event),
        "",
        is_break_glass(event),
    )


def server_row(line: AuditLine) -> AuditCsvRow:
    return AuditCsvRow(
        SERVER,
        str(line.seq),
        line.at,
        line.actor,
        line.workstation,
        line.action,
        line.subject,
        line.detail,
        line.address,
        "break-glass" in f"{line.action} {line.detail}".lower(),
    )


__all__ = [
    "AuditColumn",
    "AuditFilter",
    "AuditFilterProxy",
    "AuditTrailTableModel",
    "categories",
    "server_row",
    "where_from",
    "workstation_row",
]
