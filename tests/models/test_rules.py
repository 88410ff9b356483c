"""Lifecycle rules: what may be recorded on an incident as it stands, and what is refused.

The first half asks ``check_draft`` directly about incidents in a given state; the second half
does what call handlers and dispatchers do, through the service on a real store, and after
every refusal checks that nothing at all was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.errors import DomainError, NotFoundError, TransitionError, ValidationError
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.incident import AssignmentStatus, Status
from osc_console.models.payloads import Kind
from osc_console.models.projection import AssignmentState, IncidentState
from osc_console.models.rules import check_draft
from osc_console.services.incidents import IncidentService, Location, Outcome
from osc_console.store.event_store import Store
from tests.conftest import knife_incident
from tests.signing import register, sign, signed

REF = "20261124-CR1-0001"
INCIDENT = "019d36ff-6340-7000-8000-000000000001"
TEAM_A = "019d36ff-6340-7000-8000-00000000000a"
POLICE = Author("PC Jane Smith", Agency.POLICE, "CR1")
COUNCIL = Author("Sam Okafor", Agency.CORPORATION, "CC1")


@contextmanager
def refused(error: type[DomainError], message: str) -> Iterator[None]:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        yield


def incident(**fields: Any) -> IncidentState:
    """An incident as the fold would leave it, in whatever state a test needs."""
    return IncidentState(id=INCIDENT, ref=REF, opened=True, **fields)


def with_team(state: IncidentState, status: str = "assigned") -> IncidentState:
    state.assignments[TEAM_A] = AssignmentState(
        id=TEAM_A,
        team="POL-RESP-A",
        agency="police",
        status=status,
        made_event=TEAM_A,
        made_by=POLICE.actor,
    )
    return state


def draft(kind: str, payload: dict[str, Any], **envelope: Any) -> EventDraft:
    return EventDraft(kind, payload, incident_id=INCIDENT, **envelope)


def status_change(target: str) -> EventDraft:
    return draft(Kind.INCIDENT_STATUS, {"status": target})


# ---- check_draft: the incident's status --------------------------------------------------------

# The lifecycle as a dispatcher would describe it (close and reopen are separate actions).
ALLOWED = {
    "open": {"assigned", "in_progress", "resolved"},
    "assigned": {"open", "in_progress", "resolved"},
    "in_progress": {"assigned", "resolved"},
    "resolved": {"in_progress"},
}
NOT_CLOSED = ["open", "assigned", "in_progress", "resolved"]


@pytest.mark.parametrize("current", NOT_CLOSED)
@pytest.mark.parametrize("target", NOT_CLOSED)
def test_status_changes_follow_the_lifecycle(current: str, target: str) -> None:
    state = incident(status=current)
    if target in ALLOWED[current]:
        check_draft(status_change(target), POLICE, state)
    elif target == current:
        with refused(TransitionError, f"incident {REF} is already {current}"):
            check_draft(status_change(target), POLICE, state)
    else:
        with pytest.raises(TransitionError) as refusal:
            check_draft(status_change(target), POLICE, state)
        assert f"cannot go from {current} to {target}" in str(refusal.value)


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [
        (
            "in_progress",
            "open",
            f"incident {REF} cannot go from in_progress to open (allowed: assigned, resolved)",
        ),
        (
            "resolved",
            "assigned",
            f"incident {REF} cannot go from resolved to assigned (allowed: in_progress)",
        ),
        (
            "resolved",
            "open",
            f"incident {REF} cannot go from resolved to open (allowed: in_progress)",
        ),
    ],
)
def test_an_illegal_status_change_names_both_states_and_what_is_allowed(
    current: str, target: str, message: str
) -> None:
    with refused(TransitionError, message):
        check_draft(status_change(target), POLICE, incident(status=current))


CHANGES_REFUSED_WHEN_CLOSED = [
    status_change("in_progress"),
    draft(Kind.INCIDENT_UPDATED, {"changes": {"grade": "priority"}}),
    draft(Kind.INCIDENT_CLOSED, {"closing_category": "CL-NOCRIME", "resolution": "Again"}),
    draft(Kind.ASSIGNMENT_MADE, {"assignment_id": TEAM_A, "team": "POL-RESP-B"}),
    draft(Kind.ASSIGNMENT_STATUS, {"assignment_id": TEAM_A, "status": "on_scene"}),
    draft(Kind.ASSIGNMENT_WITHDRAWN, {"assignment_id": TEAM_A, "reason": "Stood down"}),
    draft(Kind.CONFLICT_RESOLVED, {"field": "grade", "value": "priority"}),
]


@pytest.mark.parametrize("change", CHANGES_REFUSED_WHEN_CLOSED, ids=lambda d: d.kind)
def test_a_closed_incident_must_be_reopened_before_it_changes(change: EventDraft) -> None:
    with refused(TransitionError, f"incident {REF} is closed: reopen it first"):
        check_draft(change, POLICE, with_team(incident(status="closed")))


@pytest.mark.parametrize(
    "late",
    [
        draft(Kind.LOG_ADDED, {"text": "Caller rang back to say thanks"}),
        draft(Kind.DECISION_RECORDED, {"decision": "No further action", "rationale": "Safe"}),
        draft(Kind.INCIDENT_REOPENED, {"reason": "Second caller reports the same man"}),
    ],
    ids=lambda d: d.kind,
)
def test_a_closed_incident_still_takes_late_notes_decisions_and_a_reopening(
    late: EventDraft,
) -> None:
    check_draft(late, POLICE, incident(status="closed"))


@pytest.mark.parametrize("current", NOT_CLOSED)
def test_only_a_closed_incident_can_be_reopened(current: str) -> None:
    with refused(TransitionError, f"incident {REF} is not closed, so it cannot be reopened"):
        check_draft(
            draft(Kind.INCIDENT_REOPENED, {"reason": "Another call"}),
            POLICE,
            incident(status=current),
        )


def test_an_incident_cannot_be_opened_twice() -> None:
    opening = draft(Kind.INCIDENT_OPENED, {})
    check_draft(opening, POLICE, None)
    with refused(DomainError, f"incident {REF} already exists"):
        check_draft(opening, POLICE, incident())


def test_an_entry_for_an_incident_this_store_does_not_hold_is_refused() -> None:
    with refused(NotFoundError, f"incident: no incident {INCIDENT} in this store"):
        check_draft(draft(Kind.LOG_ADDED, {"text": "Hello"}), POLICE, None)


def test_entries_belong_to_an_incident_and_shift_sign_offs_do_not() -> None:
    with refused(ValidationError, "incident_id: log.added needs an incident"):
        check_draft(EventDraft(Kind.LOG_ADDED, {"text": "Hello"}), POLICE, None)
    sign_off = {"shift_date": "2026-11-24", "shift": "Night"}
    check_draft(EventDraft(Kind.SHIFT_SIGNED_OFF, sign_off), POLICE, None)
    with refused(ValidationError, "incident_id: shift.signed_off does not belong to an incident"):
        check_draft(draft(Kind.SHIFT_SIGNED_OFF, sign_off), POLICE, incident())


def test_an_update_that_changes_nothing_is_refused() -> None:
    state = incident()  # no grade yet
    with refused(ValidationError, "changes: nothing would change"):
        check_draft(draft(Kind.INCIDENT_UPDATED, {"changes": {"grade": None}}), POLICE, state)


def test_only_a_field_in_conflict_can_be_resolved() -> None:
    with refused(DomainError, f"incident {REF} has no conflicting values for grade"):
        check_draft(
            draft(Kind.CONFLICT_RESOLVED, {"field": "grade", "value": "priority"}),
            POLICE,
            incident(),
        )


def test_an_amendment_must_correct_an_entry_of_the_same_incident() -> None:
    entry = "019d36ff-6340-7000-8000-0000000000e1"
    amendment = draft(Kind.LOG_AMENDED, {"amends": entry, "text": "Fixed", "reason": "typo"})
    check_draft(amendment, POLICE, incident(), lambda e: INCIDENT if e == entry else None)
    for elsewhere in (lambda e: None, lambda e: "019d36ff-6340-7000-8000-0000000000ff"):
        with refused(NotFoundError, f"amends: no log entry {entry} on incident {REF}"):
            check_draft(amendment, POLICE, incident(), elsewhere)


# ---- check_draft: assignments ------------------------------------------------------------------

ASSIGNMENT_ALLOWED = {
    "assigned": {"acknowledged", "en_route", "on_scene", "completed", "declined"},
    "acknowledged": {"en_route", "on_scene", "completed", "declined"},
    "en_route": {"on_scene", "completed"},
    "on_scene": {"completed"},
    "completed": set(),
    "declined": set(),
    "withdrawn": set(),
}
UPDATES = ["acknowledged", "en_route", "on_scene", "completed", "declined"]


@pytest.mark.parametrize("current", list(ASSIGNMENT_ALLOWED))
@pytest.mark.parametrize("target", UPDATES)
def test_assignment_statuses_only_move_forward(current: str, target: str) -> None:
    state = with_team(incident(status="assigned"), current)
    move = draft(Kind.ASSIGNMENT_STATUS, {"assignment_id": TEAM_A, "status": target})
    if target in ASSIGNMENT_ALLOWED[current]:
        check_draft(move, POLICE, state)
    else:
        message = (
            f"assignment of POL-RESP-A cannot go from {current.replace('_', ' ')} "
            f"to {target.replace('_', ' ')}"
        )
        with refused(TransitionError, message):
            check_draft(move, POLICE, state)


@pytest.mark.parametrize("finished", ["completed", "declined", "withdrawn"])
def test_a_finished_assignment_cannot_be_withdrawn(finished: str) -> None:
    withdrawal = draft(Kind.ASSIGNMENT_WITHDRAWN, {"assignment_id": TEAM_A, "reason": "x"})
    with refused(
        TransitionError, f"assignment of POL-RESP-A is {finished} and cannot be withdrawn"
    ):
        check_draft(withdrawal, POLICE, with_team(incident(status="assigned"), finished))


def test_a_team_already_on_an_incident_cannot_be_assigned_again_until_it_is_finished() -> None:
    again = draft(
        Kind.ASSIGNMENT_MADE,
        {"assignment_id": "019d36ff-6340-7000-8000-00000000000b", "team": "POL-RESP-A"},
    )
    with refused(DomainError, f"team POL-RESP-A is already assigned to incident {REF}"):
        check_draft(again, POLICE, with_team(incident(status="assigned"), "on_scene"))
    check_draft(again, POLICE, with_team(incident(status="open"), "completed"))


def test_an_assignment_id_is_used_once() -> None:
    reused = draft(Kind.ASSIGNMENT_MADE, {"assignment_id": TEAM_A, "team": "POL-RESP-B"})
    with refused(DomainError, "assignment_id: already used on this incident"):
        check_draft(reused, POLICE, with_team(incident(status="open"), "completed"))


@pytest.mark.parametrize(
    "change",
    [
        draft(Kind.ASSIGNMENT_STATUS, {"assignment_id": TEAM_A, "status": "on_scene"}),
        draft(Kind.ASSIGNMENT_WITHDRAWN, {"assignment_id": TEAM_A, "reason": "Stood down"}),
    ],
    ids=lambda d: d.kind,
)
def test_an_unknown_assignment_is_named(change: EventDraft) -> None:
    with refused(NotFoundError, f"assignment: no assignment {TEAM_A} on {REF}"):
        check_draft(change, POLICE, incident())


# ---- check_draft: who may see and write what ---------------------------------------------------


def test_corporation_staff_cannot_write_police_only_entries() -> None:
    with refused(
        ValidationError,
        "visibility: City of London Corporation staff cannot record police-only entries",
    ):
        check_draft(
            draft(Kind.LOG_ADDED, {"text": "Suspect named"}, visibility=Visibility.POLICE),
            COUNCIL,
            incident(),
        )


def test_police_staff_cannot_write_corporation_only_entries() -> None:
    with refused(
        ValidationError,
        "visibility: City of London Police staff cannot record corporation-only entries",
    ):
        check_draft(
            draft(Kind.LOG_ADDED, {"text": "Staff matter"}, visibility=Visibility.CORPORATION),
            POLICE,
            incident(),
        )


def test_a_police_only_incident_does_not_exist_for_corporation_staff() -> None:
    with refused(NotFoundError, f"incident: no incident {INCIDENT} in this store"):
        check_draft(
            draft(Kind.LOG_ADDED, {"text": "Hello"}), COUNCIL, incident(visibility="police")
        )


@pytest.mark.parametrize(
    "change",
    [
        status_change("in_progress"),
        draft(Kind.INCIDENT_UPDATED, {"changes": {"grade": "priority"}}),
        draft(Kind.ASSIGNMENT_MADE, {"assignment_id": TEAM_A, "team": "POL-RESP-A"}),
        draft(Kind.INCIDENT_CLOSED, {"closing_category": "CL-NOCRIME", "resolution": "Done"}),
    ],
    ids=lambda d: d.kind,
)
def test_changes_to_a_joint_incident_are_joint(change: EventDraft) -> None:
    restricted = EventDraft(
        change.kind, change.payload, incident_id=INCIDENT, visibility=Visibility.POLICE
    )
    with refused(
        ValidationError,
        "visibility: changes to a joint incident are seen by both organisations; only log "
        "entries and decisions may be restricted",
    ):
        check_draft(restricted, POLICE, incident())


def test_a_joint_incident_may_carry_entries_for_one_organisation() -> None:
    for kind, payload in [
        (Kind.LOG_ADDED, {"text": "Suspect is known to us"}),
        (Kind.DECISION_RECORDED, {"decision": "Tasking CCTV", "rationale": "Intelligence"}),
    ]:
        check_draft(draft(kind, payload, visibility=Visibility.POLICE), POLICE, incident())


def test_every_entry_on_a_police_only_incident_is_police_only() -> None:
    with refused(
        ValidationError,
        f"visibility: incident {REF} is police-only; its entries must be police-only too",
    ):
        check_draft(draft(Kind.LOG_ADDED, {"text": "Hello"}), POLICE, incident(visibility="police"))


# ---- the service on a real store: what an operator sees ----------------------------------------


@contextmanager
def refused_and_nothing_written(
    store: Store, error: type[Exception], message: str
) -> Iterator[None]:
    """Refused with exactly this message, leaving the log and the outbox as they were."""
    events, pending = store.event_count(), store.pending_count()
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        yield
    assert store.event_count() == events
    assert store.pending_count() == pending


@pytest.fixture
def knife(police_desk: IncidentService) -> str:
    """A joint Immediate incident, opened by the police desk; its reference."""
    return police_desk.open_incident(knife_incident()).incident.ref


def test_a_dispatcher_works_an_incident_through_its_lifecycle(
    police_desk: IncidentService, knife: str
) -> None:
    assert police_desk.find(knife).status == "open"
    assert police_desk.set_status(knife, "in_progress").incident.status == "in_progress"
    assert police_desk.set_status(knife, "resolved", "Man detained").incident.status == "resolved"
    assert police_desk.set_status(knife, "in_progress").incident.status == "in_progress"
    closed = police_desk.close(knife, "CL-ARREST", "One arrest for possession").incident
    assert (closed.status, closed.closing_category) == ("closed", "CL-ARREST")
    reopened = police_desk.reopen(knife, "Second suspect identified").incident
    assert (reopened.status, reopened.reopen_count, reopened.closing_category) == ("open", 1, None)


def test_an_illegal_status_change_is_refused_and_nothing_is_written(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    police_desk.set_status(knife, "resolved")
    with refused_and_nothing_written(
        store,
        TransitionError,
        f"incident {knife} cannot go from resolved to assigned (allowed: in_progress)",
    ):
        police_desk.set_status(knife, "assigned")
    with refused_and_nothing_written(
        store, TransitionError, f"incident {knife} is already resolved"
    ):
        police_desk.set_status(knife, "resolved")
    with refused_and_nothing_written(
        store,
        ValidationError,
        "payload.status: 'closed' is not one of open, assigned, in_progress, resolved "
        "(close and reopen have their own actions)",
    ):
        police_desk.set_status(knife, "closed")


def test_a_closed_incident_refuses_changes_but_takes_late_entries(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    team = police_desk.assign(knife, "POL-RESP-A").events[0].payload["assignment_id"]
    entry = police_desk.add_log(knife, "Area searched").events[0].id
    police_desk.close(knife, "CL-NOCRIME", "No trace of the man")
    closed = f"incident {knife} is closed: reopen it first"
    attempts: list[Callable[[], Outcome]] = [
        lambda: police_desk.update(knife, {"grade": "priority"}),
        lambda: police_desk.set_status(knife, "in_progress"),
        lambda: police_desk.assign(knife, "POL-RESP-B"),
        lambda: police_desk.update_assignment(knife, team, "on_scene"),
        lambda: police_desk.withdraw_assignment(knife, team, "Stood down"),
        lambda: police_desk.close(knife, "CL-ADVICE", "Closed twice"),
    ]
    for attempt in attempts:
        with refused_and_nothing_written(store, TransitionError, closed):
            attempt()

    # The record stays open to late notes, decisions and corrections.
    before = store.event_count()
    police_desk.add_log(knife, "Caller rang back to say thanks")
    police_desk.record_decision(knife, "No further action", "Nobody hurt, no trace")
    police_desk.amend_log(knife, entry, "Area searched twice", "second sweep missed out")
    after = police_desk.find(knife)
    assert store.event_count() == before + 3
    assert after.status == "closed"
    assert (after.log_count, after.decision_count, after.amendment_count) == (2, 1, 1)


def test_reopening_needs_a_closed_incident_and_brings_back_the_teams_still_working(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    with refused_and_nothing_written(
        store, TransitionError, f"incident {knife} is not closed, so it cannot be reopened"
    ):
        police_desk.reopen(knife, "Another call")
    police_desk.assign(knife, "POL-RESP-A")
    police_desk.close(knife, "CL-NOCRIME", "No trace")
    reopened = police_desk.reopen(knife, "Second caller reports the same man").incident
    assert reopened.status == "assigned"
    assert [a.team for a in reopened.active_assignments()] == ["POL-RESP-A"]


def test_a_team_is_assigned_once_and_follows_its_own_lifecycle(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    made = police_desk.assign(knife, "POL-RESP-A", "Nearest unit")
    team = made.events[0].payload["assignment_id"]
    assert made.incident.status == "assigned"
    with refused_and_nothing_written(
        store, DomainError, f"team POL-RESP-A is already assigned to incident {knife}"
    ):
        police_desk.assign(knife, "POL-RESP-A")

    acknowledged = police_desk.update_assignment(knife, team, "acknowledged").incident
    assert acknowledged.status == "assigned"
    en_route = police_desk.update_assignment(knife, team, "en_route").incident
    assert en_route.status == "in_progress"  # a team on its way: the incident is being worked
    police_desk.update_assignment(knife, team, "on_scene")
    with refused_and_nothing_written(
        store, TransitionError, "assignment of POL-RESP-A cannot go from on scene to acknowledged"
    ):
        police_desk.update_assignment(knife, team, "acknowledged")
    done = police_desk.update_assignment(knife, team, "completed", "Area searched").incident
    assignment = done.assignments[team]
    assert assignment.status == "completed"
    assert set(assignment.times) == {
        "assigned",
        "acknowledged",
        "en_route",
        "on_scene",
        "completed",
    }
    with refused_and_nothing_written(
        store, TransitionError, "assignment of POL-RESP-A is completed and cannot be withdrawn"
    ):
        police_desk.withdraw_assignment(knife, team, "Stood down")
    # Once the first job is finished the same team can be sent again.
    again = police_desk.assign(knife, "POL-RESP-A", "Called back").incident
    assert len(again.active_assignments()) == 1


def test_withdrawing_the_only_team_puts_the_incident_back_in_the_queue(
    police_desk: IncidentService, knife: str
) -> None:
    team = police_desk.assign(knife, "POL-RESP-A").events[0].payload["assignment_id"]
    after = police_desk.withdraw_assignment(knife, team, "Needed at a higher priority call")
    assert after.incident.assignments[team].status == "withdrawn"
    assert after.incident.status == "open"


def test_an_unknown_assignment_is_refused(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    missing = "019d36ff-6340-7000-8000-00000000dead"
    with refused_and_nothing_written(
        store, NotFoundError, f"assignment: no assignment {missing} on {knife}"
    ):
        police_desk.update_assignment(knife, missing, "on_scene")


def test_only_a_log_entry_of_this_incident_can_be_amended(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    other = police_desk.open_incident(knife_incident(summary="Second knife call")).incident.ref
    elsewhere = police_desk.add_log(other, "Entry on the other incident").events[0].id
    status_event = police_desk.set_status(knife, "in_progress").events[0].id
    unknown = "019d36ff-6340-7000-8000-00000000beef"
    for entry in (unknown, elsewhere, status_event):
        with refused_and_nothing_written(
            store, NotFoundError, f"amends: no log entry {entry} on incident {knife}"
        ):
            police_desk.amend_log(knife, entry, "Corrected", "typo")


def test_an_edit_that_changes_nothing_is_refused(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    with refused_and_nothing_written(store, ValidationError, "changes: nothing would change"):
        police_desk.change_grade(knife, "immediate")


def test_a_conflict_that_does_not_exist_cannot_be_resolved(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    with refused_and_nothing_written(
        store, DomainError, f"incident {knife} has no conflicting values for grade"
    ):
        police_desk.resolve_conflict(knife, "grade", "priority")


def test_a_half_given_position_is_refused_with_the_field_named(
    store: Store, police_desk: IncidentService
) -> None:
    with refused_and_nothing_written(
        store, ValidationError, "payload.location: give both lat and lon, or neither"
    ):
        police_desk.open_incident(knife_incident(location=Location("Bank junction", lat=51.51)))


def test_when_it_happened_must_be_a_time_and_not_in_the_future(
    store: Store, police_desk: IncidentService, knife: str
) -> None:
    with refused_and_nothing_written(store, ValidationError, "occurred_at: is not a date and time"):
        police_desk.add_log(knife, "Shots heard", occurred_at="half past ten")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with refused_and_nothing_written(store, ValidationError, "occurred_at: is in the future"):
        police_desk.add_log(knife, "Shots heard", occurred_at=tomorrow)
    earlier = police_desk.add_log(knife, "Shots heard", occurred_at="2026-07-15T22:10:00")
    assert earlier.events[0].occurred_at == "2026-07-15T21:10:00.000Z"  # typed in BST


# ---- who may see and write what, on a real store -----------------------------------------------


def test_corporation_staff_cannot_add_a_police_only_entry(
    store: Store, council_desk: IncidentService, knife: str
) -> None:
    with refused_and_nothing_written(
        store,
        ValidationError,
        "visibility: City of London Corporation staff cannot record police-only entries",
    ):
        council_desk.add_log(knife, "Suspect named as …", visibility=Visibility.POLICE)
    council_desk.add_log(knife, "Street cleansing on standby")


def test_a_police_only_incident_cannot_be_found_by_corporation_staff(
    store: Store, police_desk: IncidentService, council_desk: IncidentService
) -> None:
    secret = police_desk.open_incident(knife_incident(visibility=Visibility.POLICE)).incident
    for key in (secret.ref, secret.id):
        message = f"incident: no incident {key} in this store"
        with refused_and_nothing_written(store, NotFoundError, message):
            council_desk.find(key)
        with refused_and_nothing_written(store, NotFoundError, message):
            council_desk.add_log(key, "Anything to report?")
        with refused_and_nothing_written(store, NotFoundError, message):
            council_desk.assign(key, "COL-CLEANSE")
    # Unknown and not visible read the same way: nothing leaks.
    with refused_and_nothing_written(
        store, NotFoundError, "incident: no incident 20261124-CR1-9999 in this store"
    ):
        council_desk.find("20261124-CR1-9999")


def test_a_police_only_incident_takes_only_police_only_entries(
    store: Store, police_desk: IncidentService
) -> None:
    secret = police_desk.open_incident(knife_incident(visibility=Visibility.POLICE)).incident.ref
    with refused_and_nothing_written(
        store,
        ValidationError,
        f"visibility: incident {secret} is police-only; its entries must be police-only too",
    ):
        police_desk.add_log(secret, "Shared note", visibility=Visibility.JOINT)
    assert police_desk.add_log(secret, "Covert unit deployed").events[0].visibility == "police"


def test_changes_to_a_joint_incident_must_be_joint(
    store: Store, police: Author, police_desk: IncidentService, knife: str
) -> None:
    state = police_desk.find(knife)
    seen = state.stamp_of("grade")
    assert seen is not None
    restricted = EventDraft(
        Kind.INCIDENT_UPDATED,
        {"changes": {"grade": "priority"}},
        incident_id=state.id,
        visibility=Visibility.POLICE,
        base={"grade": seen},
    )
    with refused_and_nothing_written(
        store,
        ValidationError,
        "visibility: changes to a joint incident are seen by both organisations; only log "
        "entries and decisions may be restricted",
    ):
        store.append(restricted, police)
    note = police_desk.add_log(knife, "Suspect known to us", visibility=Visibility.POLICE)
    assert note.events[0].visibility == "police"


# ---- resolving a real conflict ----------------------------------------------------------------


@pytest.fixture
def regraded_on_two_desks(
    tmp_path: Path, store: Store, police: Author, police_desk: IncidentService, knife: str
) -> str:
    """The grade of the knife call changed on two workstations that could not see each other."""
    with Store.open(tmp_path / "second-desk.db") as other:
        register(other, police)
        other.apply_remote(list(store.iter_events()))
        sergeant = signed(other, Author("PS Ravi Patel", Agency.POLICE, "CR2"))
        register(store, sergeant)
        other_desk = IncidentService(other, sergeant)
        police_desk.change_grade(knife, "priority")
        other_desk.change_grade(knife, "scheduled")
        store.apply_remote(list(other.iter_events()))
    assert set(police_desk.find(knife).conflicts) == {"grade"}
    return knife


def test_a_supervisor_resolves_a_conflicting_grade(
    police_desk: IncidentService, regraded_on_two_desks: str
) -> None:
    state = police_desk.find(regraded_on_two_desks)
    assert sorted(c.value for c in state.conflicts["grade"]) == ["priority", "scheduled"]
    resolved = police_desk.resolve_conflict(
        regraded_on_two_desks, "grade", "priority", "Confirmed with the caller"
    ).incident
    assert resolved.value("grade") == "priority"
    assert resolved.conflicts == {}


def test_a_conflict_cannot_be_resolved_to_a_value_the_field_cannot_take(
    store: Store, police_desk: IncidentService, regraded_on_two_desks: str
) -> None:
    events = store.event_count()
    with pytest.raises(ValidationError) as refusal:
        police_desk.resolve_conflict(regraded_on_two_desks, "grade", "banana")
    assert refusal.value.field == "payload.value"
    assert store.event_count() == events


def _poisoned_resolution(incident_id: str) -> Event:
    """A resolution from another workstation whose value is not a grade (properly signed)."""
    return sign(
        seal(
            EventDraft(
                Kind.CONFLICT_RESOLVED,
                {"field": "grade", "value": "banana", "reason": None},
                incident_id=incident_id,
            ),
            OLD_VERSION,
            event_id="019d36ff-6340-7000-8000-0000000000b1",
            hlc="1795521600000-000000",
            recorded_at="2026-11-24T12:00:00.000Z",
            device_seq=1,
            prev_hash=None,
        )
    )


OLD_VERSION = Author("PS Old Version", Agency.POLICE, "CR7")


def test_a_bad_resolution_from_elsewhere_is_rejected_without_blocking_the_batch(
    tmp_path: Path, store: Store, police_desk: IncidentService, regraded_on_two_desks: str
) -> None:
    state = police_desk.find(regraded_on_two_desks)
    with Store.open(tmp_path / "elsewhere.db") as elsewhere:
        lee = signed(elsewhere, Author("PC Lee", Agency.POLICE, "CR3"))
        desk = IncidentService(elsewhere, lee)
        good = desk.open_incident(knife_incident(summary="Unrelated call")).events
    register(store, lee, OLD_VERSION)
    result = store.apply_remote([*good, _poisoned_resolution(state.id)])
    assert result.stored == (good[0].id,)
    assert [r.event_id for r in result.rejected] == ["019d36ff-6340-7000-8000-0000000000b1"]
    # Refused for its value, not for its signature: the old version's key is registered.
    assert result.rejected[0].reason.startswith("payload.value: ")


@pytest.mark.parametrize(
    "status",
    [s.value for s in Status],
)
def test_every_status_has_a_precedence_further_along_the_lifecycle(status: str) -> None:
    order = ["open", "assigned", "in_progress", "resolved", "closed"]
    assert Status(status).precedence == order.index(status)


def test_finished_assignments_are_not_active() -> None:
    active = {s.value for s in AssignmentStatus if s.is_active}
    assert active == {"assigned", "acknowledged", "en_route", "on_scene"}
