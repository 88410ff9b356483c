"""The incident detail as an operator uses it: read the header, follow the teams, type log
entries and see them saved (or see plainly why not), and read a timeline that keeps every
entry, amendment and concurrent edit visible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.clock import Stamp, from_iso, to_iso
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.ids import uuid7
from osc_console.models.payloads import Kind
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService, Outcome
from osc_console.store.errors import StoreWriteError
from osc_console.ui.detail.panel import IncidentDetailPanel
from osc_console.ui.detail.timeline_model import TimelineListModel, local_time
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession
from tests.conftest import knife_incident
from tests.signing import register, sign, signed
from tests.ui.conftest import sign_in_as, wait_idle

Qt = QtCore.Qt
M = TimelineListModel


@pytest.fixture
def desk(session: ConsoleSession) -> IncidentService:
    return IncidentService(session.store, session.author)


@pytest.fixture
def opened(session: ConsoleSession, desk: IncidentService) -> Outcome:
    return desk.open_incident(knife_incident())


@pytest.fixture
def panel(qtbot: QtBot, session: ConsoleSession) -> IncidentDetailPanel:
    widget = IncidentDetailPanel(session)
    qtbot.addWidget(widget)
    widget.resize(1000, 800)
    widget.show()
    return widget


def show(qtbot: QtBot, panel: IncidentDetailPanel, incident_id: str) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show_incident(incident_id)


def announce(qtbot: QtBot, panel: IncidentDetailPanel, outcome_changes: object) -> None:
    """What a write elsewhere (a service call, a sync pull) tells the screens."""
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.session.announce(outcome_changes)  # type: ignore[arg-type]


def texts(panel: IncidentDetailPanel) -> list[str]:
    model = panel.model
    return [str(model.index(r).data()) for r in range(model.rowCount())]


def remote_event(after: Event, draft: EventDraft, author: Author, *, seconds: int = 1) -> Event:
    """An event made (and signed) on another workstation just after ``after``, as a sync pull
    brings it. The store must hold the author's certificate (``register``)."""
    stamp = Stamp.parse(after.hlc)
    return sign(
        seal(
            draft,
            author,
            event_id=uuid7(),
            hlc=str(Stamp(stamp.ms + seconds * 1000, 0)),
            recorded_at=to_iso(datetime.now(UTC)),
            device_seq=1,
            prev_hash=None,
        )
    )


def test_empty_state_until_an_incident_is_chosen(panel: IncidentDetailPanel) -> None:
    assert panel.stack.currentWidget() is panel.placeholder
    assert panel.placeholder.text() == "Select an incident"
    assert not panel.quick_entry.line.isEnabled()


def test_header_shows_ref_grade_marking_location_and_a_live_age(
    qtbot: QtBot, panel: IncidentDetailPanel, opened: Outcome
) -> None:
    state = opened.incident
    show(qtbot, panel, state.id)

    header = panel.header
    assert header.ref_label.text() == state.ref
    grade = header.grade_label.text()
    assert "I" in grade.split()
    assert "Immediate" in grade
    assert "■" in grade
    assert header.marking_label.text() == "OFFICIAL"
    assert header.marking_label.isVisible()
    assert header.location_label.text() == "Leadenhall Street"
    assert header.category_label.text() == "Person with a weapon"
    assert "City of London Police" in header.lead_label.text()
    assert not header.banner.isVisible()

    opened_at = from_iso(state.opened_at)
    assert header.opened_label.text().startswith(f"opened {local_time(state.opened_at)} · ")
    assert "UTC" in header.opened_label.toolTip()
    header._now = lambda: opened_at + timedelta(minutes=27, seconds=10)
    header.refresh_age()
    assert header.opened_label.text().endswith("· 27 min")
    assert header.age_timer.isActive()  # the age keeps counting on its own


def test_details_tab_holds_summary_source_and_who_opened(
    qtbot: QtBot, panel: IncidentDetailPanel, opened: Outcome
) -> None:
    show(qtbot, panel, opened.incident.id)

    values = panel.details.values
    assert values["summary"].text() == "Man seen with a knife outside a bar"
    assert values["source"].text() == "999"
    assert values["opened_by"].text() == "PC Jane Smith (City of London Police)"
    assert values["workstation"].text() == "CR1"
    assert values["id"].text() == opened.incident.id


