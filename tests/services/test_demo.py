"""Demo data: reproducible, valid as a local user would write it, and shaped like the City."""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency, Classification, Visibility, can_see
from osc_console.models.authority import check_authority
from osc_console.models.clock import LONDON, Stamp, from_iso
from osc_console.models.events import Author, Event, EventDraft, check_envelope
from osc_console.models.payloads import Kind, validate_payload
from osc_console.models.projection import IncidentState, fold, fold_key
from osc_console.models.reference import ReferenceData, reference_data
from osc_console.models.rules import check_draft
from osc_console.services.demo import (
    DemoSpec,
    DemoStaff,
    _demo_uuid7,
    generate_events,
    seed_store,
)
from osc_console.signing.directory import KeyDirectory, directory_of
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store

END = datetime(2026, 3, 20, 18, 0, tzinfo=UTC)
SPEC = DemoSpec(incidents=300, days=14, seed=5, end=END)
# Patterns need a larger sample to show reliably; generating it without a store is quick.
SHAPE = DemoSpec(incidents=1500, days=14, seed=9, end=END)
NTE = {"ASB-NTE", "ASB-DRUNK", "VAP-SPIKING"}
ALWAYS_POLICE_ONLY = {"DA-INCIDENT", "CT-SUSP-ITEM", "CT-SUSP-BEH", "CT-PREVENT", "VAP-SEXUAL"}
DRAMA_NUMBER = re.compile(r"^(07700 900\d{3}|020 7946 0\d{3})$")


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return reference_data()


@pytest.fixture(scope="module")
def staff() -> DemoStaff:
    """The demo's people for these tests: their keys, and the authority that certified them."""
    return DemoStaff(at="2026-03-01T00:00:00.000Z")


@pytest.fixture(scope="module")
def directory(staff: DemoStaff) -> KeyDirectory:
    """What a store that trusts the demo authority knows of the demo staff's keys."""
    authority = staff.authority
    return directory_of({authority.key_id: authority.public_key}, staff.certificates)


@pytest.fixture(scope="module")
def events(ref: ReferenceData, staff: DemoStaff) -> list[Event]:
    return _flatten(generate_events(SPEC, ref, staff))


@pytest.fixture(scope="module")
def incidents(events: list[Event]) -> dict[str, list[Event]]:
    by_incident: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        assert event.incident_id is not None
        by_incident[event.incident_id].append(event)
    return by_incident


@pytest.fixture(scope="module")
def shape(ref: ReferenceData) -> list[Event]:
    return _flatten(generate_events(SHAPE, ref))


@pytest.fixture(scope="module")
def openings(shape: list[Event]) -> list[Event]:
    return [e for e in shape if e.kind == Kind.INCIDENT_OPENED]


@pytest.fixture(scope="module")
def stories(shape: list[Event]) -> dict[str, list[Event]]:
    by_incident: dict[str, list[Event]] = defaultdict(list)
    for event in shape:
        by_incident[event.incident_id or ""].append(event)
    return by_incident


def _flatten(batches: Iterable[list[Event]]) -> list[Event]:
    return [event for batch in batches for event in batch]


def _local(event: Event) -> datetime:
    return from_iso(event.occurred_at).astimezone(LONDON)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# ---- reproducible -------------------------------------------------------------------------


def test_the_same_seed_and_end_give_the_same_events(ref: ReferenceData, staff: DemoStaff) -> None:
    first = _flatten(generate_events(SPEC, ref, staff))
    again = _flatten(generate_events(SPEC, ref, staff))
    assert [(e.id, e.content_hash) for e in first] == [(e.id, e.content_hash) for e in again]
    assert [e.to_wire() for e in first] == [e.to_wire() for e in again]


def test_another_seed_gives_other_events(events: list[Event], ref: ReferenceData) -> None:
    other = _flatten(generate_events(DemoSpec(incidents=300, seed=6, end=END), ref))
    assert {e.id for e in events}.isdisjoint({e.id for e in other})
    assert [e.payload for e in events[:50]] != [e.payload for e in other[:50]]


