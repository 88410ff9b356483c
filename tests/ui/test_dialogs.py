"""The quick dialogs, driven as an operator drives them: by keyboard, on a real store."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.events import Author, EventDraft
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService
from osc_console.store import queries
from osc_console.store.errors import StoreWriteError
from osc_console.ui.dialogs.amend import AmendDialog
from osc_console.ui.dialogs.assign import AssignDialog
from osc_console.ui.dialogs.assignment_status import AssignmentStatusDialog, WithdrawDialog
from osc_console.ui.dialogs.close import CloseDialog, ReopenDialog
from osc_console.ui.dialogs.conflict import ResolveConflictDialog
from osc_console.ui.dialogs.decision import DecisionDialog
from osc_console.ui.dialogs.grade import GradeDialog
from osc_console.ui.dialogs.new_incident import NewIncidentDialog
from osc_console.ui.dialogs.shortcuts import ShortcutsDialog
from osc_console.ui.dialogs.status import StatusDialog
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from tests.conftest import knife_incident
from tests.signing import signed
from tests.ui.conftest import sign_in_as, wait_idle

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
READ_ONLY = "not saved: the file is read-only (x). Nothing was written; what you typed is kept."
MANAGER = User("Insp. Ray Ellis", Agency.POLICE, Role.DUTY_MANAGER)


# ---- helpers ---------------------------------------------------------------------------------
def show(qtbot: QtBot, dialog: QtWidgets.QDialog) -> Any:
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.focusWidget() is not None)
    return dialog


def focused() -> QtWidgets.QWidget:
    widget = QtWidgets.QApplication.focusWidget()
    assert widget is not None
    return widget


def press(qtbot: QtBot, key: Key, modifier: Mod = Mod.NoModifier) -> None:
    """A key to whatever has focus (or the open popup), as the operator's keyboard sends it."""
    popup = QtWidgets.QApplication.activePopupWidget()
    qtbot.keyClick(popup or focused(), key, modifier)


