"""The Administration window's tables: accounts, enrolled workstations, the authority's record.

Each model holds a plain list the window fetched from the authority in the background (never
a call from ``data()``), replaced whole (one reset) or, for the record, with the newest lines
inserted at the top. Colour never speaks alone: a locked, disabled or break-glass account says
so in words in its State column, and has a shape beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, ClassVar

from osc_console.models.agencies import Agency
from osc_console.models.authority import Role
from osc_console.models.clock import LONDON, from_iso
from osc_console.services.administration import Account, AuditLine, Workstation
from osc_console.ui import theme
from osc_console.ui.dialogs.fields import swatch
from osc_console.ui.qt import QtCore, QtGui

Qt = QtCore.Qt
AnyIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_ROOT = QtCore.QModelIndex()
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)


class ItemRole(IntEnum):
    """Roles beyond Qt's: the row's object, and the value a column sorts by."""

    ItemRole = int(Qt.ItemDataRole.UserRole) + 1
    SortRole = int(Qt.ItemDataRole.UserRole) + 2


# ---- times -----------------------------------------------------------------------------------
def london_label(at: str | None, *, seconds: bool = False) -> str:
    """'22 Nov 2026 14:05 GMT': London time with its zone, as the room reads times."""
    if not at:
        return ""
    try:
        moment = from_iso(at)
    except ValueError:
        return at
    pattern = "%d %b %Y %H:%M:%S %Z" if seconds else "%d %b %Y %H:%M %Z"
    return moment.astimezone(LONDON).strftime(pattern)


def utc_label(at: str | None) -> str:
    """The same moment in UTC, for the tooltip (the record's own time)."""
    if not at:
        return ""
    try:
        return from_iso(at).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return at


def organisation(agency: str) -> str:
    """'Police', 'Corporation', … (the full name is the tooltip's)."""
    return agency.capitalize() if agency else "–"


def organisation_name(agency: str) -> str:
    try:
        return Agency(agency).label
    except ValueError:
        return agency


def role_label(role: str) -> str:
    try:
        text = Role(role).label
    except ValueError:
        text = role.replace("_", " ")
    return text[:1].upper() + text[1:]


def key_label(key_id: str) -> str:
    """A key id as people read it aloud ('535C-E7CE-D407-CC1B'), as the workstation prints
    its fingerprint."""
    digest = key_id[:16].upper()
    return "-".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def _tint(colour: str, alpha: int = 34) -> QtGui.QColor:
    tinted = QtGui.QColor(colour)
    tinted.setAlpha(alpha)
    return tinted


# ---- the shared frame ------------------------------------------------------------------------
class ListTableModel(QtCore.QAbstractTableModel):
    """A read-only table over a list of items; subclasses say what each column shows."""

    columns: ClassVar[type[IntEnum]]
    labels: ClassVar[dict[int, str]]
    tips: ClassVar[dict[int, str]]
    right_aligned: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[Any] = []

    # ---- contents --------------------------------------------------------------------------
    def set_items(self, items: Sequence[Any]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[Any]:
        return list(self._items)

    def item(self, row: int) -> Any:
        return self._items[row] if 0 <= row < len(self._items) else None

    # ---- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == _DISPLAY:
            return self.labels[section]
        if role in (_TOOLTIP, _ACCESSIBLE):
            return self.tips.get(section, self.labels[section])
        if role == _ALIGNMENT:
            return self._alignment(section)
        return None

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        item = self._items[index.row()]
        column = index.column()
        role = int(role)
        if role == _DISPLAY:
            return self.display(item, column)
        if role == ItemRole.ItemRole:
            return item
        if role == ItemRole.SortRole:
            return self.sort_key(item, column)
        if role == _TOOLTIP:
            return self.tooltip(item, column)
        if role == _ACCESSIBLE:
            return f"{self.labels[column]}: {self.display(item, column) or 'none'}"
        if role == _FOREGROUND:
            return self.foreground(item, column)
        if role == _BACKGROUND:
            return self.background(item)
        if role == _DECORATION:
            return self.decoration(item, column)
        if role == _ALIGNMENT:
            return self._alignment(column)
        return None

    def roleNames(self) -> dict[int, QtCore.QByteArray]:
        names = dict(super().roleNames())
        names[int(ItemRole.ItemRole)] = QtCore.QByteArray(b"item")
        names[int(ItemRole.SortRole)] = QtCore.QByteArray(b"sortKey")
        return names

    def _alignment(self, column: int) -> int:
        horizontal = (
            Qt.AlignmentFlag.AlignRight
            if column in self.right_aligned
            else Qt.AlignmentFlag.AlignLeft
        )
        return int(horizontal | Qt.AlignmentFlag.AlignVCenter)

    # ---- to override -----------------------------------------------------------------------
    def display(self, item: Any, column: int) -> str:
        raise NotImplementedError

    def sort_key(self, item: Any, column: int) -> Any:
        return self.display(item, column).casefold()

    def tooltip(self, item: Any, column: int) -> str | None:
        return None

    def foreground(self, item: Any, column: int) -> QtGui.QColor | None:
        return None

    def background(self, item: Any) -> QtGui.QColor | None:
        return None

    def decoration(self, item: Any, column: int) -> QtGui.QIcon | None:
        return None


# ---- accounts --------------------------------------------------------------------------------
class AccountColumn(IntEnum):
    NAME = 0
    DISPLAY_NAME = 1
    ORGANISATION = 2
    ROLE = 3
    STATE = 4
    FAILURES = 5
    CHANGED = 6


class AccountTableModel(ListTableModel):
    """Every account the authority keeps, as an administrator reviews them."""

    columns = AccountColumn
    labels: ClassVar[dict[int, str]] = {
        AccountColumn.NAME: "User name",
        AccountColumn.DISPLAY_NAME: "Display name",
        AccountColumn.ORGANISATION: "Organisation",
        AccountColumn.ROLE: "Role",
        AccountColumn.STATE: "State",
        AccountColumn.FAILURES: "Failed sign-ins",
        AccountColumn.CHANGED: "Last change",
    }
    tips: ClassVar[dict[int, str]] = {
        AccountColumn.NAME: "The name they sign in with",
        AccountColumn.DISPLAY_NAME: "How the console shows them (if different)",
        AccountColumn.STATE: "Active or disabled; locked after failed sign-ins; must choose a "
        "new password; the room's break-glass account",
        AccountColumn.FAILURES: "Consecutive failed sign-ins (five lock the account)",
        AccountColumn.CHANGED: "When the account last changed (London time; UTC on hover)",
    }
    right_aligned = frozenset({int(AccountColumn.FAILURES)})

    def account(self, row: int) -> Account | None:
        found = self.item(row)
        return found if isinstance(found, Account) else None

    def row_of(self, name: str) -> int | None:
        for row, account in enumerate(self._items):
            if account.name == name:
                return row
        return None

    def display(self, item: Any, column: int) -> str:
        account: Account = item
        if column == AccountColumn.NAME:
            return account.name
        if column == AccountColumn.DISPLAY_NAME:
            return account.display_name
        if column == AccountColumn.ORGANISATION:
            return organisation(account.agency)
        if column == AccountColumn.ROLE:
            return role_label(account.role)
        if column == AccountColumn.STATE:
            return account.state
        if column == AccountColumn.FAILURES:
            return str(account.failures)
        return london_label(account.changed_at or account.created_at)

    def sort_key(self, item: Any, column: int) -> Any:
        account: Account = item
        if column == AccountColumn.FAILURES:
            return account.failures
        if column == AccountColumn.CHANGED:
            return account.changed_at or account.created_at
        return super().sort_key(item, column)

    def tooltip(self, item: Any, column: int) -> str | None:
        account: Account = item
        if column == AccountColumn.ORGANISATION:
            return organisation_name(account.agency)
        if column == AccountColumn.CHANGED:
            created = utc_label(account.created_at)
            changed = utc_label(account.changed_at or account.created_at)
            return f"Last change {changed}\nCreated {created}"
        if column == AccountColumn.STATE:
            lines = []
            if account.locked_until:
                lines.append(
                    f"Locked until {london_label(account.locked_until)} after "
                    f"{account.failures} failed sign-ins: Unlock lets them try again now."
                )
            if not account.active:
                lines.append("Disabled: they cannot sign in, and nothing of theirs is accepted.")
            if account.must_change:
                lines.append("Must choose a new password at their next sign-in.")
            if account.break_glass:
                lines.append(
                    "The room's break-glass account: every use is recorded and shown to the "
                    "duty managers."
                )
            return "\n".join(lines) or "Active: may sign in."
        return None

    def foreground(self, item: Any, column: int) -> QtGui.QColor | None:
        account: Account = item
        palette = theme.current_palette()
        if column == AccountColumn.STATE:
            if account.locked_until:
                return QtGui.QColor(palette.danger)
            if account.break_glass:
                return QtGui.QColor(palette.warning)
        if column == AccountColumn.FAILURES and account.failures:
            return QtGui.QColor(palette.warning)
        if not account.active:
            return QtGui.QColor(palette.muted)
        return None

    def background(self, item: Any) -> QtGui.QColor | None:
        account: Account = item
        palette = theme.current_palette()
        if account.locked_until:
            return _tint(palette.danger)
        if account.break_glass:
            return _tint(palette.warning)
        return None

    def decoration(self, item: Any, column: int) -> QtGui.QIcon | None:
        if column != AccountColumn.STATE:
            return None
        account: Account = item
        palette = theme.current_palette()
        if account.locked_until:
            return swatch(palette.danger, "■")
        if not account.active:
            return swatch(palette.muted, "○")
        if account.break_glass:
            return swatch(palette.warning, "▲")
        if account.must_change:
            return swatch(palette.accent, "◆")
        return swatch(palette.ok, "●")


# ---- workstations ----------------------------------------------------------------------------
class WorkstationColumn(IntEnum):
    CODE = 0
    ORGANISATION = 1
    STATE = 2
    KEY = 3
    ENROLLED_AT = 4
    ENROLLED_BY = 5
    REVOKED_AT = 6
    REVOKED_BY = 7


class WorkstationTableModel(ListTableModel):
    """Workstations enrolled with the authority: whose device keys sign their failures, and
    where each person's key may sign."""

    columns = WorkstationColumn
    labels: ClassVar[dict[int, str]] = {
        WorkstationColumn.CODE: "Workstation",
        WorkstationColumn.ORGANISATION: "Organisation",
        WorkstationColumn.STATE: "State",
        WorkstationColumn.KEY: "Key",
        WorkstationColumn.ENROLLED_AT: "Enrolled",
        WorkstationColumn.ENROLLED_BY: "Enrolled by",
        WorkstationColumn.REVOKED_AT: "Revoked",
        WorkstationColumn.REVOKED_BY: "Revoked by",
    }
    tips: ClassVar[dict[int, str]] = {
        WorkstationColumn.KEY: "The device key's fingerprint, as 'osc-console workstation key' "
        "prints it (the full key id on hover)",
        WorkstationColumn.ENROLLED_AT: "London time; UTC on hover",
        WorkstationColumn.REVOKED_AT: "London time; UTC on hover",
    }

    def workstation(self, row: int) -> Workstation | None:
        found = self.item(row)
        return found if isinstance(found, Workstation) else None

    def row_of(self, code: str) -> int | None:
        for row, station in enumerate(self._items):
            if station.code == code:
                return row
        return None

    def display(self, item: Any, column: int) -> str:
        station: Workstation = item
        if column == WorkstationColumn.CODE:
            return station.code
        if column == WorkstationColumn.ORGANISATION:
            return organisation(station.agency)
        if column == WorkstationColumn.STATE:
            return "revoked" if station.revoked_at else "enrolled"
        if column == WorkstationColumn.KEY:
            return key_label(station.key_id)
        if column == WorkstationColumn.ENROLLED_AT:
            return london_label(station.enrolled_at)
        if column == WorkstationColumn.ENROLLED_BY:
            return station.enrolled_by
        if column == WorkstationColumn.REVOKED_AT:
            return london_label(station.revoked_at) or "–"
        return station.revoked_by or "–"

    def sort_key(self, item: Any, column: int) -> Any:
        station: Workstation = item
        if column == WorkstationColumn.ENROLLED_AT:
            return station.enrolled_at
        if column == WorkstationColumn.REVOKED_AT:
            return station.revoked_at or ""
        return super().sort_key(item, column)

    def tooltip(self, item: Any, column: int) -> str | None:
        station: Workstation = item
        if column == WorkstationColumn.KEY:
            return f"Key id {station.key_id}"
        if column == WorkstationColumn.ORGANISATION:
            return organisation_name(station.agency)
        if column == WorkstationColumn.ENROLLED_AT:
            return utc_label(station.enrolled_at)
        if column == WorkstationColumn.REVOKED_AT and station.revoked_at:
            return utc_label(station.revoked_at)
        if column == WorkstationColumn.STATE and station.revoked_at:
            return "Revoked: nothing it signs from now on is accepted."
        return None

    def foreground(self, item: Any, column: int) -> QtGui.QColor | None:
        station: Workstation = item
        if station.revoked_at:
            palette = theme.current_palette()
            return QtGui.QColor(
                palette.danger if column == WorkstationColumn.STATE else palette.muted
            )
        return None

    def decoration(self, item: Any, column: int) -> QtGui.QIcon | None:
        if column != WorkstationColumn.STATE:
            return None
        station: Workstation = item
        palette = theme.current_palette()
        return swatch(palette.danger, "✕") if station.revoked_at else swatch(palette.ok, "●")


# ---- the authority's record ------------------------------------------------------------------
class RecordColumn(IntEnum):
    WHEN = 0
    WHO = 1
    WHAT = 2
    SUBJECT = 3
    DETAIL = 4
    WHERE_FROM = 5


def where_from(line: AuditLine) -> str:
    return " · ".join(part for part in (line.workstation, line.address) if part)


_TROUBLE = ("fail", "refused")


class RecordTableModel(ListTableModel):
    """The authority's own record (account changes, sign-ins it saw), newest first."""

    columns = RecordColumn
    labels: ClassVar[dict[int, str]] = {
        RecordColumn.WHEN: "When",
        RecordColumn.WHO: "Who",
        RecordColumn.WHAT: "What",
        RecordColumn.SUBJECT: "Subject",
        RecordColumn.DETAIL: "Detail",
        RecordColumn.WHERE_FROM: "Where from",
    }
    tips: ClassVar[dict[int, str]] = {
        RecordColumn.WHEN: "London time; UTC on hover",
        RecordColumn.WHO: "Who made the change or tried to sign in",
        RecordColumn.SUBJECT: "The account or workstation it was about",
        RecordColumn.WHERE_FROM: "The workstation and network address the request came from",
    }

    @property
    def last_seq(self) -> int:
        """The newest line held (the authority is asked only for lines after it)."""
        return max((line.seq for line in self._items), default=0)

    def add_lines(self, lines: Sequence[AuditLine]) -> None:
        """Put lines newer than those held at the top, newest first."""
        newest = sorted(
            (line for line in lines if line.seq > self.last_seq),
            key=lambda line: line.seq,
            reverse=True,
        )
        if not newest:
            return
        self.beginInsertRows(_ROOT, 0, len(newest) - 1)
        self._items[:0] = newest
        self.endInsertRows()

    def display(self, item: Any, column: int) -> str:
        line: AuditLine = item
        if column == RecordColumn.WHEN:
            return london_label(line.at, seconds=True)
        if column == RecordColumn.WHO:
            return line.actor
        if column == RecordColumn.WHAT:
            return line.action
        if column == RecordColumn.SUBJECT:
            return line.subject
        if column == RecordColumn.DETAIL:
            return line.detail
        return where_from(line)

    def sort_key(self, item: Any, column: int) -> Any:
        line: AuditLine = item
        if column == RecordColumn.WHEN:
            return line.seq
        return super().sort_key(item, column)

    def tooltip(self, item: Any, column: int) -> str | None:
        line: AuditLine = item
        if column == RecordColumn.WHEN:
            return f"{utc_label(line.at)} · entry {line.seq}"
        if column == RecordColumn.DETAIL and line.detail:
            return line.detail
        return None

    def foreground(self, item: Any, column: int) -> QtGui.QColor | None:
        line: AuditLine = item
        if column == RecordColumn.WHAT and any(w in line.action for w in _TROUBLE):
            return QtGui.QColor(theme.current_palette().warning)
        return None