def test_batches_are_about_five_thousand_events(ref: ReferenceData) -> None:
    sizes = [len(b) for b in generate_events(DemoSpec(incidents=1000, seed=2, end=END), ref)]
    assert len(sizes) > 1
    assert all(size == 5000 for size in sizes[:-1])
    assert 0 < sizes[-1] <= 5000


def test_demo_ids_are_uuid7_made_from_the_time() -> None:
    ms = int(END.timestamp() * 1000)
    made = uuid.UUID(_demo_uuid7(ms, random.Random(1)))
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert made.int >> 80 == ms
    assert _demo_uuid7(ms, random.Random(1)) == str(made)


def test_event_ids_follow_their_time(events: list[Event]) -> None:
    for event in events:
        assert uuid.UUID(event.id).int >> 80 == Stamp.parse(event.hlc).ms
    assert len({e.id for e in events}) == len(events)


# ---- valid as written by people at their desks ----------------------------------------------


def test_every_event_is_well_formed(events: list[Event], ref: ReferenceData) -> None:
    for event in events:
        check_envelope(event.to_wire())
        validate_payload(event.kind, event.schema, event.payload, ref)
        assert event.computed_hash() == event.content_hash
        assert event.realm == "live"


def test_every_event_is_signed_by_its_author(
    events: list[Event], staff: DemoStaff, directory: KeyDirectory
) -> None:
    for event in events:
        assert event.is_signed
        assert directory.event_problem(event) is None, event
        author = staff.author(event.workstation, event.actor)
        assert author.signer is not None
        assert event.key_id == author.signer.key_id
    # One key per person and desk, not one per event.
    assert len({e.key_id for e in events}) <= len(staff.certificates)


def test_the_demo_staff_are_certified_for_their_own_desk_and_agency(staff: DemoStaff) -> None:
    for cert in staff.certificates:
        author = staff.author(cert.workstation, cert.user)
        assert author.signer is not None
        assert (cert.key_id, cert.agency) == (author.signer.key_id, author.agency.value)
        assert cert.issuer == staff.authority.key_id
        assert cert.verified_by(staff.authority.public_key)
    assert len({c.key_id for c in staff.certificates}) == len(staff.certificates)


def test_events_of_another_run_do_not_verify_with_these_certificates(
    ref: ReferenceData, directory: KeyDirectory
) -> None:
    """Each run has its own authority and keys: nobody can sign as the demo staff later."""
    other_run = _flatten(generate_events(DemoSpec(incidents=5, seed=5, end=END), ref))
    assert other_run
    for event in other_run:
        assert directory.event_problem(event) == (
            f"signed with key {event.key_id}, which is not registered"
        )


def test_each_workstation_has_a_gap_free_chain_and_a_rising_clock(events: list[Event]) -> None:
    heads: dict[str, Event] = {}
    for event in events:
        previous = heads.get(event.workstation)
        if previous is None:
            assert event.device_seq == 1
            assert event.prev_hash is None
        else:
            assert event.device_seq == previous.device_seq + 1
            assert event.prev_hash == previous.content_hash
            assert Stamp.parse(event.hlc) > Stamp.parse(previous.hlc)
        heads[event.workstation] = event
    assert {"CR1", "CR2", "CR3", "PD1", "PD2", "DM1"} <= set(heads)


def test_events_come_in_clock_order_and_causes_come_first(
    incidents: dict[str, list[Event]],
) -> None:
    for story in incidents.values():
        assert story[0].kind == Kind.INCIDENT_OPENED
        assert story == sorted(story, key=fold_key)
        seen: set[str] = set()
        for event in story:
            assert set(event.base.values()) <= seen, "base cites an event not yet written"
            if event.kind == Kind.LOG_AMENDED:
                assert event.payload["amends"] in seen
            seen.add(event.id)