def test_assignments_list_police_and_corporation_teams_with_their_times(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    police = desk.assign(incident, "POL-RESP-A").incident
    police_id = next(iter(police.assignments))
    desk.update_assignment(incident, police_id, "on_scene")
    after = desk.assign(incident, "COL-CLEANSE").incident
    council_id = next(a for a in after.assignments if a != police_id)
    final = desk.update_assignment(incident, council_id, "acknowledged")

    show(qtbot, panel, incident)

    rows = {r.assignment.id: r for r in panel.assignments.rows()}
    assert set(rows) == {police_id, council_id}
    on_scene_at = final.incident.assignments[police_id].times["on_scene"]
    police_row = rows[police_id].text()
    assert "Response Team A" in police_row
    assert "Police" in police_row
    assert "on scene" in police_row
    assert f"on scene {local_time(on_scene_at)}" in rows[police_id].times_label.text()
    council_row = rows[council_id].text()
    assert "Street Cleansing" in council_row
    assert "Corporation" in council_row
    assert "acknowledged" in council_row
    assert rows[police_id].update_button is not None

    with qtbot.waitSignal(panel.update_assignment_requested, timeout=1000) as asked:
        rows[police_id].update_button.click()  # type: ignore[union-attr]
    assert asked.args == [police_id]
    with qtbot.waitSignal(panel.assign_requested, timeout=1000):
        panel.assignments.assign_button.click()

    withdrawn = desk.withdraw_assignment(incident, council_id, "Not needed")
    announce(qtbot, panel, withdrawn.changes)
    greyed = panel.assignments.row_for(council_id)
    assert greyed is not None
    assert greyed.status_label.text() == "withdrawn"
    assert greyed.update_button is None
    assert greyed.withdraw_button is None
    assert greyed.status_label.property("role") == "muted"
    assert "Street Cleansing withdrawn — reason: Not needed" in texts(panel)


def test_a_call_handler_is_not_offered_team_actions(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    desk.assign(opened.incident.id, "POL-RESP-A")
    sign_in_as(session, User("Ann Lee", Agency.POLICE, Role.CALL_HANDLER))

    show(qtbot, panel, opened.incident.id)

    assert not panel.assignments.assign_button.isVisible()
    (row,) = panel.assignments.rows()
    assert row.update_button is None
    assert row.withdraw_button is None
    assert row.context_menu() is None


def test_typed_entries_are_saved_shown_at_once_and_the_line_clears(
    qtbot: QtBot, session: ConsoleSession, panel: IncidentDetailPanel, opened: Outcome
) -> None:
    show(qtbot, panel, opened.incident.id)
    line = panel.quick_entry.line
    assert line.placeholderText() == "Type a log entry, Enter to save"
    assert line.accessibleName() == "Log entry"

    typed = ["Caller still on the line", "Suspect heading to Lime Street", "Officers on scene"]
    for text in typed:
        qtbot.keyClicks(line, text)
        with qtbot.waitSignal(panel.quick_entry.saved, timeout=5000):
            qtbot.keyClick(line, Qt.Key.Key_Return)
        # At once: the saved entry is in the timeline and selected, before any reload.
        assert texts(panel)[-1] == text
        assert line.text() == ""
        assert panel.quick_entry.state_text.startswith("✓ Saved ")
        assert panel.current_event_id() == panel.model.index(panel.model.rowCount() - 1).data(
            M.EventIdRole
        )
    wait_idle(qtbot, session)

    stored = [
        e.payload["text"]
        for e in session.store.events_of(opened.incident.id)
        if e.kind == Kind.LOG_ADDED
    ]
    assert stored == typed
    assert texts(panel).count(typed[0]) == 1  # the reload did not show it twice
    assert texts(panel)[-3:] == typed


def test_blank_text_is_not_sent(
    qtbot: QtBot, session: ConsoleSession, panel: IncidentDetailPanel, opened: Outcome
) -> None:
    show(qtbot, panel, opened.incident.id)
    line = panel.quick_entry.line

    qtbot.keyClicks(line, "   ")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    wait_idle(qtbot, session)

    assert panel.quick_entry.state_text == "Type something to log"
    assert len(session.store.events_of(opened.incident.id)) == 1


def test_a_failed_save_keeps_the_text_exactly_and_says_why(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    opened: Outcome,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    show(qtbot, panel, opened.incident.id)
    message = (
        "not saved: the file is read-only (/data/live.db). Nothing was written; "
        "what you typed is kept."
    )

    def read_only(*_: object, **__: object) -> None:
        raise StoreWriteError(message)

    monkeypatch.setattr(session.store, "append_many", read_only)
    panel.activateWindow()
    panel.focus_entry()
    line = panel.quick_entry.line
    typed = "  Suspect detained by PC 123, knife recovered  "
    qtbot.keyClicks(line, typed)
    with qtbot.waitSignal(panel.quick_entry.failed, timeout=5000):
        qtbot.keyClick(line, Qt.Key.Key_Return)

    assert line.text() == typed
    assert not line.isReadOnly()
    assert panel.quick_entry.is_error
    assert panel.quick_entry.state_text == "N" + message[1:]  # "Not saved: …", said once
    assert line.hasFocus()
    assert typed.strip() not in texts(panel)


def test_an_amendment_sits_right_after_the_original_which_stays(
    qtbot: QtBot, panel: IncidentDetailPanel, desk: IncidentService, opened: Outcome
) -> None:
    incident = opened.incident.id
    original = desk.add_log(incident, "Suspect wearing a red jacket").events[0]
    desk.add_log(incident, "Ambulance requested")
    amended = desk.amend_log(incident, original.id, "Suspect wearing a blue jacket", "misheard")

    show(qtbot, panel, incident)

    rows = texts(panel)
    at = rows.index("Suspect wearing a red jacket")
    assert rows[at + 1] == "Amendment: Suspect wearing a blue jacket — reason: misheard"
    assert rows[at + 2] == "Ambulance requested"
    model = panel.model
    assert model.index(at).data(M.IsAmendedRole) is True
    assert "amended" in model.index(at).data(M.TagsRole)
    assert model.index(at + 1).data(M.AmendsRole) == original.id
    assert model.index(at + 1).data(M.EventIdRole) == amended.events[0].id
    assert model.index(at + 2).data(M.AmendsRole) is None


def test_a_grade_change_says_what_it_was(
    qtbot: QtBot, panel: IncidentDetailPanel, desk: IncidentService, opened: Outcome
) -> None:
    show(qtbot, panel, opened.incident.id)

    changed = desk.change_grade(opened.incident.id, "priority")
    announce(qtbot, panel, changed.changes)

    assert "Changed grade to Priority (was Immediate)" in texts(panel)
    assert panel.header.grade_label.text() == "▲ P Priority"
    assert texts(panel)[0].startswith(
        "Opened: Man seen with a knife outside a bar (Person with a weapon, Immediate) at "
        "Leadenhall Street"
    )


def test_a_concurrent_edit_shows_both_values_and_who_set_them(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    local = desk.change_grade(incident, "priority").events[0]
    other_desk = Author("PS Omar Reid", Agency.POLICE, "CR2")
    register(session.store, other_desk)
    theirs = remote_event(
        local,
        EventDraft(
            Kind.INCIDENT_UPDATED,
            {"changes": {"grade": "scheduled"}},
            incident_id=incident,
            base={"grade": opened.events[0].id},  # they had not seen our change
        ),
        other_desk,
    )
    result = session.store.apply_remote([theirs])
    assert result.rejected == ()
    sign_in_as(session, User("Insp. Kay Moss", Agency.POLICE, Role.DUTY_MANAGER))

    show(qtbot, panel, incident)

    banner = panel.header.banner
    assert banner.isVisible()
    text = banner.text()
    assert "Priority" in text
    assert "Scheduled" in text
    assert "PC Jane Smith" in text
    assert "PS Omar Reid" in text
    assert "CR1" in text
    assert "CR2" in text
    model = panel.model
    flagged = {
        model.index(r).data(M.EventIdRole)
        for r in range(model.rowCount())
        if model.index(r).data(M.ConflictRole)
    }
    assert flagged == {local.id, theirs.id}
    assert "⚠ concurrent edit" in model.index(model.row_of(theirs.id)).data(M.TagsRole)
    assert "Changed grade to Scheduled (was Immediate)" in texts(panel)

    _, resolve = banner.field_rows["grade"]
    assert resolve is not None
    with qtbot.waitSignal(panel.resolve_conflict_requested, timeout=1000) as asked:
        resolve.click()
    assert asked.args == ["grade"]


def test_only_a_role_that_may_resolve_sees_resolve(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    local = desk.change_grade(incident, "priority").events[0]
    other_desk = Author("PS Omar Reid", Agency.POLICE, "CR2")
    register(session.store, other_desk)
    theirs = remote_event(
        local,
        EventDraft(
            Kind.INCIDENT_UPDATED,
            {"changes": {"grade": "rwd"}},
            incident_id=incident,
            base={"grade": opened.events[0].id},
        ),
        other_desk,
    )
    assert session.store.apply_remote([theirs]).rejected == ()

    show(qtbot, panel, incident)  # the fixture's user is a dispatcher

    label, resolve = panel.header.banner.field_rows["grade"]
    assert resolve is None
    assert "Resolution without deployment" in label.text()


def test_a_corporation_viewer_does_not_see_police_only_entries(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    desk.add_log(incident, "Cleansing asked to attend after police leave")
    desk.add_log(incident, "Intelligence: suspect known to police", visibility=Visibility.POLICE)

    show(qtbot, panel, incident)
    police_view = texts(panel)
    assert "Intelligence: suspect known to police" in police_view
    row = panel.model.row_of(
        next(e.id for e in panel.model.events if e.visibility == Visibility.POLICE)
    )
    assert "police only" in panel.model.index(row).data(M.TagsRole)

    panel.show_incident(None)
    sign_in_as(session, User("Sam Okafor", Agency.CORPORATION, Role.DISPATCHER))
    show(qtbot, panel, incident)

    corporation_view = texts(panel)
    assert "Cleansing asked to attend after police leave" in corporation_view
    assert "Intelligence: suspect known to police" not in corporation_view
    assert len(corporation_view) == len(police_view) - 1


def test_unknown_kinds_and_newer_schemas_are_shown_not_dropped(
    qtbot: QtBot, session: ConsoleSession, panel: IncidentDetailPanel, opened: Outcome
) -> None:
    newer_desk = Author("PC New Build", Agency.POLICE, "CR9")
    register(session.store, newer_desk)
    flagged = remote_event(
        opened.events[0],
        EventDraft("incident.flagged", {"flag": "high-profile"}, incident_id=opened.incident.id),
        newer_desk,
    )
    newer = sign(
        seal(
            EventDraft(
                Kind.LOG_ADDED,
                {"text": "Suspect calm", "mood": "calm"},
                incident_id=opened.incident.id,
                schema=2,
            ),
            newer_desk,
            event_id=uuid7(),
            hlc=str(Stamp(Stamp.parse(flagged.hlc).ms + 1000, 0)),
            recorded_at=flagged.recorded_at,
            device_seq=2,
            prev_hash=flagged.content_hash,
        )
    )
    assert session.store.apply_remote([flagged, newer]).rejected == ()

    show(qtbot, panel, opened.incident.id)

    rows = texts(panel)
    assert 'incident.flagged: {"flag": "high-profile"}' in rows
    assert 'log.added: {"mood": "calm", "text": "Suspect calm"}' in rows


def test_a_new_entry_from_another_desk_keeps_the_view_at_the_bottom(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    for n in range(40):
        desk.add_log(incident, f"Update {n}: " + "words " * 20)
    show(qtbot, panel, incident)
    view = panel.timeline
    assert view.verticalScrollBar().maximum() > 0
    qtbot.waitUntil(view.at_bottom, timeout=2000)

    later = desk.add_log(incident, "Latest from the scene")
    announce(qtbot, panel, later.changes)

    assert texts(panel)[-1] == "Latest from the scene"
    qtbot.waitUntil(view.at_bottom, timeout=2000)


def test_amend_is_offered_on_log_entries_only(
    qtbot: QtBot, panel: IncidentDetailPanel, desk: IncidentService, opened: Outcome
) -> None:
    entry = desk.add_log(opened.incident.id, "Door staff holding the suspect").events[0]
    show(qtbot, panel, opened.incident.id)
    model = panel.model

    menu = panel.entry_menu(model.index(model.row_of(entry.id)))
    assert menu is not None
    amend = next(a for a in menu.actions() if a.text() == "Amend…")
    with qtbot.waitSignal(panel.amend_requested, timeout=1000) as asked:
        amend.trigger()
    assert asked.args == [entry.id]

    opening = panel.entry_menu(model.index(model.row_of(opened.events[0].id)))
    assert opening is not None
    assert "Amend…" not in [a.text() for a in opening.actions()]


def test_select_event_and_current_event(
    qtbot: QtBot, panel: IncidentDetailPanel, desk: IncidentService, opened: Outcome
) -> None:
    entry = desk.add_log(opened.incident.id, "Witness details taken").events[0]
    show(qtbot, panel, opened.incident.id)

    assert panel.select_event(entry.id)
    assert panel.current_event_id() == entry.id
    panel.focus_entry()
    assert panel.quick_entry.line.isEnabled()


def test_the_timeline_model_passes_the_model_tester_and_inserts_at_the_exact_row(
    qtbot: QtBot,
    qtmodeltester: object,
    session: ConsoleSession,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    first = desk.add_log(incident, "First").events[0]
    desk.add_log(incident, "Second")
    events = session.store.events_of(incident)
    state = session.store.incident(incident)
    model = TimelineListModel(session.store.reference)
    model.set_events(events, state)
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]

    amendment = desk.amend_log(incident, first.id, "First (corrected)", "typo").events[0]
    with qtbot.waitSignal(model.rowsInserted, timeout=1000) as inserted:
        row = model.append(amendment)
    assert row == model.row_of(first.id) + 1 == 2
    assert inserted.args[1:] == [2, 2]
    assert model.index(1).data(M.IsAmendedRole) is True
    assert model.append(amendment) == 2  # the same event twice is one row
    assert model.rowCount() == 4

    later = desk.add_log(incident, "Third").events[0]
    model.set_events(session.store.events_of(incident), session.store.incident(incident))
    assert model.row_of(later.id) == 4
    tip = model.index(model.row_of(later.id)).data(Qt.ItemDataRole.ToolTipRole)
    assert later.id in tip
    assert later.hlc in tip
    assert "UTC" in tip
    assert "CR1" in tip


def test_a_long_entry_wraps_to_a_taller_row(
    qtbot: QtBot, panel: IncidentDetailPanel, desk: IncidentService, opened: Outcome
) -> None:
    short = desk.add_log(opened.incident.id, "Short").events[0]
    long = desk.add_log(opened.incident.id, "A much longer entry " * 30).events[0]
    show(qtbot, panel, opened.incident.id)
    view = panel.timeline
    model = panel.model

    short_height = view.sizeHintForIndex(model.index(model.row_of(short.id))).height()
    long_height = view.sizeHintForIndex(model.index(model.row_of(long.id))).height()
    assert long_height > 2 * short_height


def test_late_entries_closing_and_reopening_read_as_sentences(
    qtbot: QtBot,
    session: ConsoleSession,
    panel: IncidentDetailPanel,
    desk: IncidentService,
    opened: Outcome,
) -> None:
    incident = opened.incident.id
    ten_minutes_ago = to_iso(datetime.now(UTC) - timedelta(minutes=10))
    late = desk.add_log(incident, "Caller rang back", occurred_at=ten_minutes_ago).events[0]
    desk.close(incident, "CL-NOCRIME", "Suspect gone on arrival, area searched")
    # Only a duty manager may reopen.
    manager = signed(
        session.store, Author("Insp. Kay Moss", Agency.POLICE, "CR1"), role="duty_manager"
    )
    reopened = IncidentService(session.store, manager).reopen(
        incident, "Suspect seen again on Lime Street"
    )

    show(qtbot, panel, incident)

    model = panel.model
    meta = model.index(model.row_of(late.id)).data(M.MetaRole)
    assert meta.startswith(local_time(late.occurred_at))
    assert f"recorded {local_time(late.recorded_at)}" in meta
    assert "PC Jane Smith · CR1" in meta
    rows = texts(panel)
    assert "Closed as No crime – advice given — Suspect gone on arrival, area searched" in rows
    assert rows[-1] == "Reopened — reason: Suspect seen again on Lime Street"
    assert reopened.incident.status in panel.header.status_label.text()
