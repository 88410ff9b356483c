"""The one-line log entry: type, Enter, and see plainly whether it was saved.

What the operator typed is never lost: on a failure it stays in the field exactly as typed,
with the reason beside it; text typed for one incident stays with that incident when the
operator looks at another, and comes back when they return.
"""

from __future__ import annotations

from datetime import datetime

import shiboken6

from osc_console.models.clock import LONDON, from_iso
from osc_console.models.errors import DomainError
from osc_console.models.users import Action
from osc_console.services.incidents import Outcome
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession, not_saved
from osc_console.ui.theme import current_palette

PLACEHOLDER = "Type a log entry, Enter to save"


class QuickEntry(QtWidgets.QWidget):
    saved = QtCore.Signal(object)  # the Outcome of a saved entry
    failed = QtCore.Signal(str)

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.incident_id: str | None = None
        self._drafts: dict[str, str] = {}  # incident id -> text typed and not yet saved
        self._saving: set[str] = set()
        self.line = QtWidgets.QLineEdit()
        self.line.setPlaceholderText(PLACEHOLDER)
        self.line.setAccessibleName("Log entry")
        self.line.setAccessibleDescription("Enter saves the entry to the incident's log")
        self.line.setClearButtonEnabled(False)
        self.line.returnPressed.connect(self.submit)
        self.state_label = QtWidgets.QLabel()
        self.state_label.setAccessibleName("Log entry save state")
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line, 3)
        layout.addWidget(self.state_label, 2)
        self.state_label.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.setFocusProxy(self.line)
        self.set_incident(None)

    # ---- which incident ------------------------------------------------------------------
    def set_incident(self, incident_id: str | None, *, writable: bool = True) -> None:
        if incident_id == self.incident_id:
            self._apply_enabled(writable)
            return
        if self.incident_id is not None and self.line.text():
            self._drafts[self.incident_id] = self.line.text()
        self.incident_id = incident_id
        self.line.setText(self._drafts.pop(incident_id, "") if incident_id else "")
        self.line.setReadOnly(incident_id in self._saving)
        self._show("", "muted")
        self._apply_enabled(writable)

    def _apply_enabled(self, writable: bool) -> None:
        may = self.session.may(Action.LOG)
        enabled = self.incident_id is not None and writable and may
        self.line.setEnabled(enabled)
        if self.incident_id is None:
            self.line.setPlaceholderText("Select an incident to log against it")
        elif not may:
            self.line.setPlaceholderText("Your role cannot add log entries")
        else:
            self.line.setPlaceholderText(PLACEHOLDER)

    # ---- saving --------------------------------------------------------------------------
    def submit(self) -> None:
        incident_id = self.incident_id
        if incident_id is None or incident_id in self._saving or not self.line.isEnabled():
            return
        text = self.line.text()
        if not text.strip():
            self._show("Type something to log", "error")
            self.line.setFocus()
            return
        self._saving.add(incident_id)
        self.line.setReadOnly(True)  # what is being saved cannot change under the operator
        self._show("Saving…", "muted")
        try:
            self.session.perform(
                lambda service: service.add_log(incident_id, text),
                lambda outcome: self._done(incident_id, text, outcome),
                lambda message: self._failed(incident_id, text, message),
            )
        except DomainError as exc:  # nobody signed in: refused before anything was queued
            self._failed(incident_id, text, str(exc))

    def _done(self, incident_id: str, text: str, outcome: Outcome) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving.discard(incident_id)
        if incident_id == self.incident_id:
            self.line.setReadOnly(False)
            if self.line.text() == text:
                self.line.clear()
        elif self._drafts.get(incident_id) == text:
            del self._drafts[incident_id]
        stamp = _saved_at(outcome)
        self._show(f"✓ Saved {stamp}", "ok")
        self.saved.emit(outcome)

    def _failed(self, incident_id: str, text: str, message: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving.discard(incident_id)
        if incident_id == self.incident_id:
            self.line.setReadOnly(False)
            if self.line.text() != text:
                self.line.setText(text)
            self.line.setFocus()
        else:
            self._drafts.setdefault(incident_id, text)
        self._show(not_saved(message), "error")
        self.failed.emit(message)

    # ---- showing -------------------------------------------------------------------------
    def _show(self, text: str, kind: str) -> None:
        palette = current_palette()
        colour = {"ok": palette.ok, "error": palette.danger}.get(kind, palette.muted)
        self.state_label.setProperty("role", "error" if kind == "error" else "muted")
        self.state_label.setStyleSheet(
            f"QLabel {{ color: {colour}; font-weight: {700 if kind != 'muted' else 400}; }}"
        )
        self.state_label.setText(text)
        self.state_label.setToolTip(text)
        self.line.setAccessibleDescription(text or "Enter saves the entry to the incident's log")

    @property
    def state_text(self) -> str:
        return self.state_label.text()

    @property
    def is_error(self) -> bool:
        return self.state_label.property("role") == "error"

    def focus_entry(self) -> None:
        self.line.setFocus(QtCore.Qt.FocusReason.ShortcutFocusReason)
        self.line.end(False)


def _saved_at(outcome: Outcome) -> str:
    """The durable time of the last event written, as London local time."""
    if outcome.events:
        try:
            return from_iso(outcome.events[-1].recorded_at).astimezone(LONDON).strftime("%H:%M:%S")
        except ValueError:
            pass
    return datetime.now(LONDON).strftime("%H:%M:%S")
