"""The Search tab: words across every incident and its log, narrowed by filters.

The query runs on the database worker (``store.search``); what the operator types is plain
text, never FTS syntax. Activating a result (double-click or Enter) asks the main window to
open the incident at the matching entry (:attr:`SearchPanel.open_requested`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

import shiboken6

from osc_console.models.agencies import Agency
from osc_console.models.clock import LONDON
from osc_console.models.incident import Grade
from osc_console.store.search import SearchFilter, SearchResult, search_incidents
from osc_console.ui.detail.timeline_model import category_name, grade_label, local_time
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import PRIORITY_BADGES

Qt = QtCore.Qt


class Column(IntEnum):
    REF = 0
    WHEN = 1
    GRADE = 2
    CATEGORY = 3
    AGENCY = 4
    MATCH = 5


_TITLES = {
    Column.REF: "Incident",
    Column.WHEN: "When",
    Column.GRADE: "Grade",
    Column.CATEGORY: "Category",
    Column.AGENCY: "Lead",
    Column.MATCH: "Match",
}
IncidentIdRole = int(Qt.ItemDataRole.UserRole) + 1
EventIdRole = int(Qt.ItemDataRole.UserRole) + 2


class SearchTableModel(QtCore.QAbstractTableModel):
    """Search results, one row each; a log match says which entry it was."""

    def __init__(self, reference: Any, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._ref = reference
        self.results: list[SearchResult] = []

    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # type: ignore[override]
        return 0 if parent is not None and parent.isValid() else len(self.results)

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # type: ignore[override]
        return 0 if parent is not None and parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _TITLES[Column(section)]
        return None

    def data(
        self,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.results):
            return None
        result = self.results[index.row()]
        role = int(role)
        if role == IncidentIdRole:
            return result.incident_id
        if role == EventIdRole:
            return result.event_id or ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{result.ref} · {result.summary}\n{result.snippet}"
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = Column(index.column())
        if column is Column.REF:
            return result.ref
        if column is Column.WHEN:
            return local_time(result.at)
        if column is Column.GRADE:
            return grade_label(result.grade, result.council_priority)
        if column is Column.CATEGORY:
            return category_name(result.category, self._ref)
        if column is Column.AGENCY:
            return (result.lead_agency or "").title()
        prefix = "log: " if result.event_id else ""
        return prefix + result.snippet.replace("\n", " ")

    def set_results(self, results: list[SearchResult]) -> None:
        self.beginResetModel()
        self.results = list(results)
        self.endResetModel()


class SearchPanel(QtWidgets.QWidget):
    open_requested = QtCore.Signal(str, str)  # incident id, event id ("" for the incident)
    searched = QtCore.Signal(int)  # how many results reached the screen

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._token = 0
        self.setAccessibleName("Search incidents and logs")
        reference = session.store.reference

        self.text = QtWidgets.QLineEdit()
        self.text.setPlaceholderText("Words in summaries, locations, references and log entries")
        self.text.setAccessibleName("Search words")
        self.text.setClearButtonEnabled(True)
        self.text.returnPressed.connect(self.search)
        self.use_dates = QtWidgets.QCheckBox("Opened between")
        self.use_dates.setAccessibleName("Limit to a date range")
        today = datetime.now(LONDON).date()
        week_ago = today - timedelta(days=7)
        self.date_from = QtWidgets.QDateEdit(
            QtCore.QDate(week_ago.year, week_ago.month, week_ago.day)
        )
        self.date_to = QtWidgets.QDateEdit(QtCore.QDate(today.year, today.month, today.day))
        for edit, name in ((self.date_from, "From date"), (self.date_to, "To date (inclusive)")):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd MMM yyyy")
            edit.setAccessibleName(name)
            edit.setEnabled(False)
        self.use_dates.toggled.connect(self.date_from.setEnabled)
        self.use_dates.toggled.connect(self.date_to.setEnabled)

        self.agency = QtWidgets.QComboBox()
        self.agency.setAccessibleName("Lead agency")
        self.agency.addItem("Any lead agency", "")
        for agency in Agency:
            self.agency.addItem(agency.label, agency.value)
        self.team = QtWidgets.QComboBox()
        self.team.setAccessibleName("Team")
        self.team.addItem("Any team", "")
        for team in sorted(reference.teams.values(), key=lambda t: (t.agency.value, t.name)):
            self.team.addItem(team.name, team.code)
        self.category = QtWidgets.QComboBox()
        self.category.setAccessibleName("Category")
        self.category.addItem("Any category", "")
        for category in sorted(reference.opening_categories(), key=lambda c: c.name):
            self.category.addItem(category.name, category.code)
        self.grade = QtWidgets.QComboBox()
        self.grade.setAccessibleName("Grade or priority")
        self.grade.addItem("Any grade", "")
        for grade in Grade:
            self.grade.addItem(grade.label, grade.value)
        for code, badge in PRIORITY_BADGES.items():
            self.grade.addItem(badge.label, code)
        self.go = QtWidgets.QPushButton("Search")
        self.go.setDefault(True)
        self.go.clicked.connect(self.search)
        self.status = QtWidgets.QLabel("Type words, choose filters, press Enter")
        self.status.setProperty("role", "muted")
        self.status.setAccessibleName("Search status")

        self.model = SearchTableModel(reference, self)
        self.table = QtWidgets.QTableView()
        self.table.setAccessibleName("Search results")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(Column.MATCH, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._activated)

        words = QtWidgets.QHBoxLayout()
        words.addWidget(self.text, 1)
        words.addWidget(self.go)
        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(self.use_dates)
        filters.addWidget(self.date_from)
        filters.addWidget(QtWidgets.QLabel("and"))
        filters.addWidget(self.date_to)
        for combo in (self.agency, self.team, self.category, self.grade):
            filters.addWidget(combo)
        filters.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(words)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

    def focus_text(self) -> None:
        self.text.setFocus()
        self.text.selectAll()

    def current_filter(self) -> SearchFilter:
        opened_from = opened_to = None
        if self.use_dates.isChecked():
            first, last = self.date_from.date(), self.date_to.date()
            opened_from = datetime(first.year(), first.month(), first.day(), tzinfo=LONDON)
            opened_to = datetime(last.year(), last.month(), last.day(), tzinfo=LONDON) + timedelta(
                days=1
            )
        agency = self.agency.currentData()
        return SearchFilter(
            self.session.agency,
            self.text.text(),
            opened_from=opened_from,
            opened_to=opened_to,
            lead_agency=Agency(agency) if agency else None,
            team=self.team.currentData() or None,
            category=self.category.currentData() or None,
            grade=self.grade.currentData() or None,
        )

    def search(self) -> None:
        self._token += 1
        token = self._token
        wanted = self.current_filter()
        self.status.setText("Searching…")

        def done(results: list[SearchResult]) -> None:
            if not shiboken6.isValid(self) or token != self._token:
                return
            self.model.set_results(results)
            self.table.resizeColumnsToContents()
            count = len(results)
            more = (
                " (the newest shown; narrow the search for older ones)"
                if (count >= wanted.limit)
                else ""
            )
            self.status.setText(f"{count} found{more}" if count else "Nothing found")
            self.searched.emit(count)

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and token == self._token:
                self.status.setText(f"Search failed: {message}")

        self.session.read(lambda store: search_incidents(store.conn, wanted), done, failed)

    def _activated(self, index: QtCore.QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(
                str(index.data(IncidentIdRole)), str(index.data(EventIdRole) or "")
            )