def type_text(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def popup_texts(completer: QtWidgets.QCompleter) -> list[str]:
    model = completer.completionModel()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def error_of(dialog: Any, key: str) -> str:
    """The inline error shown for a field ('' when none is shown)."""
    label = dialog.row(key).error
    assert label.property("role") == "error"
    return label.text() if label.isVisibleTo(dialog) else ""


def incidents(session: ConsoleSession) -> list[queries.QueueRow]:
    return queries.queue(
        session.store.conn,
        queries.QueueFilter(viewer=Agency.POLICE, status=queries.StatusFilter.ALL),
    )


def service(session: ConsoleSession) -> IncidentService:
    return IncidentService(session.store, session.author)


def opened(session: ConsoleSession, **overrides: object) -> IncidentState:
    return service(session).open_incident(knife_incident(**overrides)).incident


def saved(qtbot: QtBot, dialog: Any, key: Key = Key.Key_Return, modifier: Mod = Mod.NoModifier):
    """Press the save key and wait until the dialog has closed on success."""
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(qtbot, key, modifier)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert not dialog.isVisible()
    return dialog.outcome


def last_event(session: ConsoleSession, incident_id: str):
    return session.store.events_of(incident_id)[-1]


def fill_new_incident(dialog: NewIncidentDialog) -> None:
    """A complete, valid form (for tests about saving rather than typing)."""
    dialog.category.setCurrentIndex(dialog.category.findData("VAP-WEAPON"))
    dialog.grade.setCurrentIndex(dialog.grade.findData("priority"))
    dialog.location.setText("Leadenhall Street")
    dialog.summary.setPlainText("Man seen with a knife outside a bar")
    dialog.caller_name.setText("Ann Caller")
    dialog.caller_address.setText("1 Lime Street")


# ---- new incident ----------------------------------------------------------------------------
def test_new_incident_filled_entirely_by_keyboard(qtbot: QtBot, session: ConsoleSession) -> None:
    dialog = show(qtbot, NewIncidentDialog(session))
    assert focused() is dialog.source
    assert dialog.source.currentData() == "999"  # a police user's default

    press(qtbot, Key.Key_Tab)
    assert dialog.isAncestorOf(focused())
    type_text(qtbot, "weapon")
    qtbot.waitUntil(lambda: dialog.category.completer().popup().isVisible())
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Return)
    assert dialog.category.currentText() == "Person with a weapon (VAP-WEAPON)"
    assert dialog.isVisible()  # Enter in the completer picked; it did not save

    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.grade
    type_text(qtbot, "i")
    assert dialog.grade.currentData() == "immediate"

    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.priority
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.location
    type_text(qtbot, "leadenhall st")
    qtbot.waitUntil(lambda: dialog.location.completer().popup().isVisible())
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Return)
    assert dialog.location.text() == "Leadenhall Street"
    assert "51.5" in dialog.place_label.text()

    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.camera
    press(qtbot, Key.Key_Down)
    camera = dialog.camera.currentData()
    assert camera

    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.summary
    type_text(qtbot, "Man seen with a knife outside a bar")
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.caller_name
    type_text(qtbot, "Ann Caller")
    press(qtbot, Key.Key_Tab)
    type_text(qtbot, "07700 900123")
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.caller_address
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.lead
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.visibility
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.classification

    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(qtbot, Key.Key_Return)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert dialog.outcome is not None
    state = dialog.outcome.incident
    stored = session.store.incident(state.id)
    assert stored is not None
    place = session.store.reference.places["Leadenhall Street"]
    assert stored.value("category") == "VAP-WEAPON"
    assert stored.value("grade") == "immediate"
    assert stored.value("council_priority") is None
    assert stored.value("source") == "999"
    assert stored.value("location") == {
        "text": "Leadenhall Street",
        "lat": place.lat,
        "lon": place.lon,
        "camera_id": camera,
    }
    assert stored.value("caller") == {"name": "Ann Caller", "phone": "07700 900123"}
    assert stored.value("lead_agency") == "police"
    assert stored.visibility == "joint"
    assert session.store.event_count() == 1


