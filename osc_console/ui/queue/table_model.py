"""The incident queue as a Qt table model that holds ids, not rows.

With 100,000 incidents the model must never block the UI thread on SQLite, so it holds only
the ordered list of ids matching the current filter (fetched on the database worker) and a
bounded cache of :class:`QueueRow` fetched lazily, a page at a time, when a view asks for a
row it has not seen. Sorting and filtering are the store's job (its queries use indexes);
the model maps header clicks and filters to :class:`QueueFilter` and re-queries.

Refreshes come from one message, ``changes_applied(ChangeSet)``: changed rows are re-fetched
and repainted alone, and the id list is re-queried only when an incident may have entered,
left or moved in the list. Re-queries are coalesced: at most one is in flight at a time.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from typing import Any

import shiboken6

from osc_console.models.agencies import Agency
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import age_label, local_label, now_utc
from osc_console.store import queries
from osc_console.store.event_store import Store
from osc_console.store.queries import QueueCounts, QueueFilter, QueueOrder, QueueRow
from osc_console.ui import theme
from osc_console.ui.qt import QtCore, QtGui
from osc_console.ui.queue.format import (
    LEAD_SHORT,
    _parse_time,
    _runs,
    _sort_key,
    _target_text,
    conflict_icon,
    grade_icon,
    grade_text,
    is_ageing,
    short_ref,
    status_label,
)
from osc_console.ui.session import ConsoleSession

log = logging.getLogger(__name__)

Qt = QtCore.Qt
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)

AnyIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex
_ROOT = QtCore.QModelIndex()

PLACEHOLDER = "…"
PAGE_SIZE = 200
# Rows kept in memory; far more than any screen shows, small next to 100,000 incidents.
CACHE_LIMIT = 5000
AGE_TICK_MS = 30_000


class QueueColumn(IntEnum):
    REF = 0
    AGE = 1
    GRADE = 2
    CATEGORY = 3
    LOCATION = 4
    STATUS = 5
    LEAD = 6
    TEAMS = 7

    @property
    def label(self) -> str:
        return _COLUMN_LABELS[self]


_COLUMN_LABELS = {
    QueueColumn.REF: "Ref",
    QueueColumn.AGE: "Age",
    QueueColumn.GRADE: "Grade",
    QueueColumn.CATEGORY: "Category",
    QueueColumn.LOCATION: "Location",
    QueueColumn.STATUS: "Status",
    QueueColumn.LEAD: "Lead",
    QueueColumn.TEAMS: "Teams",
}
_COLUMN_TIPS = {
    QueueColumn.REF: "Incident reference (workstation and number; the full reference on hover)",
    QueueColumn.AGE: "Time since the incident was opened; UTC time on hover",
    QueueColumn.GRADE: "Police grade or council priority, most urgent first",
    QueueColumn.CATEGORY: "What was reported",
    QueueColumn.LOCATION: "Where",
    QueueColumn.STATUS: "Where the incident is in its lifecycle",
    QueueColumn.LEAD: "Lead agency",
    QueueColumn.TEAMS: "Teams with an active assignment",
}


class QueueRole(IntEnum):
    IncidentIdRole = int(Qt.ItemDataRole.UserRole) + 1
    GradeRole = int(Qt.ItemDataRole.UserRole) + 2
    OpenedAtRole = int(Qt.ItemDataRole.UserRole) + 3
    AgeingRole = int(Qt.ItemDataRole.UserRole) + 4
    SummaryRole = int(Qt.ItemDataRole.UserRole) + 5


# Each sortable column: the store order for (ascending, descending) header states.
_SORTS: dict[QueueColumn, tuple[tuple[QueueOrder, bool], tuple[QueueOrder, bool]]] = {
    QueueColumn.REF: ((QueueOrder.REF, False), (QueueOrder.REF, True)),
    # Age ascending is youngest first; the header starts descending (oldest first).
    QueueColumn.AGE: ((QueueOrder.NEWEST, False), (QueueOrder.OLDEST, False)),
    QueueColumn.GRADE: ((QueueOrder.URGENCY, False), (QueueOrder.URGENCY, True)),
    QueueColumn.CATEGORY: ((QueueOrder.CATEGORY, False), (QueueOrder.CATEGORY, True)),
    QueueColumn.LOCATION: ((QueueOrder.LOCATION, False), (QueueOrder.LOCATION, True)),
    QueueColumn.STATUS: ((QueueOrder.STATUS, False), (QueueOrder.STATUS, True)),
    QueueColumn.LEAD: ((QueueOrder.LEAD_AGENCY, False), (QueueOrder.LEAD_AGENCY, True)),
    QueueColumn.TEAMS: ((QueueOrder.TEAMS, False), (QueueOrder.TEAMS, True)),
}


class IncidentTableModel(QtCore.QAbstractTableModel):
    """The queue: ids of the incidents matching a filter, rows fetched a page at a time."""

    # After each refresh of the id list (even when it did not change).
    loaded = QtCore.Signal()
    # The footer's figures for the current filter (a queries.QueueCounts).
    counts_changed = QtCore.Signal(object)
    # A read failed; the text says why (the list keeps what it had).
    load_failed = QtCore.Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        queue_filter: QueueFilter | None = None,
        parent: QtCore.QObject | None = None,
        *,
        now: Callable[[], datetime] = now_utc,
        tick_ms: int = AGE_TICK_MS,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.now = now
        self._filter = queue_filter or QueueFilter(viewer=session.agency)
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._cache: OrderedDict[str, QueueRow] = OrderedDict()
        self._requested: set[str] = set()
        # Pages already asked for since the last answer: a view asks data() for every cell
        # of a page that is on its way, and each ask must stay cheap.
        self._pages_asked: set[int] = set()
        self._ageing: set[str] = set()
        self._loaded_once = False
        self._ids_in_flight = False
        self._ids_dirty = False
        self._counts: QueueCounts | None = None
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.reference = session.store.reference

        self._ticker = QtCore.QTimer(self)
        self._ticker.setInterval(tick_ms)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        session.signals.changes_applied.connect(self._on_changes_applied)
        self.refresh()

    # ---- public API ------------------------------------------------------------------------
    def queue_filter(self) -> QueueFilter:
        """The filter as queried: the viewer is always the signed-in agency (need-to-know)."""
        return dataclasses.replace(self._filter, viewer=self.session.agency)

    def set_filter(self, queue_filter: QueueFilter) -> None:
        """Show the incidents matching ``queue_filter``; the order stays the header's."""
        merged = dataclasses.replace(
            queue_filter, order=self._filter.order, descending=self._filter.descending
        )
        if merged == self._filter:
            return
        self._filter = merged
        self.refresh()

    @property
    def is_loading(self) -> bool:
        return self._ids_in_flight or self._ids_dirty or not self._loaded_once

    @property
    def counts(self) -> QueueCounts | None:
        return self._counts

    def incident_id(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, incident_id: str) -> int | None:
        return self._index.get(incident_id)

    def queue_row(self, row: int) -> QueueRow | None:
        """The cached row, or None while it has not been fetched."""
        incident = self.incident_id(row)
        return self._cache.get(incident) if incident is not None else None

    def tick_interval(self) -> int:
        return int(self._ticker.interval())

    def set_tick_interval(self, ms: int) -> None:
        self._ticker.setInterval(ms)

    def refresh(self) -> None:
        """Re-query the id list on the worker (coalesced: one query in flight at a time)."""
        if self._ids_in_flight:
            self._ids_dirty = True
            return
        self._ids_in_flight = True
        self._ids_dirty = False
        f = self.queue_filter()
        if not self._read(
            lambda store: queries.queue_ids(store.conn, f),
            lambda ids: self._ids_arrived(f, ids),
            self._ids_failed,
        ):
            self._ids_in_flight = False

    # ---- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        if parent.isValid():
            return 0
        return len(self._ids)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        if parent.isValid():
            return 0
        return len(QueueColumn)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(QueueColumn):
            return None
        column = QueueColumn(section)
        if role == _DISPLAY:
            return column.label
        if role in (_TOOLTIP, _ACCESSIBLE):
            return _COLUMN_TIPS[column]
        if role == int(Qt.ItemDataRole.InitialSortOrderRole):
            # The first click on Age shows the oldest first, as a controller expects.
            if column is QueueColumn.AGE:
                return Qt.SortOrder.DescendingOrder
            return Qt.SortOrder.AscendingOrder
        if role == _ALIGNMENT:
            return _alignment(column)
        return None

    def roleNames(self) -> dict[int, QtCore.QByteArray]:
        names = dict(super().roleNames())
        for role in QueueRole:
            name = role.name.removesuffix("Role")
            names[int(role)] = QtCore.QByteArray((name[0].lower() + name[1:]).encode())
        return names

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        row_number = index.row()
        if not 0 <= row_number < len(self._ids):
            return None
        incident = self._ids[row_number]
        role = int(role)
        column = QueueColumn(index.column())
        if role == QueueRole.IncidentIdRole:
            return incident
        if role == _ALIGNMENT:
            return _alignment(column)
        row = self._cache.get(incident)
        if row is None:
            self._request_page(row_number)
            if role == _DISPLAY:
                return PLACEHOLDER
            if role == _FOREGROUND:
                return QtGui.QColor(theme.current_palette().muted)
            return None
        if role == _DISPLAY:
            return self._display(row, column)
        if role == _DECORATION:
            if column is QueueColumn.GRADE:
                return grade_icon(row)
            if column is QueueColumn.REF and row.has_conflict:
                return conflict_icon()
            return None
        if role == _TOOLTIP:
            if column is QueueColumn.AGE:
                return self._age_tooltip(row)
            return self._summary_tooltip(row)
        if role == _FOREGROUND:
            return self._foreground(row, column)
        if role == _BACKGROUND:
            if is_ageing(row, self.now()):
                colour = QtGui.QColor(theme.current_palette().warning)
                colour.setAlpha(26)
                return colour
            return None
        if role == _FONT:
            if column is QueueColumn.AGE and is_ageing(row, self.now()):
                font = QtGui.QFont()
                font.setBold(True)
                return font
            return None
        if role == _ACCESSIBLE:
            return self._accessible(row, column)
        if role == QueueRole.GradeRole:
            return row.grade or row.council_priority
        if role == QueueRole.OpenedAtRole:
            return row.opened_at
        if role == QueueRole.AgeingRole:
            return is_ageing(row, self.now())
        if role == QueueRole.SummaryRole:
            return row.summary
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort through the store: each column maps to a QueueOrder the queries index."""
        self._sort_column, self._sort_order = column, order
        if 0 <= column < len(QueueColumn):
            ascending, descending = _SORTS[QueueColumn(column)]
            store_order, reverse = ascending if order == Qt.SortOrder.AscendingOrder else descending
        else:  # -1: no column, the queue's own order (most urgent, then oldest)
            store_order, reverse = QueueOrder.URGENCY, False
        if (store_order, reverse) == (self._filter.order, self._filter.descending):
            return
        self._filter = dataclasses.replace(self._filter, order=store_order, descending=reverse)
        self.refresh()

    # ---- display ---------------------------------------------------------------------------
    def _display(self, row: QueueRow, column: QueueColumn) -> str:
        if column is QueueColumn.REF:
            return short_ref(row.ref)
        if column is QueueColumn.AGE:
            opened = _parse_time(row.opened_at)
            return age_label(self.now() - opened) if opened else "?"
        if column is QueueColumn.GRADE:
            return grade_text(row)
        if column is QueueColumn.CATEGORY:
            return self._category(row)
        if column is QueueColumn.LOCATION:
            return row.location
        if column is QueueColumn.STATUS:
            return status_label(row.status)
        if column is QueueColumn.LEAD:
            return LEAD_SHORT.get(row.lead_agency or "", row.lead_agency or "–")
        return ", ".join(self._team_name(t) for t in row.assigned_teams)

    def _category(self, row: QueueRow) -> str:
        category = self.reference.categories.get(row.category or "")
        return category.name if category else (row.category or "–")

    def _team_name(self, code: str) -> str:
        team = self.reference.team(code)
        return team.name if team else code

    def _foreground(self, row: QueueRow, column: QueueColumn) -> QtGui.QColor | None:
        palette = theme.current_palette()
        if column is QueueColumn.AGE and is_ageing(row, self.now()):
            return QtGui.QColor(palette.warning)
        if row.status == "closed":
            return QtGui.QColor(palette.muted)
        return None

    def _age_tooltip(self, row: QueueRow) -> str:
        opened = _parse_time(row.opened_at)
        if opened is None:
            return f"Opened {row.opened_at}"
        now = self.now()
        lines = [
            f"Opened {local_label(opened)} · {opened.strftime('%Y-%m-%d %H:%M:%S')} UTC",
            f"Open for {age_label(now - opened)}",
        ]
        if is_ageing(row, now):
            lines.append(f"Ageing: open past its {_target_text(row)} target")
        return "\n".join(lines)

    def _summary_tooltip(self, row: QueueRow) -> str:
        b = theme.badge(row.grade, row.council_priority)
        lead = Agency(row.lead_agency).label if row.lead_agency in LEAD_SHORT else "–"
        lines = [
            f"{row.ref} · {b.label} · {status_label(row.status)}",
            row.summary,
            f"{self._category(row)} at {row.location}",
            f"Lead: {lead} · {row.visibility} · {row.classification}",
        ]
        if row.assigned_teams:
            lines.append("Teams: " + ", ".join(self._team_name(t) for t in row.assigned_teams))
        opened = _parse_time(row.opened_at)
        if opened is not None:
            lines.append(
                f"Opened {local_label(opened)} ({opened.strftime('%H:%M')}Z) · "
                f"open {age_label(self.now() - opened)}"
            )
        if row.has_conflict:
            lines.append("⚠ Concurrent edit: resolve it in the incident's details")
        return "\n".join(lines)

    def _accessible(self, row: QueueRow, column: QueueColumn) -> str:
        if column is QueueColumn.REF:
            text = f"Incident {row.ref}"
            return text + (", concurrent edit to resolve" if row.has_conflict else "")
        if column is QueueColumn.AGE:
            opened = _parse_time(row.opened_at)
            text = f"Open {age_label(self.now() - opened)}" if opened else "Age unknown"
            return text + (", ageing" if is_ageing(row, self.now()) else "")
        if column is QueueColumn.GRADE:
            return theme.badge(row.grade, row.council_priority).label
        return f"{column.label}: {self._display(row, column) or 'none'}"

    # ---- fetching --------------------------------------------------------------------------
    def _read(
        self,
        work: Callable[[Store], Any],
        done: Callable[[Any], None],
        failed: Callable[[str], None] | None = None,
    ) -> bool:
        """Ask the worker; False when it has shut down (the console is closing)."""
        try:
            self.session.read(work, done, failed)
        except RuntimeError:
            log.debug("queue read skipped: the database worker has shut down")
            return False
        return True

    def _alive(self) -> bool:
        # Results can arrive after the widget that owned this model was destroyed.
        return shiboken6.isValid(self)

    def _ids_failed(self, message: str) -> None:
        if not self._alive():
            return
        self._ids_in_flight = False
        log.warning("queue could not be loaded: %s", message)
        self.load_failed.emit(message)
        if self._ids_dirty:
            self.refresh()

    def _ids_arrived(self, f: QueueFilter, ids: list[str]) -> None:
        if not self._alive():
            return
        self._ids_in_flight = False
        self._pages_asked.clear()  # rows moved: every page is asked for afresh
        current = self.queue_filter()
        if f == current:
            self._apply_ids(ids)
            self._request_counts()
            self.loaded.emit()
        if self._ids_dirty or f != current:  # changed while we asked: ask again
            self.refresh()

    def _apply_ids(self, ids: list[str]) -> None:
        new_index = {incident: row for row, incident in enumerate(ids)}
        if not self._loaded_once:
            self.beginResetModel()
            self._set_ids(ids, new_index)
            self._loaded_once = True
            self.endResetModel()
            return
        if ids == self._ids:
            return
        # One layout change keeps selections and persistent indexes on their incidents;
        # an incident that left the list leaves an invalid index behind.
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        old_ids = [
            self._ids[p.row()] if 0 <= p.row() < len(self._ids) else None for p in old_persistent
        ]
        self._set_ids(ids, new_index)
        new_persistent = []
        for p, incident in zip(old_persistent, old_ids, strict=True):
            row = new_index.get(incident) if incident is not None else None
            new_persistent.append(
                self.createIndex(row, p.column()) if row is not None else QtCore.QModelIndex()
            )
        self.changePersistentIndexList(old_persistent, new_persistent)
        self.layoutChanged.emit()

    def _set_ids(self, ids: list[str], new_index: dict[str, int]) -> None:
        self._ids = ids
        self._index = new_index
        for gone in [i for i in self._cache if i not in new_index]:
            del self._cache[gone]
        self._ageing &= set(self._cache)

    def _request_counts(self) -> None:
        f = self.queue_filter()
        now = self.now()
        self._read(
            lambda store: queries.queue_counts(store.conn, f, now),
            lambda counts: self._counts_arrived(f, counts),
        )

    def _counts_arrived(self, f: QueueFilter, counts: QueueCounts) -> None:
        if not self._alive() or f != self.queue_filter():
            return
        self._counts = counts
        self.counts_changed.emit(counts)

    def _request_page(self, row: int) -> None:
        start = row - row % PAGE_SIZE
        if start in self._pages_asked:
            return
        self._pages_asked.add(start)
        wanted = [
            i
            for i in self._ids[start : start + PAGE_SIZE]
            if i not in self._cache and i not in self._requested
        ]
        if wanted:
            self._fetch(wanted)

    def _fetch(self, ids: list[str]) -> None:
        if self._read(
            lambda store: queries.rows_by_id(store.conn, ids),
            lambda found: self._rows_arrived(ids, found),
            lambda message: self._rows_failed(ids, message),
        ):
            self._requested.update(ids)

    def _rows_failed(self, ids: list[str], message: str) -> None:
        if not self._alive():
            return
        self._requested.difference_update(ids)
        self._pages_asked.clear()
        log.warning("queue rows could not be read: %s", message)
        self.load_failed.emit(message)

    def _rows_arrived(self, asked: list[str], found: dict[str, QueueRow]) -> None:
        """Cache what is still listed and repaint exactly those rows."""
        if not self._alive():
            return
        self._requested.difference_update(asked)
        self._pages_asked.clear()
        changed_rows: list[int] = []
        now = self.now()
        for incident, row in found.items():
            position = self._index.get(incident)
            if position is None:
                continue
            self._cache.pop(incident, None)  # re-inserted as the newest, for eviction order
            self._cache[incident] = row
            if is_ageing(row, now):
                self._ageing.add(incident)
            else:
                self._ageing.discard(incident)
            changed_rows.append(position)
        while len(self._cache) > CACHE_LIMIT:
            evicted, _ = self._cache.popitem(last=False)
            self._ageing.discard(evicted)
        self._emit_rows_changed(changed_rows)

    def _emit_rows_changed(
        self, rows: Iterable[int], columns: tuple[int, int] | None = None
    ) -> None:
        first_column, last_column = columns or (0, len(QueueColumn) - 1)
        for first, last in _runs(rows):
            self.dataChanged.emit(self.index(first, first_column), self.index(last, last_column))

    # ---- change messages -------------------------------------------------------------------
    def _on_changes_applied(self, changes: ChangeSet) -> None:
        touched = set(changes.incidents) | set(changes.new_incidents)
        if not touched:
            return
        cached = [i for i in touched if i in self._cache]
        # Unknown before the change (not cached, not listed, new, or a search that may now
        # match new log text): only the store can say whether it is in the list, and where.
        # Log entries alone move no order or filter field, so they never make it uncertain.
        uncertain = (
            bool(changes.new_incidents)
            or bool(self._filter.search)
            or (len(cached) < len(touched) and not changes.only_entries)
        )
        if uncertain:
            self.refresh()
        # Rows on screen are fetched again; so are rows whose page is still on its way (it may
        # have been read before the change; this read is queued after it, so it wins).
        refetch = [i for i in touched if i in self._cache or i in self._requested]
        if refetch:
            before = {i: _sort_key(self._cache[i]) for i in cached}
            self._read(
                lambda store: queries.rows_by_id(store.conn, refetch),
                lambda found: self._changed_rows_arrived(refetch, found, before, uncertain),
                lambda message: self._rows_failed(refetch, message),
            )

    def _changed_rows_arrived(
        self,
        asked: list[str],
        found: dict[str, QueueRow],
        before: dict[str, tuple[Any, ...]],
        refreshed: bool,
    ) -> None:
        if not self._alive():
            return
        self._rows_arrived(asked, found)
        moved = any(
            incident not in found or _sort_key(found[incident]) != key
            for incident, key in before.items()
        )
        if moved and not refreshed:
            self.refresh()

    def _tick(self) -> None:
        """Ages count live: repaint the Age column, and whole rows that just began ageing."""
        if not self._ids:
            return
        self.dataChanged.emit(
            self.index(0, QueueColumn.AGE),
            self.index(len(self._ids) - 1, QueueColumn.AGE),
            [_DISPLAY, _TOOLTIP, _FOREGROUND, _FONT, _ACCESSIBLE, int(QueueRole.AgeingRole)],
        )
        now = self.now()
        flipped = {
            i for i, row in self._cache.items() if is_ageing(row, now) != (i in self._ageing)
        }
        self._ageing ^= flipped
        self._emit_rows_changed(self._index[i] for i in flipped if i in self._index)
        self._request_counts()  # the footer's ageing count moves with the clock too


def _alignment(column: QueueColumn) -> int:
    horizontal = (
        Qt.AlignmentFlag.AlignRight if column is QueueColumn.AGE else Qt.AlignmentFlag.AlignLeft
    )
    return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
