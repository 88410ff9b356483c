"""The event log is the truth: what a desk writes, how it is chained, and what a pull brings in.

Each test is something a call handler does (open, log, assign) or something sync does (apply
a batch pulled from the server), and checks what the operator or the next replica would see.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.clock import Stamp, to_iso
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.ids import uuid7
from osc_console.models.payloads import Kind
from osc_console.models.projection import fold
from osc_console.models.reference import reference_data
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store import queries
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident
from tests.signing import register, sign, signed

# ---- helpers -------------------------------------------------------------------------------


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def resealed(event: Event, **changes: object) -> Event:
    """The event with some fields changed, and a hash and its author's signature that match
    the change (what a faulty workstation, not a forger, would send)."""
    changed = replace(event, **changes)  # type: ignore[arg-type]
    return sign(replace(changed, content_hash=changed.computed_hash()))


def counts(store: Store) -> tuple[int, int, int]:
    """(events, incidents, outbox rows): what a failed save must leave as it was."""
    incidents = store.execute_read("SELECT count(*) FROM incidents")[0][0]
    outbox = store.execute_read("SELECT count(*) FROM outbox")[0][0]
    return store.event_count(), incidents, outbox


def log_draft(incident_id: str, text: str, **fields: object) -> EventDraft:
    return EventDraft(Kind.LOG_ADDED, {"text": text}, incident_id=incident_id, **fields)  # type: ignore[arg-type]


def opening_draft(summary: str = "Shoplifter detained by store security") -> EventDraft:
    return EventDraft(
        Kind.INCIDENT_OPENED,
        {
            "ref": None,
            "summary": summary,
            "category": "ACQ-SHOP",
            "source": "101",
            "location": {"text": "Cheapside"},
            "lead_agency": "police",
            "grade": "scheduled",
        },
        incident_id=uuid7(),
    )


Desk = Callable[..., tuple[Store, IncidentService]]


@pytest.fixture
def workstation(tmp_path: Path, store: Store) -> Iterator[Desk]:
    """Another workstation's own store and desk (its events reach us through apply_remote).

    Its author's key is certified in our ``store`` too, as the server's certificates would
    have told it; any other replica is told with ``register``.
    """
    opened: list[Store] = []

    def make(
        code: str = "CR2",
        agency: Agency = Agency.POLICE,
        actor: str = "PC Ravi Patel",
        folder: str | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> tuple[Store, IncidentService]:
        own = Store.open(tmp_path / (folder or code) / "live.db", wall=wall)
        opened.append(own)
        author = signed(own, Author(actor, agency, code))
        register(store, author)
        return own, IncidentService(own, author)

    yield make
    for own in opened:
        own.close()


# ---- appending through the one door --------------------------------------------------------


def test_a_new_incident_and_its_log_are_saved_with_projection_search_and_outbox(
    store: Store, police_desk: IncidentService
) -> None:
    opened = police_desk.open_incident(knife_incident())
    logged = police_desk.add_log(opened.incident.ref, "Caller says he walked towards Lime Street")
    opening, entry = opened.events[0], logged.events[0]

    # the events themselves
    assert store.event(opening.id) == opening
    assert store.event(entry.id) == entry
    assert store.event_count() == 2
    # the projection the queue reads
    state = store.incident_by_ref(opened.incident.ref)
    assert state is not None
    assert state.value("summary") == "Man seen with a knife outside a bar"
    assert state.log_count == 1
    # the search index: the summary and the log text are both found
    by_summary = queries.search(store.conn, "knife outside", Agency.POLICE)
    assert [(h.ref, h.event_id) for h in by_summary] == [(opened.incident.ref, None)]
    by_log = queries.search(store.conn, "Lime Street", Agency.POLICE)
    assert [(h.ref, h.event_id) for h in by_log] == [(opened.incident.ref, entry.id)]
    # the outbox: both wait to be pushed to the server
    outbox = store.execute_read("SELECT event_id, state FROM outbox ORDER BY event_id")
    assert outbox == sorted([(opening.id, "pending"), (entry.id, "pending")])
    assert store.pending_count() == 2


def test_one_save_is_one_transaction(store: Store, police_desk: IncidentService) -> None:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        police_desk.open_incident(knife_incident())
    finally:
        store.conn.set_trace_callback(None)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    begins = [i for i, s in enumerate(statements) if s.startswith("BEGIN")]
    commits = [i for i, s in enumerate(statements) if s == "COMMIT"]
    assert len(begins) == 1
    assert len(commits) == 1
    assert statements[begins[0]] == "BEGIN IMMEDIATE"
    inside = statements[begins[0] + 1 : commits[0]]
    assert all(s in inside for s in writes)
    assert any("INTO events" in s for s in writes)
    assert any("INTO outbox" in s for s in writes)
    assert any("INTO incidents" in s for s in writes)


@pytest.mark.parametrize("table", ["outbox", "incidents", "assignments"])
def test_a_save_that_fails_part_way_leaves_nothing_behind(
    store: Store, police_desk: IncidentService, table: str
) -> None:
    ref = police_desk.open_incident(knife_incident()).incident.ref
    police_desk.add_log(ref, "First caller rang off")
    before = counts(store)
    chain_head = store.execute_read("SELECT max(device_seq) FROM events")[0][0]
    # The disk refuses the write of one table (a temporary trigger on this connection only).
    store.conn.execute(
        f"CREATE TEMP TRIGGER refuse_{table} BEFORE INSERT ON main.{table} "
        "BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
    )
    if table == "assignments":
        save = partial(police_desk.assign, ref, "POL-RESP-A")
    else:
        save = partial(police_desk.open_incident, knife_incident(summary="Second man, a bat"))
    with pytest.raises((StoreError, sqlite3.Error)):
        save()
    store.conn.execute(f"DROP TRIGGER temp.refuse_{table}")

    assert counts(store) == before
    assert queries.search(store.conn, "bat", Agency.POLICE) == []
    assert store.incident_by_ref(ref).status == "open"  # type: ignore[union-attr]
    # the next save carries on the chain without a hole, and the store checks clean
    again = police_desk.add_log(ref, "Second caller confirms the description")
    assert again.events[0].device_seq == chain_head + 1
    assert check_store(store).ok


def test_append_many_with_an_invalid_draft_in_the_middle_writes_nothing(
    store: Store, police_desk: IncidentService, police: Author
) -> None:
    incident = police_desk.open_incident(knife_incident()).incident
    before = counts(store)
    drafts = [
        log_draft(incident.id, "Officers on scene"),
        log_draft(incident.id, "   "),
        log_draft(incident.id, "Suspect detained"),
    ]
    with pytest.raises(ValidationError, match=r"^payload\.text: must not be empty$"):
        store.append_many(drafts, police)
    assert counts(store) == before
    assert store.incident(incident.id).log_count == 0  # type: ignore[union-attr]


def test_append_many_refused_by_the_rules_after_the_first_draft_writes_nothing(
    store: Store, police: Author
) -> None:
    """The second draft fails inside the transaction, after the first one was inserted."""
    first = opening_draft()
    missing = str(uuid7())
    drafts = [
        first,
        log_draft(first.incident_id, "Security guard holding the suspect"),  # type: ignore[arg-type]
        log_draft(missing, "An entry for an incident this store does not hold"),
    ]
    with pytest.raises(DomainError, match=f"^incident: no incident {missing} in this store$"):
        store.append_many(drafts, police)
    assert counts(store) == (0, 0, 0)
    assert store.incident(first.incident_id) is None
    assert queries.search(store.conn, "Shoplifter", Agency.POLICE) == []


def test_append_many_with_a_future_time_on_a_later_opening_writes_nothing(
    store: Store, police: Author
) -> None:
    future = to_iso(datetime.now(UTC) + timedelta(hours=2))
    drafts = [opening_draft(), replace(opening_draft("Bike stolen"), occurred_at=future)]
    with pytest.raises(ValidationError, match=r"^occurred_at: is in the future$"):
        store.append_many(drafts, police)
    assert counts(store) == (0, 0, 0)


# ---- the events table is append-only -------------------------------------------------------


def test_the_events_table_refuses_updates_and_deletes_from_any_program(
    store: Store, police_desk: IncidentService
) -> None:
    ref = police_desk.open_incident(knife_incident()).incident.ref
    police_desk.add_log(ref, "Suspect described as wearing a red jacket")
    store.checkpoint()
    before = store.execute_read("SELECT * FROM events ORDER BY rowid")

    with sqlite3.connect(store.path) as other:
        with pytest.raises(sqlite3.IntegrityError) as updating:
            other.execute("UPDATE events SET kind = 'x'")
        assert str(updating.value) == ("events are append-only: correct an entry with log.amended")
        with pytest.raises(sqlite3.IntegrityError) as deleting:
            other.execute("DELETE FROM events")
        assert str(deleting.value) == "events are append-only: nothing may be deleted"
    other.close()

    assert store.execute_read("SELECT * FROM events ORDER BY rowid") == before
    assert check_store(store).ok


# ---- chains ----------------------------------------------------------------------------------


def test_each_workstation_chains_its_own_events(
    store: Store, police_desk: IncidentService, council_desk: IncidentService
) -> None:
    ref = police_desk.open_incident(knife_incident()).incident.ref
    council_desk.add_log(ref, "CCTV operator has the man on camera ROS-LDH-001")
    police_desk.assign(ref, "POL-RESP-A")
    council_desk.add_log(ref, "Man has gone into Leadenhall Market")
    police_desk.add_log(ref, "Officers on scene")
    second = council_desk.open_incident(
        NewIncident(
            summary="Broken paving slab outside the market",
            category="CS-HWY-DEFECT",
            source="phone",
            location=Location("Leadenhall Street"),
            lead_agency=Agency.CORPORATION,
            council_priority="routine",
        )
    )
    assert second.incident.ref.endswith("-CC1-0001")

    events = list(store.iter_events())
    for code, expected in (("CR1", 3), ("CC1", 3)):
        chain = sorted((e for e in events if e.workstation == code), key=lambda e: e.device_seq)
        assert [e.device_seq for e in chain] == list(range(1, expected + 1))
        assert chain[0].prev_hash is None
        for earlier, later in itertools.pairwise(chain):
            assert later.prev_hash == earlier.content_hash
    for event in events:
        assert event.content_hash == event.computed_hash()


def test_the_chain_carries_on_after_the_console_is_restarted(
    tmp_path: Path, police: Author
) -> None:
    path = tmp_path / "live.db"
    with Store.open(path) as first:
        desk = IncidentService(first, police)
        ref = desk.open_incident(knife_incident()).incident.ref
        last = desk.add_log(ref, "Officers on scene").events[0]
    with Store.open(path) as again:
        nxt = IncidentService(again, police).add_log(ref, "Suspect detained").events[0]
    assert nxt.device_seq == last.device_seq + 1
    assert nxt.prev_hash == last.content_hash
    assert nxt.hlc > last.hlc


def test_an_update_refers_to_the_value_it_replaced(
    store: Store, police_desk: IncidentService
) -> None:
    opened = police_desk.open_incident(knife_incident())
    ref, opening = opened.incident.ref, opened.events[0]
    entry = police_desk.add_log(ref, "Suspect wearing a blue jacket").events[0]

    regraded = police_desk.change_grade(ref, "priority").events[0]
    assert dict(regraded.base) == {"grade": opening.id}
    assert opening.id in regraded.refs

    amended = police_desk.amend_log(ref, entry.id, "Suspect wearing a red jacket", "typo").events[0]
    assert entry.id in amended.refs

    closed = police_desk.close(ref, "CL-NOCRIME", "Area searched, no trace").events[0]
    assert dict(closed.base) == {"status": opening.id}
    assert opening.id in closed.refs
    assert all(e.content_hash == e.computed_hash() for e in store.iter_events())


# ---- applying what other workstations wrote ------------------------------------------------


def test_a_pulled_batch_is_stored_once_and_a_repeat_changes_nothing(
    store: Store, workstation: Desk
) -> None:
    remote, desk = workstation("CR2")
    ref = desk.open_incident(knife_incident()).incident.ref
    desk.assign(ref, "POL-RESP-B")
    desk.add_log(ref, "Officers searching Lime Street")
    batch = list(remote.iter_events())

    first = store.apply_remote(batch)
    assert first.stored == tuple(e.id for e in batch)
    assert first.duplicates == ()
    assert first.rejected == ()
    here = store.incident_by_ref(ref)
    assert here is not None
    assert here.to_dict() == remote.incident_by_ref(ref).to_dict()  # type: ignore[union-attr]
    assert store.pending_count() == 0  # what came from the server is not pushed back
    snapshot = store.execute_read("SELECT * FROM incidents")

    again = store.apply_remote(batch)
    assert again.stored == ()
    assert sorted(again.duplicates) == sorted(e.id for e in batch)
    assert again.rejected == ()
    assert store.event_count() == len(batch)
    assert store.execute_read("SELECT * FROM incidents") == snapshot
    assert check_store(store).ok


def test_a_batch_holding_the_same_events_twice_stores_each_once(
    store: Store, workstation: Desk
) -> None:
    remote, desk = workstation("CR2")
    ref = desk.open_incident(knife_incident()).incident.ref
    desk.add_log(ref, "Officers searching Lime Street")
    events = list(remote.iter_events())

    result = store.apply_remote(events + events[::-1])

    assert sorted(result.stored) == sorted(e.id for e in events)
    assert sorted(result.duplicates) == sorted(e.id for e in events)
    assert result.rejected == ()
    assert store.event_count() == 2
    assert [h.ref for h in queries.search(store.conn, "Lime", Agency.POLICE)] == [ref]
    assert check_store(store).ok


def test_the_same_id_with_different_content_is_rejected_as_a_collision(
    store: Store, workstation: Desk
) -> None:
    remote, desk = workstation("CR2")
    ref = desk.open_incident(knife_incident()).incident.ref
    entry = desk.add_log(ref, "Suspect detained").events[0]
    store.apply_remote(remote.iter_events())
    later = desk.add_log(ref, "Suspect taken to Bishopsgate police station").events[0]

    forged = resealed(entry, payload={"text": "Suspect released", "on_behalf_of": None})
    result = store.apply_remote([forged, later])

    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (entry.id, "id collision: same id, different content")
    ]
    assert result.stored == (later.id,)
    assert store.event(entry.id) == entry  # the first version stands


def test_an_event_whose_hash_does_not_match_is_rejected(store: Store, workstation: Desk) -> None:
    remote, desk = workstation("CR2")
    desk.open_incident(knife_incident())
    opening, *_ = list(remote.iter_events())
    tampered = replace(opening, payload={**opening.payload, "summary": "Nothing happened"})

    result = store.apply_remote([tampered])

    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (opening.id, "content hash does not match the event")
    ]
    assert result.stored == ()
    assert store.event_count() == 0


def test_an_event_of_another_realm_is_rejected(store: Store, workstation: Desk) -> None:
    remote, desk = workstation("CR2")
    desk.open_incident(knife_incident())
    (opening,) = list(remote.iter_events())
    from_exercise = resealed(opening, realm="exercise:drill")

    result = store.apply_remote([from_exercise])

    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (opening.id, "belongs to realm exercise:drill, not live")
    ]
    assert store.event_count() == 0
    assert store.incident(opening.incident_id) is None


def _next_event(last: Event, kind: str, schema: int, payload: dict) -> Event:  # type: ignore[type-arg]
    """An event of a kind or schema this program does not know, made (and signed) by a newer
    workstation."""
    author = Author(last.actor, Agency(last.agency), last.workstation)
    stamp = Stamp.parse(last.hlc)
    return sign(
        seal(
            EventDraft(kind, payload, incident_id=last.incident_id, schema=schema),
            author,
            event_id=uuid7(),
            hlc=str(Stamp(stamp.ms + 1000, 0)),
            recorded_at=to_iso(datetime.now(UTC)),
            device_seq=last.device_seq + 1,
            prev_hash=last.content_hash,
        )
    )


def test_unknown_kinds_and_newer_schemas_are_kept_and_the_incident_still_shows(
    store: Store, workstation: Desk
) -> None:
    remote, desk = workstation("CR2")
    opened = desk.open_incident(knife_incident())
    entry = desk.add_log(opened.incident.ref, "Officers on scene").events[0]
    flagged = _next_event(entry, "incident.flagged", 1, {"flag": "high-profile"})
    newer = _next_event(flagged, Kind.LOG_ADDED.value, 2, {"text": "Suspect calm", "mood": "calm"})
    batch = [*remote.iter_events(), flagged, newer]

    result = store.apply_remote(batch)

    assert result.rejected == ()
    assert result.stored == tuple(e.id for e in batch)
    assert store.event(flagged.id) == flagged
    assert store.event(newer.id) == newer
    state = store.incident(opened.incident.id)
    assert state is not None
    assert state.ref == opened.incident.ref
    assert state.value("summary") == "Man seen with a knife outside a bar"
    timeline = queries.timeline(store.conn, state.id, Agency.POLICE)
    assert [e.kind for e in timeline] == [
        "incident.opened",
        "log.added",
        "incident.flagged",
        "log.added",
    ]
    assert check_store(store).ok


def test_a_clone_reusing_a_chain_position_is_rejected_by_name(
    store: Store, workstation: Desk
) -> None:
    remote, desk = workstation("CR2")
    desk.open_incident(knife_incident())
    original = list(remote.iter_events())
    assert store.apply_remote(original).stored == (original[0].id,)
    # A second machine restored from the same image also calls itself CR2.
    clone, clone_desk = workstation("CR2", folder="clone", actor="PC Someone Else")
    clone_desk.open_incident(knife_incident(summary="Cyclist knocked off by a van"))
    (impostor,) = list(clone.iter_events())
    assert impostor.device_seq == 1

    result = store.apply_remote([impostor])

    assert [(r.event_id, r.reason) for r in result.rejected] == [
        (
            impostor.id,
            "chain position CR2#1 is already held by another event (a cloned workstation?)",
        )
    ]
    assert result.stored == ()
    assert store.event(impostor.id) is None
    assert store.event(original[0].id) == original[0]


def test_a_clone_reusing_an_incident_reference_is_kept_and_reported(
    store: Store, workstation: Desk
) -> None:
    """Two machines set up as CR2 both make 20260310-CR2-0001: neither incident is lost."""
    day_one = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    day_two = day_one + timedelta(days=1)
    remote, desk = workstation("CR2", wall=lambda: day_two)
    held = desk.open_incident(knife_incident()).incident.ref  # 20260310-CR2-0001, CR2#1
    store.apply_remote(remote.iter_events())
    # A second machine also set up as CR2: one call yesterday, then its first call today.
    clone_wall = Wall(day_one)
    clone, clone_desk = workstation("CR2", folder="clone", wall=clone_wall)
    clone_desk.open_incident(knife_incident(summary="Yesterday's call"))  # CR2#1
    clone_wall.now = day_two
    second = clone_desk.open_incident(knife_incident(summary="Cyclist knocked off"))  # CR2#2
    assert second.incident.ref == held

    result = store.apply_remote(clone.iter_events())

    # The clone's CR2#1 clashes with the chain position we hold and is refused by name; its
    # CR2#2 is a real incident and is kept, even though its reference is taken.
    assert second.events[0].id in result.stored
    assert store.incident(second.incident.id).value("summary") == "Cyclist knocked off"  # type: ignore[union-attr]
    with pytest.raises(DomainError) as refused:
        store.incident_by_ref(held)
    assert str(refused.value) == (
        f"reference {held} names 2 incidents (two workstations share a code?); use the incident id"
    )
    report = check_store(store)
    assert f"projection: reference {held}: used by 2 incidents: two workstations share a code" in [
        str(w) for w in report.warnings
    ]


def test_a_workstation_with_a_fast_clock_does_not_drag_ours_forward(
    tmp_path: Path, workstation: Desk
) -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    remote, desk = workstation("CR2", wall=lambda: now + timedelta(hours=1))
    ref = desk.open_incident(knife_incident()).incident.ref
    (fast,) = list(remote.iter_events())
    with Store.open(tmp_path / "here.db", wall=lambda: now) as here:
        register(here, desk.author)
        result = here.apply_remote([fast])
        assert result.stored == (fast.id,)
        assert result.clock_capped == (fast.id,)
        ours = IncidentService(here, signed(here, Author("PC Jane Smith", Agency.POLICE, "CR1")))
        entry = ours.add_log(ref, "Officers on scene").events[0]
    assert Stamp.parse(entry.hlc).ms <= int((now + timedelta(minutes=5)).timestamp() * 1000)


def _concurrent_history(workstation: Desk) -> tuple[str, list[Event], list[Author]]:
    """Two desks work one incident while cut off from each other; returns every event and
    the two authors."""
    wall_a = Wall(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    wall_b = Wall(datetime(2026, 3, 10, 9, 0, 30, tzinfo=UTC))
    a_store, a = workstation("CR1", wall=wall_a)
    b_store, b = workstation("CC1", Agency.CORPORATION, "Sam Okafor", wall=wall_b)
    opened = a.open_incident(knife_incident())
    ref = opened.incident.ref
    wall_a.advance(seconds=20)
    a.assign(ref, "POL-RESP-A")
    register(b_store, a.author)
    b_store.apply_remote(a_store.iter_events())
    # cut off: both change the grade and write logs
    wall_a.advance(seconds=30)
    a.change_grade(ref, "priority")
    wall_b.advance(seconds=40)
    b.change_grade(ref, "scheduled")
    wall_b.advance(seconds=5)
    b.add_log(ref, "CCTV lost sight of him at Lime Street")
    wall_a.advance(seconds=50)
    a.add_log(ref, "Officers on scene, no trace")
    wall_b.advance(seconds=60)
    b.record_decision(ref, "Keep the camera on Lime Street", "Last seen there")
    wall_a.advance(seconds=70)
    assignment = next(iter(a.find(ref).assignments))
    a.update_assignment(ref, assignment, "on_scene")
    events = {e.id: e for e in [*a_store.iter_events(), *b_store.iter_events()]}
    return opened.incident.id, list(events.values()), [a.author, b.author]


def test_events_arriving_out_of_clock_order_give_the_same_incident(
    tmp_path: Path, workstation: Desk
) -> None:
    incident_id, events, authors = _concurrent_history(workstation)
    expected = fold(events, reference_data())
    assert expected is not None
    assert expected.conflicts  # the two grades were set without seeing each other

    in_clock_order = sorted(events, key=lambda e: e.order_key)
    orders = {
        "clock order": in_clock_order,
        "reversed": in_clock_order[::-1],
        **{
            f"shuffled {seed}": random.Random(seed).sample(in_clock_order, len(events))
            for seed in range(4)
        },
    }
    projections = {}
    for name, order in orders.items():
        one_by_one = name.replace(" ", "-")
        with Store.open(tmp_path / f"{one_by_one}.db") as replica:
            register(replica, *authors)
            for event in order:  # each its own pull, so every projection path is taken
                replica.apply_remote([event])
            state = replica.incident(incident_id)
            assert state is not None, name
            assert state.to_dict() == expected.to_dict(), name
            assert check_store(replica).ok, name
            projections[name] = replica.execute_read("SELECT * FROM incidents")
        with Store.open(tmp_path / f"{one_by_one}-batch.db") as replica:
            register(replica, *authors)
            replica.apply_remote(order)  # all at once, in that order
            assert replica.incident(incident_id).to_dict() == expected.to_dict(), name  # type: ignore[union-attr]
    rows = list(projections.values())
    assert all(r == rows[0] for r in rows)


# ---- incident references -------------------------------------------------------------------


def test_references_count_up_per_london_day_and_workstation(
    tmp_path: Path, police: Author, corporation: Author
) -> None:
    wall = Wall(datetime(2026, 1, 14, 9, 0, tzinfo=UTC))
    with Store.open(tmp_path / "live.db", wall=wall) as store:
        police_desk = IncidentService(store, police)
        council_desk = IncidentService(store, corporation)
        council = knife_incident(lead_agency=Agency.CORPORATION)

        refs = [police_desk.open_incident(knife_incident()).incident.ref]
        wall.advance(minutes=5)
        refs.append(police_desk.open_incident(knife_incident()).incident.ref)
        refs.append(council_desk.open_incident(council).incident.ref)
        wall.advance(hours=15)  # 00:05 on the 15th, GMT
        refs.append(police_desk.open_incident(knife_incident()).incident.ref)
        refs.append(council_desk.open_incident(council).incident.ref)

    assert refs == [
        "20260114-CR1-0001",
        "20260114-CR1-0002",
        "20260114-CC1-0001",
        "20260115-CR1-0001",
        "20260115-CC1-0001",
    ]
    with Store.open(tmp_path / "live.db", wall=wall) as reopened:
        again = IncidentService(reopened, police).open_incident(knife_incident())
    assert again.incident.ref == "20260115-CR1-0002"


@pytest.mark.parametrize(
    ("utc", "ref"),
    [
        (datetime(2026, 7, 14, 23, 30, tzinfo=UTC), "20260715-CR1-0001"),  # 00:30 BST
        (datetime(2026, 1, 14, 23, 30, tzinfo=UTC), "20260114-CR1-0001"),  # 23:30 GMT
        (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), "20260328-CR1-0001"),  # before BST starts
        (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), "20261025-CR1-0001"),  # 00:00 BST, last day
    ],
)
def test_the_reference_carries_the_london_date(
    tmp_path: Path, police: Author, utc: datetime, ref: str
) -> None:
    with Store.open(tmp_path / "live.db", wall=lambda: utc) as store:
        opened = IncidentService(store, police).open_incident(knife_incident())
    assert opened.incident.ref == ref
    assert opened.events[0].recorded_at == to_iso(utc)


def test_a_remote_workstation_does_not_take_our_numbers(store: Store, workstation: Desk) -> None:
    remote, desk = workstation("CR2")
    desk.open_incident(knife_incident())
    desk.open_incident(knife_incident())
    store.apply_remote(remote.iter_events())
    ours = IncidentService(store, signed(store, Author("PC Jane Smith", Agency.POLICE, "CR1")))
    assert ours.open_incident(knife_incident()).incident.ref.endswith("-CR1-0001")


# ---- when it happened ----------------------------------------------------------------------


NOON_BST = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def summer_desk(tmp_path: Path, police: Author) -> Iterator[IncidentService]:
    with Store.open(tmp_path / "summer.db", wall=lambda: NOON_BST) as store:
        register(store, police)
        yield IncidentService(store, police)


@pytest.mark.parametrize("occurred", ["2026-07-14T12:06:00Z", "2026-07-14T14:00", "2027-01-01"])
def test_a_time_in_the_future_is_refused(summer_desk: IncidentService, occurred: str) -> None:
    with pytest.raises(ValidationError) as refused:
        summer_desk.open_incident(knife_incident(occurred_at=occurred))
    assert str(refused.value) == "occurred_at: is in the future"
    assert summer_desk.store.event_count() == 0


def test_a_log_entry_in_the_future_is_refused(summer_desk: IncidentService) -> None:
    ref = summer_desk.open_incident(knife_incident()).incident.ref
    with pytest.raises(ValidationError, match=r"^occurred_at: is in the future$"):
        summer_desk.add_log(ref, "Will be on scene", occurred_at="2026-07-14T13:00:00Z")
    assert summer_desk.store.event_count() == 1


def test_a_few_minutes_ahead_is_allowed_for_clock_differences(
    summer_desk: IncidentService,
) -> None:
    opened = summer_desk.open_incident(knife_incident(occurred_at="2026-07-14T12:04:00Z"))
    assert opened.incident.opened_at == "2026-07-14T12:04:00.000Z"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2026-07-14T09:15", "2026-07-14T08:15:00.000Z"),  # BST: London is UTC+1
        ("2026-07-14 09:15:30", "2026-07-14T08:15:30.000Z"),
        ("2026-01-14T09:15", "2026-01-14T09:15:00.000Z"),  # GMT
        ("2026-07-14T09:15:00+02:00", "2026-07-14T07:15:00.000Z"),  # a zone given is kept
    ],
)
def test_a_time_typed_without_a_zone_is_london_time(
    summer_desk: IncidentService, typed: str, stored: str
) -> None:
    opened = summer_desk.open_incident(knife_incident(occurred_at=typed))
    assert opened.events[0].occurred_at == stored
    assert opened.incident.opened_at == stored
    assert opened.events[0].recorded_at == "2026-07-14T12:00:00.000Z"


def test_a_time_that_is_not_a_time_is_refused(summer_desk: IncidentService) -> None:
    with pytest.raises(ValidationError, match=r"^occurred_at: is not a date and time$"):
        summer_desk.open_incident(knife_incident(occurred_at="yesterday teatime"))


def test_a_newer_schema_of_a_known_kind_is_kept_and_does_not_block_the_page(
    store: Store, police_desk: IncidentService
) -> None:
    """A newer program's incident.updated v2 rides in the same page as an ordinary entry."""
    from osc_console.models.agencies import Agency
    from osc_console.models.events import Author, EventDraft, seal
    from osc_console.models.ids import uuid7

    opened = police_desk.open_incident(knife_incident()).incident
    author = Author("PC Remote", Agency.POLICE, "CR9")
    register(store, author)
    stamp = str(store.clock.now())
    newer = seal(
        EventDraft(
            "incident.updated", {"set": {"grade": "priority"}}, incident_id=opened.id, schema=2
        ),
        author,
        event_id=uuid7(),
        hlc=stamp,
        recorded_at="2026-11-24T12:00:00.000Z",
        device_seq=1,
        prev_hash=None,
    )
    entry = seal(
        EventDraft("log.added", {"text": "Units searching the area"}, incident_id=opened.id),
        author,
        event_id=uuid7(),
        hlc=str(store.clock.now()),
        recorded_at="2026-11-24T12:00:01.000Z",
        device_seq=2,
        prev_hash=newer.content_hash,
    )

    result = store.apply_remote([sign(newer), sign(entry)])

    assert result.stored == (newer.id, entry.id)
    state = store.incident(opened.id)
    assert state is not None
    assert state.value("grade") == "immediate"  # the v2 change is shown, not applied
    assert state.log_count == 1
    assert check_store(store).ok


def test_a_police_only_line_on_a_joint_incident_changes_nothing_the_council_sees(
    store: Store, council_desk: IncidentService, police_desk: IncidentService
) -> None:
    from osc_console.models.agencies import Agency, Classification, Visibility
    from osc_console.store import queries

    opened = council_desk.open_incident(
        knife_incident(lead_agency=Agency.CORPORATION, grade=None, council_priority="high")
    ).incident
    police_desk.add_log(
        opened.ref,
        "Intelligence: the named person is known to carry a blade",
        visibility=Visibility.POLICE,
        classification=Classification.OFFICIAL_SENSITIVE,
    )

    council_view = queries.queue(store.conn, queries.QueueFilter(viewer=Agency.CORPORATION))
    (row,) = council_view
    assert row.classification == "OFFICIAL"
    assert row.log_count == 0
    council_timeline = queries.timeline(store.conn, opened.id, Agency.CORPORATION)
    assert [e.kind for e in council_timeline] == ["incident.opened"]
    police_timeline = queries.timeline(store.conn, opened.id, Agency.POLICE)
    assert [e.kind for e in police_timeline] == ["incident.opened", "log.added"]
