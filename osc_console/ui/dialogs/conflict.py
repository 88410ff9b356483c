"""Settle a concurrent edit: two workstations changed one field without seeing each other.

Each competing value is shown with who set it, when and where; the operator picks the one that
stands. Nothing is lost either way: every value stays in the timeline.
"""

from __future__ import annotations

from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.incident import CouncilPriority, Grade, Source
from osc_console.models.payloads import MAX_TEXT
from osc_console.models.projection import IncidentState
from osc_console.models.reference import ReferenceData
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import ChoiceGroup, one_line, stamp_time
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession

FIELD_LABELS = {
    "summary": "summary",
    "category": "category",
    "grade": "police grade",
    "council_priority": "council priority",
    "location": "location",
    "lead_agency": "lead agency",
    "source": "source",
    "caller": "caller details",
}


def describe_value(field: str, value: Any, reference: ReferenceData) -> str:
    """A field value as the operator reads it (names, not codes)."""
    if value is None or value == "":
        return "(none)"
    try:
        if field == "grade":
            return Grade(value).label
        if field == "council_priority":
            return CouncilPriority(value).value.capitalize()
        if field == "lead_agency":
            return Agency(value).label
        if field == "source":
            return Source(value).value
    except ValueError:
        return str(value)
    if field == "category":
        category = reference.categories.get(str(value))
        return f"{category.name} ({category.code})" if category else str(value)
    if field == "location" and isinstance(value, dict):
        return str(value.get("text", "")) or "(none)"
    if field == "caller" and isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v) or "(none)"
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


class ResolveConflictDialog(QuickDialog):
    action = Action.RESOLVE_CONFLICT

    def __init__(
        self,
        session: ConsoleSession,
        state: IncidentState,
        field: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        label = FIELD_LABELS.get(field, field)
        super().__init__(
            session,
            f"Resolve conflicting {label} — {state.ref}",
            intro=(
                f"The {label} was changed at the same time in more than one place. Choose the "
                "value that stands; the others stay in the timeline."
            ),
            save_text="Use this value",
            parent=parent,
        )
        self.state = state
        self.field = field
        self.candidates = list(state.conflicts.get(field, []))
        reference = session.store.reference
        self.choices = ChoiceGroup(
            f"Competing values for {label}",
            [
                (
                    f"{describe_value(field, c.value, reference)}   — {c.actor}, "
                    f"{stamp_time(c.hlc)}, {c.workstation}",
                    index,
                )
                for index, c in enumerate(self.candidates)
            ],
        )
        self.add_field("value", "&Value", self.choices)
        self.reason = one_line(
            "Reason", "optional, e.g. caller confirmed the later address", MAX_TEXT
        )
        self.add_field("reason", "&Reason", self.reason)
        self.choices.changed.connect(lambda: self.changed("value"))
        if not self.candidates:
            self.unavailable(f"The {label} of {state.ref} has no conflicting values now.")
        self.finish(self.choices.focus_target())

    def chosen(self) -> Any:
        index = self.choices.value()
        return None if index is None else self.candidates[index].value

    def validate(self) -> dict[str, str]:
        if self.choices.value() is None:
            return {"value": "Choose the value that stands."}
        return {}

    def work(self) -> Work:
        incident, field, value = self.state.id, self.field, self.chosen()
        reason = self.reason.text().strip() or None
        return lambda service: service.resolve_conflict(incident, field, value, reason)
