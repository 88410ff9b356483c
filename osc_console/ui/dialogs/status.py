"""Move an incident along its lifecycle: only the next statuses the rules allow are offered.

Closing and reopening are their own dialogs (each records what a duty manager must).
"""

from __future__ import annotations

from osc_console.models.incident import STATUS_TRANSITIONS, Status
from osc_console.models.payloads import MAX_TEXT
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import ChoiceGroup, one_line
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


def status_label(status: Status | str) -> str:
    return str(status).replace("_", " ")


def next_statuses(current: str) -> list[Status]:
    try:
        status = Status(current)
    except ValueError:
        return []
    order = list(Status)
    return sorted(STATUS_TRANSITIONS[status] - {status}, key=order.index)


class StatusDialog(QuickDialog):
    action = Action.CHANGE_STATUS

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            f"Change status — {state.ref}",
            intro=f"Incident {state.ref} is {status_label(state.status)}.",
            save_text="Change status",
            parent=parent,
        )
        self.state = state
        self.allowed = next_statuses(state.status)
        self.choices = ChoiceGroup(
            "New status", [(status_label(s).capitalize(), s.value) for s in self.allowed]
        )
        self.add_field("status", "&Status", self.choices)
        self.reason = one_line("Reason", "optional", MAX_TEXT)
        self.add_field("reason", "&Reason", self.reason)
        self.choices.changed.connect(lambda: self.changed("status"))
        if state.is_closed:
            self.unavailable(f"Incident {state.ref} is closed: reopen it to change its status.")
        elif not self.allowed:
            self.unavailable(
                f"Incident {state.ref} is {status_label(state.status)}: no change follows."
            )
        self.finish(self.choices.focus_target())

    def validate(self) -> dict[str, str]:
        if self.choices.value() is None:
            return {"status": "Choose the new status."}
        return {}

    def work(self) -> Work:
        incident, status = self.state.id, self.choices.value()
        reason = self.reason.text().strip() or None
        return lambda service: service.set_status(incident, status, reason)
