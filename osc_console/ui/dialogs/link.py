"""Link this incident to another (several calls about one event), or remove a link.

Linked incidents form a major-incident group: the Timeline chart can merge all of them. A
link is its own entry, so removing one names the links seen and a link made at the same time
elsewhere survives (SYNC.md's set rule).
"""

from __future__ import annotations

from osc_console.models.incident import REF_PATTERN
from osc_console.models.payloads import MAX_SHORT, MAX_TEXT
from osc_console.models.projection import IncidentState
from osc_console.models.users import Action
from osc_console.ui.dialogs.base import QuickDialog, Work
from osc_console.ui.dialogs.fields import one_line
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession


class LinkDialog(QuickDialog):
    action = Action.LINK

    def __init__(
        self, session: ConsoleSession, state: IncidentState, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            f"Link incidents — {state.ref}",
            intro="Linked incidents are one major-incident group: their timelines can be merged.",
            save_text="Link",
            parent=parent,
        )
        self.state = state
        self.other = one_line("Other incident", "its reference, e.g. 20261122-CR1-0007", 40)
        self.add_field("other", "&Other incident", self.other)
        self.unlink = QtWidgets.QCheckBox("Remove the link between these two instead")
        self.add_field("unlink", "", self.unlink)
        self.note = one_line("Note or reason", "why (required to remove a link)", MAX_SHORT)
        self.add_field("note", "&Note", self.note)
        self.other.textChanged.connect(lambda: self.changed("other"))
        self.note.textChanged.connect(lambda: self.changed("note"))
        self.unlink.toggled.connect(self._mode_changed)
        self.finish(self.other)

    def _mode_changed(self, unlink: bool) -> None:
        self.save_button.setText("Remove link" if unlink else "Link")
        self.changed("note")

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        other = self.other.text().strip()
        if not other:
            errors["other"] = "Type the other incident's reference."
        elif not REF_PATTERN.match(other):
            errors["other"] = "A reference looks like 20261122-CR1-0007."
        elif other == self.state.ref:
            errors["other"] = "That is this incident."
        note = self.note.text().strip()
        if self.unlink.isChecked() and not note:
            errors["note"] = "Say why the link is removed."
        elif len(note) > MAX_TEXT:
            errors["note"] = f"{len(note)} characters: the limit is {MAX_TEXT}."
        return errors

    def work(self) -> Work:
        incident, other = self.state.id, self.other.text().strip()
        note = self.note.text().strip()
        if self.unlink.isChecked():
            return lambda service: service.unlink(incident, other, note)
        return lambda service: service.link(incident, other, note or None)
