"""Record a decision and why it was made: governance runs on the decision log."""

from __future__ import annotations

from osc_console.models.payloads import MAX_SHORT, MAX_TEXT
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import multi_line, one_line
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


class DecisionDialog(QuickDialog):
    action = Action.DECIDE

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            f"Record a decision — {state.ref}",
            intro="A decision and its rationale are kept as written; correct one by amending it.",
            save_text="Record decision",
            parent=parent,
        )
        self.hint.setText("Ctrl+Enter saves · Esc cancels")
        self.state = state
        self.decision = multi_line("Decision", "what was decided", 3)
        self.add_field("decision", "&Decision", self.decision)
        self.rationale = multi_line("Rationale", "why: the information and options considered", 4)
        self.add_field("rationale", "&Rationale", self.rationale)
        self.decided_by = one_line(
            "Decided by", "optional: if not you, e.g. Insp. Ellis (Silver)", MAX_SHORT
        )
        self.add_field("decided_by", "Decided &by", self.decided_by)
        self.decision.textChanged.connect(lambda: self.changed("decision"))
        self.rationale.textChanged.connect(lambda: self.changed("rationale"))
        self.finish(self.decision)

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for key, edit, missing in (
            ("decision", self.decision, "Write the decision."),
            ("rationale", self.rationale, "Give the rationale: why this decision."),
        ):
            text = edit.toPlainText()
            if not text.strip():
                errors[key] = missing
            elif len(text) > MAX_TEXT:
                errors[key] = f"{len(text)} characters: the limit is {MAX_TEXT}."
        return errors

    def work(self) -> Work:
        incident = self.state.id
        decision = self.decision.toPlainText().strip()
        rationale = self.rationale.toPlainText().strip()
        decided_by = self.decided_by.text().strip() or None
        return lambda service: service.record_decision(incident, decision, rationale, decided_by)
