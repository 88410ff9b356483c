"""The shift log window: one shift as the duty manager answers for it.

Pick a date and a shift (the current one to begin with); the window reads the shift's log on
the database worker (:func:`build_shift_log`, never SQLite on the UI thread) and shows the
counts, the entries in one chronological stream and grouped by incident, the handover (open
incidents, the note, its acknowledgement) and the sign-off. Duty managers and admins get the
three shift records; everyone gets the PDF and CSV exports, which run on the worker with a
progress bar fed from the report through a queued signal, so the window never freezes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.clock import LONDON, local_label, now_utc
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.shift_log import (
    ShiftCounts,
    ShiftEntry,
    ShiftIncident,
    ShiftLog,
    ShiftRecord,
)
from osc_console.models.shifts import (
    DEFAULT_PATTERNS,
    ShiftPattern,
    ShiftWindow,
    current_shift,
    shift_window,
)
from osc_console.reports.pdf_pages import ReportError
from osc_console.reports.shift_report import (
    AFTER_SIGN_OFF,
    EMPTY_SHIFT,
    write_csv,
    write_pdf,
)
from osc_console.services.shifts import build_shift_log, configured_patterns, may_manage_shifts
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.fields import alive, muted, set_role, swatch
from osc_console.ui.dialogs.shift import (
    AcknowledgeDialog,
    HandoverDialog,
    ShiftRecordDialog,
    SignOffDialog,
)
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import agency_colour, badge, current_palette

ENTRY_ROLE = QtCore.Qt.ItemDataRole.UserRole
FORMATS = {"pdf": ("PDF", "PDF documents (*.pdf)"), "csv": ("CSV", "CSV files (*.csv)")}


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What one read brings back: the log and the names its filters need."""

    log: ShiftLog
    team_names: dict[str, str]
    category_names: dict[str, str]


class _ProgressRelay(QtCore.QObject):
    """Made on the UI thread; the report calls ``progressed.emit`` from the worker thread
    and the queued connection brings each step back to the UI thread."""

    progressed = QtCore.Signal(int, int)


def shift_title(window: ShiftWindow) -> str:
    """'The late shift of 22 Nov 2026 · 15:00–23:00 GMT' (a zone at each end across a
    clock change: '23:00 BST–07:00 GMT')."""
    start, end = window.start_local, window.end_local
    if start.tzname() == end.tzname():
        hours = f"{start:%H:%M}–{end:%H:%M} {end.tzname()}"
    else:
        hours = f"{start:%H:%M} {start.tzname()}–{end:%H:%M} {end.tzname()}"
    return f"The {window.name} shift of {window.day.day} {window.day:%b %Y} · {hours}"


def agency_short(agency: str) -> str:
    return agency.capitalize() if agency else "-"