def test_new_incident_refuses_an_empty_summary_and_no_grading(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    dialog = show(qtbot, NewIncidentDialog(session))
    dialog.category.setCurrentIndex(dialog.category.findData("VAP-WEAPON"))
    dialog.location.setText("Cheapside")
    # A fresh form is not a wall of red, but it cannot be saved either.
    assert error_of(dialog, "summary") == ""
    assert not dialog.save_button.isEnabled()

    dialog.summary.setFocus()
    type_text(qtbot, "x")
    press(qtbot, Key.Key_Backspace)
    assert error_of(dialog, "summary") == "Write a short summary of the call."

    press(qtbot, Key.Key_Return, Mod.ControlModifier)  # trying to save shows every problem
    assert "police grade or a council priority" in error_of(dialog, "council_priority")
    assert not dialog.save_button.isEnabled()
    assert focused() is dialog.grade  # the first field to fix
    assert dialog.isVisible()

    type_text(qtbot, "p")  # Priority
    assert error_of(dialog, "council_priority") == ""
    assert error_of(dialog, "summary")
    assert not dialog.save_button.isEnabled()
    dialog.summary.setPlainText("x" * 501)
    assert "501 characters" in error_of(dialog, "summary")
    assert dialog.counter.text().startswith("501/500")
    assert not dialog.save_button.isEnabled()

    wait_idle(qtbot, session)
    assert session.store.event_count() == 0
    assert incidents(session) == []
    press(qtbot, Key.Key_Escape)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Rejected
    assert session.store.event_count() == 0


def test_gazetteer_completer_offers_places_containing_the_typed_text(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    dialog = show(qtbot, NewIncidentDialog(session))
    dialog.location.setFocus()
    type_text(qtbot, "leaden")
    completer = dialog.location.completer()
    qtbot.waitUntil(lambda: completer.popup().isVisible())
    offered = popup_texts(completer)
    assert "Leadenhall Street" in offered
    assert all("leaden" in name.casefold() for name in offered)
    dialog.location.clear()
    type_text(qtbot, "HALL ST")  # any case, anywhere in the name
    assert "Leadenhall Street" in popup_texts(completer)
    press(qtbot, Key.Key_Escape)  # closes the popup, not the dialog
    assert dialog.isVisible()


def test_known_place_shows_coordinates_and_cameras_free_text_is_allowed(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    dialog = show(qtbot, NewIncidentDialog(session))
    place = session.store.reference.places["Bishopsgate"]
    dialog.location.setText("bishopsgate")
    assert f"{place.lat:.4f}, {place.lon:.4f}" in dialog.place_label.text()
    assert dialog.camera.isEnabled()
    cameras = [dialog.camera.itemData(i) for i in range(1, dialog.camera.count())]
    assert cameras == list(place.cameras)
    assert dialog.location_value().lat == place.lat
    dialog.location.setText("Outside the Jamaica Wine House")
    assert not dialog.camera.isEnabled()
    assert "Not in the gazetteer" in dialog.place_label.text()
    assert dialog.location_value().lat is None


def test_repeat_location_hint_lists_earlier_incidents_at_the_place(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    earlier = opened(session)
    dialog = show(qtbot, NewIncidentDialog(session))
    dialog.location.setFocus()
    type_text(qtbot, "Leadenhall Street")
    qtbot.waitUntil(dialog.repeat_hint.isVisible, timeout=3000)
    text = dialog.repeat_hint.text()
    assert text.startswith("1 incident here in the last 30 days:")
    assert f"{earlier.ref} Person with a weapon (open)" in text

    dialog.location.setText("Cheapside")
    qtbot.waitUntil(lambda: not dialog.repeat_hint.isVisible(), timeout=3000)
    assert dialog.repeat_rows == []


def test_read_only_store_keeps_the_dialog_open_with_everything_typed(
    qtbot: QtBot, session: ConsoleSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise StoreWriteError(READ_ONLY)

    monkeypatch.setattr(session.store, "append_many", refuse)
    dialog = show(qtbot, NewIncidentDialog(session))
    fill_new_incident(dialog)
    dialog.summary.setFocus()
    assert dialog.save_button.isEnabled()
    press(qtbot, Key.Key_Return, Mod.ControlModifier)
    assert dialog.saving_label.isVisible()  # "Saving…" until the store answers
    qtbot.waitUntil(lambda: bool(dialog.banner_text()), timeout=5000)

    assert "read-only" in dialog.banner_text()
    assert "what you typed is kept" in dialog.banner_text()
    assert dialog.isVisible()
    assert dialog.result() == 0
    assert dialog.outcome is None
    assert not dialog.saving_label.isVisible()
    assert dialog.category.currentText() == "Person with a weapon (VAP-WEAPON)"
    assert dialog.grade.currentData() == "priority"
    assert dialog.location.text() == "Leadenhall Street"
    assert dialog.summary.toPlainText() == "Man seen with a knife outside a bar"
    assert dialog.caller_name.text() == "Ann Caller"
    assert dialog.caller_address.text() == "1 Lime Street"
    assert dialog.save_button.isEnabled()
    assert focused() is dialog.summary
    assert session.store.event_count() == 0

    monkeypatch.undo()  # the file is writable again: the same form saves
    outcome = saved(qtbot, dialog, Key.Key_Return, Mod.ControlModifier)
    assert outcome.incident.value("summary") == "Man seen with a knife outside a bar"
    assert not dialog.banner.isVisible()


def test_corporation_user_defaults_and_cannot_pick_police_only(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    sign_in_as(session, User("Sam Okafor", Agency.CORPORATION, Role.CALL_HANDLER))
    dialog = show(qtbot, NewIncidentDialog(session))
    assert dialog.source.currentData() == "phone"
    assert dialog.lead.currentData() == "corporation"
    offered = [dialog.visibility.itemData(i) for i in range(dialog.visibility.count())]
    assert offered == ["joint", "corporation"]


# ---- assigning -------------------------------------------------------------------------------
def test_assign_a_police_then_a_corporation_team(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    dialog = show(qtbot, AssignDialog(session, state))
    qtbot.waitUntil(lambda: dialog.workload is not None)
    assert focused() is dialog.filter
    assert not dialog.save_button.isEnabled()
    type_text(qtbot, "response team a")
    assert dialog.team() == "POL-RESP-A"
    dialog.note.setText("meet the caller at the bar door")
    dialog.filter.setFocus()
    outcome = saved(qtbot, dialog)
    made = [a for a in outcome.incident.assignments.values() if a.team == "POL-RESP-A"]
    assert len(made) == 1
    assert made[0].note == "meet the caller at the bar door"

    dialog = show(qtbot, AssignDialog(session, outcome.incident))
    type_text(qtbot, "cleansing")
    press(qtbot, Key.Key_Down)  # into the list: the first pickable match is current
    assert dialog.view.hasFocus()
    assert dialog.team() == "COL-CLEANSE"
    outcome = saved(qtbot, dialog)
    teams = sorted(a.team for a in outcome.incident.active_assignments())
    assert teams == ["COL-CLEANSE", "POL-RESP-A"]
    assert last_event(session, state.id).kind == Kind.ASSIGNMENT_MADE

    dialog = show(qtbot, AssignDialog(session, outcome.incident))
    qtbot.waitUntil(lambda: dialog.workload is not None)
    rows = dialog.team_rows()
    assert rows["POL-RESP-A"] == (False, "already assigned")
    assert rows["COL-CLEANSE"] == (False, "already assigned")
    assert rows["POL-RESP-B"] == (True, "free")
    type_text(qtbot, "response team a")
    assert dialog.team() != "POL-RESP-A"  # shown, but never picked


def test_assign_shows_each_teams_workload(qtbot: QtBot, session: ConsoleSession) -> None:
    first = opened(session)
    service(session).assign(first.id, "POL-RESP-B")
    second = opened(session, location=knife_incident().location)
    dialog = show(qtbot, AssignDialog(session, second))
    qtbot.waitUntil(lambda: dialog.workload is not None)
    assert dialog.team_rows()["POL-RESP-B"] == (True, "1 active")
    agencies = [dialog.model.item(r, 0).text() for r in range(dialog.model.rowCount())]
    assert agencies[:2] == [Agency.POLICE.label, Agency.CORPORATION.label]


def test_assignment_status_offers_only_the_allowed_next_statuses(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    state = service(session).assign(opened(session).id, "POL-RESP-A").incident
    (assignment,) = state.assignments.values()
    dialog = show(qtbot, AssignmentStatusDialog(session, state, assignment.id))
    assert dialog.choices.values() == [
        "acknowledged",
        "en_route",
        "on_scene",
        "completed",
        "declined",
    ]
    assert dialog.choices.value() == "acknowledged"
    press(qtbot, Key.Key_Down)  # the arrow keys move between the choices
    assert dialog.choices.value() == "en_route"
    outcome = saved(qtbot, dialog)
    assert outcome.incident.assignments[assignment.id].status == "en_route"
    event = last_event(session, state.id)
    assert event.kind == Kind.ASSIGNMENT_STATUS
    assert event.payload["status"] == "en_route"

    dialog = show(qtbot, AssignmentStatusDialog(session, outcome.incident, assignment.id))
    assert dialog.choices.values() == ["on_scene", "completed"]


def test_withdraw_needs_a_reason(qtbot: QtBot, session: ConsoleSession) -> None:
    state = service(session).assign(opened(session).id, "POL-RESP-A").incident
    (assignment,) = state.assignments.values()
    dialog = show(qtbot, WithdrawDialog(session, state, assignment.id))
    assert focused() is dialog.reason
    press(qtbot, Key.Key_Return)
    assert error_of(dialog, "reason") == "Say why the team is withdrawn."
    assert dialog.isVisible()
    type_text(qtbot, "needed at an Immediate")
    outcome = saved(qtbot, dialog)
    assert outcome.incident.assignments[assignment.id].status == "withdrawn"
    assert last_event(session, state.id).payload["reason"] == "needed at an Immediate"


# ---- grade, status, close, reopen ------------------------------------------------------------
def test_grade_dialog_writes_only_the_changed_field(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    dialog = show(qtbot, GradeDialog(session, state))
    assert focused() is dialog.grade
    assert dialog.grade.currentData() == "immediate"
    assert not dialog.save_button.isEnabled()  # nothing changed yet
    type_text(qtbot, "p")
    assert dialog.save_button.isEnabled()
    outcome = saved(qtbot, dialog)
    assert outcome.incident.value("grade") == "priority"
    event = last_event(session, state.id)
    assert event.kind == Kind.INCIDENT_UPDATED
    assert event.payload == {"changes": {"grade": "priority"}}


def test_grade_dialog_keeps_one_grading(qtbot: QtBot, session: ConsoleSession) -> None:
    dialog = show(qtbot, GradeDialog(session, opened(session)))
    dialog.grade.setCurrentIndex(dialog.grade.findData(None))
    assert "police grade or a council priority" in error_of(dialog, "council_priority")
    assert not dialog.save_button.isEnabled()
    dialog.priority.setCurrentIndex(dialog.priority.findData("high"))
    outcome = saved(qtbot, dialog)
    assert outcome.incident.value("grade") is None
    assert outcome.incident.value("council_priority") == "high"


def test_status_dialog_offers_the_next_statuses(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    dialog = show(qtbot, StatusDialog(session, state))
    assert dialog.choices.values() == ["assigned", "in_progress", "resolved"]
    assert not dialog.save_button.isEnabled()
    press(qtbot, Key.Key_Space)  # focus is on the first choice; Space picks it
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Down)
    assert dialog.choices.value() == "resolved"
    dialog.reason.setText("advice given by phone")
    outcome = saved(qtbot, dialog)
    assert outcome.incident.status == "resolved"
    event = last_event(session, state.id)
    assert (event.kind, event.payload["reason"]) == (Kind.INCIDENT_STATUS, "advice given by phone")


def test_close_offers_closing_categories_only_and_needs_a_resolution(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    state = opened(session)
    dialog = show(qtbot, CloseDialog(session, state))
    codes = {dialog.category.itemData(i) for i in range(dialog.category.count())}
    closing = {c.code for c in session.store.reference.closing_categories()}
    assert codes == closing
    assert "VAP-WEAPON" not in codes
    assert focused() is dialog.category
    type_text(qtbot, "arrest")
    completer = dialog.category.completer()
    qtbot.waitUntil(lambda: completer.popup().isVisible())
    assert popup_texts(completer) == ["Arrest made (CL-ARREST)"]
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Return)
    assert dialog.isVisible()
    press(qtbot, Key.Key_Return, Mod.ControlModifier)
    assert error_of(dialog, "resolution") == "Say how the incident was resolved."
    assert focused() is dialog.resolution
    assert session.store.incident(state.id).status == "open"
    type_text(qtbot, "Male arrested for possession of a bladed article")
    outcome = saved(qtbot, dialog, Key.Key_Return, Mod.ControlModifier)
    assert outcome.incident.status == "closed"
    assert outcome.incident.closing_category == "CL-ARREST"
    assert outcome.incident.resolution == "Male arrested for possession of a bladed article"


def test_close_is_not_offered_to_a_role_that_cannot_close(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    state = opened(session)
    sign_in_as(session, User("Ann Handler", Agency.POLICE, Role.CALL_HANDLER))
    dialog = show(qtbot, CloseDialog(session, state))
    assert dialog.category.count() == 0
    assert not dialog.body.isVisibleTo(dialog)
    assert not dialog.save_button.isVisibleTo(dialog)
    assert "cannot close incidents" in dialog.intro.text()
    press(qtbot, Key.Key_Return)
    assert not dialog.isVisible()
    assert dialog.outcome is None
    assert last_event(session, state.id).kind == Kind.INCIDENT_OPENED


def test_reopen_needs_a_reason(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    state = service(session).close(state.id, "CL-UTL", "area searched").incident
    sign_in_as(session, MANAGER)
    dialog = show(qtbot, ReopenDialog(session, state))
    assert "Unable to locate" in dialog.intro.text()
    assert not dialog.save_button.isEnabled()
    press(qtbot, Key.Key_Return, Mod.ControlModifier)
    assert error_of(dialog, "reason") == "Say why the incident is reopened."
    type_text(qtbot, "caller rang back: the man returned")
    outcome = saved(qtbot, dialog, Key.Key_Return, Mod.ControlModifier)
    assert outcome.incident.status == "open"
    assert outcome.incident.reopen_count == 1
    assert last_event(session, state.id).payload == {"reason": "caller rang back: the man returned"}


# ---- amend, decide, resolve ------------------------------------------------------------------
def test_amend_needs_a_reason_and_keeps_the_original(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    logged = service(session).add_log(state.id, "Suspect vehicle VRM AB12 CDE")
    entry = logged.events[0]
    dialog = show(qtbot, AmendDialog(session, logged.incident, entry))
    assert "original entry stays in the record" in dialog.intro.text()
    assert dialog.original_view.isReadOnly()
    assert dialog.original_view.toPlainText() == "Suspect vehicle VRM AB12 CDE"
    assert dialog.text.toPlainText() == "Suspect vehicle VRM AB12 CDE"
    assert focused() is dialog.text
    press(qtbot, Key.Key_Return, Mod.ControlModifier)
    assert "same as the original" in error_of(dialog, "text")
    assert error_of(dialog, "reason") == "Say why the entry is amended."

    type_text(qtbot, "Suspect vehicle VRM AB12 CDF")  # typing replaces the selected text
    assert error_of(dialog, "text") == ""
    assert not dialog.save_button.isEnabled()
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.reason
    type_text(qtbot, "misheard the last letter")
    outcome = saved(qtbot, dialog, Key.Key_Return, Mod.ControlModifier)
    assert outcome.incident.amendment_count == 1
    amendment = last_event(session, state.id)
    assert amendment.kind == Kind.LOG_AMENDED
    assert amendment.payload == {
        "amends": entry.id,
        "text": "Suspect vehicle VRM AB12 CDF",
        "reason": "misheard the last letter",
    }
    original = session.store.event(entry.id)
    assert original is not None
    assert original.payload["text"] == "Suspect vehicle VRM AB12 CDE"


def test_decision_is_recorded_by_a_duty_manager(qtbot: QtBot, session: ConsoleSession) -> None:
    state = opened(session)
    refused = show(qtbot, DecisionDialog(session, state))  # a dispatcher may not decide
    assert "cannot record decisions" in refused.intro.text()
    refused.reject()

    sign_in_as(session, MANAGER)
    dialog = show(qtbot, DecisionDialog(session, state))
    assert focused() is dialog.decision
    type_text(qtbot, "Cordon Leadenhall Street")
    press(qtbot, Key.Key_Tab)
    press(qtbot, Key.Key_Return, Mod.ControlModifier)
    assert error_of(dialog, "rationale") == "Give the rationale: why this decision."
    type_text(qtbot, "Knife seen; crowds leaving bars")
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.decided_by
    type_text(qtbot, "Supt. Khan (Gold)")
    outcome = saved(qtbot, dialog)
    assert outcome.incident.decision_count == 1
    event = last_event(session, state.id)
    assert event.kind == Kind.DECISION_RECORDED
    assert event.payload == {
        "decision": "Cordon Leadenhall Street",
        "rationale": "Knife seen; crowds leaving bars",
        "decided_by": "Supt. Khan (Gold)",
    }


def test_resolve_conflict_picks_one_of_the_competing_values(
    qtbot: QtBot, session: ConsoleSession
) -> None:
    state = opened(session)
    service(session).update(state.id, {"grade": "priority"})
    # Another workstation changed the grade without seeing that update.
    other = signed(
        session.store, Author("Sam Okafor", Agency.CORPORATION, "CC1"), role="dispatcher"
    )
    session.store.append_many(
        [
            EventDraft(
                Kind.INCIDENT_UPDATED,
                {"changes": {"grade": "scheduled"}},
                incident_id=state.id,
                base={"grade": state.stamp_of("grade") or ""},
            )
        ],
        other,
    )
    state = session.store.incident(state.id)
    assert state is not None
    assert len(state.conflicts["grade"]) == 2

    sign_in_as(session, MANAGER)
    dialog = show(qtbot, ResolveConflictDialog(session, state, "grade"))
    labels = [b.text() for b in dialog.choices.buttons()]
    assert labels[0].startswith("Priority")
    assert "PC Jane Smith" in labels[0]
    assert "CR1" in labels[0]
    assert labels[1].startswith("Scheduled")
    assert "Sam Okafor" in labels[1]
    assert "CC1" in labels[1]
    assert not dialog.save_button.isEnabled()  # a deliberate choice, nothing preselected
    press(qtbot, Key.Key_Space)
    dialog.reason.setText("Immediate threat has passed")
    outcome = saved(qtbot, dialog)
    assert outcome.incident.value("grade") == "priority"
    assert outcome.incident.conflicts == {}
    event = last_event(session, state.id)
    assert event.kind == Kind.CONFLICT_RESOLVED
    assert event.payload == {
        "field": "grade",
        "value": "priority",
        "reason": "Immediate threat has passed",
    }


# ---- shortcuts -------------------------------------------------------------------------------
def test_shortcuts_dialog_is_a_read_only_table(qtbot: QtBot) -> None:
    shortcuts = [("Ctrl+N", "New incident"), ("Ctrl+L", "Focus the log entry")]
    dialog = show(qtbot, ShortcutsDialog(shortcuts))
    assert dialog.windowTitle() == "Keyboard shortcuts"
    assert dialog.rows() == shortcuts
    assert dialog.table.horizontalHeaderItem(0).text() == "Keys"
    assert dialog.table.editTriggers() == QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers
    press(qtbot, Key.Key_Escape)
    assert not dialog.isVisible()


# ---- every control is named ------------------------------------------------------------------
def test_every_control_has_an_accessible_name(qtbot: QtBot, session: ConsoleSession) -> None:
    state = service(session).assign(opened(session).id, "POL-RESP-A").incident
    (assignment,) = state.assignments.values()
    sign_in_as(session, MANAGER)
    dialogs = [
        NewIncidentDialog(session),
        AssignDialog(session, state),
        AssignmentStatusDialog(session, state, assignment.id),
        WithdrawDialog(session, state, assignment.id),
        GradeDialog(session, state),
        StatusDialog(session, state),
        CloseDialog(session, state),
        DecisionDialog(session, state),
    ]
    kinds = (
        QtWidgets.QLineEdit,
        QtWidgets.QComboBox,
        QtWidgets.QPlainTextEdit,
        QtWidgets.QAbstractButton,
        QtWidgets.QAbstractItemView,
    )
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        for control in dialog.findChildren(QtWidgets.QWidget):
            if isinstance(control, kinds) and control.parent() is not None:
                name = control.accessibleName() or (
                    control.text() if isinstance(control, QtWidgets.QAbstractButton) else ""
                )
                assert name, f"{type(dialog).__name__}: unnamed {type(control).__name__}"
    wait_idle(qtbot, session)