def test_every_event_passes_the_rules_a_local_user_meets(
    incidents: dict[str, list[Event]], ref: ReferenceData, staff: DemoStaff
) -> None:
    """Replay each incident through check_draft and check that every base is what was seen,
    and that each entry is one its author's role may record (the authority table)."""
    for incident_id, story in incidents.items():
        state: IncidentState | None = None
        logs: set[str] = set()
        for event in story:
            agency = Agency(event.agency)
            assert can_see(agency, Visibility(event.visibility))
            author = Author(event.actor, agency, event.workstation, event.realm)
            draft = EventDraft(
                event.kind,
                event.payload,
                incident_id=event.incident_id,
                visibility=Visibility(event.visibility),
                classification=Classification(event.classification),
                occurred_at=event.occurred_at,
                base=event.base,
                refs=event.refs,
            )
            check_draft(draft, author, state, _lookup(incident_id, logs))
            check_authority(staff.author(event.workstation, event.actor).role or "", event.kind)
            if state is not None:
                _assert_base_is_what_was_seen(event, state)
            if state is None:
                state = IncidentState(id=incident_id)
            state.apply(event, ref)
            if event.kind == Kind.LOG_ADDED:
                logs.add(event.id)
        assert state is not None
        assert not state.conflicts


def _lookup(incident_id: str, logs: set[str]) -> Callable[[str], str | None]:
    """Which incident a log entry belongs to, as the store answers it for amendments."""
    return lambda entry: incident_id if entry in logs else None


def _assert_base_is_what_was_seen(event: Event, state: IncidentState) -> None:
    if event.kind == Kind.INCIDENT_STATUS:
        assert event.base == {"status": state.status_event}
    elif event.kind in (Kind.ASSIGNMENT_STATUS, Kind.ASSIGNMENT_WITHDRAWN):
        assignment = state.assignments[event.payload["assignment_id"]]
        assert event.base == {"assignment": assignment.status_event}
    elif event.kind == Kind.INCIDENT_UPDATED:
        assert event.base == {name: state.stamp_of(name) for name in event.payload["changes"]}


def test_teams_sent_belong_to_agencies_that_may_see_the_incident(
    incidents: dict[str, list[Event]], ref: ReferenceData
) -> None:
    for story in incidents.values():
        visibility = Visibility(story[0].visibility)
        for event in story:
            if event.kind == Kind.ASSIGNMENT_MADE:
                team = ref.teams[event.payload["team"]]
                if visibility is Visibility.POLICE:
                    assert team.agency is not Agency.CORPORATION
                if visibility is Visibility.CORPORATION:
                    assert team.agency is not Agency.POLICE


def test_nothing_lies_after_the_end(events: list[Event]) -> None:
    end = END.isoformat().replace("+00:00", ".000Z")
    start = (END - timedelta(days=SPEC.days)).isoformat().replace("+00:00", ".000Z")
    for event in events:
        assert start <= event.occurred_at <= event.recorded_at <= end
        assert Stamp.parse(event.hlc).ms <= int(END.timestamp() * 1000)


# ---- into a store -----------------------------------------------------------------------------


def test_seeding_a_store_keeps_every_incident_and_its_projection(tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    with Store.open(tmp_path / "live.db") as store:
        summary = seed_store(store, SPEC, lambda done, total: progress.append((done, total)))
        ref = store.reference

        assert summary.incidents == SPEC.incidents
        assert summary.rejected == 0  # every signature checked out
        assert store.refused_events() == []
        assert len(store.authorities()) == 1  # the run's own demo authority
        assert summary.events == store.event_count()
        assert summary.open_incidents + summary.closed_incidents == SPEC.incidents
        assert sum(summary.by_lead_agency.values()) == SPEC.incidents
        assert progress[-1][0] == progress[-1][1] == summary.events
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)

        ids = [row[0] for row in store.execute_read("SELECT id FROM incidents")]
        assert len(ids) == SPEC.incidents
        for incident_id in ids:
            stored = store.incident(incident_id)
            folded = fold(store.events_of(incident_id), ref)
            assert stored is not None
            assert folded is not None
            assert stored.to_dict() == folded.to_dict()
        open_rows = store.execute_read("SELECT count(*) FROM incidents WHERE is_open = 1")
        assert open_rows[0][0] == summary.open_incidents
        assert check_store(store).ok


