"""Payload schemas and the event envelope: what is accepted, and what is refused and why.

Each refusal is one line naming the field, in words a call handler (or an integrator reading
an API reply) can act on; these tests pin the exact wording.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_console.models.agencies import Agency, Classification, Visibility
from osc_console.models.errors import ValidationError
from osc_console.models.events import (
    Author,
    Event,
    EventDraft,
    canonical_event_json,
    canonical_json,
    check_envelope,
    content_hash,
    event_hash,
    seal,
)
from osc_console.models.payloads import (
    EXERCISE_KINDS,
    INCIDENT_FREE_KINDS,
    MAX_SHORT,
    MAX_SUMMARY,
    MAX_TEXT,
    SCHEMAS,
    Kind,
    check_realm,
    latest_schema,
    validate_payload,
)
from osc_console.models.reference import reference_data

REF = reference_data()
ENTRY = "019d36ff-6340-7d82-b082-532b629f6fbe"
ASSIGNMENT = "019d36ff-7000-7abc-8def-0123456789ab"

VALID: dict[str, dict[str, Any]] = {
    Kind.INCIDENT_OPENED: {
        "ref": "20261122-CR1-0007",
        "summary": "Man seen with a knife outside a bar",
        "category": "VAP-WEAPON",
        "source": "999",
        "grade": "immediate",
        "location": {"text": "Leadenhall Street", "lat": 51.5128, "lon": -0.0817},
        "lead_agency": "police",
        "caller": {"name": "Alex Brown", "phone": "07700 900123"},
    },
    Kind.INCIDENT_UPDATED: {"changes": {"grade": "priority"}},
    Kind.INCIDENT_STATUS: {"status": "in_progress", "reason": "Officers on scene"},
    Kind.INCIDENT_CLOSED: {"closing_category": "CL-NOCRIME", "resolution": "Area searched"},
    Kind.INCIDENT_REOPENED: {"reason": "Second caller reports the same man"},
    Kind.LOG_ADDED: {"text": "Caller says the man walked towards Lime Street"},
    Kind.LOG_AMENDED: {"amends": ENTRY, "text": "towards Leadenhall Market", "reason": "misheard"},
    Kind.DECISION_RECORDED: {
        "decision": "Close Lime Street to traffic",
        "rationale": "Crowd spilling into the road",
        "decided_by": "Insp. Morgan",
    },
    Kind.ASSIGNMENT_MADE: {"assignment_id": ASSIGNMENT, "team": "POL-RESP-A"},
    Kind.ASSIGNMENT_STATUS: {"assignment_id": ASSIGNMENT, "status": "on_scene"},
    Kind.ASSIGNMENT_WITHDRAWN: {"assignment_id": ASSIGNMENT, "reason": "Needed elsewhere"},
    Kind.CONFLICT_RESOLVED: {"field": "grade", "value": "priority", "reason": "Checked"},
    Kind.SHIFT_SIGNED_OFF: {"shift_date": "2026-11-22", "shift": "Night", "note": ""},
    Kind.SHIFT_HANDOVER: {"shift_date": "2026-11-22", "shift": "late", "note": "Two still open"},
    Kind.SHIFT_HANDOVER_ACKNOWLEDGED: {"shift_date": "2026-11-22", "shift": "late"},
    Kind.EXERCISE_STARTED: {
        "scenario": "Bank Deluge",
        "codeword": "EXERCISE EXERCISE EXERCISE",
        "start": "2026-11-24T08:30:00.000Z",
        "duration_seconds": 2700,
        "injects": 14,
        "exercise_seconds": 0,
        "speed": 1,
    },
    Kind.EXERCISE_PAUSED: {"exercise_seconds": 120.5, "speed": 1},
    Kind.EXERCISE_RESUMED: {"exercise_seconds": 120.5, "speed": 1},
    Kind.EXERCISE_SPEED_CHANGED: {"exercise_seconds": 300, "speed": 4},
    Kind.EXERCISE_INJECT_RELEASED: {
        "inject": 3,
        "at": "T+05:00",
        "inject_kind": "incident",
        "title": "Water pouring down the Bank station stairs",
        "early": False,
        "incident_id": ASSIGNMENT,
        "incident_ref": "20261124-EXCON-0002",
        "exercise_seconds": 300,
        "speed": 4,
    },
    Kind.EXERCISE_MESSAGE: {
        "text": "Gold group at T+55",
        "inject": 14,
        "exercise_seconds": 2400,
        "speed": 1,
    },
    Kind.EXERCISE_STOPPED: {
        "reason": "Real incident at Liverpool Street",
        "emergency": True,
        "exercise_seconds": 900,
        "speed": 1,
    },
    Kind.INCIDENT_LINKED: {"other": ENTRY, "other_ref": "20261122-CR1-0008", "note": "Same fight"},
    Kind.INCIDENT_UNLINKED: {"other": ENTRY, "removes": [ASSIGNMENT], "reason": "Other event"},
    Kind.SESSION_SIGNED_IN: {
        "method": "online",
        "role": "call_handler",
        "grant_expires": "2026-11-24T20:00:00.000Z",
        "replaces": "PC Jane Smith",
    },
    Kind.SESSION_SIGNED_OUT: {"reason": "switched"},
    Kind.SESSION_LOCKED: {"reason": "idle", "idle_minutes": 15},
    Kind.SESSION_UNLOCKED: {},
    Kind.ACCOUNT_CHANGED: {
        "subject": "alice",
        "change": "Role of alice changed to duty manager: it applies from their next sign-in.",
    },
    Kind.SESSION_SIGN_IN_FAILED: {
        "user": "PC Jane Smith",
        "reason": "wrong password",
        "consecutive": 5,
        "locked_until": "2026-11-24T12:15:00.000Z",
    },
}


@contextmanager
def refused(message: str) -> Iterator[None]:
    """The operation is refused with exactly this one-line message."""
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        yield


def check(kind: str, payload: Mapping[str, Any], schema: int = 1) -> None:
    validate_payload(kind, schema, payload, REF)


def valid(kind: str, **overrides: Any) -> dict[str, Any]:
    payload = {**VALID[kind], **overrides}
    return {k: v for k, v in payload.items() if v is not _DROP}


_DROP = object()


# ---- every kind ------------------------------------------------------------------------------


def test_every_kind_has_a_valid_example_here() -> None:
    assert set(VALID) == set(SCHEMAS) == {k.value for k in Kind}


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_a_well_formed_payload_of_each_kind_is_accepted(kind: str) -> None:
    check(kind, VALID[kind], latest_schema(kind))


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (kind, spec.name)
        for kind, versions in sorted(SCHEMAS.items())
        for spec in versions[1]
        if spec.required
    ],
)
def test_a_missing_required_field_is_named(kind: str, name: str) -> None:
    with refused(f"payload.{name}: is required"):
        check(kind, valid(kind, **{name: _DROP}))


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_a_field_the_kind_does_not_have_is_refused(kind: str) -> None:
    with refused(f"payload.colour: is not a field of {kind}"):
        check(kind, valid(kind, colour="red"))


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_a_payload_from_a_newer_program_asks_for_an_upgrade(kind: str) -> None:
    with refused(
        f"schema: {kind} schema 2 is newer than this program understands (up to 1); "
        "upgrade OSC Console"
    ):
        check(kind, VALID[kind], schema=2)


def test_the_upgrade_message_for_an_opening() -> None:
    with refused(
        "schema: incident.opened schema 2 is newer than this program understands (up to 1); "
        "upgrade OSC Console"
    ):
        check("incident.opened", VALID[Kind.INCIDENT_OPENED], schema=2)


def test_a_schema_that_never_existed_is_refused() -> None:
    with refused("schema: log.added has no schema 0"):
        check("log.added", VALID[Kind.LOG_ADDED], schema=0)


def test_an_unknown_kind_is_refused() -> None:
    with refused("kind: unknown event kind 'incident.merged'"):
        check("incident.merged", {})


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with refused("payload: must be a JSON object"):
        check("log.added", ["Caller rang back"])  # type: ignore[arg-type]


def test_the_first_wrong_field_is_the_one_named() -> None:
    with refused("payload.summary: must not be empty"):
        check("incident.opened", valid("incident.opened", summary="", category="XYZ"))


# ---- opening an incident -----------------------------------------------------------------------

OPENED_REFUSALS = [
    ({"category": "XYZ"}, "payload.category: unknown category 'XYZ'"),
    (
        {"category": "CL-NOCRIME"},
        "payload.category: 'CL-NOCRIME' is a closing category, not one to open an incident with",
    ),
    ({"category": None}, "payload.category: is required"),
    ({"summary": ""}, "payload.summary: must not be empty"),
    ({"summary": "   \n\t"}, "payload.summary: must not be empty"),
    ({"summary": 42}, "payload.summary: must be text"),
    (
        {"summary": "x" * (MAX_SUMMARY + 1)},
        "payload.summary: is 501 characters; the limit is 500",
    ),
    (
        {"grade": "urgent"},
        "payload.grade: 'urgent' is not one of immediate, priority, scheduled, rwd",
    ),
    (
        {"grade": None, "council_priority": "asap"},
        "payload.council_priority: 'asap' is not one of urgent, high, routine, low",
    ),
    ({"grade": None}, "payload.grade: give a police grade or a council priority"),
    ({"grade": _DROP}, "payload.grade: give a police grade or a council priority"),
    (
        {"source": "fax"},
        "payload.source: 'fax' is not one of 999, 101, phone, email, walk-in, cctv, anpr, "
        "radio, partner, self-initiated",
    ),
    (
        {"lead_agency": "army"},
        "payload.lead_agency: 'army' is not one of police, corporation, fire, ambulance, transport",
    ),
    ({"ref": "CR1-7"}, "payload.ref: must look like 20261122-CR1-0007"),
    ({"ref": "20261122-cr1-0007"}, "payload.ref: must look like 20261122-CR1-0007"),
    (
        {"location": "Bank"},
        "payload.location: must be an object with text and optional lat, lon, camera_id",
    ),
    ({"location": {"text": " "}}, "payload.location: text must not be empty"),
    (
        {"location": {"text": "x" * (MAX_SHORT + 1)}},
        "payload.location: text is 201 characters; the limit is 200",
    ),
    (
        {"location": {"text": "Bank", "lat": 51.51}},
        "payload.location: give both lat and lon, or neither",
    ),
    (
        {"location": {"text": "Bank", "lon": -0.09}},
        "payload.location: give both lat and lon, or neither",
    ),
    (
        {"location": {"text": "Bank", "lat": 91, "lon": -0.09}},
        "payload.location: lat must be a number from -90 to 90",
    ),
    (
        {"location": {"text": "Bank", "lat": "51.5", "lon": -0.09}},
        "payload.location: lat must be a number from -90 to 90",
    ),
    (
        {"location": {"text": "Bank", "lat": True, "lon": -0.09}},
        "payload.location: lat must be a number from -90 to 90",
    ),
    (
        {"location": {"text": "Bank", "lat": 51.51, "lon": -180.5}},
        "payload.location: lon must be a number from -180 to 180",
    ),
    (
        {"location": {"text": "Bank", "camera_id": ""}},
        "payload.location: camera_id must be text",
    ),
    (
        {"location": {"text": "Bank", "postcode": "EC2N 1HQ"}},
        "payload.location: unknown field 'postcode'",
    ),
    ({"caller": {"email": "a@example.org"}}, "payload.caller: unknown field 'email'"),
    ({"caller": {"name": 5}}, "payload.caller: name must be text of at most 200 characters"),
    (
        {"caller": {"phone": "0" * (MAX_SHORT + 1)}},
        "payload.caller: phone must be text of at most 200 characters",
    ),
    (
        {"caller": "Alex Brown"},
        "payload.caller: must be an object with name, phone, address, notes",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), OPENED_REFUSALS)
def test_an_opening_with_a_bad_value_is_refused(overrides: dict[str, Any], message: str) -> None:
    with refused(message):
        check("incident.opened", valid("incident.opened", **overrides))


@pytest.mark.parametrize(
    "overrides",
    [
        {"grade": None, "council_priority": "routine"},  # a council job has no police grade
        {"grade": "rwd", "council_priority": "high"},
        {"category": "ADM-INFO"},  # both an opening and a closing category
        {"caller": None},
        {"caller": _DROP},
        {"location": {"text": "Bank junction"}},
        {"location": {"text": "Bank", "lat": -90, "lon": 180}},
        {"location": {"text": "Bank", "lat": 0, "lon": 0, "camera_id": "CAM-BANK-01"}},
        {"summary": "x" * MAX_SUMMARY},
        {"source": "self-initiated", "lead_agency": "fire"},
    ],
)
def test_an_opening_at_the_edges_of_what_is_allowed_is_accepted(overrides: dict[str, Any]) -> None:
    check("incident.opened", valid("incident.opened", **overrides))


# ---- changing an incident ----------------------------------------------------------------------

UPDATE_REFUSALS = [
    ({}, "payload.changes: must name at least one field to change"),
    ("grade", "payload.changes: must name at least one field to change"),
    ({"status": "closed"}, "payload.changes: 'status' cannot be changed this way"),
    ({"ref": "20261122-CR1-0008"}, "payload.changes: 'ref' cannot be changed this way"),
    (
        {"grade": "urgent"},
        "payload.changes: grade: 'urgent' is not one of immediate, priority, scheduled, rwd",
    ),
    ({"category": "XYZ"}, "payload.changes: category: unknown category 'XYZ'"),
    (
        {"category": "CL-ARREST"},
        "payload.changes: category: 'CL-ARREST' is a closing category, not one to open an "
        "incident with",
    ),
    ({"summary": ""}, "payload.changes: summary: must not be empty"),
    ({"summary": None}, "payload.changes: summary: must be text"),
    (
        {"location": None},
        "payload.changes: location: must be an object with text and optional lat, lon, camera_id",
    ),
]


@pytest.mark.parametrize(("changes", "message"), UPDATE_REFUSALS)
def test_an_update_with_a_bad_change_is_refused(changes: Any, message: str) -> None:
    with refused(message):
        check("incident.updated", {"changes": changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"grade": None, "council_priority": "urgent"},  # handed over to the council
        {"caller": None},
        {"summary": "Fight is over", "location": {"text": "Bank junction"}},
        {"lead_agency": "corporation", "source": "partner"},
    ],
)
def test_an_update_of_fields_that_may_change_is_accepted(changes: dict[str, Any]) -> None:
    check("incident.updated", {"changes": changes})


def test_a_status_change_cannot_close_an_incident() -> None:
    with refused(
        "payload.status: 'closed' is not one of open, assigned, in_progress, resolved "
        "(close and reopen have their own actions)"
    ):
        check("incident.status", {"status": "closed"})


def test_a_reason_may_not_be_longer_than_a_log_entry() -> None:
    with refused("payload.reason: is 10001 characters; the limit is 10000"):
        check("incident.status", {"status": "resolved", "reason": "x" * (MAX_TEXT + 1)})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"closing_category": "VAP-WEAPON", "resolution": "Searched"},
            "payload.closing_category: 'VAP-WEAPON' is an opening category, not a closing one",
        ),
        (
            {"closing_category": "XYZ", "resolution": "Searched"},
            "payload.closing_category: unknown category 'XYZ'",
        ),
        (
            {"closing_category": "CL-NOCRIME", "resolution": " "},
            "payload.resolution: must not be empty",
        ),
    ],
)
def test_closing_needs_a_closing_category_and_a_resolution(
    payload: dict[str, Any], message: str
) -> None:
    with refused(message):
        check("incident.closed", payload)


def test_reopening_needs_a_reason() -> None:
    with refused("payload.reason: must not be empty"):
        check("incident.reopened", {"reason": ""})


# ---- the log -----------------------------------------------------------------------------------


def test_a_log_entry_may_be_as_long_as_the_limit_and_no_longer() -> None:
    check("log.added", {"text": "x" * MAX_TEXT})
    with refused("payload.text: is 10001 characters; the limit is 10000"):
        check("log.added", {"text": "x" * (MAX_TEXT + 1)})


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("log.added", {"text": ""}, "payload.text: must not be empty"),
        ("log.added", {"text": None}, "payload.text: is required"),
        (
            "log.added",
            {"text": "Rang back", "on_behalf_of": "x" * (MAX_SHORT + 1)},
            "payload.on_behalf_of: is 201 characters; the limit is 200",
        ),
        (
            "log.amended",
            {"amends": "entry-1", "text": "Corrected", "reason": "typo"},
            "payload.amends: must be an id (UUID)",
        ),
        (
            "log.amended",
            {"amends": ENTRY, "text": "Corrected", "reason": ""},
            "payload.reason: must not be empty",
        ),
        (
            "decision.recorded",
            {"decision": "Close the road", "rationale": ""},
            "payload.rationale: must not be empty",
        ),
    ],
)
def test_log_entries_amendments_and_decisions_need_their_text(
    kind: str, payload: dict[str, Any], message: str
) -> None:
    with refused(message):
        check(kind, payload)


# ---- teams -------------------------------------------------------------------------------------


def test_an_unknown_team_is_refused() -> None:
    with refused("payload.team: unknown team 'POL-NOPE'"):
        check("assignment.made", {"assignment_id": ASSIGNMENT, "team": "POL-NOPE"})


def test_every_team_in_the_reference_data_can_be_assigned() -> None:
    for code in REF.teams:
        check("assignment.made", {"assignment_id": ASSIGNMENT, "team": code})


def test_an_assignment_needs_an_id() -> None:
    with refused("payload.assignment_id: must be an id (UUID)"):
        check("assignment.made", {"assignment_id": "1", "team": "POL-RESP-A"})


@pytest.mark.parametrize("status", ["assigned", "withdrawn", "lost"])
def test_an_assignment_update_names_the_statuses_it_may_take(status: str) -> None:
    with refused(
        f"payload.status: {status!r} is not one of acknowledged, en_route, on_scene, "
        "completed, declined"
    ):
        check("assignment.status", {"assignment_id": ASSIGNMENT, "status": status})


# ---- conflicts and shifts ----------------------------------------------------------------------


def test_only_a_single_value_field_can_be_in_conflict() -> None:
    with refused("payload.field: 'status' is not a field that can be in conflict"):
        check("conflict.resolved", {"field": "status", "value": "open"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("grade", "banana"), ("summary", None), ("location", "Bank"), ("category", "CL-ARREST")],
)
def test_a_resolution_value_must_be_a_valid_value_of_its_field(name: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refusal:
        check("conflict.resolved", {"field": name, "value": value})
    assert refusal.value.field == "payload.value"


def test_a_shift_sign_off_may_have_an_empty_note_but_needs_its_date() -> None:
    check("shift.signed_off", {"shift_date": "2026-11-22", "shift": "Night", "note": ""})
    with refused("payload.shift_date: is 11 characters; the limit is 10"):
        check("shift.signed_off", {"shift_date": "2026-11-222", "shift": "Night"})


# ---- the envelope ------------------------------------------------------------------------------

AUTHOR = Author("PC Jane Smith", Agency.POLICE, "CR1")
INCIDENT = "019d36ff-6340-7000-8000-000000000001"


def _sealed(**draft: Any) -> Event:
    kind = draft.pop("kind", Kind.LOG_ADDED)
    payload = draft.pop("payload", VALID[Kind.LOG_ADDED])
    return seal(
        EventDraft(kind, payload, incident_id=INCIDENT, **draft),
        AUTHOR,
        event_id="019d36ff-6340-7000-8000-000000000002",
        hlc="1795521600000-000000",
        recorded_at="2026-11-24T12:00:00.000Z",
        device_seq=1,
        prev_hash=None,
    )


def test_a_sealed_event_passes_the_envelope_check_and_survives_the_wire() -> None:
    sealed = _sealed(base={"grade": ENTRY}, refs=(ASSIGNMENT,))
    wire = json.loads(json.dumps(sealed.to_wire()))
    check_envelope(wire)
    again = Event.from_wire(wire)
    assert again == sealed
    assert again.computed_hash() == sealed.content_hash
    # What the author saw (base) is also among the events it points at.
    assert sealed.refs == tuple(sorted((ENTRY, ASSIGNMENT)))
    assert sealed.occurred_at == sealed.recorded_at


def test_changing_any_field_of_an_event_changes_its_hash() -> None:
    sealed = _sealed()
    changes: dict[str, Any] = {
        "payload": {"text": "Something else"},
        "actor": "Someone else",
        "hlc": "1795521600000-000001",
        "visibility": "police",
        "device_seq": 2,
    }
    for name, value in changes.items():
        assert replace(sealed, **{name: value}).computed_hash() != sealed.content_hash, name


ENVELOPE_REFUSALS = [
    ("id", "42", "id: must be a UUID"),
    ("realm", "training", "realm: must be 'live' or 'exercise:<slug>'"),
    ("realm", "exercise:Big Day", "realm: must be 'live' or 'exercise:<slug>'"),
    ("incident_id", "INC-1", "incident_id: must be a UUID"),
    ("kind", "", "kind: missing"),
    ("schema", 0, "schema: must be a positive whole number"),
    ("schema", True, "schema: must be a positive whole number"),
    ("payload", "text", "payload: must be a JSON object"),
    ("actor", " ", "actor: must not be empty"),
    ("agency", "army", "agency: must be one of police, corporation, fire, ambulance, transport"),
    (
        "workstation",
        "cr1",
        "workstation: must be a workstation code of 2 to 8 capital letters or digits",
    ),
    ("hlc", "yesterday", "hlc: must be a clock stamp"),
    ("recorded_at", "2026-11-24T12:00:00", "recorded_at: must be an ISO 8601 UTC time ending Z"),
    ("occurred_at", None, "occurred_at: must be an ISO 8601 UTC time ending Z"),
    ("visibility", "public", "visibility: must be joint, police or corporation"),
    ("classification", "SECRET", "classification: must be OFFICIAL or OFFICIAL-SENSITIVE"),
    ("base", {"grade": "the old one"}, "base: must map field names to event ids"),
    ("refs", "019d36ff-6340-7d82-b082-532b629f6fbe", "refs: must be a list of event ids"),
    ("device_seq", 0, "device_seq: must be a whole number from 1"),
    ("device_seq", True, "device_seq: must be a whole number from 1"),
    ("prev_hash", "abc", "prev_hash: must be a sha256 hex digest"),
    (
        "prev_hash",
        "0" * 64,
        "prev_hash: must be empty for a workstation's first event and set after it",
    ),
    ("content_hash", None, "content_hash: must be a sha256 hex digest"),
]


@pytest.mark.parametrize(("name", "value", "message"), ENVELOPE_REFUSALS)
def test_an_envelope_with_a_bad_field_is_refused(name: str, value: Any, message: str) -> None:
    wire = {**_sealed().to_wire(), name: value}
    with refused(message):
        Event.from_wire(wire)


def test_a_later_event_of_a_workstation_must_point_at_the_one_before() -> None:
    wire = {**_sealed().to_wire(), "device_seq": 2, "prev_hash": None}
    with refused("prev_hash: must be empty for a workstation's first event and set after it"):
        check_envelope(wire)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, database=None)
@given(
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    actor=st.text(min_size=1, max_size=30).filter(str.strip),
    incident=st.sampled_from([None, INCIDENT]),
)
def test_the_fast_hash_is_the_hash_of_the_canonical_json(
    payload: dict[str, Any], actor: str, incident: str | None
) -> None:
    """Any payload, any author name (accents, emoji): one spelling, one hash, everywhere."""
    sealed = seal(
        EventDraft(Kind.LOG_ADDED, payload, incident_id=incident, base={"grade": ENTRY}),
        replace(AUTHOR, actor=actor),
        event_id="019d36ff-6340-7000-8000-000000000002",
        hlc="1795521600000-000000",
        recorded_at="2026-11-24T12:00:00.000Z",
        device_seq=3,
        prev_hash="f" * 64,
    )
    assert canonical_event_json(sealed) == canonical_json(sealed.hashed_fields())
    wire = canonical_event_json(sealed, content_hash=sealed.content_hash)
    assert wire == canonical_json(sealed.to_wire())
    assert sealed.content_hash == content_hash(sealed.hashed_fields()) == event_hash(sealed)
    travelled = Event.from_wire(json.loads(json.dumps(sealed.to_wire(), ensure_ascii=True)))
    assert travelled.computed_hash() == sealed.content_hash


def test_drafts_default_to_joint_official_entries() -> None:
    sealed = _sealed()
    assert sealed.visibility == Visibility.JOINT.value
    assert sealed.classification == Classification.OFFICIAL.value
    assert sealed.kind == "log.added"
    assert sealed.schema == 1


# ---- exercise kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name", "value", "message"),
    [
        (Kind.EXERCISE_SPEED_CHANGED, "speed", 0, "must be a number more than 0"),
        (Kind.EXERCISE_SPEED_CHANGED, "speed", True, "must be a number more than 0"),
        (Kind.EXERCISE_PAUSED, "exercise_seconds", -1, "must be seconds of exercise time"),
        (Kind.EXERCISE_INJECT_RELEASED, "at", "5 minutes", "must be an exercise time like"),
        (Kind.EXERCISE_INJECT_RELEASED, "inject", 0, "must be an inject number from 1"),
        (Kind.EXERCISE_INJECT_RELEASED, "inject_kind", "fire", "'fire' is not one of"),
        (Kind.EXERCISE_STOPPED, "emergency", "yes", "must be true or false"),
        (Kind.EXERCISE_STOPPED, "reason", "  ", "must not be empty"),
        (Kind.EXERCISE_STARTED, "start", "tomorrow", "must be an ISO 8601 UTC time"),
    ],
)
def test_exercise_payloads_name_the_wrong_field(
    kind: str, name: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=f"^payload.{name}: {re.escape(message)}"):
        check(kind, valid(kind, **{name: value}))


@pytest.mark.parametrize("kind", sorted(EXERCISE_KINDS))
def test_exercise_kinds_belong_to_exercise_realms_only(kind: str) -> None:
    check_realm(kind, "exercise:city-flood")
    with refused(f"realm: {kind} belongs to an exercise realm (exercise:<slug>), not live"):
        check_realm(kind, "live")
    assert kind in INCIDENT_FREE_KINDS


def test_incident_kinds_are_allowed_in_every_realm() -> None:
    for realm in ("live", "exercise:city-flood"):
        check_realm(Kind.LOG_ADDED, realm)
