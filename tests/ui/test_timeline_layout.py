"""Where the timeline puts things, including the awkward cases: nothing, one entry, identical
times and skewed clocks all draw sensibly (a readable range, nothing backwards or off-screen)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from osc_console.models.agencies import Agency
from osc_console.models.clock import Stamp, to_iso
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.ids import uuid7
from osc_console.models.payloads import Kind
from osc_console.models.projection import fold
from osc_console.models.reference import reference_data
from osc_console.ui.timeline.layout import MIN_SPAN_S, MarkerKind, build_timeline, timeline_csv

REF = reference_data()
T0 = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
INCIDENT = uuid7()
POLICE = Author("PC Jane Smith", Agency.POLICE, "CR3")
COUNCIL = Author("A. Patel", Agency.CORPORATION, "CR1")
ASSIGNMENT = uuid7()


def event(
    kind: str, payload: dict[str, object], at: datetime, seq: int, author: Author = POLICE
) -> Event:
    draft = EventDraft(kind, payload, incident_id=INCIDENT, occurred_at=to_iso(at))
    return seal(
        draft,
        author,
        event_id=uuid7(),
        hlc=str(Stamp(int(T0.timestamp() * 1000) + seq, 0)),
        recorded_at=to_iso(at),
        device_seq=seq,
        prev_hash=None,
    )


def opened(at: datetime = T0) -> Event:
    return event(
        Kind.INCIDENT_OPENED,
        {
            "ref": "20261121-CR3-0001",
            "summary": "Fight outside a bar",
            "category": "VAP-WEAPON",
            "source": "999",
            "grade": "immediate",
            "location": {"text": "Leadenhall Street"},
            "lead_agency": "police",
        },
        at,
        1,
    )


def test_nothing_to_draw_still_gives_a_readable_range() -> None:
    data = build_timeline([], REF, T0)
    assert data.is_empty
    assert data.lanes == ()
    assert data.x_max - data.x_min == MIN_SPAN_S


def test_a_single_entry_is_centred_in_a_minute() -> None:
    events = [opened()]
    data = build_timeline([(fold(events, REF), events)], REF, T0)
    (marker,) = data.markers
    assert marker.kind == MarkerKind.LIFECYCLE
    assert data.x_min < marker.x < data.x_max
    assert data.x_max - data.x_min == MIN_SPAN_S
    assert [lane.label for lane in data.lanes] == ["Police"]


def test_entries_at_the_same_moment_fan_out_inside_their_lane() -> None:
    events = [opened()] + [
        event(Kind.LOG_ADDED, {"text": f"entry {n}"}, T0, n + 2) for n in range(5)
    ]
    data = build_timeline([(fold(events, REF), events)], REF, T0)
    ys = sorted(m.y for m in data.markers)
    assert len(set(ys)) == 6  # every one visible on its own
    assert all(abs(y - 0) < 0.5 for y in ys)  # none strays into another lane
    assert data.x_max - data.x_min >= MIN_SPAN_S


def test_assignments_make_team_lanes_under_their_agency_with_phase_bars() -> None:
    events = [
        opened(),
        event(
            Kind.ASSIGNMENT_MADE,
            {"assignment_id": ASSIGNMENT, "team": "COL-CLEANSE"},
            T0 + timedelta(minutes=2),
            2,
            COUNCIL,
        ),
        event(
            Kind.ASSIGNMENT_STATUS,
            {"assignment_id": ASSIGNMENT, "status": "on_scene"},
            T0 + timedelta(minutes=20),
            3,
            COUNCIL,
        ),
        event(
            Kind.ASSIGNMENT_STATUS,
            {"assignment_id": ASSIGNMENT, "status": "completed"},
            T0 + timedelta(minutes=50),
            4,
            COUNCIL,
        ),
    ]
    data = build_timeline([(fold(events, REF), events)], REF, T0 + timedelta(hours=1))
    team = REF.team("COL-CLEANSE")
    assert team is not None
    assert [(lane.agency, lane.team) for lane in data.lanes] == [
        ("police", None),
        ("corporation", None),
        ("corporation", "COL-CLEANSE"),
    ]
    assert {m.lane for m in data.markers if m.kind == MarkerKind.ASSIGNMENT} == {2}
    assert [(s.phase, s.x1 - s.x0, s.open_ended) for s in data.spans] == [
        ("assigned", 18 * 60, False),
        ("on_scene", 30 * 60, False),
    ]
    rows = list(csv.reader(io.StringIO(timeline_csv(data))))
    assert rows[0][:4] == ["row", "incident", "lane", "kind"]
    assert [r[0] for r in rows[1:]].count("assignment") == 2


def test_a_skewed_clock_never_draws_a_bar_backwards() -> None:
    events = [
        opened(),
        event(
            Kind.ASSIGNMENT_MADE,
            {"assignment_id": ASSIGNMENT, "team": "COL-CLEANSE"},
            T0 + timedelta(minutes=30),
            2,
            COUNCIL,
        ),
        # The arriving team's workstation is 25 minutes slow: on scene "before" assigned.
        event(
            Kind.ASSIGNMENT_STATUS,
            {"assignment_id": ASSIGNMENT, "status": "on_scene"},
            T0 + timedelta(minutes=10),
            3,
            COUNCIL,
        ),
    ]
    data = build_timeline([(fold(events, REF), events)], REF, T0 + timedelta(hours=1))
    assert all(s.x1 >= s.x0 for s in data.spans)
    xs = [m.x for m in data.markers] + [s.x0 for s in data.spans] + [s.x1 for s in data.spans]
    assert data.x_min <= min(xs)
    assert max(xs) <= data.x_max
    open_phase = [s for s in data.spans if s.open_ended]
    assert open_phase
    assert open_phase[-1].x1 == (T0 + timedelta(hours=1)).timestamp()


def test_linked_incidents_merge_into_one_set_of_lanes() -> None:
    first = [opened()]
    other_id = uuid7()
    second_open = seal(
        EventDraft(
            Kind.INCIDENT_OPENED,
            {**first[0].payload, "ref": "20261121-CR1-0002"},
            incident_id=other_id,
            occurred_at=to_iso(T0 + timedelta(minutes=3)),
        ),
        COUNCIL,
        event_id=uuid7(),
        hlc=str(Stamp(int(T0.timestamp() * 1000) + 9, 0)),
        recorded_at=to_iso(T0 + timedelta(minutes=3)),
        device_seq=1,
        prev_hash=None,
    )
    second = [second_open]
    data = build_timeline([(fold(first, REF), first), (fold(second, REF), second)], REF, T0)
    assert data.refs == ("20261121-CR3-0001", "20261121-CR1-0002")
    assert {m.ref for m in data.markers} == set(data.refs)
    assert [lane.agency for lane in data.lanes] == ["police", "corporation"]