def test_a_demo_for_another_realm_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "live.db") as store:
        with pytest.raises(ValueError, match="realm"):
            seed_store(store, DemoSpec(incidents=5, realm="exercise:drill"))
        assert store.event_count() == 0


def test_without_an_end_the_period_ends_at_this_minute(ref: ReferenceData) -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    events = _flatten(generate_events(DemoSpec(incidents=20, days=1), ref))
    latest = max(from_iso(e.recorded_at) for e in events)
    assert before - timedelta(days=1) <= min(from_iso(e.occurred_at) for e in events)
    assert latest <= datetime.now(UTC).replace(second=0, microsecond=0)


def test_an_exercise_realm_gets_its_own_events(tmp_path: Path) -> None:
    realm = "exercise:drill"
    with Store.open(tmp_path / "drill.db", realm) as store:
        summary = seed_store(store, DemoSpec(incidents=30, seed=3, end=END, realm=realm))
        assert summary.rejected == 0
        assert {row[0] for row in store.execute_read("SELECT DISTINCT realm FROM events")} == {
            realm
        }


# ---- shaped like the City -------------------------------------------------------------------


def test_night_time_economy_calls_come_at_weekend_nights(openings: list[Event]) -> None:
    nte = [_local(e) for e in openings if e.payload["category"] in NTE]
    assert len(nte) > 100
    at_night = [t for t in nte if t.hour >= 21 or t.hour < 3]
    assert _share(len(at_night), len(nte)) > 0.45  # 6 hours of 24 would be 0.25
    evening_day = [(t - timedelta(hours=3)).weekday() for t in at_night]
    late_week = sum(1 for d in evening_day if d in (3, 4, 5))  # Thursday to Saturday nights
    rest = len(evening_day) - late_week
    assert late_week / 3 > 1.5 * rest / 4  # per night


def test_council_services_are_mostly_by_day_and_road_danger_at_rush_hours(
    openings: list[Event],
) -> None:
    council = [_local(e) for e in openings if e.payload["category"].startswith("CS-")]
    daytime = sum(1 for t in council if 7 <= t.hour < 19)
    assert _share(daytime, len(council)) > 0.5
    road = [_local(e) for e in openings if e.payload["category"].startswith("RD-")]
    rush = sum(1 for t in road if 7 <= t.hour < 10 or 16 <= t.hour < 20)
    small_hours = sum(1 for t in road if t.hour < 7)
    assert rush > 4 * small_hours  # seven hours each


def test_grades_and_visibility_follow_the_partnership_mix(
    openings: list[Event], ref: ReferenceData
) -> None:
    graded = Counter(e.payload["grade"] for e in openings if e.payload["grade"])
    total = sum(graded.values())
    assert 0.07 < _share(graded["immediate"], total) < 0.3
    assert 0.2 < _share(graded["priority"], total) < 0.5
    assert 0.2 < _share(graded["scheduled"], total) < 0.5
    assert 0.05 < _share(graded["rwd"], total) < 0.3
    seen = Counter(e.visibility for e in openings)
    assert 0.55 < _share(seen["joint"], len(openings)) < 0.85
    assert 0.1 < _share(seen["police"], len(openings)) < 0.3
    assert 0.03 < _share(seen["corporation"], len(openings)) < 0.2
    for event in openings:
        payload = event.payload
        category = ref.categories[payload["category"]]
        assert Agency(payload["lead_agency"]) in category.agencies
        if payload["lead_agency"] == "corporation":
            assert payload["council_priority"]
            assert not payload["grade"]
            assert event.visibility != "police"
        else:
            assert payload["grade"]
            assert not payload["council_priority"]
            assert event.visibility != "corporation"
        sensitive = payload["category"] in ALWAYS_POLICE_ONLY
        if sensitive:
            assert event.visibility == "police"
        assert (event.classification == "OFFICIAL-SENSITIVE") == sensitive


