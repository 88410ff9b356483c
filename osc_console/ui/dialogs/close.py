"""Close an incident (what it turned out to be, and how it was resolved), or reopen one.

Closing offers closing categories only; reopening needs a reason. Both stay in the record.
"""

from __future__ import annotations

from osc_console.models.payloads import MAX_TEXT
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import combo_choice, multi_line, search_combo
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


class CloseDialog(QuickDialog):
    action = Action.CLOSE

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        active = state.active_assignments()
        intro = ""
        if active:
            teams = ", ".join(team_name(session, a.team) for a in active)
            intro = f"Still assigned: {teams}. Closing does not stand them down."
        super().__init__(
            session,
            f"Close incident — {state.ref}",
            intro=intro,
            save_text="Close incident",
            parent=parent,
        )
        self.hint.setText("Ctrl+Enter saves · Esc cancels")
        self.state = state
        # Built only for someone who may close: nobody else is ever offered closing categories.
        categories = (
            sorted(session.store.reference.closing_categories(), key=lambda c: c.name)
            if self.permitted
            else []
        )
        self.category = search_combo(
            "Closing category",
            [(f"{c.name} ({c.code})", c.code) for c in categories],
            "type to search, e.g. advice, arrest, duplicate",
        )
        self.add_field("closing_category", "Closing &category", self.category)
        self.resolution = multi_line("Resolution", "what was done and the outcome", 4)
        self.add_field("resolution", "&Resolution", self.resolution)
        self.category.currentTextChanged.connect(lambda _t: self.changed("closing_category"))
        self.resolution.textChanged.connect(lambda: self.changed("resolution"))
        if state.is_closed:
            self.unavailable(f"Incident {state.ref} is already closed.")
        self.finish(self.category)

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.category.currentText().strip():
            errors["closing_category"] = "Choose a closing category."
        elif combo_choice(self.category) is None:
            errors["closing_category"] = "Not a closing category: pick one from the list."
        resolution = self.resolution.toPlainText()
        if not resolution.strip():
            errors["resolution"] = "Say how the incident was resolved."
        elif len(resolution) > MAX_TEXT:
            errors["resolution"] = f"{len(resolution)} characters: the limit is {MAX_TEXT}."
        return errors

    def work(self) -> Work:
        incident = self.state.id
        category = combo_choice(self.category) or ""
        resolution = self.resolution.toPlainText().strip()
        return lambda service: service.close(incident, category, resolution)


def team_name(session: ConsoleSession, code: str) -> str:
    team = session.store.reference.team(code)
    return team.name if team else code


class ReopenDialog(QuickDialog):
    action = Action.REOPEN

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        category = session.store.reference.categories.get(state.closing_category or "")
        closed_as = category.name if category else (state.closing_category or "closed")
        super().__init__(
            session,
            f"Reopen incident — {state.ref}",
            intro=f"Closed as “{closed_as}”: {state.resolution or ''}".strip(),
            save_text="Reopen",
            parent=parent,
        )
        self.hint.setText("Ctrl+Enter saves · Esc cancels")
        self.state = state
        self.reason = multi_line("Reason for reopening", "e.g. caller rang back: the man returned")
        self.add_field("reason", "&Reason", self.reason)
        self.reason.textChanged.connect(lambda: self.changed("reason"))
        if not state.is_closed:
            self.unavailable(f"Incident {state.ref} is not closed, so there is nothing to reopen.")
        self.finish(self.reason)

    def validate(self) -> dict[str, str]:
        reason = self.reason.toPlainText()
        if not reason.strip():
            return {"reason": "Say why the incident is reopened."}
        if len(reason) > MAX_TEXT:
            return {"reason": f"{len(reason)} characters: the limit is {MAX_TEXT}."}
        return {}

    def work(self) -> Work:
        incident, reason = self.state.id, self.reason.toPlainText().strip()
        return lambda service: service.reopen(incident, reason)
