"""What the queue, the timeline and search show, and to whom.

The queue is what a dispatcher stares at all shift: most urgent first, oldest first within a
grade. A Corporation viewer must never see a police-only incident or entry, whichever way
they look (queue, count, timeline, search).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.events import Author
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store import queries
from osc_console.store.event_store import Store
from osc_console.store.queries import QueueFilter, QueueOrder, StatusFilter
from tests.conftest import knife_incident
from tests.signing import signed

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class Wall:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Room:
    store: Store
    wall: Wall
    police: IncidentService
    council: IncidentService

    def at(self, moment: datetime) -> Room:
        self.wall.now = moment
        return self


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    wall = Wall(NOW - timedelta(days=60))
    with Store.open(tmp_path / "live.db", wall=wall) as store:
        yield Room(
            store,
            wall,
            IncidentService(store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1"))),
            IncidentService(store, signed(store, Author("Sam Okafor", Agency.CORPORATION, "CC1"))),
        )


def council_job(summary: str, priority: str, place: str = "Cheapside") -> NewIncident:
    return NewIncident(
        summary=summary,
        category="CS-HWY-DEFECT",
        source="phone",
        location=Location(place),
        lead_agency=Agency.CORPORATION,
        council_priority=priority,
    )


def refs(found: list[queries.QueueRow]) -> list[str]:
    return [r.ref for r in found]


def summaries(found: list[queries.QueueRow]) -> list[str]:
    return [r.summary for r in found]


# ---- the queue -------------------------------------------------------------------------------


@pytest.fixture
def busy_queue(room: Room) -> dict[str, str]:
    """Calls as they came in, a minute apart; returns summary -> ref."""
    calls = [
        ("police", knife_incident(summary="Shop theft reported", grade="scheduled")),
        ("police", knife_incident(summary="First knife call", grade="immediate")),
        ("council", council_job("Gas smell in the street", "urgent")),
        ("police", knife_incident(summary="Suspicious package", grade="priority")),
        ("police", knife_incident(summary="Second knife call", grade="immediate")),
        ("council", council_job("Overflowing bin", "routine")),
        ("police", knife_incident(summary="Advice about a lost phone", grade="rwd")),
    ]
    made = {}
    for minute, (desk, new) in enumerate(calls):
        room.at(NOW + timedelta(minutes=minute))
        service = room.police if desk == "police" else room.council
        made[new.summary] = service.open_incident(new).incident.ref
    return made


def test_the_queue_puts_the_most_urgent_first_and_the_oldest_first_within_a_grade(
    room: Room, busy_queue: dict[str, str]
) -> None:
    found = queries.queue(room.store.conn, QueueFilter(viewer=Agency.POLICE))
    assert summaries(found) == [
        "First knife call",
        "Second knife call",
        "Gas smell in the street",  # an urgent council job sits between Immediate and Priority
        "Suspicious package",
        "Shop theft reported",
        "Overflowing bin",
        "Advice about a lost phone",
    ]
    assert queries.queue_ids(room.store.conn, QueueFilter(viewer=Agency.POLICE)) == [
        r.id for r in found
    ]


def test_the_queue_can_be_read_newest_first_or_by_reference(
    room: Room, busy_queue: dict[str, str]
) -> None:
    newest = queries.queue(
        room.store.conn, QueueFilter(viewer=Agency.POLICE, order=QueueOrder.NEWEST)
    )
    assert summaries(newest) == list(reversed(busy_queue))
    by_ref = queries.queue(room.store.conn, QueueFilter(viewer=Agency.POLICE, order=QueueOrder.REF))
    assert refs(by_ref) == sorted(busy_queue.values())


def test_closed_incidents_leave_the_open_queue(room: Room, busy_queue: dict[str, str]) -> None:
    conn = room.store.conn
    room.at(NOW + timedelta(hours=1))
    room.police.close(busy_queue["Suspicious package"], "CL-CT-SAFE", "Package was a lunch box")
    room.council.close(busy_queue["Overflowing bin"], "CL-CLEANSED", "Bin emptied")

    def view(status: StatusFilter) -> list[str]:
        return summaries(queries.queue(conn, QueueFilter(viewer=Agency.POLICE, status=status)))

    assert "Suspicious package" not in view(StatusFilter.OPEN)
    assert len(view(StatusFilter.OPEN)) == 5
    assert view(StatusFilter.CLOSED) == ["Suspicious package", "Overflowing bin"]
    everything = view(StatusFilter.ALL)
    assert len(everything) == 7
    assert everything[-2:] == ["Suspicious package", "Overflowing bin"]  # closed ones last
    assert queries.queue_count(conn, QueueFilter(Agency.POLICE, status=StatusFilter.CLOSED)) == 2


def test_the_team_filter_shows_only_active_assignments(
    room: Room, busy_queue: dict[str, str]
) -> None:
    conn = room.store.conn
    first, package = busy_queue["First knife call"], busy_queue["Suspicious package"]
    room.police.assign(first, "POL-RESP-A")
    room.police.assign(package, "POL-RESP-A")
    room.police.assign(package, "POL-CTSA")
    team_a = QueueFilter(viewer=Agency.POLICE, team="POL-RESP-A")
    assert refs(queries.queue(conn, team_a)) == [first, package]

    assignment = next(
        a.id for a in room.police.find(package).assignments.values() if a.team == "POL-RESP-A"
    )
    room.police.withdraw_assignment(package, assignment, "Needed elsewhere")
    assert refs(queries.queue(conn, team_a)) == [first]
    assert queries.queue_count(conn, team_a) == 1
    ctsa = QueueFilter(viewer=Agency.POLICE, team="POL-CTSA")
    assert refs(queries.queue(conn, ctsa)) == [package]
    assert queries.team_workload(conn) == {"POL-CTSA": 1, "POL-RESP-A": 1}


def test_the_opened_by_filter_shows_one_persons_calls(
    room: Room, busy_queue: dict[str, str]
) -> None:
    mine = QueueFilter(viewer=Agency.CORPORATION, opened_by="Sam Okafor")
    assert summaries(queries.queue(room.store.conn, mine)) == [
        "Gas smell in the street",
        "Overflowing bin",
    ]
    nobody = QueueFilter(viewer=Agency.POLICE, opened_by="Someone Else")
    assert queries.queue(room.store.conn, nobody) == []


def test_lead_agency_filter(room: Room, busy_queue: dict[str, str]) -> None:
    council_led = QueueFilter(viewer=Agency.POLICE, lead_agency=Agency.CORPORATION)
    assert summaries(queries.queue(room.store.conn, council_led)) == [
        "Gas smell in the street",
        "Overflowing bin",
    ]


# ---- who sees what -------------------------------------------------------------------------


@pytest.fixture
def restricted(room: Room) -> dict[str, str]:
    room.at(NOW)
    secret = room.police.open_incident(
        knife_incident(
            summary="Covert observation on a suspect vehicle",
            grade="immediate",
            visibility=Visibility.POLICE,
        )
    ).incident
    room.police.add_log(secret.ref, "Vehicle registration matched ANPR hit")
    joint = room.police.open_incident(knife_incident()).incident
    note = room.police.add_log(
        joint.ref, "Suspect is a known informant", visibility=Visibility.POLICE
    ).events[0]
    shared = room.council.add_log(joint.ref, "CCTV operator tracking the suspect").events[0]
    return {
        "secret_id": secret.id,
        "secret_ref": secret.ref,
        "joint_id": joint.id,
        "note": note.id,
        "shared": shared.id,
    }


def test_the_corporation_never_sees_a_police_only_incident(
    room: Room, restricted: dict[str, str]
) -> None:
    conn = room.store.conn
    council_view = QueueFilter(viewer=Agency.CORPORATION, status=StatusFilter.ALL)
    police_view = QueueFilter(viewer=Agency.POLICE, status=StatusFilter.ALL)

    assert restricted["secret_ref"] not in refs(queries.queue(conn, council_view))
    assert queries.queue_count(conn, council_view) == 1
    assert restricted["secret_ref"] in refs(queries.queue(conn, police_view))
    assert queries.queue_count(conn, police_view) == 2
    assert queries.timeline(conn, restricted["secret_id"], Agency.CORPORATION) == []
    assert len(queries.timeline(conn, restricted["secret_id"], Agency.POLICE)) == 2
    for words in ("Covert observation", "ANPR hit", "registration", restricted["secret_ref"]):
        assert queries.search(conn, words, Agency.CORPORATION) == [], words
        searched = QueueFilter(viewer=Agency.CORPORATION, status=StatusFilter.ALL, search=words)
        assert queries.queue(conn, searched) == [], words
        assert queries.queue_count(conn, searched) == 0, words
        assert queries.search(conn, words, Agency.POLICE) != [], words


def test_a_police_only_entry_on_a_joint_incident_is_hidden_from_the_corporation(
    room: Room, restricted: dict[str, str]
) -> None:
    conn = room.store.conn
    council_timeline = queries.timeline(conn, restricted["joint_id"], Agency.CORPORATION)
    assert restricted["note"] not in [e.id for e in council_timeline]
    assert restricted["shared"] in [e.id for e in council_timeline]
    police_timeline = queries.timeline(conn, restricted["joint_id"], Agency.POLICE)
    assert restricted["note"] in [e.id for e in police_timeline]

    assert queries.search(conn, "informant", Agency.CORPORATION) == []
    hidden = QueueFilter(viewer=Agency.CORPORATION, search="informant")
    assert queries.queue(conn, hidden) == []
    assert [h.event_id for h in queries.search(conn, "informant", Agency.POLICE)] == [
        restricted["note"]
    ]
    assert [h.event_id for h in queries.search(conn, "CCTV operator", Agency.CORPORATION)] == [
        restricted["shared"]
    ]


def test_the_timeline_is_in_clock_order(room: Room) -> None:
    room.at(NOW)
    ref = room.police.open_incident(knife_incident()).incident.ref
    room.police.add_log(ref, "Earlier sighting", occurred_at="2026-06-01T12:00:00Z")
    room.at(NOW + timedelta(minutes=10))
    room.police.add_log(ref, "What happened first", occurred_at="2026-06-01T11:00:00Z")
    incident_id = room.police.find(ref).id
    events = queries.timeline(room.store.conn, incident_id, Agency.POLICE)
    assert [e.payload.get("text") for e in events] == [
        None,
        "Earlier sighting",
        "What happened first",
    ]


# ---- search ----------------------------------------------------------------------------------


@pytest.fixture
def searchable(room: Room) -> dict[str, str]:
    room.at(NOW)
    knife = room.police.open_incident(
        knife_incident(summary="Fight inside or outside the bar and a knife seen")
    ).incident.ref
    room.police.add_log(knife, "Seen near Lime Street with a knife")
    cafe = room.council.open_incident(
        council_job("Café owner reports broken window", "high")
    ).incident.ref
    return {"knife": knife, "cafe": cafe}


SEARCHES = [
    ('knife"', {"knife"}),
    ('"knife', {"knife"}),
    ('"knife"', {"knife"}),
    ("knife*", {"knife"}),
    ("*knife", {"knife"}),
    ("kni", {"knife"}),
    ("NEAR(knife", {"knife"}),  # 'near' and 'knife' are both in the log entry
    ("NEAR(knife bar)", set()),  # no one row has all three words
    ("knife AND OR bar", {"knife"}),  # 'and' and 'or' are words of the summary
    ("knife OR window", set()),  # not an OR: every word must match
    ("summary:knife", set()),  # not a column filter: 'summary' is just a word
    ("bar:knife", {"knife"}),
    ("-knife", {"knife"}),
    ("knife -bar", {"knife"}),  # not an exclusion
    ("NOT bar", set()),
    ("(knife)", {"knife"}),
    ("^knife", {"knife"}),
    ("knife + bar", {"knife"}),
    ("O'Brien", set()),
    ("cafe", {"cafe"}),
    ("CAFÉ", {"cafe"}),
    ('"*:-()^', set()),
    ("%", set()),
    ("_", set()),
]


@pytest.mark.parametrize(("text", "expected"), SEARCHES)
def test_search_treats_what_is_typed_as_plain_words(
    room: Room, searchable: dict[str, str], text: str, expected: set[str]
) -> None:
    conn = room.store.conn
    wanted = {searchable[name] for name in expected}
    hits = queries.search(conn, text, Agency.POLICE)
    assert {h.ref for h in hits} == wanted
    in_queue = queries.queue(conn, QueueFilter(viewer=Agency.POLICE, search=text))
    assert set(refs(in_queue)) == wanted
    assert queries.queue_count(conn, QueueFilter(viewer=Agency.POLICE, search=text)) == len(wanted)


def test_an_empty_search_box_filters_nothing(room: Room, searchable: dict[str, str]) -> None:
    conn = room.store.conn
    assert queries.search(conn, "", Agency.POLICE) == []
    everything = queries.queue(conn, QueueFilter(viewer=Agency.POLICE, search=""))
    assert set(refs(everything)) == set(searchable.values())
    blank = queries.queue(conn, QueueFilter(viewer=Agency.POLICE, search="   "))
    assert set(refs(blank)) == set(searchable.values())


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Lead", True),  # Leadenhall Street, as the call handler types it
        ("Leadenhall Str", True),
        ("knife Lead", True),
        ("Lead knife", False),  # only the last word is a prefix
        ("Lime Str", True),
        ("Lim Street", False),
    ],
)
def test_search_completes_only_the_last_word(
    room: Room, searchable: dict[str, str], text: str, found: bool
) -> None:
    hits = queries.search(room.store.conn, text, Agency.POLICE)
    assert ({h.ref for h in hits} == {searchable["knife"]}) is found
    assert bool(hits) is found


def test_search_says_where_it_matched(room: Room, searchable: dict[str, str]) -> None:
    hits = queries.search(room.store.conn, "Lime", Agency.POLICE)
    assert len(hits) == 1
    assert hits[0].ref == searchable["knife"]
    assert hits[0].event_id is not None
    assert "[Lime]" in hits[0].snippet
    (summary_hit,) = queries.search(room.store.conn, "window", Agency.CORPORATION)
    assert summary_hit.event_id is None
    assert "[window]" in summary_hit.snippet


def test_search_finds_a_changed_summary_and_forgets_the_old_one(
    room: Room, searchable: dict[str, str]
) -> None:
    room.council.update(searchable["cafe"], {"summary": "Shop window smashed overnight"})
    conn = room.store.conn
    assert [h.ref for h in queries.search(conn, "smashed", Agency.POLICE)] == [searchable["cafe"]]
    assert queries.search(conn, "broken", Agency.POLICE) == []


# ---- repeat locations ----------------------------------------------------------------------


def test_repeat_locations_are_the_same_place_in_the_last_30_days(room: Room) -> None:
    def call(
        days_ago: float, summary: str, place: str = "Leadenhall Street", **extra: object
    ) -> str:
        room.at(NOW - timedelta(days=days_ago))
        new = knife_incident(summary=summary, location=Location(place), **extra)
        return room.police.open_incident(new).incident.ref

    call(40, "Fight outside the bar, long ago")
    twenty = call(20, "Fight outside the bar")
    secret = call(3, "Drugs observation", visibility=Visibility.POLICE)
    call(1, "Drunk man asleep", place="Cheapside")
    two = call(2, "Glass thrown at door staff")
    today = call(0, "Knife seen outside the bar")
    since = NOW - timedelta(days=30)
    conn = room.store.conn

    police = queries.repeat_locations(conn, "Leadenhall Street", since, Agency.POLICE)
    assert refs(police) == [today, two, secret, twenty]  # newest first
    council = queries.repeat_locations(conn, "Leadenhall Street", since, Agency.CORPORATION)
    assert refs(council) == [today, two, twenty]
    assert queries.repeat_locations(conn, "Moorgate", since, Agency.POLICE) == []