def test_sources_callers_and_cameras_are_believable(
    openings: list[Event], ref: ReferenceData
) -> None:
    cameras = {c for p in ref.places.values() for c in p.cameras}
    immediate = [e for e in openings if e.payload["grade"] == "immediate"]
    assert _share(sum(1 for e in immediate if e.payload["source"] == "999"), len(immediate)) > 0.5
    callers = [e.payload["caller"] for e in openings if e.payload["caller"]]
    assert 0.4 < _share(len(callers), len(openings)) < 0.8
    for caller in callers:
        assert DRAMA_NUMBER.match(caller["phone"]), caller
    for event in openings:
        location = event.payload["location"]
        if event.payload["source"] in ("cctv", "anpr"):
            assert location["camera_id"] in cameras
            prefix = "ANPR-" if event.payload["source"] == "anpr" else "ROS-"
            assert location["camera_id"].startswith(prefix)
        else:
            assert "camera_id" not in location
        assert 51.50 < location["lat"] < 51.53
        assert -0.12 < location["lon"] < -0.07


def test_hotspots_and_repeat_locations_stand_out(openings: list[Event]) -> None:
    hotspots = ("Liverpool Street", "Bishopsgate", "Leadenhall Market", "Cheapside", "Bank")
    at_hotspots = sum(
        1 for e in openings if any(h in e.payload["location"]["text"] for h in hotspots)
    )
    assert _share(at_hotspots, len(openings)) > 0.15
    exact = Counter((e.payload["location"]["text"], e.payload["location"]["lat"]) for e in openings)
    assert exact.most_common(1)[0][1] >= 3


def test_incidents_are_worked_and_closed_like_real_ones(
    stories: dict[str, list[Event]], shape: list[Event], ref: ReferenceData
) -> None:
    incidents, events = stories, shape
    end_ms = int(END.timestamp() * 1000)
    old = [s for s in incidents.values() if Stamp.parse(s[0].hlc).ms < end_ms - 12 * 3_600_000]
    states = [fold(story, ref) for story in old]
    closed = sum(1 for state in states if state is not None and state.is_closed)
    assert _share(closed, len(old)) > 0.9
    multi = 0
    for story in incidents.values():
        agencies = {
            ref.teams[e.payload["team"]].agency for e in story if e.kind == Kind.ASSIGNMENT_MADE
        }
        multi += len(agencies) > 1
    assert 0.1 < _share(multi, len(incidents)) < 0.45
    kinds = Counter(e.kind for e in events)
    logs = [e for e in events if e.kind == Kind.LOG_ADDED]
    late = sum(1 for e in logs if e.occurred_at != e.recorded_at)
    assert 0.03 < _share(late, len(logs)) < 0.2
    assert any(e.payload.get("on_behalf_of") for e in logs)
    assert 1 <= kinds[Kind.LOG_AMENDED] < 0.1 * len(logs)
    assert kinds[Kind.DECISION_RECORDED] >= 1
    assert kinds[Kind.INCIDENT_UPDATED] >= 1
    assert kinds[Kind.ASSIGNMENT_STATUS] > kinds[Kind.ASSIGNMENT_MADE]
    for story in incidents.values():
        if Stamp.parse(story[0].hlc).ms < end_ms - 3_600_000:
            assert sum(1 for e in story if e.kind == Kind.LOG_ADDED) >= 1
        assert sum(1 for e in story if e.kind == Kind.ASSIGNMENT_MADE) <= 3
