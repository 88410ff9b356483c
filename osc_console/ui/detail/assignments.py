"""Who is on this incident: one row per assigned team, its status and when each step happened.

Actions are offered only to a role that may take them, and only on an active assignment;
the dialogs that follow belong to the main window, so this panel only emits what was asked.
"""

from __future__ import annotations

from html import escape

from osc_console.models.incident import AssignmentStatus
from osc_console.models.projection import AssignmentState, IncidentState
from osc_console.models.users import Action
from osc_console.ui.detail.timeline_model import agency_name, local_time, team_name, utc_time
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import agency_colour, current_palette

STEP_ORDER = [s.value for s in AssignmentStatus]


def step_times(assignment: AssignmentState) -> str:
    """'assigned 14:07 · acknowledged 14:09 · on scene 14:14 BST' (the zone said once)."""
    steps = sorted(
        assignment.times.items(),
        key=lambda item: STEP_ORDER.index(item[0]) if item[0] in STEP_ORDER else 99,
    )
    labels = [(status.replace("_", " "), local_time(at)) for status, at in steps]
    zones = {label.rsplit(" ", 1)[-1] for _, label in labels}
    if len(zones) == 1 and all(len(label.split()) == 2 for _, label in labels):
        zone = zones.pop()
        text = " · ".join(f"{status} {label.split()[0]}" for status, label in labels)
        return f"{text} {zone}"
    return " · ".join(f"{status} {label}" for status, label in labels)


class AssignmentRow(QtWidgets.QFrame):
    update_requested = QtCore.Signal(str)
    withdraw_requested = QtCore.Signal(str)

    def __init__(
        self,
        assignment: AssignmentState,
        team: str,
        *,
        may_update: bool,
        may_withdraw: bool,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.assignment = assignment
        active = assignment.is_active
        status = AssignmentStatus(assignment.status).label
        palette = current_palette()
        self.setAccessibleName(f"Assignment: {team}, {status}")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        agency = agency_name(assignment.agency, short=True)
        self.team_label = QtWidgets.QLabel(
            f'<span style="color:{agency_colour(assignment.agency)}">■</span> '
            f"<b>{escape(team)}</b> <span style='color:{palette.muted}'>{escape(agency)}</span>"
        )
        self.team_label.setAccessibleName(f"Team: {team} ({agency})")
        self.status_label = QtWidgets.QLabel(status)
        self.status_label.setAccessibleName(f"Status of {team}")
        self.times_label = QtWidgets.QLabel(step_times(assignment))
        self.times_label.setAccessibleName(f"Times of {team}")
        self.times_label.setWordWrap(True)
        self.times_label.setToolTip(
            "\n".join(
                f"{s.replace('_', ' ')}: {utc_time(at)}" for s, at in assignment.times.items()
            )
        )
        self.times_label.setProperty("role", "muted")
        if not active:
            for label in (self.team_label, self.status_label):
                label.setProperty("role", "muted")
            self.team_label.setText(
                f'<span style="color:{palette.muted}">■ {escape(team)} {escape(agency)}</span>'
            )
            font = self.status_label.font()
            font.setItalic(True)
            self.status_label.setFont(font)
        else:
            font = self.status_label.font()
            font.setBold(True)
            self.status_label.setFont(font)
        layout.addWidget(self.team_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.times_label, 1)
        self.update_button: QtWidgets.QToolButton | None = None
        self.withdraw_button: QtWidgets.QToolButton | None = None
        if active and may_update:
            self.update_button = self._button("Update status…", f"Update status of {team}")
            self.update_button.clicked.connect(lambda: self.update_requested.emit(assignment.id))
            layout.addWidget(self.update_button)
        if active and may_withdraw:
            self.withdraw_button = self._button("Withdraw…", f"Withdraw {team}")
            self.withdraw_button.clicked.connect(
                lambda: self.withdraw_requested.emit(assignment.id)
            )
            layout.addWidget(self.withdraw_button)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

    @staticmethod
    def _button(text: str, name: str) -> QtWidgets.QToolButton:
        button = QtWidgets.QToolButton()
        button.setText(text)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        return button

    def text(self) -> str:
        """The row as plain words (what a screen reader or a test reads)."""
        doc = QtGui.QTextDocument()
        doc.setHtml(self.team_label.text())
        return f"{doc.toPlainText()} · {self.status_label.text()} · {self.times_label.text()}"

    def context_menu(self) -> QtWidgets.QMenu | None:
        buttons = [b for b in (self.update_button, self.withdraw_button) if b is not None]
        if not buttons:
            return None
        menu = QtWidgets.QMenu(self)
        for button in buttons:
            action = menu.addAction(button.text())
            action.triggered.connect(button.click)
        return menu

    def _show_menu(self, pos: QtCore.QPoint) -> None:
        menu = self.context_menu()
        if menu is not None:
            menu.exec(self.mapToGlobal(pos))
            menu.deleteLater()


class AssignmentsPanel(QtWidgets.QFrame):
    """The Assignments card of the detail view."""

    assign_requested = QtCore.Signal()
    update_requested = QtCore.Signal(str)
    withdraw_requested = QtCore.Signal(str)

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.state: IncidentState | None = None
        self.setProperty("role", "card")
        self.setAccessibleName("Assignments")
        title = QtWidgets.QLabel("<b>Assignments</b>")
        title.setAccessibleName("Assignments")
        self.assign_button = QtWidgets.QPushButton("Assign team…")
        self.assign_button.setAccessibleName("Assign a team to this incident")
        self.assign_button.clicked.connect(self.assign_requested)
        heading = QtWidgets.QHBoxLayout()
        heading.addWidget(title)
        heading.addStretch(1)
        heading.addWidget(self.assign_button)
        self.empty_label = QtWidgets.QLabel("No team assigned")
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setAccessibleName("No team assigned")
        self._rows_layout = QtWidgets.QVBoxLayout()
        self._rows_layout.setSpacing(0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.empty_label)
        layout.addLayout(self._rows_layout)
        self._rows: list[AssignmentRow] = []

    def set_state(self, state: IncidentState | None) -> None:
        self.state = state
        for row in self._rows:
            self._rows_layout.removeWidget(row)
            row.deleteLater()
        self._rows = []
        closed = state is None or state.is_closed
        self.assign_button.setVisible(not closed and self.session.may(Action.ASSIGN))
        if state is None:
            self.empty_label.show()
            return
        ref = self.session.store.reference
        may_update = self.session.may(Action.UPDATE_ASSIGNMENT) and not state.is_closed
        may_withdraw = self.session.may(Action.WITHDRAW) and not state.is_closed
        ordered = sorted(
            state.assignments.values(),
            key=lambda a: (not a.is_active, a.times.get("assigned", ""), a.id),
        )
        for assignment in ordered:
            row = AssignmentRow(
                assignment,
                team_name(assignment.team, ref),
                may_update=may_update,
                may_withdraw=may_withdraw,
            )
            row.update_requested.connect(self.update_requested)
            row.withdraw_requested.connect(self.withdraw_requested)
            self._rows_layout.addWidget(row)
            self._rows.append(row)
        self.empty_label.setVisible(not self._rows)

    def rows(self) -> list[AssignmentRow]:
        return list(self._rows)

    def row_for(self, assignment_id: str) -> AssignmentRow | None:
        return next((r for r in self._rows if r.assignment.id == assignment_id), None)
