"""Correct a log entry or a decision. The original is never changed: the amendment (with its
reason) is added beside it, and both stay in the record for anyone who reads it later."""

from __future__ import annotations

from osc_console.models.agencies import Agency
from osc_console.models.events import Event
from osc_console.models.payloads import MAX_TEXT, Kind
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import local_time, multi_line, muted
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession

AMENDABLE = (Kind.LOG_ADDED, Kind.DECISION_RECORDED)
KEEPS_ORIGINAL = (
    "The original entry stays in the record exactly as it was; your corrected text and your "
    "reason are added beside it, with your name and the time."
)


def original_text(event: Event) -> str:
    """The text an amendment replaces: a log entry's text, or a decision's wording."""
    payload = event.payload
    if event.kind == Kind.DECISION_RECORDED:
        return str(payload.get("decision") or "")
    return str(payload.get("text") or "")


def entry_origin(event: Event) -> str:
    try:
        agency = Agency(event.agency).label
    except ValueError:
        agency = event.agency
    kind = "Decision" if event.kind == Kind.DECISION_RECORDED else "Entry"
    return (
        f"{kind} made {local_time(event.occurred_at)} by {event.actor} "
        f"({agency}, {event.workstation}); recorded {local_time(event.recorded_at)}."
    )


class AmendDialog(QuickDialog):
    action = Action.AMEND

    def __init__(
        self,
        session: ConsoleSession,
        state: IncidentState,
        event: Event,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            f"Amend entry — {state.ref}",
            intro=KEEPS_ORIGINAL,
            save_text="Save amendment",
            parent=parent,
        )
        self.hint.setText("Ctrl+Enter saves · Esc cancels")
        self.state = state
        # Not "self.event": that would hide QWidget.event and break every event delivery.
        self.entry = event
        self.original = original_text(event)

        origin = muted(entry_origin(event))
        origin.setAccessibleName("Who made the original entry and when")
        self.original_view = multi_line("Original text (stays in the record)", lines=3)
        self.original_view.setPlainText(self.original)
        self.original_view.setReadOnly(True)
        self.original_view.setStyleSheet("QPlainTextEdit { background: transparent; }")
        # Read by clicking or by a screen reader; Tab goes straight to what can be changed.
        self.original_view.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)
        extra: list[QtWidgets.QWidget] = [origin]
        if event.kind == Kind.DECISION_RECORDED and event.payload.get("rationale"):
            rationale = muted(f"Rationale: {event.payload['rationale']}")
            rationale.setAccessibleName("Rationale of the decision")
            extra.insert(0, rationale)
        self.add_field("original", "Original", self.original_view, extra=extra)

        self.text = multi_line("Corrected text", lines=4)
        self.text.setPlainText(self.original)
        self.add_field("text", "Corrected &text", self.text)
        self.reason = multi_line("Reason for the amendment", "e.g. wrong vehicle registration", 2)
        self.add_field("reason", "&Reason", self.reason)
        self.text.textChanged.connect(lambda: self.changed("text"))
        self.reason.textChanged.connect(lambda: self.changed("reason"))

        if event.kind not in AMENDABLE or event.incident_id != state.id:
            self.unavailable("Only log entries and decisions of this incident can be amended.")
        self.finish(self.text)
        self.text.selectAll()  # retyping replaces; arrow keys keep the text to correct a word

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        text = self.text.toPlainText()
        if not text.strip():
            errors["text"] = "The corrected text cannot be empty."
        elif text.strip() == self.original.strip():
            errors["text"] = "Change the text: it is the same as the original."
        elif len(text) > MAX_TEXT:
            errors["text"] = f"{len(text)} characters: the limit is {MAX_TEXT}."
        reason = self.reason.toPlainText()
        if not reason.strip():
            errors["reason"] = "Say why the entry is amended."
        elif len(reason) > MAX_TEXT:
            errors["reason"] = f"{len(reason)} characters: the limit is {MAX_TEXT}."
        return errors

    def work(self) -> Work:
        incident, entry = self.state.id, self.entry.id
        text, reason = self.text.toPlainText().strip(), self.reason.toPlainText().strip()
        return lambda service: service.amend_log(incident, entry, text, reason)