class ShiftLogWindow(QtWidgets.QWidget):
    """A top-level, non-modal window over one shift's log."""

    loaded = QtCore.Signal()  # a log has been shown (or failed to load)
    export_finished = QtCore.Signal(str)  # the line shown: "Saved <path>" or the problem
    export_progress = QtCore.Signal(int, int)  # (done, total) as the progress bar took it

    def __init__(
        self,
        session: ConsoleSession,
        *,
        patterns: Sequence[ShiftPattern] | None = None,
        clock: Callable[[], datetime] = now_utc,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.session = session
        self.clock = clock
        self.log: ShiftLog | None = None
        self.active_dialog: ShiftRecordDialog | None = None
        self.file_dialog: QtWidgets.QFileDialog | None = None
        self._generation = 0
        self._exporting = False
        self._team_names: dict[str, str] = {}
        self._category_names: dict[str, str] = {}
        roster_problem = ""
        if patterns is None:
            try:
                patterns = configured_patterns()
            except ValidationError as exc:  # a wrong shifts.toml: say so, use the defaults
                roster_problem = f"{exc} — showing the default shifts instead."
                patterns = DEFAULT_PATTERNS
        self.patterns = tuple(patterns)

        self.setWindowTitle("Shift log · OSC Console")
        self.setAccessibleName("Shift log")
        self.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        self.resize(1320, 860)
        self.setMinimumSize(900, 600)

        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.setSpacing(8)
        outer.addLayout(self._build_picker())
        self.title = QtWidgets.QLabel()
        self.title.setProperty("role", "title")
        self.title.setAccessibleName("Shift")
        outer.addWidget(self.title)
        self.message = QtWidgets.QLabel()
        self.message.setAccessibleName("Shift log message")
        self.message.setWordWrap(True)
        outer.addWidget(self.message)
        self.roster_problem = QtWidgets.QLabel(roster_problem)
        self.roster_problem.setProperty("role", "error")
        self.roster_problem.setWordWrap(True)
        self.roster_problem.setVisible(bool(roster_problem))
        outer.addWidget(self.roster_problem)
        outer.addLayout(self._build_counts())
        outer.addLayout(self._build_filters())

        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_tabs())
        splitter.addWidget(self._build_handover())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([790, 510])
        outer.addWidget(splitter, 1)

        self.sign_off_line = QtWidgets.QLabel()
        self.sign_off_line.setAccessibleName("Sign-off")
        self.sign_off_line.setWordWrap(True)
        self.withheld_line = muted()
        self.withheld_line.setAccessibleName("Withheld entries")
        self.withheld_line.hide()
        outer.addWidget(self.sign_off_line)
        outer.addWidget(self.withheld_line)
        outer.addLayout(self._build_actions())

        self._relay = _ProgressRelay(self)
        self._relay.progressed.connect(
            self._export_progress, QtCore.Qt.ConnectionType.QueuedConnection
        )
        # Writes elsewhere (this workstation or a sync pull) may touch the shift: reload
        # once things have been quiet for a moment, and only while the window is open.
        self._debounce = QtCore.QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(1500)
        self._debounce.timeout.connect(self._changed_elsewhere)
        session.signals.changes_applied.connect(self._schedule_reload)
        for keys, slot in (("F5", self.reload), ("Ctrl+W", self.close)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(slot)

        current = current_shift(self.clock(), self.patterns)
        self.date_edit.setMaximumDate(_qdate(self._today()))
        self._set_selection(current.day, current.name)
        self.date_edit.dateChanged.connect(lambda _d: self.reload())
        self.shift_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.timeline.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        self.reload()

    # ---- building ------------------------------------------------------------------------
    def _build_picker(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.date_edit = QtWidgets.QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setMinimumDate(QtCore.QDate(2000, 1, 1))
        self.date_edit.setAccessibleName("Shift date")
        self.shift_combo = QtWidgets.QComboBox()
        self.shift_combo.setAccessibleName("Shift")
        for pattern in self.patterns:
            self.shift_combo.addItem(pattern.label, pattern.name)
        date_label = QtWidgets.QLabel("&Date")
        date_label.setBuddy(self.date_edit)
        shift_label = QtWidgets.QLabel("S&hift")
        shift_label.setBuddy(self.shift_combo)
        self.current_button = QtWidgets.QPushButton("Current shift")
        self.current_button.clicked.connect(self.show_current)
        self.reload_button = QtWidgets.QPushButton("Reload")
        self.reload_button.setToolTip("Read the shift again (F5)")
        self.reload_button.clicked.connect(self.reload)
        for widget in (date_label, self.date_edit, shift_label, self.shift_combo):
            row.addWidget(widget)
        row.addWidget(self.current_button)
        row.addStretch(1)
        row.addWidget(self.reload_button)
        return row

    def _build_counts(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(8)
        self.count_figures: dict[str, QtWidgets.QLabel] = {}
        for caption, _ in ShiftCounts().items():
            card = QtWidgets.QFrame()
            card.setProperty("role", "card")
            column = QtWidgets.QVBoxLayout(card)
            column.setContentsMargins(10, 6, 10, 6)
            column.setSpacing(0)
            figure = QtWidgets.QLabel("–")
            figure.setStyleSheet("font-size: 18pt; font-weight: 700; background: transparent;")
            figure.setAccessibleName(caption)
            words = muted(caption)
            words.setStyleSheet("background: transparent;")
            column.addWidget(figure)
            column.addWidget(words)
            row.addWidget(card, 1)
            self.count_figures[caption] = figure
        return row

    def _build_filters(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.agency_filter = self._filter_combo("Agency filter")
        self.team_filter = self._filter_combo("Team filter")
        self.category_filter = self._filter_combo("Category filter")
        self.operator_filter = self._filter_combo("Operator filter")
        row.addWidget(muted("Show"))
        for combo in self.filter_combos:
            row.addWidget(combo, 1)
        self.clear_filters_button = QtWidgets.QPushButton("Clear filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        row.addWidget(self.clear_filters_button)
        self.shown_label = muted()
        self.shown_label.setAccessibleName("Entries shown")
        row.addWidget(self.shown_label)
        return row

    def _filter_combo(self, name: str) -> QtWidgets.QComboBox:
        combo = QtWidgets.QComboBox()
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        combo.setMinimumContentsLength(14)
        combo.currentIndexChanged.connect(lambda _i: self._render_entries())
        return combo

    @property
    def filter_combos(self) -> tuple[QtWidgets.QComboBox, ...]:
        return (self.agency_filter, self.team_filter, self.category_filter, self.operator_filter)

    def _build_tabs(self) -> QtWidgets.QTabWidget:
        self.tabs = QtWidgets.QTabWidget()
        self.timeline = self._tree(["Time", "Agency", "Incident", "By", "Entry"], "Timeline")
        self.timeline.setRootIsDecorated(False)
        self.timeline.setUniformRowHeights(True)
        self.by_incident = self._tree(
            ["Incident / time", "Summary / entry", "Grade / by", "Status at end"], "By incident"
        )
        header = self.by_incident.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.tabs.addTab(self.timeline, "&Timeline")
        self.tabs.addTab(self.by_incident, "By &incident")
        return self.tabs

    def _tree(self, headers: list[str], name: str) -> QtWidgets.QTreeWidget:
        tree = QtWidgets.QTreeWidget()
        tree.setAccessibleName(name)
        tree.setHeaderLabels(headers)
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        return tree

    def _build_handover(self) -> QtWidgets.QWidget:
        panel = QtWidgets.QFrame()
        panel.setProperty("role", "card")
        panel.setAccessibleName("Handover")
        column = QtWidgets.QVBoxLayout(panel)
        column.setContentsMargins(10, 8, 10, 8)
        heading = QtWidgets.QLabel("Handover")
        heading.setStyleSheet("font-size: 12pt; font-weight: 700; background: transparent;")
        column.addWidget(heading)
        self.handover_summary = muted()
        self.handover_summary.setWordWrap(True)
        self.handover_summary.setStyleSheet("background: transparent;")
        column.addWidget(self.handover_summary)
        # Each open incident on one line, its last update on a second line under it.
        self.handover_list = self._tree(
            ["Incident", "Grade", "Status", "Outstanding assignments"], "Open at end of shift"
        )
        self.handover_list.setRootIsDecorated(False)
        self.handover_list.setAlternatingRowColors(False)  # rows come in pairs
        self.handover_list.setItemsExpandable(False)
        self.handover_list.setIndentation(12)
        header = self.handover_list.header()
        for section in (0, 2):
            header.setSectionResizeMode(section, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(1, 120)
        column.addWidget(self.handover_list, 1)
        self.handover_note = QtWidgets.QLabel()
        self.handover_note.setAccessibleName("Handover note")
        self.acknowledgement = QtWidgets.QLabel()
        self.acknowledgement.setAccessibleName("Acknowledgement")
        for label in (self.handover_note, self.acknowledgement):
            label.setWordWrap(True)
            label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setStyleSheet("background: transparent;")
            column.addWidget(label)
        return panel

    def _build_actions(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.handover_button = QtWidgets.QPushButton("Write handover…")
        self.handover_button.clicked.connect(self.write_handover)
        self.acknowledge_button = QtWidgets.QPushButton("Acknowledge handover…")
        self.acknowledge_button.clicked.connect(self.acknowledge_handover)
        self.sign_off_button = QtWidgets.QPushButton("Sign off…")
        self.sign_off_button.clicked.connect(self.sign_off)
        manager = may_manage_shifts(self.session.user)
        for button in self.manager_buttons:
            button.setAccessibleName(button.text().rstrip("…"))
            button.setVisible(manager)
            row.addWidget(button)
        row.addStretch(1)
        self.export_status = QtWidgets.QLabel()
        self.export_status.setAccessibleName("Export")
        self.export_status.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        row.addWidget(self.export_status, 2)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setAccessibleName("Export progress")
        self.progress.setFixedWidth(180)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.hide()
        row.addWidget(self.progress)
        self.pdf_button = QtWidgets.QPushButton("Export PDF…")
        self.pdf_button.clicked.connect(lambda: self.export("pdf"))
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.export("csv"))
        row.addWidget(self.pdf_button)
        row.addWidget(self.csv_button)
        return row

    @property
    def manager_buttons(self) -> tuple[QtWidgets.QPushButton, ...]:
        return (self.handover_button, self.acknowledge_button, self.sign_off_button)

    # ---- which shift ---------------------------------------------------------------------
    def _today(self) -> date:
        return self.clock().astimezone(LONDON).date()

    def _set_selection(self, day: date, name: str) -> None:
        for widget in (self.date_edit, self.shift_combo):
            widget.blockSignals(True)
        self.date_edit.setDate(_qdate(day))
        index = self.shift_combo.findData(name)
        self.shift_combo.setCurrentIndex(max(index, 0))
        for widget in (self.date_edit, self.shift_combo):
            widget.blockSignals(False)

    def selected_day(self) -> date:
        value = self.date_edit.date().toPython()
        assert isinstance(value, date)
        return value

    def selected_shift(self) -> str:
        return str(self.shift_combo.currentData())

    @property
    def window_shown(self) -> ShiftWindow:
        return shift_window(self.selected_day(), self.selected_shift(), self.patterns)

    def show_shift(self, day: date, name: str) -> None:
        """Show shift ``name`` of London date ``day`` (the picker follows)."""
        self._set_selection(day, name)
        self.reload()

    def show_current(self) -> None:
        current = current_shift(self.clock(), self.patterns)
        self.date_edit.setMaximumDate(_qdate(self._today()))
        self.show_shift(current.day, current.name)

    # ---- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the chosen shift on the worker; a newer request makes older answers moot."""
        self._debounce.stop()
        self._generation += 1
        generation = self._generation
        day, name = self.selected_day(), self.selected_shift()
        viewer: Agency = self.session.agency
        patterns = self.patterns
        self.title.setText(shift_title(self.window_shown))
        self._say("Loading…")

        def work(store: Store) -> _Loaded:
            log = build_shift_log(store, day, name, viewer, patterns=patterns)
            reference = store.reference
            teams = {
                code: (team.name if (team := reference.team(code)) else code)
                for incident in (*log.incidents, *log.handover)
                for code in incident.teams
            }
            categories = {
                code: (category.name if (category := reference.categories.get(code)) else code)
                for incident in (*log.incidents, *log.handover)
                if (code := incident.category)
            }
            return _Loaded(log, teams, categories)

        self.session.read(
            work,
            lambda result: self._loaded(generation, result),
            lambda message: self._load_failed(generation, message),
        )

    def _schedule_reload(self, _changes: object) -> None:
        if self.isVisible():
            self._debounce.start()

    def _changed_elsewhere(self) -> None:
        if alive(self) and self.isVisible():
            self.reload()

    def _loaded(self, generation: int, result: _Loaded) -> None:
        if not alive(self) or generation != self._generation:
            return
        self.log = result.log
        self._team_names = result.team_names
        self._category_names = result.category_names
        self._say("")
        self._show_log(result.log)
        self.loaded.emit()

    def _load_failed(self, generation: int, message: str) -> None:
        if not alive(self) or generation != self._generation:
            return
        self._say(f"The shift log could not be read: {message}", error=True)
        self.loaded.emit()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        set_role(self.message, "error" if error else "")
        self.message.setVisible(bool(text))

    # ---- showing -------------------------------------------------------------------------
    def _show_log(self, log: ShiftLog) -> None:
        self.title.setText(shift_title(log.window))
        for caption, value in log.counts.items():
            self.count_figures[caption].setText(str(value))
        self._fill_filters(log)
        self._render_entries()
        self._show_handover(log)
        self._show_sign_off(log)
        line = log.withheld_line
        self.withheld_line.setText(f"{line}." if line else "")
        self.withheld_line.setVisible(bool(line))

    def _fill_filters(self, log: ShiftLog) -> None:
        agencies = sorted({e.event.agency for e in log.entries})
        operators = sorted({e.event.actor for e in log.entries}, key=str.lower)
        choices: list[tuple[QtWidgets.QComboBox, str, list[tuple[str, str]]]] = [
            (
                self.agency_filter,
                "All agencies",
                [(_agency_label(a), a) for a in agencies],
            ),
            (
                self.team_filter,
                "All teams",
                sorted(((n, c) for c, n in self._team_names.items()), key=lambda p: p[0]),
            ),
            (
                self.category_filter,
                "All categories",
                sorted(((n, c) for c, n in self._category_names.items()), key=lambda p: p[0]),
            ),
            (self.operator_filter, "All operators", [(o, o) for o in operators]),
        ]
        for combo, everything, items in choices:
            kept = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for label, value in items:
                if combo is self.agency_filter:
                    combo.addItem(swatch(agency_colour(value), "■"), label, value)
                else:
                    combo.addItem(label, value)
            index = combo.findData(kept) if kept is not None else 0
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def filters(self) -> dict[str, str | None]:
        return {
            "agency": self.agency_filter.currentData(),
            "team": self.team_filter.currentData(),
            "category": self.category_filter.currentData(),
            "operator": self.operator_filter.currentData(),
        }

    def set_filter(self, which: str, value: str | None) -> None:
        """Choose a filter value by its data ("police", a team code, an actor's name)."""
        combo = {
            "agency": self.agency_filter,
            "team": self.team_filter,
            "category": self.category_filter,
            "operator": self.operator_filter,
        }[which]
        index = combo.findData(value) if value is not None else 0
        if index < 0:
            raise ValueError(f"no {which} {value!r} in this shift")
        combo.setCurrentIndex(index)

    def clear_filters(self) -> None:
        for combo in self.filter_combos:
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self._render_entries()

    def visible_entries(self) -> tuple[ShiftEntry, ...]:
        if self.log is None:
            return ()
        return self.log.filtered(**self.filters())

    def _render_entries(self) -> None:
        log = self.log
        if log is None:
            return
        entries = self.visible_entries()
        filtering = any(v is not None for v in self.filters().values())
        self.clear_filters_button.setEnabled(filtering)
        self.shown_label.setText(
            f"{len(entries)} of {len(log.entries)} entries"
            if filtering
            else f"{len(entries)} entries"
        )
        if log.is_empty:
            self._say(EMPTY_SHIFT)
        elif not entries:
            self._say("No entries match these filters.")
        elif self.message.text() != "Loading…":
            self._say("")
        self._fill_timeline(log, entries)
        self._fill_by_incident(log, entries, filtering)

    def _entry_text(self, entry: ShiftEntry) -> str:
        text = f"{entry.kind_label}: {entry.text}"
        if entry.after_sign_off:
            return f"⚑ {AFTER_SIGN_OFF.upper()} · {text}"
        return text

    def _time_text(self, entry: ShiftEntry, day: date) -> str:
        local = entry.occurred_local
        label = local_label(entry.occurred)
        return label if local.date() == day else f"{local:%a} {label}"

    def _mark(self, item: QtWidgets.QTreeWidgetItem, entry: ShiftEntry, columns: int) -> None:
        item.setData(0, ENTRY_ROLE, entry)
        if not entry.after_sign_off:
            return
        colour = QtGui.QBrush(QtGui.QColor(current_palette().danger))
        recorded = entry.recorded.astimezone(LONDON)
        tip = (
            f"Recorded {recorded:%d %b %Y} {local_label(entry.recorded)}, after the shift was "
            "signed off"
        )
        for column in range(columns):
            item.setForeground(column, colour)
            item.setToolTip(column, tip)

    def _fill_timeline(self, log: ShiftLog, entries: Sequence[ShiftEntry]) -> None:
        tree = self.timeline
        tree.setUpdatesEnabled(False)
        tree.clear()
        icons: dict[str, QtGui.QIcon] = {}
        items = []
        for entry in entries:
            event = entry.event
            text = self._entry_text(entry)
            item = QtWidgets.QTreeWidgetItem(
                [
                    self._time_text(entry, log.window.day),
                    agency_short(event.agency),
                    entry.incident_ref or "Shift",
                    event.actor,
                    text,
                ]
            )
            if event.agency not in icons:
                icons[event.agency] = swatch(agency_colour(event.agency), "■")
            item.setIcon(1, icons[event.agency])
            item.setToolTip(4, text)
            self._mark(item, entry, 5)
            items.append(item)
        tree.addTopLevelItems(items)
        for column, width in enumerate((92, 118, _ref_width(tree), 130)):
            tree.setColumnWidth(column, width)
        tree.setUpdatesEnabled(True)

    def _fill_by_incident(
        self, log: ShiftLog, entries: Sequence[ShiftEntry], filtering: bool
    ) -> None:
        tree = self.by_incident
        tree.setUpdatesEnabled(False)
        tree.clear()
        shown = {e.event.id for e in entries}
        items = []
        for incident in log.incidents:
            children = [e for e in incident.entries if e.event.id in shown]
            if filtering and not children:
                continue
            items.append(self._incident_item(incident, children, log.window.day))
        records = [e for e in entries if e.incident_ref is None and e.event.incident_id is None]
        if records:
            node = QtWidgets.QTreeWidgetItem(["Shift", "Handover, acknowledgement, sign-off"])
            for entry in records:
                node.addChild(self._entry_item(entry, log.window.day))
            items.append(node)
        tree.addTopLevelItems(items)
        tree.setColumnWidth(0, _ref_width(tree, bold=True) + tree.indentation())
        tree.setColumnWidth(2, 150)
        tree.setUpdatesEnabled(True)

    def _incident_item(
        self, incident: ShiftIncident, children: Sequence[ShiftEntry], day: date
    ) -> QtWidgets.QTreeWidgetItem:
        item = QtWidgets.QTreeWidgetItem(
            [incident.ref, incident.summary, incident.urgency_label, incident.status_label]
        )
        mark = badge(incident.grade, incident.council_priority)
        item.setIcon(2, swatch(mark.colour, mark.glyph))
        item.setToolTip(1, incident.summary)
        bold = item.font(0)
        bold.setBold(True)
        item.setFont(0, bold)
        for entry in children:
            item.addChild(self._entry_item(entry, day))
        return item

    def _entry_item(self, entry: ShiftEntry, day: date) -> QtWidgets.QTreeWidgetItem:
        text = self._entry_text(entry)
        item = QtWidgets.QTreeWidgetItem([self._time_text(entry, day), text, entry.event.actor, ""])
        item.setToolTip(1, text)
        self._mark(item, entry, 4)
        return item

    def _show_handover(self, log: ShiftLog) -> None:
        handover = log.handover
        outstanding = log.counts.assignments_outstanding
        self.handover_summary.setText(
            f"{len(handover)} incident{'s' if len(handover) != 1 else ''} open at the end of the "
            f"shift, {outstanding} assignment{'s' if outstanding != 1 else ''} outstanding."
            if handover
            else "No incidents were open at the end of the shift."
        )
        tree = self.handover_list
        muted_brush = QtGui.QBrush(QtGui.QColor(current_palette().muted))
        tree.setUpdatesEnabled(False)
        tree.clear()
        items: list[QtWidgets.QTreeWidgetItem] = []
        updates: list[QtWidgets.QTreeWidgetItem] = []
        for incident in handover:
            last = incident.last_update
            last_text = f"{_when(last, log.window)} {last.kind_label}: {last.text}" if last else ""
            teams = ", ".join(a.label for a in incident.outstanding) or "none"
            item = QtWidgets.QTreeWidgetItem(
                [incident.ref, incident.urgency_label, incident.status_label, teams]
            )
            mark = badge(incident.grade, incident.council_priority)
            item.setIcon(1, swatch(mark.colour, mark.glyph))
            item.setToolTip(0, incident.summary)
            item.setToolTip(1, incident.urgency_label)
            item.setToolTip(3, teams)
            update = QtWidgets.QTreeWidgetItem(
                [f"Last update {last_text}" if last else "No update"]
            )
            update.setToolTip(0, last_text)
            update.setForeground(0, muted_brush)
            item.addChild(update)
            items.append(item)
            updates.append(update)
        tree.addTopLevelItems(items)
        for item, update in zip(items, updates, strict=True):
            item.setExpanded(True)
            update.setFirstColumnSpanned(True)
        tree.setUpdatesEnabled(True)
        day = log.window.day
        self.handover_note.setText(
            _record_text("Handover note by", log.handover_note, day)
            or "No handover note has been written for this shift."
        )
        self.acknowledgement.setText(
            _record_text("Acknowledged by", log.acknowledgement, day)
            or ("Not yet acknowledged." if log.handover_note else "")
        )
        self.acknowledgement.setVisible(bool(self.acknowledgement.text()))

    def _show_sign_off(self, log: ShiftLog) -> None:
        record = log.sign_off
        palette = current_palette()
        if record is None:
            self.sign_off_line.setText("Not signed off")
            self.sign_off_line.setStyleSheet(f"color: {palette.muted};")
            return
        text = f"Signed off by {record.who_when(log.window.day)}"
        if record.note:
            text += f" — “{record.note}”"
        late = log.after_sign_off_count
        if late:
            text += (
                f" · {late} {'entry' if late == 1 else 'entries'} recorded after sign-off, "
                f"marked “{AFTER_SIGN_OFF}”"
            )
        self.sign_off_line.setText(text)
        self.sign_off_line.setStyleSheet(
            f"color: {palette.warning if late else palette.ok}; font-weight: 600;"
        )

    # ---- shift records -------------------------------------------------------------------
    def write_handover(self) -> None:
        self._open_record(HandoverDialog)

    def acknowledge_handover(self) -> None:
        self._open_record(AcknowledgeDialog)

    def sign_off(self) -> None:
        self._open_record(SignOffDialog)

    def _open_record(self, make: Any) -> None:
        if self.active_dialog is not None and alive(self.active_dialog):
            self.active_dialog.raise_()
            return
        dialog: ShiftRecordDialog = make(
            self.session, self.window_shown, patterns=self.patterns, clock=self.clock, parent=self
        )
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.active_dialog = dialog

        def finished(result: int) -> None:
            self.active_dialog = None
            if result == QtWidgets.QDialog.DialogCode.Accepted and alive(self):
                self.reload()

        dialog.finished.connect(finished)
        dialog.open()

    # ---- exports -------------------------------------------------------------------------
    def export(self, fmt: str) -> None:
        """Ask where to save (a non-native dialog), then export there."""
        if self.log is None or self._exporting:
            return
        name, pattern = FORMATS[fmt]
        window = self.log.window
        suggested = Path.home() / f"shift-{window.day.isoformat()}-{window.name}.{fmt}"
        dialog = QtWidgets.QFileDialog(self, f"Export the shift log as {name}")
        dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QtWidgets.QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(pattern)
        dialog.setDefaultSuffix(fmt)
        dialog.selectFile(str(suggested))
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.export_to(fmt, Path(path)))
        self.file_dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "file_dialog", None))
        dialog.open()

    def export_to(self, fmt: str, path: Path) -> None:
        """Export the shown shift (as this organisation may see it) on the worker."""
        log = self.log
        if log is None or self._exporting:
            return
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self._set_exporting(True)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.show()
        set_role(self.export_status, "")
        self.export_status.setText(f"Exporting {FORMATS[fmt][0]}…")
        progress = self._relay.progressed.emit  # called on the worker thread

        def work(store: Store) -> Path:
            from osc_console.services.exercise import codeword_of

            codeword = codeword_of(store)  # an exercise's report says so on every page
            try:
                if fmt == "pdf":
                    return write_pdf(log, path, progress=progress, codeword=codeword)
                return write_csv(log, path, progress=progress, codeword=codeword)
            except ReportError as exc:  # a path problem is the operator's to fix, not a bug
                raise DomainError(str(exc)) from exc

        self.session.run(work, self._exported, self._export_failed)

    def _export_progress(self, done: int, total: int) -> None:
        if not alive(self):
            return
        if total <= 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        else:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.export_progress.emit(done, total)

    def _exported(self, path: Path) -> None:
        if not alive(self):
            return
        self._set_exporting(False)
        self.progress.setValue(self.progress.maximum())
        message = f"Saved {path}"
        set_role(self.export_status, "")
        self.export_status.setText(message)
        self.export_status.setToolTip(message)
        self.export_finished.emit(message)

    def _export_failed(self, message: str) -> None:
        if not alive(self):
            return
        self._set_exporting(False)
        self.progress.hide()
        text = message[:1].upper() + message[1:]
        set_role(self.export_status, "error")
        self.export_status.setText(text)
        self.export_status.setToolTip(text)
        self.export_finished.emit(text)

    def _set_exporting(self, exporting: bool) -> None:
        self._exporting = exporting
        self.pdf_button.setEnabled(not exporting)
        self.csv_button.setEnabled(not exporting)

    @property
    def exporting(self) -> bool:
        return self._exporting


def _ref_width(tree: QtWidgets.QTreeWidget, *, bold: bool = False) -> int:
    """Room for a whole incident reference ('20261122-CR1-0001') and an icon's margin."""
    font = QtGui.QFont(tree.font())
    font.setBold(bold)
    return QtGui.QFontMetrics(font).horizontalAdvance("20261122-CR8-0000") + 24


def _qdate(day: date) -> QtCore.QDate:
    return QtCore.QDate(day.year, day.month, day.day)


def _agency_label(agency: str) -> str:
    try:
        return Agency(agency).label
    except ValueError:
        return agency


def _when(entry: ShiftEntry, window: ShiftWindow) -> str:
    local = entry.occurred_local
    label = local_label(entry.occurred)
    if local.date() in (window.start_local.date(), window.end_local.date()):
        return label
    return f"{local:%d %b} {label}"


def _record_text(label: str, record: ShiftRecord | None, day: date) -> str:
    if record is None:
        return ""
    text = f"{label} {record.who_when(day)}"
    return f"{text}:\n{record.note}" if record.note else text
