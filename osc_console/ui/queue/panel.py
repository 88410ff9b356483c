"""The queue panel: filter bar, the incident table, and a footer that says what is urgent."""

from __future__ import annotations

import re

from osc_console.models.agencies import Agency
from osc_console.store.queries import QueueCounts, QueueFilter, StatusFilter
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.queue.format import ICON_SIZE, LEAD_SHORT
from osc_console.ui.queue.table_model import IncidentTableModel, QueueColumn
from osc_console.ui.session import ConsoleSession

Qt = QtCore.Qt
SEARCH_DELAY_MS = 250
# Operators a user may type expecting search syntax. The store quotes every word, so these
# would be looked for as words and match almost nothing; dropped, the other words remain, all
# of which the store requires. NOT stays a word: dropping it would invert what was asked.
_OPERATORS = re.compile(r"\b(AND|OR|NEAR)\b")


def search_text(typed: str) -> str | None:
    """What the store is asked to find: None for no search."""
    text = " ".join(_OPERATORS.sub(" ", typed).split())
    if text or not typed.strip():
        return text or None
    return typed.strip()  # only operators were typed: search for them as words


class QueuePanel(QtWidgets.QWidget):
    """Filter bar, incident table and footer. Emits the incident the operator is on."""

    incident_selected = QtCore.Signal(str)

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._current_id = ""
        self._pending_select: str | None = None
        self._counts: QueueCounts | None = None

        self.status_combo = QtWidgets.QComboBox()
        self.status_combo.setAccessibleName("Status filter")
        self.status_combo.setToolTip("Open, closed or all incidents")
        for label, value in (
            ("Open", StatusFilter.OPEN),
            ("Closed", StatusFilter.CLOSED),
            ("All", StatusFilter.ALL),
        ):
            self.status_combo.addItem(label, value)

        self.agency_combo = QtWidgets.QComboBox()
        self.agency_combo.setAccessibleName("Lead agency filter")
        self.agency_combo.setToolTip("Only incidents this agency leads")
        self.agency_combo.addItem("All agencies", None)
        for agency in Agency:
            self.agency_combo.addItem(LEAD_SHORT[agency.value], agency)
            self.agency_combo.setItemData(
                self.agency_combo.count() - 1, agency.label, Qt.ItemDataRole.ToolTipRole
            )

        self.team_combo = QtWidgets.QComboBox()
        self.team_combo.setAccessibleName("Team filter")
        self.team_combo.setToolTip("Only incidents this team is assigned to")
        self.team_combo.setModel(self._team_model())
        self.team_combo.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.team_combo.setMinimumContentsLength(9)
        self.team_combo.view().setMinimumWidth(self.team_combo.view().sizeHintForColumn(0) + 24)

        self.mine_check = QtWidgets.QCheckBox("Mine")
        self.mine_check.setAccessibleName("Only incidents I opened")
        self.mine_check.setToolTip("Only incidents opened by you")
        self.mine_check.setEnabled(session.user is not None)

        self.search_edit = QtWidgets.QLineEdit()
        self.search_edit.setPlaceholderText("Search incidents and logs…")
        self.search_edit.setAccessibleName("Search incidents and logs")
        self.search_edit.setToolTip("Words from summaries, locations and log entries")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(140)
        self._search_timer = QtCore.QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)

        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        title = QtWidgets.QLabel("Queue")
        title.setProperty("role", "title")
        bar.addWidget(title)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.agency_combo)
        bar.addWidget(self.team_combo)
        bar.addWidget(self.mine_check)
        bar.addWidget(self.search_edit, 1)

        self.model = IncidentTableModel(session, self._filter(), self)
        self.table = QtWidgets.QTableView()
        self.table.setAccessibleName("Incident queue")
        self.table.setModel(self.model)
        self._configure_table()

        self.footer = QtWidgets.QLabel("Loading…")
        self.footer.setAccessibleName("Queue totals")
        self.footer.setProperty("role", "muted")

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.footer)

        for combo in (self.status_combo, self.agency_combo, self.team_combo):
            combo.currentIndexChanged.connect(self._apply_filter)
        self.mine_check.toggled.connect(self._apply_filter)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self._search_now)
        self._search_timer.timeout.connect(self._apply_filter)
        self.search_edit.installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        self.model.loaded.connect(self._on_loaded)
        self.model.counts_changed.connect(self._on_counts)
        self.model.load_failed.connect(self._on_failed)
        self.incident_selected.connect(session.signals.incident_selected)

    # ---- building ------------------------------------------------------------------------
    def _team_model(self) -> QtGui.QStandardItemModel:
        """'All teams', then each agency's teams under its name (a heading, not selectable)."""
        model = QtGui.QStandardItemModel(self)
        model.appendRow(QtGui.QStandardItem("All teams"))
        teams = self.session.store.reference.teams.values()
        for agency in Agency:
            mine = sorted((t for t in teams if t.agency is agency), key=lambda t: t.name)
            if not mine:
                continue
            heading = QtGui.QStandardItem(agency.label)
            heading.setFlags(Qt.ItemFlag.NoItemFlags)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            heading.setAccessibleText(f"{agency.label} teams")
            model.appendRow(heading)
            for team in mine:
                item = QtGui.QStandardItem(f"   {team.name}")
                item.setData(team.code, Qt.ItemDataRole.UserRole)
                item.setToolTip(f"{team.name} ({team.code}) · {agency.label}")
                item.setAccessibleText(team.name)
                model.appendRow(item)
        return model

    def _configure_table(self) -> None:
        table = self.table
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.setTabKeyNavigation(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setIconSize(QtCore.QSize(ICON_SIZE, ICON_SIZE))
        table.setHorizontalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        vertical = table.verticalHeader()
        vertical.hide()
        # Fixed, uniform rows: the view never asks 100,000 rows for their height.
        vertical.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(table.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionsMovable(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSortIndicatorClearable(True)  # a third click returns to the queue's own order
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.ensurePolished()  # the theme's font, so widths fit the text actually shown
        metrics = table.fontMetrics()
        pad = 16
        self._preferred_widths = {
            QueueColumn.REF: metrics.horizontalAdvance("00/00 CR1-0000") + pad + ICON_SIZE,
            QueueColumn.AGE: metrics.horizontalAdvance("23h59") + pad,
            QueueColumn.GRADE: metrics.horizontalAdvance("I Immediate") + pad + ICON_SIZE + 4,
            QueueColumn.CATEGORY: metrics.horizontalAdvance("Person with a weapon") + pad,
            QueueColumn.STATUS: metrics.horizontalAdvance("In progress") + pad,
            QueueColumn.LEAD: metrics.horizontalAdvance("Police") + pad,
            QueueColumn.TEAMS: metrics.horizontalAdvance("Response Team A") + pad,
        }
        self._min_location = metrics.horizontalAdvance("Leadenhall Street") + pad
        for column, width in self._preferred_widths.items():
            header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        header.setSectionResizeMode(QueueColumn.LOCATION, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(metrics.horizontalAdvance("Age") + 16)
        # Narrow screens: the operator chooses which of the less urgent columns to show.
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        table.viewport().installEventFilter(self)
        table.setSortingEnabled(True)

    def _fit_columns(self) -> None:
        """Keep Location readable: on a narrow panel, Category and Teams give up width first."""
        header = self.table.horizontalHeader()
        spare = self.table.viewport().width() - self._min_location
        flexible = (QueueColumn.CATEGORY, QueueColumn.TEAMS)
        for column, width in self._preferred_widths.items():
            if column not in flexible and not header.isSectionHidden(column):
                spare -= width
        shown = [c for c in flexible if not header.isSectionHidden(c)]
        wanted = sum(self._preferred_widths[c] for c in shown)
        scale = 1.0 if wanted <= 0 else max(0.45, min(1.0, spare / wanted))
        for column in shown:
            header.resizeSection(column, int(self._preferred_widths[column] * scale))

    def _column_menu(self, position: QtCore.QPoint) -> None:
        header = self.table.horizontalHeader()
        menu = QtWidgets.QMenu(self)
        menu.setAccessibleName("Queue columns")
        for column in QueueColumn:
            if column in (QueueColumn.REF, QueueColumn.GRADE):
                continue  # what and how urgent are never hidden
            action = menu.addAction(column.label)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda shown, c=column: header.setSectionHidden(c, not shown))
        menu.exec(header.mapToGlobal(position))

    def _show_column(self, column: QueueColumn, shown: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(column, not shown)
        self._fit_columns()

    # ---- public API ----------------------------------------------------------------------
    def focus_queue(self) -> None:
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.table.currentIndex().isValid() and self.model.rowCount() > 0:
            self._select_row(0)

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def select_next(self) -> None:
        self._step(1)

    def select_previous(self) -> None:
        self._step(-1)

    def select_incident(self, incident_id: str) -> bool:
        """Select an incident now, or as soon as the list it will appear in has loaded."""
        row = self.model.row_of(incident_id)
        if row is not None:
            self._pending_select = None
            self._select_row(row)
            return True
        self._pending_select = incident_id if self.model.is_loading else None
        return False

    def current_incident_id(self) -> str | None:
        return self._current_id or None

    def reload(self) -> None:
        self.model.refresh()

    def queue_filter(self) -> QueueFilter:
        return self.model.queue_filter()

    # ---- filter --------------------------------------------------------------------------
    def _filter(self) -> QueueFilter:
        # Combo data comes back as plain text (Qt stores a StrEnum as its string), and the
        # store compares enum members: convert back.
        team = self.team_combo.currentData(Qt.ItemDataRole.UserRole)
        agency = self.agency_combo.currentData()
        user = self.session.user
        return QueueFilter(
            viewer=self.session.agency,
            status=StatusFilter(self.status_combo.currentData() or StatusFilter.OPEN),
            lead_agency=Agency(agency) if agency else None,
            team=team if isinstance(team, str) else None,
            opened_by=user.name if user is not None and self.mine_check.isChecked() else None,
            search=search_text(self.search_edit.text()),
        )

    def _apply_filter(self) -> None:
        self._search_timer.stop()
        self.model.set_filter(self._filter())

    def _search_now(self) -> None:
        self._apply_filter()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QtCore.QEvent.Type.Resize:
            self._fit_columns()
        if watched is self.search_edit and event.type() == QtCore.QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key == Qt.Key.Key_Down:
                self.focus_queue()
                return True
            if key == Qt.Key.Key_Escape and self.search_edit.text():
                self.search_edit.clear()
                self._apply_filter()
                return True
        return super().eventFilter(watched, event)

    # ---- selection -----------------------------------------------------------------------
    def _select_row(self, row: int) -> None:
        index = self.model.index(row, QueueColumn.REF)
        flags = (
            QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QtCore.QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)

    def _step(self, delta: int) -> None:
        count = self.model.rowCount()
        if count == 0:
            return
        current = self.table.currentIndex()
        row = current.row() + delta if current.isValid() else 0
        self._select_row(max(0, min(count - 1, row)))

    def _current_row_changed(
        self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex
    ) -> None:
        incident = self.model.incident_id(current.row()) if current.isValid() else None
        if incident is not None:
            self._pending_select = None
        self._announce(incident or "")

    def _announce(self, incident: str) -> None:
        if incident != self._current_id:
            self._current_id = incident
            self.incident_selected.emit(incident)

    def _on_loaded(self) -> None:
        if self._pending_select is not None:
            wanted, self._pending_select = self._pending_select, None
            if self.select_incident(wanted):
                return
        row = self.model.row_of(self._current_id) if self._current_id else None
        current = self.table.currentIndex()
        if row is not None:
            if not current.isValid() or current.row() != row:
                self._select_row(row)  # the first load resets the model, and the selection
            return
        if self._current_id and not current.isValid():
            self._announce("")  # the incident left the list (closed, filtered out)
        elif current.isValid():
            self._announce(self.model.incident_id(current.row()) or "")

    # ---- footer --------------------------------------------------------------------------
    def _on_counts(self, counts: QueueCounts) -> None:
        self._counts = counts
        self.footer.setProperty("role", "muted")
        self.footer.setText(footer_text(counts, self.model.queue_filter()))
        self._restyle(self.footer)

    def _on_failed(self, message: str) -> None:
        self.footer.setProperty("role", "error")
        self.footer.setText(f"Queue not refreshed: {message}")
        self._restyle(self.footer)

    @staticmethod
    def _restyle(widget: QtWidgets.QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)


def footer_text(counts: QueueCounts, queue_filter: QueueFilter) -> str:
    """'312 open · 18 Immediate · 4 ageing', worded for the status filter."""
    noun = {
        StatusFilter.OPEN: "open",
        StatusFilter.CLOSED: "closed",
        StatusFilter.ALL: "incident" if counts.total == 1 else "incidents",
    }[queue_filter.status]
    parts = [f"{counts.total:,} {noun}", f"{counts.immediate:,} Immediate"]
    if queue_filter.status is not StatusFilter.CLOSED:
        parts.append(f"{counts.ageing:,} ageing")
    if queue_filter.search:
        parts.append(f"matching “{queue_filter.search}”")
    return " · ".join(parts)
