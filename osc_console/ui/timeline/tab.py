"""The detail panel's "Timeline chart" tab: the chart above the incident's log.

The list under the chart is a second view on the detail's own log model and shares its
selection model, so a click on a marker selects that entry in the detail's list (both views
show it) and choosing an entry in either list rings its marker. pyqtgraph is imported only
when the tab is first shown: most operators spend their shift in the Log tab.

With "Merge linked incidents" ticked, the chart also draws every incident linked to this one
(directly or through others: the major-incident group), read on the database worker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import shiboken6

from osc_console.models.events import Event
from osc_console.models.projection import IncidentState
from osc_console.ui.detail.timeline_model import TimelineListModel, describe_event
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.timeline.layout import build_timeline

if TYPE_CHECKING:
    from osc_console.ui.timeline.chart import TimelineChart

Qt = QtCore.Qt
log = logging.getLogger(__name__)
Group = list[tuple[IncidentState | None, Sequence[Event]]]


class TimelineTab(QtWidgets.QWidget):
    # The chart was redrawn (tests and the screenshot script wait for it).
    drawn = QtCore.Signal()
    # A marker of another incident of the group was clicked: (incident id, event id).
    open_incident_requested = QtCore.Signal(str, str)

    def __init__(
        self,
        session: ConsoleSession,
        model: TimelineListModel,
        selection: QtCore.QItemSelectionModel,
        list_view: QtWidgets.QAbstractItemView,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.model = model
        self.selection = selection
        self.chart: TimelineChart | None = None
        self.linked: Group = []  # the other incidents of the group, when merged
        self._group_of: str | None = None  # the incident whose group ``linked`` is
        self._stale = False  # the log changed while the chart was hidden
        self._group_token = 0
        self.setAccessibleName("Timeline chart")

        self.merge = QtWidgets.QCheckBox("Merge linked incidents")
        self.merge.setToolTip(
            "Draw every incident linked to this one (the major-incident group) on one timeline"
        )
        self.merge.setEnabled(False)
        self.merge.toggled.connect(self._merge_toggled)

        self.list_view = list_view
        list_view.setModel(model)
        list_view.setSelectionModel(selection)
        list_view.setAccessibleName("Incident log beside the chart")
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        self._chart_slot = QtWidgets.QLabel("Loading the chart…")
        self._chart_slot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.splitter.addWidget(self._chart_slot)
        self.splitter.addWidget(list_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.merge)
        layout.addWidget(self.splitter, 1)

        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self.redraw)
        for signal in (model.modelReset, model.rowsInserted, model.dataChanged):
            signal.connect(self._schedule)
        selection.currentChanged.connect(self._current_changed)

    # ---- building ------------------------------------------------------------------------
    def ensure_chart(self) -> TimelineChart:
        """Build the chart (and import pyqtgraph) the first time it is needed."""
        if self.chart is None:
            from osc_console.ui.timeline.chart import TimelineChart

            chart = TimelineChart()
            chart.entry_clicked.connect(self._marker_clicked)
            self.splitter.replaceWidget(0, chart)
            self._chart_slot.deleteLater()
            self.chart = chart
            self.redraw()
        return self.chart

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        try:
            if self.chart is not None and self._stale:
                self.redraw()
            self.ensure_chart()
        except Exception:  # an exception escaping a Qt virtual would take the console down
            log.exception("the timeline chart could not be drawn")
            if self.chart is None:
                self._chart_slot.setText("The chart could not be drawn; the log below is complete")

    def _schedule(self, *_: object) -> None:
        # Hidden behind the Log tab, the chart waits: an operator typing entries into an
        # incident of thousands must not pay for a redraw nobody sees.
        if self.chart is None:
            return
        if self.isVisible():
            self._redraw_timer.start()
        else:
            self._stale = True

    def redraw(self) -> None:
        chart = self.chart
        if chart is None:
            return
        self._stale = False
        state = self.model.state
        # Links are recorded on one incident of each pair, so this one may be in a group
        # without holding a link itself: merging is offered whenever an incident is shown.
        self.merge.setEnabled(state is not None)
        if state is None and not self.model.events:
            chart.clear()
        else:
            if self.merge.isChecked() and state is not None and state.id != self._group_of:
                self._load_group()  # another incident is shown: its group, drawn when read
            merged = self.merge.isChecked() and state is not None and state.id == self._group_of
            own: Group = [(state, self.model.events)]
            others = [g for g in self.linked if g[0] is not None and g[0].id != self._group_of]
            groups = own + others if merged else own
            data = build_timeline(groups, self.session.store.reference, datetime.now(UTC))
            chart.set_data(data, self._describe)
        chart.select(self._current_id())
        self.drawn.emit()

    def _describe(self, event: Event) -> str:
        entry = self.model.entry_at(self.model.row_of(event.id))
        if entry is not None:
            return entry.text
        return describe_event(event, self.session.store.reference)

    # ---- merging the major-incident group --------------------------------------------------
    def _merge_toggled(self, on: bool) -> None:
        if not on or self.model.state is None:
            self.redraw()
            return
        self._load_group()

    def _load_group(self) -> None:
        state = self.model.state
        if state is None:
            return
        self._group_of = None
        self._group_token += 1
        token = self._group_token
        viewer = self.session.agency
        incident_id = state.id

        def work(store):  # on the database worker
            from osc_console.services.links import incident_group_timelines

            return incident_group_timelines(store, incident_id, viewer)

        def done(groups: Group) -> None:
            if shiboken6.isValid(self) and token == self._group_token:
                self.linked = groups
                self._group_of = incident_id
                self.redraw()

        self.session.read(work, done)

    # ---- selection both ways -------------------------------------------------------------
    def _current_id(self) -> str | None:
        index = self.selection.currentIndex()
        return str(index.data(TimelineListModel.EventIdRole)) if index.isValid() else None

    def _current_changed(self, current: QtCore.QModelIndex, _previous: object) -> None:
        if self.chart is not None:
            self.chart.select(
                str(current.data(TimelineListModel.EventIdRole)) if current.isValid() else None
            )

    def _marker_clicked(self, event_id: str) -> None:
        row = self.model.row_of(event_id)
        if row < 0:  # an entry of another incident of the group: show that incident there
            marker = self.chart.data.marker_of(event_id) if self.chart and self.chart.data else None
            if marker is not None and marker.event.incident_id:
                self.open_incident_requested.emit(marker.event.incident_id, event_id)
            return
        index = self.model.index(row)
        self.selection.setCurrentIndex(
            index, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.list_view.scrollTo(index, QtWidgets.QAbstractItemView.ScrollHint.EnsureVisible)
