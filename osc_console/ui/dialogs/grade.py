"""Change how urgent an incident is: its police grade, its council priority, or both.

The current values are preselected; Save waits until something actually changes, and only
the changed field is written (so a concurrent edit of the other one is not overwritten).
"""

from __future__ import annotations

from typing import Any

from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import (
    grade_icons,
    grade_items,
    make_combo,
    priority_icons,
    priority_items,
    select_data,
)
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


class GradeDialog(QuickDialog):
    action = Action.CHANGE_GRADE

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(session, f"Change grade — {state.ref}", parent=parent)
        self.state = state
        self.current: dict[str, Any] = {
            "grade": state.value("grade"),
            "council_priority": state.value("council_priority"),
        }
        self.grade = make_combo("Police grade", grade_items(), grade_icons())
        select_data(self.grade, self.current["grade"])
        self.add_field("grade", "Police &grade", self.grade)
        self.priority = make_combo("Council priority", priority_items(), priority_icons())
        select_data(self.priority, self.current["council_priority"])
        self.add_field("council_priority", "Council &priority", self.priority)
        self.grade.currentIndexChanged.connect(self._grading_changed)
        self.priority.currentIndexChanged.connect(self._grading_changed)
        if state.is_closed:
            self.unavailable(f"Incident {state.ref} is closed: reopen it to change its grade.")
        # The field the incident uses has focus; a new grade is one arrow key away.
        uses_priority = self.current["grade"] is None and self.current["council_priority"]
        self.finish(self.priority if uses_priority else self.grade)

    def _grading_changed(self) -> None:
        self._touched.add("grade")
        self.changed("council_priority")  # "keep one of the two" is told under the pair

    def focus_for(self, key: str) -> QtWidgets.QWidget:
        return self.grade if key == "council_priority" else super().focus_for(key)

    def changes(self) -> dict[str, Any]:
        chosen = {
            "grade": self.grade.currentData(),
            "council_priority": self.priority.currentData(),
        }
        return {name: value for name, value in chosen.items() if value != self.current[name]}

    def validate(self) -> dict[str, str]:
        if self.grade.currentData() is None and self.priority.currentData() is None:
            return {"council_priority": "Keep a police grade or a council priority (or both)."}
        if not self.changes():
            # Not an error to show: simply nothing to save yet.
            return {"": "nothing changed"}
        return {}

    def work(self) -> Work:
        incident, changes = self.state.id, self.changes()
        return lambda service: service.update(incident, changes)
