"""A team's progress on an incident (acknowledged, en route, on scene…), or taking it off.

Only the steps the assignment lifecycle allows from where the team is now are offered; the
current one never is. Withdrawing a team needs a reason, because the log must say why.
"""

from __future__ import annotations

from osc_console.models.incident import ASSIGNMENT_TRANSITIONS, AssignmentStatus
from osc_console.models.payloads import MAX_TEXT
from osc_console.models.projection import AssignmentState, IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import ChoiceGroup, local_time, one_line
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


def next_assignment_statuses(current: str) -> list[AssignmentStatus]:
    """The statuses allowed after ``current``, in lifecycle order (never ``current`` itself)."""
    try:
        status = AssignmentStatus(current)
    except ValueError:
        return []
    order = list(AssignmentStatus)
    allowed = ASSIGNMENT_TRANSITIONS[status] - {status}
    return sorted(allowed, key=order.index)


def _team_name(session: ConsoleSession, assignment: AssignmentState) -> str:
    team = session.store.reference.team(assignment.team)
    return team.name if team else assignment.team


def _since(assignment: AssignmentState) -> str:
    at = assignment.times.get(assignment.status)
    return f" since {local_time(at)}" if at else ""


class AssignmentStatusDialog(QuickDialog):
    action = Action.UPDATE_ASSIGNMENT

    def __init__(
        self,
        session: ConsoleSession,
        state: IncidentState,
        assignment_id: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        assignment = state.assignments.get(assignment_id)
        team = _team_name(session, assignment) if assignment else "unknown team"
        super().__init__(session, f"Update {team} — {state.ref}", save_text="Update", parent=parent)
        self.state = state
        self.assignment_id = assignment_id
        self.allowed = next_assignment_statuses(assignment.status) if assignment else []
        self.choices = ChoiceGroup(
            "New status", [(s.label.capitalize(), s.value) for s in self.allowed]
        )
        self.add_field("status", "&Status", self.choices)
        self.note = one_line("Note", "optional, e.g. ETA 5 minutes", MAX_TEXT)
        self.add_field("note", "&Note", self.note)
        self.choices.changed.connect(lambda: self.changed("status"))
        if assignment is None:
            self.unavailable(f"That assignment is not on incident {state.ref}.")
        elif not self.allowed:
            self.unavailable(f"{team} is {assignment.status.replace('_', ' ')}: nothing follows.")
        elif self.permitted:
            self.intro.setText(
                f"{team} is {assignment.status.replace('_', ' ')}{_since(assignment)}."
            )
            self.intro.show()
            self.choices.set_index(0)
        self.finish(self.choices.focus_target())

    def validate(self) -> dict[str, str]:
        if self.choices.value() is None:
            return {"status": "Choose the team's new status."}
        return {}

    def work(self) -> Work:
        incident, assignment = self.state.id, self.assignment_id
        status = self.choices.value()
        note = self.note.text().strip() or None
        return lambda service: service.update_assignment(incident, assignment, status, note)


class WithdrawDialog(QuickDialog):
    action = Action.WITHDRAW

    def __init__(
        self,
        session: ConsoleSession,
        state: IncidentState,
        assignment_id: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        assignment = state.assignments.get(assignment_id)
        team = _team_name(session, assignment) if assignment else "unknown team"
        super().__init__(
            session,
            f"Withdraw {team} — {state.ref}",
            intro=f"{team} will be taken off this incident. The log records who and why.",
            save_text="Withdraw",
            parent=parent,
        )
        self.state = state
        self.assignment_id = assignment_id
        self.reason = one_line(
            "Reason for withdrawing", "e.g. needed at a higher-grade call", MAX_TEXT
        )
        self.add_field("reason", "&Reason", self.reason)
        self.reason.textChanged.connect(lambda _t: self.changed("reason"))
        if assignment is None:
            self.unavailable(f"That assignment is not on incident {state.ref}.")
        elif not assignment.is_active:
            self.unavailable(f"{team} is already {assignment.status.replace('_', ' ')}.")
        self.finish(self.reason)

    def validate(self) -> dict[str, str]:
        if not self.reason.text().strip():
            return {"reason": "Say why the team is withdrawn."}
        return {}

    def work(self) -> Work:
        incident, assignment = self.state.id, self.assignment_id
        reason = self.reason.text().strip()
        return lambda service: service.withdraw_assignment(incident, assignment, reason)
