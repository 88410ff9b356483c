"""The right half of the main window: one incident, its teams, its log, and the log entry line.

Reads and writes go through the session (the database worker); the panel redraws only when a
ChangeSet names the incident it shows. A reload never resets the timeline when it only adds
entries, so the operator's selection and scroll position survive other desks' writes.
"""

from __future__ import annotations

import shiboken6

from osc_console.models.agencies import Visibility, can_see
from osc_console.models.changes import ChangeSet
from osc_console.models.events import Event
from osc_console.models.payloads import CALLER_FIELDS
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.services.incidents import Outcome
from osc_console.store import queries
from osc_console.ui.detail.assignments import AssignmentsPanel
from osc_console.ui.detail.header import VISIBILITY_LABELS, IncidentHeader
from osc_console.ui.detail.quick_entry import QuickEntry
from osc_console.ui.detail.timeline_delegate import TimelineDelegate
from osc_console.ui.detail.timeline_model import (
    AMENDABLE_KINDS,
    EventIdRole,
    KindRole,
    TimelineListModel,
    agency_name,
    category_name,
    local_time,
    location_text,
    utc_time,
)
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.timeline.tab import TimelineTab

Qt = QtCore.Qt


class TimelineListView(QtWidgets.QListView):
    """The Log tab's list: variable-height wrapped entries, scrolled by the pixel."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Incident log")
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(TimelineDelegate(self))
        # Like a chat log: while the operator is at the newest entry, stay there as entries
        # arrive and rows re-wrap; once they scroll up to read, leave them where they are.
        self.following = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._remember_position)
        bar.rangeChanged.connect(self._keep_position)

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def follow_bottom(self) -> None:
        self.following = True
        self.scrollToBottom()

    def _remember_position(self, _value: int) -> None:
        self.following = self.at_bottom()

    def _keep_position(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self.verticalScrollBar().setValue(maximum)


class DetailsTab(QtWidgets.QWidget):
    """What the header has no room for: summary, source, caller (personal data), who opened."""

    FIELDS = (
        ("summary", "Summary"),
        ("source", "Source"),
        ("caller", "Caller (personal data)"),
        ("visibility", "Visibility"),
        ("classification", "Protective marking"),
        ("opened_by", "Opened by"),
        ("opened_at", "Opened at"),
        ("workstation", "Opened at workstation"),
        ("closure", "Closure"),
        ("ref", "Reference"),
        ("id", "Incident id"),
    )

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Incident details")
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QtWidgets.QLabel] = {}
        for key, title in self.FIELDS:
            value = QtWidgets.QLabel()
            value.setAccessibleName(title)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = QtWidgets.QLabel(title)
            caption.setProperty("role", "muted")
            form.addRow(caption, value)
            self.values[key] = value

    def set_state(self, state: IncidentState | None, reference: object) -> None:
        if state is None:
            for label in self.values.values():
                label.clear()
            return
        caller = state.value("caller") or {}
        caller_text = (
            "\n".join(f"{k.title()}: {caller[k]}" for k in CALLER_FIELDS if caller.get(k))
            if isinstance(caller, dict)
            else str(caller)
        )
        opener = f"{state.opened_by} ({agency_name(state.opened_agency)})"
        closure = "—"
        if state.is_closed:
            name = category_name(state.closing_category, reference)  # type: ignore[arg-type]
            closure = f"{name} — {state.resolution or ''}"
        texts = {
            "summary": str(state.value("summary") or ""),
            "source": str(state.value("source") or ""),
            "caller": caller_text or "none recorded",
            "visibility": VISIBILITY_LABELS.get(state.visibility, state.visibility),
            "classification": state.classification,
            "opened_by": opener,
            "opened_at": local_time(state.opened_at),
            "workstation": state.opened_workstation,
            "closure": closure,
            "ref": state.ref,
            "id": state.id,
        }
        for key, text in texts.items():
            self.values[key].setText(text)
        self.values["opened_at"].setToolTip(utc_time(state.opened_at))
        location = location_text(state.value("location"))
        self.values["summary"].setToolTip(location)


class IncidentDetailPanel(QtWidgets.QWidget):
    assign_requested = QtCore.Signal()
    update_assignment_requested = QtCore.Signal(str)
    withdraw_requested = QtCore.Signal(str)
    amend_requested = QtCore.Signal(str)
    resolve_conflict_requested = QtCore.Signal(str)
    # The shown incident's state and timeline reached the screen (its id).
    loaded = QtCore.Signal(str)

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.incident_id: str | None = None
        self.state: IncidentState | None = None
        self._load_token = 0
        self._select_after_load: str | None = None
        self.setAccessibleName("Incident detail")

        self.header = IncidentHeader(session)
        self.assignments = AssignmentsPanel(session)
        self.model = TimelineListModel(session.store.reference, self)
        self.timeline = TimelineListView()
        self.timeline.setModel(self.model)
        self.timeline.customContextMenuRequested.connect(self._show_entry_menu)
        self.details = DetailsTab()
        details_scroll = QtWidgets.QScrollArea()
        details_scroll.setWidgetResizable(True)
        details_scroll.setWidget(self.details)
        details_scroll.setAccessibleName("Incident details")
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setAccessibleName("Incident views")
        self.tabs.addTab(self.timeline, "Log")
        # The chart and a second view of this log sharing its selection (issue 5).
        self.chart_tab = TimelineTab(
            session, self.model, self.timeline.selectionModel(), TimelineListView()
        )
        self.tabs.addTab(self.chart_tab, "Timeline chart")
        self.chart_tab.open_incident_requested.connect(self._open_from_chart)
        self.tabs.addTab(details_scroll, "Details")
        self.quick_entry = QuickEntry(session)

        content = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(content)
        gap = max(4, self.fontMetrics().height() // 3)
        layout.setContentsMargins(gap, gap, gap, gap)
        layout.addWidget(self.header)
        layout.addWidget(self.assignments)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.quick_entry)

        self.placeholder = QtWidgets.QLabel("Select an incident")
        self.placeholder.setAccessibleName("No incident shown")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "muted")
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        self.header.resolve_conflict_requested.connect(self.resolve_conflict_requested)
        self.assignments.assign_requested.connect(self.assign_requested)
        self.assignments.update_requested.connect(self.update_assignment_requested)
        self.assignments.withdraw_requested.connect(self.withdraw_requested)
        self.quick_entry.saved.connect(self._on_saved)
        session.signals.changes_applied.connect(self._on_changes)

    # ---- what is shown -------------------------------------------------------------------
    def show_incident(self, incident_id: str | None) -> None:
        if incident_id == self.incident_id and incident_id is not None:
            self.reload()
            return
        self.incident_id = incident_id
        self.state = None
        self._select_after_load = None
        self.model.clear()
        self.header.set_state(None)
        self.assignments.set_state(None)
        self.details.set_state(None, None)
        self.quick_entry.set_incident(None)
        self.placeholder.setText("Select an incident" if incident_id is None else "Loading…")
        self.stack.setCurrentWidget(self.placeholder)
        self._load_token += 1  # an answer still on its way for another incident is ignored
        if incident_id is not None:
            self.reload()

    def reload(self) -> None:
        incident_id = self.incident_id
        if incident_id is None:
            return
        self._load_token += 1
        token = self._load_token
        viewer = self.session.agency

        def work(store):  # runs on the database worker
            return store.incident(incident_id), queries.timeline(store.conn, incident_id, viewer)

        self.session.read(
            work,
            lambda result: self._loaded(token, result),
            lambda message: self._load_failed(token, message),
        )

    def _loaded(self, token: int, result: tuple[IncidentState | None, list[Event]]) -> None:
        if not shiboken6.isValid(self) or token != self._load_token:
            return  # a newer load is on its way, or the panel has gone
        state, events = result
        if state is None or not can_see(self.session.agency, Visibility(state.visibility)):
            self.placeholder.setText("This incident is not in this store, or not visible to you")
            self.stack.setCurrentWidget(self.placeholder)
            self.quick_entry.set_incident(None)
            return
        first = self.state is None
        follow = first or self.timeline.following
        keep = self.current_event_id()
        self.state = state
        self.header.set_state(state, {e.id: e for e in events})
        self.assignments.set_state(state)
        self.details.set_state(state, self.session.store.reference)
        self.model.set_events(events, state)
        self.quick_entry.set_incident(state.id)
        self.stack.setCurrentIndex(1)
        pending = self._select_after_load
        if pending is not None and self.model.row_of(pending) >= 0:
            self._select_after_load = None
            self._select_row(self.model.row_of(pending), scroll=True)
        elif keep is not None and self.current_event_id() != keep:
            self._select_row(self.model.row_of(keep), scroll=False)  # after a reset
        if follow and pending is None:
            self.timeline.follow_bottom()
        self.loaded.emit(state.id)

    def _load_failed(self, token: int, message: str) -> None:
        if not shiboken6.isValid(self) or token != self._load_token:
            return
        if self.state is None:
            self.placeholder.setText(f"Could not load the incident: {message}")
            self.stack.setCurrentWidget(self.placeholder)
        else:
            self.header.setToolTip(f"Could not refresh: {message}")

    def _on_changes(self, changes: ChangeSet) -> None:
        if self.incident_id is not None and self.incident_id in changes.incidents:
            self.reload()

    def _on_saved(self, outcome: Outcome) -> None:
        """Show a local save at once; the reload that follows reconciles without a reset."""
        if self.state is None or outcome.incident.id != self.state.id:
            return
        for event in outcome.events:
            self.model.append(event)
        if outcome.events:
            newest = outcome.events[-1].id
            self._select_after_load = newest
            self._select_row(self.model.row_of(newest), scroll=True)

    # ---- selection -----------------------------------------------------------------------
    def _select_row(self, row: int, *, scroll: bool) -> None:
        if row < 0:
            return
        index = self.model.index(row)
        self.timeline.setCurrentIndex(index)
        if scroll:
            self.timeline.scrollTo(index, QtWidgets.QAbstractItemView.ScrollHint.EnsureVisible)

    def select_event(self, event_id: str) -> bool:
        """Select and show an entry; if it is not loaded yet, select it when it arrives."""
        row = self.model.row_of(event_id)
        if row < 0:
            self._select_after_load = event_id
            return False
        self.tabs.setCurrentWidget(self.timeline)
        self._select_row(row, scroll=True)
        return True

    def _open_from_chart(self, incident_id: str, event_id: str) -> None:
        """A linked incident's marker was clicked: show that incident, at that entry."""
        self.show_incident(incident_id)
        self._select_after_load = event_id

    def current_event_id(self) -> str | None:
        index = self.timeline.currentIndex()
        return str(index.data(EventIdRole)) if index.isValid() else None

    def focus_entry(self) -> None:
        self.quick_entry.focus_entry()

    # ---- the entry menu ------------------------------------------------------------------
    def entry_menu(self, index: QtCore.QModelIndex) -> QtWidgets.QMenu | None:
        if not index.isValid():
            return None
        event_id = str(index.data(EventIdRole))
        menu = QtWidgets.QMenu(self)
        menu.setAccessibleName("Log entry actions")
        if index.data(KindRole) in AMENDABLE_KINDS and self.session.may(Action.AMEND):
            amend = menu.addAction("Amend…")
            amend.triggered.connect(lambda: self.amend_requested.emit(event_id))
        copy = menu.addAction("Copy entry")
        text = f"{index.data(self.model.MetaRole)}\n{index.data()}"
        copy.triggered.connect(lambda: QtGui.QGuiApplication.clipboard().setText(text))
        return menu

    def _show_entry_menu(self, pos: QtCore.QPoint) -> None:
        menu = self.entry_menu(self.timeline.indexAt(pos))
        if menu is not None:
            menu.exec(self.timeline.viewport().mapToGlobal(pos))
            menu.deleteLater()
