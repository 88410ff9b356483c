"""Assign a team: type a few letters of the team, see how busy each one is, Enter.

Every team of either organisation (and the partners) is listed under its agency, in the
agency's colour, with its current number of active assignments. A team already working this
incident is shown but cannot be picked again.
"""

from __future__ import annotations

from osc_console.models.agencies import Agency
from osc_console.models.projection import IncidentState
from osc_console.models.reference import Team
from osc_console.models.users import Action
from osc_console.store import queries
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import agency_icon, alive, muted, one_line
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession

TEAM_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1
SEARCH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 2
TEAM_COLUMN, LOAD_COLUMN = 0, 1


class TeamFilterProxy(QtCore.QSortFilterProxyModel):
    """Keeps teams whose name, code, call sign, kind or agency holds every typed word."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setRecursiveFilteringEnabled(True)

    def set_words(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+: invalidateFilter is deprecated
            self.beginFilterChange()
            self._words = text.casefold().split()
            self.endFilterChange(QtCore.QSortFilterProxyModel.Direction.Rows)
        else:
            self._words = text.casefold().split()
            self.invalidateFilter()

    def filterAcceptsRow(
        self,
        source_row: int,
        source_parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> bool:
        index = self.sourceModel().index(source_row, TEAM_COLUMN, source_parent)
        haystack = index.data(SEARCH_ROLE)
        if haystack is None:  # an agency heading: shown when one of its teams is
            return not self._words
        return all(word in haystack for word in self._words)


class AssignDialog(QuickDialog):
    action = Action.ASSIGN

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            f"Assign a team — {state.ref}",
            intro="Type part of a team's name, call sign or agency; ↓ to the list; Enter assigns.",
            save_text="Assign",
            parent=parent,
        )
        self.state = state
        self.setMinimumSize(560, 520)
        self.assigned = {a.team for a in state.active_assignments()}
        self.workload: dict[str, int] | None = None

        self.filter = one_line("Filter teams", "e.g. response, cleansing, highways")
        self.add_field("filter", "&Filter", self.filter)

        self.model = QtGui.QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Team", "Active assignments"])
        self.proxy = TeamFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QtWidgets.QTreeView()
        self.view.setAccessibleName("Teams")
        self.view.setModel(self.proxy)
        self.view.setRootIsDecorated(False)
        self.view.setItemsExpandable(False)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setMinimumHeight(280)
        self.view.header().setAccessibleName("Team list columns")
        self.view.header().setStretchLastSection(False)
        self.view.header().setSectionResizeMode(
            TEAM_COLUMN, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.view.header().setSectionResizeMode(
            LOAD_COLUMN, QtWidgets.QHeaderView.ResizeMode.ResizeToContents
        )
        self.add_field("team", "&Team", self.view)
        self._fill(session.agency)

        self.note = one_line("Note for the team", "optional, e.g. meet the caller at the bar door")
        self.add_field(
            "note", "&Note", self.note, extra=[muted("The note is saved with the assignment.")]
        )

        self.filter.textChanged.connect(self._filter_changed)
        self.view.selectionModel().currentChanged.connect(lambda *_: self.changed())
        self.view.doubleClicked.connect(lambda _index: self.submit())
        self.finish(self.filter)
        if self.permitted:
            session.read(
                lambda store: queries.team_workload(store.conn),
                self._show_workload,
                lambda _message: self._show_workload({}),
            )

    # ---- the list ----------------------------------------------------------------------------
    def _fill(self, own: Agency) -> None:
        others = [Agency.CORPORATION if own is Agency.POLICE else Agency.POLICE]
        order = [own, *others, *(a for a in Agency if a not in (own, *others))]
        teams = sorted(self.session.store.reference.teams.values(), key=lambda t: t.name)
        for agency in order:
            members = [t for t in teams if t.agency is agency]
            if not members:
                continue
            heading = QtGui.QStandardItem(agency_icon(agency), agency.label)
            heading.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            heading.setForeground(QtGui.QColor(agency.colour))
            heading.setAccessibleText(f"{agency.label} teams")
            blank = QtGui.QStandardItem("")
            blank.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
            self.model.appendRow([heading, blank])
            for team in members:
                heading.appendRow(self._team_row(team))
        self.view.expandAll()

    def _team_row(self, team: Team) -> list[QtGui.QStandardItem]:
        label = team.name + (f" · {team.callsign}" if team.callsign else "")
        name = QtGui.QStandardItem(agency_icon(team.agency), label)
        name.setData(team.code, TEAM_ROLE)
        name.setData(
            " ".join(
                [team.name, team.code, team.callsign or "", team.kind, team.agency.label]
            ).casefold(),
            SEARCH_ROLE,
        )
        name.setToolTip(f"{team.code} · {team.agency.label}")
        load = QtGui.QStandardItem("…")
        load.setData(team.code, TEAM_ROLE)
        if team.code in self.assigned:
            for item in (name, load):
                item.setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
            load.setText("already assigned")
            name.setAccessibleText(f"{label}, already assigned to this incident")
        else:
            for item in (name, load):
                item.setFlags(
                    QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
                )
        return [name, load]

    def _show_workload(self, workload: dict[str, int]) -> None:
        if not alive(self):
            return
        self.workload = dict(workload)
        for group in range(self.model.rowCount()):
            heading = self.model.item(group, TEAM_COLUMN)
            for row in range(heading.rowCount()):
                code = heading.child(row, TEAM_COLUMN).data(TEAM_ROLE)
                load = heading.child(row, LOAD_COLUMN)
                if code in self.assigned:
                    continue
                count = self.workload.get(code, 0)
                load.setText(f"{count} active" if count else "free")
                load.setAccessibleText(f"{count} active assignments")

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_words(text)
        self.view.expandAll()
        # Typing narrows to a team: the first one that can be picked is ready for Enter.
        first = self._first_pickable() if text.strip() else None
        if first is not None:
            self.view.setCurrentIndex(first)
        elif self.team() is None or not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(QtCore.QModelIndex())
        self.changed()

    def _first_pickable(self) -> QtCore.QModelIndex | None:
        for group in range(self.proxy.rowCount()):
            heading = self.proxy.index(group, TEAM_COLUMN)
            for row in range(self.proxy.rowCount(heading)):
                index = self.proxy.index(row, TEAM_COLUMN, heading)
                if index.flags() & QtCore.Qt.ItemFlag.ItemIsSelectable:
                    return index
        return None

    def team(self) -> str | None:
        index = self.view.currentIndex()
        if not index.isValid() or not index.flags() & QtCore.Qt.ItemFlag.ItemIsSelectable:
            return None
        return index.siblingAtColumn(TEAM_COLUMN).data(TEAM_ROLE)

    def team_rows(self) -> dict[str, tuple[bool, str]]:
        """Each listed team: (can be picked, its second column), for tests and tooling."""
        found: dict[str, tuple[bool, str]] = {}
        for group in range(self.model.rowCount()):
            heading = self.model.item(group, TEAM_COLUMN)
            for row in range(heading.rowCount()):
                name = heading.child(row, TEAM_COLUMN)
                load = heading.child(row, LOAD_COLUMN)
                found[name.data(TEAM_ROLE)] = (name.isEnabled(), load.text())
        return found

    # ---- the form ----------------------------------------------------------------------------
    def validate(self) -> dict[str, str]:
        if self.team() is None:
            return {"team": "Choose a team from the list."}
        return {}

    def refresh(self) -> dict[str, str]:
        team = self.session.store.reference.teams.get(self.team() or "")
        text = f"Assign {team.name}" if team else "Assign"
        self.save_button.setText(text)
        self.save_button.setAccessibleName(text)
        return super().refresh()

    def work(self) -> Work:
        incident, team = self.state.id, self.team()
        note = self.note.text().strip() or None
        assert team is not None
        return lambda service: service.assign(incident, team, note)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # ↓ from the filter goes to the list, as in any search-and-pick box.
        if (
            watched is self.filter
            and event.type() == QtCore.QEvent.Type.KeyPress
            and isinstance(event, QtGui.QKeyEvent)
            and event.key() in (QtCore.Qt.Key.Key_Down, QtCore.Qt.Key.Key_Up)
        ):
            self.view.setFocus(QtCore.Qt.FocusReason.TabFocusReason)
            if self.team() is None:
                first = self._first_pickable()
                if first is not None:
                    self.view.setCurrentIndex(first)
            return True
        return super().eventFilter(watched, event)
