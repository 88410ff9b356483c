"""Handover, acknowledgement and sign-off: the duty manager's three shift records.

They are quick dialogs (inline errors, Save disabled until valid, a failure banner that keeps
what was typed), but what they write is not an incident outcome, so the save runs through
:meth:`ConsoleSession.run` with a :class:`ShiftService` made on the database worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from osc_console.models.clock import LONDON, now_utc
from osc_console.models.payloads import MAX_TEXT
from osc_console.models.shifts import ShiftPattern, ShiftWindow
from osc_console.services.shifts import ShiftOutcome, ShiftService, may_manage_shifts
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.base import QuickDialog
from osc_console.ui.dialogs.fields import alive, multi_line
from osc_console.ui.qt import QtWidgets
from osc_console.ui.session import ConsoleSession, not_saved

ShiftWork = Callable[[ShiftService], ShiftOutcome]


class ShiftRecordDialog(QuickDialog):
    """One note about one shift, written as a ``shift.*`` event on the worker."""

    note_required = False
    refusal_words = "manage shifts"
    # What each kind of record says about itself; set by the subclasses below.
    heading = ""
    explanation = ""
    save_text = "Save"
    placeholder = ""

    def __init__(
        self,
        session: ConsoleSession,
        window: ShiftWindow,
        *,
        patterns: Sequence[ShiftPattern],
        clock: Callable[[], datetime] = now_utc,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(
            session, self.heading, intro=self.explanation, save_text=self.save_text, parent=parent
        )
        self.hint.setText("Ctrl+Enter saves · Esc cancels")
        self.shift = window
        self.patterns = tuple(patterns)
        self.clock = clock
        self.shift_outcome: ShiftOutcome | None = None
        self.shift_label = QtWidgets.QLabel(shift_heading(window))
        self.shift_label.setAccessibleName("Shift")
        self.shift_label.setWordWrap(True)
        self.form.addRow("Shift", self.shift_label)
        label = "&Note" if self.note_required else "&Note (optional)"
        self.note = multi_line("Note", self.placeholder, 5)
        self.add_field("note", label, self.note)
        self.note.textChanged.connect(lambda: self.changed("note"))
        if not may_manage_shifts(session.user):
            user = session.user
            who = f"Your role ({user.role.label})" if user else "Nobody signed in"
            self.unavailable(f"{who} cannot {self.refusal_words}: a duty manager or an admin may.")
        self.finish(self.note)

    def validate(self) -> dict[str, str]:
        text = self.note.toPlainText()
        if self.note_required and not text.strip():
            return {"note": "Write the handover note: what the next shift inherits."}
        if len(text) > MAX_TEXT:
            return {"note": f"{len(text)} characters: the limit is {MAX_TEXT}."}
        return {}

    def note_text(self) -> str:
        return self.note.toPlainText().strip()

    def shift_work(self) -> ShiftWork:
        raise NotImplementedError

    def start_save(self) -> None:
        author = self.session.author  # raises DomainError when nobody is signed in
        user, patterns, clock = self.session.user, self.patterns, self.clock
        work = self.shift_work()
        self.session.signals.save_state.emit("saving", "Saving…")

        def run(store: Store) -> ShiftOutcome:
            return work(ShiftService(store, author, user=user, patterns=patterns, clock=clock))

        self.session.run(run, self._shift_saved, self._shift_failed)

    def _shift_saved(self, outcome: ShiftOutcome) -> None:
        stamp = datetime.now(LONDON).strftime("%H:%M:%S")
        self.session.signals.save_state.emit("saved", f"Saved {stamp}")
        self.session.announce(outcome.changes)
        if not alive(self):
            return
        self.shift_outcome = outcome
        self._set_saving(False)
        self.accept()

    def _shift_failed(self, message: str) -> None:
        self.session.signals.save_state.emit("failed", not_saved(message))
        self._failed(message)


def shift_heading(window: ShiftWindow) -> str:
    """'Late shift of Sun 22 Nov 2026 · 15:00–23:00 GMT' (zone at each end when they differ)."""
    start, end = window.start_local, window.end_local
    zones = (
        f"{start:%H:%M}–{end:%H:%M} {end.tzname()}"
        if start.tzname() == end.tzname()
        else f"{start:%H:%M} {start.tzname()}–{end:%H:%M} {end.tzname()}"
    )
    return f"{window.name.capitalize()} shift of {window.day:%a %d %b %Y} · {zones}"


class HandoverDialog(ShiftRecordDialog):
    note_required = True
    refusal_words = "write a handover"

    heading = "Write the handover"
    explanation = (
        "The handover note goes into the shift log as written. The incoming duty manager "
        "acknowledges it; a later note supersedes this one but both are kept."
    )
    save_text = "Save handover"
    placeholder = "what the next shift inherits: open incidents, risks, promises made"

    def shift_work(self) -> ShiftWork:
        day, name, note = self.shift.day, self.shift.name, self.note_text()
        return lambda service: service.write_handover(day, name, note)


class AcknowledgeDialog(ShiftRecordDialog):
    refusal_words = "acknowledge a handover"

    heading = "Acknowledge the handover"
    explanation = (
        "You confirm, as the incoming duty manager, that you have read this shift's handover "
        "note. The acknowledgement goes into the shift log with your name."
    )
    save_text = "Acknowledge"
    placeholder = "optional: anything you want on record with the acknowledgement"

    def shift_work(self) -> ShiftWork:
        day, name, note = self.shift.day, self.shift.name, self.note_text() or None
        return lambda service: service.acknowledge_handover(day, name, note)


class SignOffDialog(ShiftRecordDialog):
    refusal_words = "sign off a shift"

    heading = "Sign off the shift"
    explanation = (
        "You sign off this shift as its duty manager; a shift is signed off once. Anything "
        "added to this shift after you sign off will be marked “after sign-off” in the shift "
        "log and in every export."
    )
    save_text = "Sign off"
    placeholder = "optional: a closing remark for the record"

    def shift_work(self) -> ShiftWork:
        day, name, note = self.shift.day, self.shift.name, self.note_text() or None
        return lambda service: service.sign_off(day, name, note)
