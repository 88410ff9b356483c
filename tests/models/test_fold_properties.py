"""Property tests of the fold: any arrival order gives the same incident, and nothing is lost.

A small control room is simulated in memory: two to four workstations (police and
Corporation desks), each with its own hybrid clock on a wall clock that may be wrong by an
hour, each writing events the way the console does (a draft checked by ``check_draft`` against
what that desk currently sees, then sealed) and now and then receiving part or all of another
desk's log, as a sync would deliver it. Every event remembers what its desk had seen when it
was written, so the tests know which edits were made without seeing each other.

The same histories are then fed to real stores in different orders and batch splits, to show
that the live projection the store keeps equals the one rebuilt from its log.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from osc_console.models.agencies import Agency, Classification, Visibility, can_see
from osc_console.models.clock import HybridClock, Stamp, ms_to_iso
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.incident import STATUS_TRANSITIONS, Status
from osc_console.models.payloads import Kind, validate_payload
from osc_console.models.projection import IncidentState, fold, fold_key
from osc_console.models.reference import reference_data
from osc_console.models.rules import check_draft
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.signing import register, sign

REF = reference_data()

# The night the clocks go forward: histories run across 01:00 UTC, when GMT becomes BST.
START_MS = int(datetime(2026, 3, 29, 0, 30, tzinfo=UTC).timestamp() * 1000)
HOUR_MS = 3_600_000

DESKS = (
    ("CR1", Agency.POLICE, "PC Jane Smith"),
    ("CC1", Agency.CORPORATION, "Sam Okafor"),
    ("CR2", Agency.POLICE, "PS Ravi Patel"),
    ("CC2", Agency.CORPORATION, "Ana Costa"),
)

SUMMARIES = (
    "Man seen with a knife outside a bar",
    "Group fighting outside a bar, one injured",
    "Injured man on the pavement, crowd gathering",
)
OPENING_CATEGORIES = ("VAP-WEAPON", "VAP-ASSAULT", "ASB-NTE", "ADM-INFO")
CLOSING_CATEGORIES = ("CL-NOCRIME", "CL-ARREST", "CL-ADVICE", "ADM-INFO")
GRADES = ("immediate", "priority", "scheduled", "rwd")
PRIORITIES = ("urgent", "high", "routine", "low")
SOURCES = ("999", "101", "cctv", "radio")
LOCATIONS = (
    {"text": "Leadenhall Street"},
    {"text": "Bank junction", "lat": 51.5133, "lon": -0.0889},
    {"text": "Liverpool Street station", "camera_id": "CAM-LST-04"},
)
TEAMS = ("POL-RESP-A", "POL-RESP-B", "COL-CLEANSE", "COL-HWY", "LAS-CITY")
FIELD_VALUES: dict[str, tuple[Any, ...]] = {
    "summary": SUMMARIES,
    "grade": GRADES,
    "council_priority": PRIORITIES,
    "category": OPENING_CATEGORIES,
    "location": LOCATIONS,
}
ENTRY_KINDS = (Kind.LOG_ADDED, Kind.DECISION_RECORDED)


# ---- the simulated room ------------------------------------------------------------------------


def sim_uuid7(ms: int, rng: random.Random) -> str:
    """A UUIDv7 from the simulation's clock and random source, so a history replays exactly."""
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


class Desk:
    """One workstation: its own log (in the order it learnt of events), clock and chain."""

    def __init__(self, room: Room, code: str, agency: Agency, actor: str, skew_ms: int) -> None:
        self.room = room
        self.author = Author(actor, agency, code)
        self.skew_ms = skew_ms
        self.clock = HybridClock(wall=self.wall_ms)
        self.log: list[Event] = []
        self.held: set[str] = set()
        self.device_seq = 0
        self.prev_hash: str | None = None
        self.incident_counter = 0

    @property
    def code(self) -> str:
        return self.author.workstation

    @property
    def agency(self) -> Agency:
        return self.author.agency

    def wall_ms(self) -> int:
        return self.room.now_ms + self.skew_ms

    def may_hold(self, event: Event) -> bool:
        return can_see(self.agency, Visibility(event.visibility))

    def receive(self, events: Iterable[Event]) -> None:
        """What a sync delivers: events not yet held, each advancing the clock (capped)."""
        for incoming in events:
            if incoming.id in self.held or not self.may_hold(incoming):
                continue
            self.log.append(incoming)
            self.held.add(incoming.id)
            if not self.clock.observe(Stamp.parse(incoming.hlc)):
                self.room.capped = True

    def events_of(self, incident_id: str) -> list[Event]:
        return [e for e in self.log if e.incident_id == incident_id]

    def view(self, incident_id: str | None) -> IncidentState | None:
        if incident_id is None:
            return None
        state = fold(self.events_of(incident_id), REF)
        return state if state is not None and state.opened else None

    def incident_ids(self) -> list[str]:
        return [e.incident_id for e in self.log if e.kind == Kind.INCIDENT_OPENED if e.incident_id]

    def entry_incident(self, entry_id: str) -> str | None:
        for held in self.log:
            if held.id == entry_id and held.kind in ENTRY_KINDS:
                return held.incident_id
        return None

    def write(self, draft: EventDraft) -> Event | None:
        """Record a draft the way the store does; None when the rules refuse it."""
        state = self.view(draft.incident_id)
        try:
            check_draft(draft, self.author, state, self.entry_incident)
        except ValidationError:
            raise  # the simulation only writes well-formed drafts: this is a test bug
        except DomainError:
            return None  # a refused transition: the desk simply could not do that now
        validate_payload(draft.kind, draft.schema, draft.payload, REF)
        ms = self.wall_ms()
        self.device_seq += 1
        written = sign(
            seal(
                draft,
                self.author,
                event_id=sim_uuid7(ms, self.room.rng),
                hlc=str(self.clock.now()),
                recorded_at=ms_to_iso(ms),
                device_seq=self.device_seq,
                prev_hash=self.prev_hash,
            )
        )
        self.prev_hash = written.content_hash
        self.room.seen[written.id] = frozenset(self.held)
        self.log.append(written)
        self.held.add(written.id)
        return written


class Room:
    def __init__(self, seed: int, skews: list[int]) -> None:
        self.rng = random.Random(seed)
        self.now_ms = START_MS
        self.capped = False
        self.seen: dict[str, frozenset[str]] = {}
        self.desks = [Desk(self, *DESKS[i], skew) for i, skew in enumerate(skews)]

    def all_events(self) -> list[Event]:
        unique: dict[str, Event] = {}
        for desk in self.desks:
            for held in desk.log:
                unique.setdefault(held.id, held)
        return list(unique.values())

    def heal(self) -> None:
        """The network comes back: every desk receives everything it may see."""
        for _ in range(2):
            for receiver in self.desks:
                for sender in self.desks:
                    if receiver is not sender:
                        receiver.receive(sender.log)

    def saw(self, later: Event, earlier: Event) -> bool:
        return earlier.id in self.seen[later.id]

    def concurrent(self, a: Event, b: Event) -> bool:
        return not self.saw(a, b) and not self.saw(b, a)


# ---- what a desk does ----------------------------------------------------------------------


def _pick_incident(desk: Desk, rng: random.Random) -> IncidentState | None:
    ids = desk.incident_ids()
    return desk.view(rng.choice(ids)) if ids else None


def _entry_visibility(desk: Desk, state: IncidentState, rng: random.Random) -> Visibility:
    """Joint incidents may carry entries restricted to the writer's own organisation."""
    if state.visibility != Visibility.JOINT.value:
        return Visibility(state.visibility)
    if rng.random() < 0.25:
        return Visibility(desk.agency.value)
    return Visibility.JOINT


def do_open(desk: Desk, rng: random.Random) -> None:
    desk.incident_counter += 1
    police_only = desk.agency is Agency.POLICE and rng.random() < 0.2
    payload: dict[str, Any] = {
        "ref": f"20260329-{desk.code}-{desk.incident_counter:04d}",
        "summary": rng.choice(SUMMARIES),
        "category": rng.choice(OPENING_CATEGORIES),
        "source": rng.choice(SOURCES),
        "location": rng.choice(LOCATIONS),
        "lead_agency": desk.agency.value,
    }
    if desk.agency is Agency.POLICE:
        payload["grade"] = rng.choice(GRADES)
    else:
        payload["council_priority"] = rng.choice(PRIORITIES)
    desk.write(
        EventDraft(
            Kind.INCIDENT_OPENED,
            payload,
            incident_id=sim_uuid7(desk.wall_ms(), desk.room.rng),
            visibility=Visibility.POLICE if police_only else Visibility.JOINT,
        )
    )


def do_log(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    sensitive = rng.random() < 0.1
    if rng.random() < 0.8:
        draft = EventDraft(
            Kind.LOG_ADDED,
            {"text": f"Update from {desk.code}: caller rang back", "on_behalf_of": None},
            incident_id=state.id,
            visibility=_entry_visibility(desk, state, rng),
            classification=(
                Classification.OFFICIAL_SENSITIVE if sensitive else Classification.OFFICIAL
            ),
        )
    else:
        draft = EventDraft(
            Kind.DECISION_RECORDED,
            {"decision": "Keep the cordon", "rationale": "Crowd still present"},
            incident_id=state.id,
            visibility=_entry_visibility(desk, state, rng),
        )
    desk.write(draft)


def do_amend(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    entries = [e for e in desk.events_of(state.id) if e.kind in ENTRY_KINDS]
    if not entries:
        return
    original = rng.choice(entries)
    desk.write(
        EventDraft(
            Kind.LOG_AMENDED,
            {"amends": original.id, "text": "Corrected: caller rang back twice", "reason": "typo"},
            incident_id=state.id,
            visibility=Visibility(original.visibility),
            classification=Classification(original.classification),
            refs=(original.id,),
        )
    )


def do_update(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    names = rng.sample(sorted(FIELD_VALUES), rng.choice((1, 1, 1, 2)))
    changes = {}
    for name in names:
        choices = [v for v in FIELD_VALUES[name] if v != state.value(name)]
        changes[name] = rng.choice(choices)
    base = {name: stamp for name in changes if (stamp := state.stamp_of(name)) is not None}
    desk.write(
        EventDraft(
            Kind.INCIDENT_UPDATED,
            {"changes": changes},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
    )


def do_status(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    allowed = sorted(STATUS_TRANSITIONS[Status(state.status)])
    # Mostly a permitted change; sometimes one the rules refuse (then nothing is written).
    targets = allowed if allowed and rng.random() < 0.85 else [s for s in Status if s != "closed"]
    desk.write(
        EventDraft(
            Kind.INCIDENT_STATUS,
            {"status": rng.choice(targets).value, "reason": None},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base={"status": state.status_event},
        )
    )


def do_assign(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    desk.write(
        EventDraft(
            Kind.ASSIGNMENT_MADE,
            {
                "assignment_id": sim_uuid7(desk.wall_ms(), desk.room.rng),
                "team": rng.choice(TEAMS),
                "note": None,
            },
            incident_id=state.id,
            visibility=Visibility(state.visibility),
        )
    )


def do_move_assignment(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None or not state.assignments:
        return
    assignment = state.assignments[rng.choice(sorted(state.assignments))]
    base = {"assignment": assignment.status_event}
    if rng.random() < 0.25:
        draft = EventDraft(
            Kind.ASSIGNMENT_WITHDRAWN,
            {"assignment_id": assignment.id, "reason": "Needed elsewhere"},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
    else:
        status = rng.choice(("acknowledged", "en_route", "on_scene", "completed", "declined"))
        draft = EventDraft(
            Kind.ASSIGNMENT_STATUS,
            {"assignment_id": assignment.id, "status": status, "note": None},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
    desk.write(draft)


def do_close_or_reopen(desk: Desk, rng: random.Random) -> None:
    state = _pick_incident(desk, rng)
    if state is None:
        return
    base = {"status": state.status_event}
    if state.is_closed:
        draft = EventDraft(
            Kind.INCIDENT_REOPENED,
            {"reason": "Second caller reports the same man"},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
    else:
        draft = EventDraft(
            Kind.INCIDENT_CLOSED,
            {"closing_category": rng.choice(CLOSING_CATEGORIES), "resolution": "Area searched"},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
    desk.write(draft)


def do_resolve(desk: Desk, rng: random.Random) -> None:
    """A supervisor picks one of the conflicting values, citing every value they saw."""
    candidates = [s for i in desk.incident_ids() if (s := desk.view(i)) and s.conflicts]
    if not candidates:
        return
    state = rng.choice(candidates)
    name = rng.choice(sorted(state.conflicts))
    chosen = rng.choice(state.conflicts[name])
    desk.write(
        EventDraft(
            Kind.CONFLICT_RESOLVED,
            {"field": name, "value": chosen.value, "reason": "Checked with the caller"},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            refs=tuple(c.event_id for c in state.conflicts[name]),
        )
    )


def do_sync(desk: Desk, rng: random.Random) -> None:
    """Receive the start (or all) of another desk's log, in the order that desk holds it."""
    others = [d for d in desk.room.desks if d is not desk]
    sender = rng.choice(others)
    upto = len(sender.log) if rng.random() < 0.5 else rng.randint(0, len(sender.log))
    desk.receive(sender.log[:upto])


OPERATIONS: dict[str, Callable[[Desk, random.Random], None]] = {
    "open": do_open,
    "log": do_log,
    "amend": do_amend,
    "update": do_update,
    "status": do_status,
    "assign": do_assign,
    "assignment": do_move_assignment,
    "close/reopen": do_close_or_reopen,
    "resolve": do_resolve,
    "sync": do_sync,
}
# Updates and syncs come often: they are what makes concurrent edits (and their conflicts).
WEIGHTED = (
    ["update"] * 6
    + ["sync"] * 5
    + ["log"] * 3
    + ["open"]
    + ["amend"]
    + ["status"] * 2
    + ["assign"] * 2
    + ["assignment"] * 2
    + ["close/reopen"]
    + ["resolve"] * 2
)
TIME_STEPS_MS = (0, 0, 1, 900, 20_000, 90_000, 600_000)


@dataclass(frozen=True)
class Script:
    """A readable recipe for one history: how wrong each desk's clock is, and who did what."""

    seed: int
    skews_ms: tuple[int, ...]
    steps: tuple[tuple[int, str, int], ...] = field(default=())

    def play(self) -> Room:
        room = Room(self.seed, list(self.skews_ms))
        do_open(room.desks[0], random.Random(self.seed))
        for desk in room.desks[1:]:  # the start of the shift: everyone has the first call
            desk.receive(room.desks[0].log)
        for desk_index, operation, step_seed in self.steps:
            rng = random.Random(step_seed)
            room.now_ms += rng.choice(TIME_STEPS_MS)
            OPERATIONS[operation](room.desks[desk_index % len(room.desks)], rng)
        return room


def scripts(max_steps: int) -> st.SearchStrategy[Script]:
    skew = st.sampled_from((0, 0, 0, 1_500, -45_000, HOUR_MS, -HOUR_MS))
    step = st.tuples(st.integers(0, 3), st.sampled_from(WEIGHTED), st.integers(0, 2**32 - 1))
    return st.builds(
        Script,
        seed=st.integers(0, 2**32 - 1),
        skews_ms=st.lists(skew, min_size=2, max_size=4).map(tuple),
        steps=st.lists(step, min_size=max_steps // 3, max_size=max_steps).map(tuple),
    )


# ---- reading a history -------------------------------------------------------------------------


def by_incident(events: Iterable[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = {}
    for item in events:
        if item.incident_id is not None:
            grouped.setdefault(item.incident_id, []).append(item)
    return grouped


def writes_of(events: Iterable[Event], name: str) -> list[Event]:
    """Every event that sets a field after the opening: updates naming it, resolutions of it."""
    return [
        e
        for e in events
        if (e.kind == Kind.INCIDENT_UPDATED and name in e.payload["changes"])
        or (e.kind == Kind.CONFLICT_RESOLVED and e.payload["field"] == name)
    ]


def value_written(written: Event, name: str) -> Any:
    if written.kind == Kind.INCIDENT_UPDATED:
        return written.payload["changes"][name]
    if written.kind == Kind.CONFLICT_RESOLVED:
        return written.payload["value"]
    return written.payload.get(name)


def opening_of(events: Iterable[Event]) -> Event:
    (opening,) = [e for e in events if e.kind == Kind.INCIDENT_OPENED]
    return opening


def folded(events: Iterable[Event]) -> dict[str, Any]:
    state = fold(events, REF)
    assert state is not None
    return state.to_dict()


FOLD_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---- the fold on its own -----------------------------------------------------------------------


@FOLD_SETTINGS
@given(script=scripts(max_steps=70), data=st.data())
def test_any_arrival_order_folds_to_the_same_incident(script: Script, data: st.DataObject) -> None:
    room = script.play()
    incidents = by_incident(room.all_events())
    shuffler = random.Random(script.seed)
    for events in incidents.values():
        expected = folded(events)
        for _ in range(3):
            shuffled = list(events)
            shuffler.shuffle(shuffled)
            assert folded(shuffled) == expected
        assert folded(reversed(events)) == expected
    busiest = max(incidents.values(), key=len)
    assert folded(data.draw(st.permutations(busiest), label="arrival order")) == folded(busiest)


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_every_desk_converges_once_the_network_heals(script: Script) -> None:
    room = script.play()
    room.heal()
    everything = by_incident(room.all_events())
    views: dict[tuple[Agency, str], dict[str, Any]] = {}
    for desk in room.desks:
        for incident_id in desk.incident_ids():
            mine = folded(desk.events_of(incident_id))
            allowed = [e for e in everything[incident_id] if desk.may_hold(e)]
            # Nothing lost: the desk holds every event of the incident it may see.
            assert {e.id for e in desk.events_of(incident_id)} == {e.id for e in allowed}
            assert mine == folded(allowed)
            # Desks of the same organisation see exactly the same incident.
            assert views.setdefault((desk.agency, incident_id), mine) == mine
    for desk in room.desks:
        # Need-to-know: no desk holds an event its organisation may not see.
        assert all(desk.may_hold(e) for e in desk.log)


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_log_entries_decisions_and_amendments_are_never_lost(script: Script) -> None:
    room = script.play()
    for events in by_incident(room.all_events()).values():
        state = fold(events, REF)
        assert state is not None
        # Every entry stays in the log; the incident's own counts hold the entries everyone
        # who sees the incident may see (restricted lines on a joint incident are not folded).
        shared = [e for e in events if e.visibility == state.visibility]
        kinds = [e.kind for e in shared]
        assert state.log_count == kinds.count(Kind.LOG_ADDED)
        assert state.decision_count == kinds.count(Kind.DECISION_RECORDED)
        assert state.amendment_count == kinds.count(Kind.LOG_AMENDED)
        assert state.event_count == len(shared)
        made = {e.payload["assignment_id"] for e in events if e.kind == Kind.ASSIGNMENT_MADE}
        assert set(state.assignments) == made


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_each_field_shows_the_write_with_the_greatest_clock_workstation_and_id(
    script: Script,
) -> None:
    room = script.play()
    for events in by_incident(room.all_events()).values():
        state = fold(events, REF)
        assert state is not None
        for name in FIELD_VALUES:
            writes = writes_of(events, name)
            winner = max(writes, key=lambda e: e.order_key) if writes else opening_of(events)
            assert state.fields[name].event_id == winner.id, name
            assert state.value(name) == value_written(winner, name), name


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_edits_made_without_seeing_each_other_are_flagged_and_both_kept(script: Script) -> None:
    room = script.play()
    for events in by_incident(room.all_events()).values():
        state = fold(events, REF)
        assert state is not None
        opening = opening_of(events)
        for name in FIELD_VALUES:
            writes = [opening, *writes_of(events, name)]
            resolutions = [w for w in writes if w.kind == Kind.CONFLICT_RESOLVED]
            pairs = [
                (a, b)
                for i, a in enumerate(writes)
                for b in writes[i + 1 :]
                if room.concurrent(a, b)
            ]
            if pairs:
                event("concurrent edit")
            if any(a in resolutions or b in resolutions for a, b in pairs):
                event("resolution concurrent with an edit")
            if pairs and not resolutions:
                assert name in state.conflicts, name
            # Every value nobody has yet seen and replaced (a "head") stays retrievable:
            # either it is the value shown, or it is one of the values to choose from.
            heads = [w for w in writes if not any(room.saw(other, w) for other in writes)]
            if len(heads) > 1:
                event("several heads")
                kept = {c.event_id: c.value for c in state.conflicts.get(name, [])}
                kept[state.fields[name].event_id] = state.value(name)
                for head in heads:
                    assert head.id in kept, (name, head.id)
                    assert kept[head.id] == value_written(head, name)
            if not room.capped and not pairs:
                # Clocks within the cap keep causal order, so a plain sequence of edits,
                # each made after seeing the last, is never mistaken for a conflict.
                assert name not in state.conflicts, name


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_clocks_within_the_cap_order_every_event_after_what_its_author_had_seen(
    script: Script,
) -> None:
    room = script.play()
    if room.capped:
        event("a clock was capped")
        return
    by_id = {e.id: e for e in room.all_events()}
    for written in by_id.values():
        for seen_id in room.seen[written.id]:
            assert by_id[seen_id].order_key < written.order_key


@FOLD_SETTINGS
@given(script=scripts(max_steps=70), data=st.data())
def test_a_projection_saved_and_carried_forward_equals_one_rebuilt_from_the_log(
    script: Script, data: st.DataObject
) -> None:
    """The store keeps the state as JSON and folds newer events onto it: the same result."""
    room = script.play()
    for events in by_incident(room.all_events()).values():
        ordered = sorted(events, key=fold_key)
        split = data.draw(st.integers(1, len(ordered)), label="events already projected")
        live = fold(ordered[:split], REF)
        assert live is not None
        live = IncidentState.from_dict(live.to_dict())
        for later in ordered[split:]:
            live.apply(later, REF)
        assert live.to_dict() == folded(events)


@FOLD_SETTINGS
@given(script=scripts(max_steps=70))
def test_the_lifecycle_stays_consistent_whatever_the_interleaving(script: Script) -> None:
    room = script.play()
    for events in by_incident(room.all_events()).values():
        state = fold(events, REF)
        assert state is not None
        assert Status(state.status)
        assert state.is_closed == (state.closing_category is not None)
        assert state.is_closed == (state.closed_at is not None)
        reopens = sum(e.kind == Kind.INCIDENT_REOPENED for e in events)
        assert state.reopen_count <= reopens


# ---- worked examples of the conflict rules -----------------------------------------------------


def open_joint(desk: Desk, grade: str = "immediate") -> str:
    """A joint incident opened by a desk, with a known starting grade."""
    desk.incident_counter += 1
    opening = desk.write(
        EventDraft(
            Kind.INCIDENT_OPENED,
            {
                "ref": f"20260329-{desk.code}-{desk.incident_counter:04d}",
                "summary": "Man seen with a knife outside a bar",
                "category": "VAP-WEAPON",
                "source": "999",
                "location": {"text": "Leadenhall Street"},
                "lead_agency": "police",
                "grade": grade,
            },
            incident_id=sim_uuid7(desk.wall_ms(), desk.room.rng),
        )
    )
    assert opening is not None
    assert opening.incident_id is not None
    return opening.incident_id


def _two_desks() -> tuple[Room, Desk, Desk, str]:
    room = Room(seed=7, skews=[0, 0])
    police, council = room.desks
    incident_id = open_joint(police)
    council.receive(police.log)
    return room, police, council, incident_id


def _update(desk: Desk, incident_id: str, **changes: Any) -> Event:
    """An operator's edit, citing the values their desk showed (as the service does)."""
    state = desk.view(incident_id)
    assert state is not None
    written = desk.write(
        EventDraft(
            Kind.INCIDENT_UPDATED,
            {"changes": changes},
            incident_id=incident_id,
            base={name: stamp for name in changes if (stamp := state.stamp_of(name))},
        )
    )
    assert written is not None
    return written


def _resolve(desk: Desk, incident_id: str, name: str, value: Any) -> Event:
    state = desk.view(incident_id)
    assert state is not None
    written = desk.write(
        EventDraft(
            Kind.CONFLICT_RESOLVED,
            {"field": name, "value": value, "reason": "Checked with the caller"},
            incident_id=incident_id,
            refs=tuple(c.event_id for c in state.conflicts[name]),
        )
    )
    assert written is not None
    return written


def test_two_desks_regrading_offline_leave_both_grades_for_a_person_to_choose() -> None:
    room, police, council, incident_id = _two_desks()
    room.now_ms += 60_000
    first = _update(police, incident_id, summary="Two men fighting, one with a knife")
    room.now_ms += 1_000
    second = _update(council, incident_id, summary="Fight is over, both men left")
    room.heal()

    merged = police.view(incident_id)
    assert merged is not None
    assert merged == council.view(incident_id)
    assert [c.value for c in merged.conflicts["summary"]] == [
        "Two men fighting, one with a knife",
        "Fight is over, both men left",
    ]
    # The later edit shows until someone chooses; both stay in the timeline.
    assert merged.value("summary") == "Fight is over, both men left"
    assert {first.id, second.id} <= {c.event_id for c in merged.conflicts["summary"]}


def test_a_resolution_that_saw_both_values_clears_the_flag() -> None:
    room, police, council, incident_id = _two_desks()
    _update(police, incident_id, grade="priority")
    _update(council, incident_id, grade="scheduled")
    room.heal()
    _resolve(police, incident_id, "grade", "priority")
    room.heal()
    merged = council.view(incident_id)
    assert merged is not None
    assert merged.value("grade") == "priority"
    assert merged.conflicts == {}


def test_an_edit_made_after_a_resolution_without_seeing_it_is_flagged_again() -> None:
    room, police, council, incident_id = _two_desks()
    _update(police, incident_id, grade="priority")
    _update(council, incident_id, grade="scheduled")
    room.heal()
    room.now_ms += 1_000
    _resolve(police, incident_id, "grade", "priority")
    room.now_ms += 1_000  # the council desk edits after the resolution, without seeing it
    late = _update(council, incident_id, grade="rwd")
    room.heal()
    merged = police.view(incident_id)
    assert merged is not None
    assert merged.value("grade") == "rwd"
    assert late.id in {c.event_id for c in merged.conflicts["grade"]}


def test_an_edit_made_while_a_conflict_was_being_resolved_is_never_silently_lost() -> None:
    room, police, council, incident_id = _two_desks()
    _update(police, incident_id, grade="priority")
    room.now_ms += 500
    _update(council, incident_id, grade="scheduled")  # the later of the two: it is shown
    police.receive(council.log)  # the police desk now sees both grades, flagged
    room.now_ms += 1_000
    # Still offline, the council desk regrades again: it only ever saw its own value.
    regrade = _update(council, incident_id, grade="rwd")
    room.now_ms += 1_000
    # The police supervisor settles the conflict they can see.
    resolution = _resolve(police, incident_id, "grade", "priority")
    assert room.concurrent(regrade, resolution)
    room.heal()

    merged = police.view(incident_id)
    assert merged is not None
    assert merged == council.view(incident_id)
    # Two people chose a grade without seeing each other's choice. SYNC.md invariant 7: the
    # incident stays flagged and both values can be retrieved. Today the grade reads
    # "priority", the flag is gone, and "rwd" is only found by reading the raw log.
    assert "grade" in merged.conflicts
    assert {regrade.id, resolution.id} <= {c.event_id for c in merged.conflicts["grade"]}


def test_the_values_offered_for_a_choice_are_the_latest_from_each_side() -> None:
    room, police, council, incident_id = _two_desks()
    _update(police, incident_id, grade="priority")
    room.now_ms += 500
    _update(council, incident_id, grade="scheduled")
    room.now_ms += 500
    _update(council, incident_id, grade="rwd")  # the council desk changes its mind
    room.heal()
    merged = police.view(incident_id)
    assert merged is not None
    assert merged.value("grade") == "rwd"
    assert sorted(c.value for c in merged.conflicts["grade"]) == ["priority", "rwd"]


def test_a_desk_an_hour_fast_wins_last_writer_wins_but_a_later_edit_is_still_flagged() -> None:
    """A clock an hour ahead is capped on receipt, so a reply to its edit sorts before it."""
    room = Room(seed=11, skews=[HOUR_MS, 0])
    fast, council = room.desks
    incident_id = open_joint(fast)
    room.now_ms += 10_000
    _update(fast, incident_id, location={"text": "Bank junction"})
    council.receive(fast.log)
    assert room.capped
    room.now_ms += 10_000
    reply = _update(council, incident_id, location={"text": "Leadenhall Street"})
    room.heal()
    merged = council.view(incident_id)
    assert merged is not None
    # Ordered by clock, the fast desk's earlier edit stands; the capped desk's reply is not
    # lost: the field is flagged and the reply is one of the values to choose from.
    assert merged.value("location") == {"text": "Bank junction"}
    assert reply.id in {c.event_id for c in merged.conflicts["location"]}


# ---- real stores -------------------------------------------------------------------------------


def _batches(events: list[Event], rng: random.Random) -> list[list[Event]]:
    batches: list[list[Event]] = []
    rest = list(events)
    while rest:
        size = rng.choice((1, 1, 2, 3, 5, 8, 13))
        batches.append(rest[:size])
        rest = rest[size:]
    return batches


def _replica(path: Path) -> Store:
    """A store holding the certificates of every desk's key, as a synced workstation does."""
    store = Store.open(path)
    register(store, *(Author(actor, agency, code) for code, agency, actor in DESKS))
    return store


# The log's bookkeeping: its keys (stamped with when each store learnt them) and what it refused.
BOOKKEEPING = ("events", "meta", "outbox", "authorities", "key_certificates", "refused_events")


def _projections(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table (not the log, its bookkeeping or the search index's internals)."""
    names = [
        name
        for (name,) in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
        )
        if name not in BOOKKEEPING and "_fts" not in name
    ]
    return {name: sorted(store.conn.execute(f"SELECT * FROM {name}"), key=repr) for name in names}


def _scratch_dir() -> tempfile.TemporaryDirectory[str]:
    shm = Path("/dev/shm")
    return tempfile.TemporaryDirectory(
        prefix="osc-fold-", dir=shm if shm.is_dir() else None, ignore_cleanup_errors=True
    )


STORE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@STORE_SETTINGS
@given(script=scripts(max_steps=60), order_seed=st.integers(0, 2**32 - 1))
def test_stores_fed_the_same_events_in_any_order_and_batches_hold_the_same_incidents(
    script: Script, order_seed: int
) -> None:
    room = script.play()
    room.heal()
    everything = room.all_events()
    rng = random.Random(order_seed)
    # As a desk learnt of them (causal order, small batches: the incremental path) ...
    causal = list(room.desks[0].log) + [e for e in everything if e.id not in room.desks[0].held]
    # ... in a random order and random batches (out-of-order arrivals: refolds) ...
    shuffled = list(everything)
    rng.shuffle(shuffled)
    # ... and newest first, all at once.
    newest_first = sorted(everything, key=lambda e: e.order_key, reverse=True)

    with _scratch_dir() as scratch:
        stores = [_replica(Path(scratch) / f"replica-{i}.db") for i in range(3)]
        try:
            for batch in _batches(causal, rng):
                stores[0].apply_remote(batch)
            for batch in _batches(shuffled, rng):
                stores[1].apply_remote(batch)
            stores[2].apply_remote(newest_first)
            # A repeated delivery is harmless.
            again = stores[1].apply_remote(shuffled[: len(shuffled) // 2])
            assert again.stored == ()
            assert len(again.duplicates) == len(shuffled) // 2

            grouped = by_incident(everything)
            first = stores[0]
            for store in stores:
                assert store.event_count() == len(everything)
                report = check_store(store)
                assert report.ok, [str(p) for p in report.problems]
                for incident_id, events in grouped.items():
                    live = store.incident(incident_id)
                    assert live is not None
                    rebuilt = fold(store.events_of(incident_id), store.reference)
                    assert rebuilt is not None
                    assert live.to_dict() == rebuilt.to_dict() == folded(events)
                assert _projections(store) == _projections(first)
        finally:
            for store in stores:
                store.close()


@STORE_SETTINGS
@given(script=scripts(max_steps=60), order_seed=st.integers(0, 2**32 - 1))
def test_events_held_back_until_their_opening_arrives_are_projected_then(
    script: Script, order_seed: int
) -> None:
    """Entries can arrive before the incident they belong to; nothing is shown until it does."""
    room = script.play()
    everything = room.all_events()
    rng = random.Random(order_seed)
    openings = [e for e in everything if e.kind == Kind.INCIDENT_OPENED]
    others = [e for e in everything if e.kind != Kind.INCIDENT_OPENED]
    rng.shuffle(others)
    with _scratch_dir() as scratch, _replica(Path(scratch) / "late.db") as store:
        for batch in _batches(others, rng):
            store.apply_remote(batch)
        assert store.conn.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
        for batch in _batches(openings, rng):
            store.apply_remote(batch)
        for incident_id, events in by_incident(everything).items():
            live = store.incident(incident_id)
            assert live is not None
            assert live.to_dict() == folded(events)
        assert check_store(store).ok


def test_a_sealed_event_survives_the_trip_through_a_store_unchanged() -> None:
    room = Script(seed=3, skews_ms=(0, 0), steps=((0, "log", 1), (0, "update", 2))).play()
    with _scratch_dir() as scratch, _replica(Path(scratch) / "one.db") as store:
        store.apply_remote(room.all_events())
        for original in room.all_events():
            held = store.event(original.id)
            assert held is not None
            assert held.to_wire() == original.to_wire()
            assert held.computed_hash() == original.content_hash


def test_an_event_changed_in_transit_is_refused_and_the_log_cannot_be_edited() -> None:
    room = Script(seed=5, skews_ms=(0, 0), steps=()).play()
    (opening,) = room.all_events()
    forged = replace(opening, payload={**opening.payload, "summary": "Nothing to see"})
    with _scratch_dir() as scratch, _replica(Path(scratch) / "one.db") as store:
        result = store.apply_remote([forged])
        assert result.stored == ()
        assert [r.reason for r in result.rejected] == ["content hash does not match the event"]
        assert store.event_count() == 0

        store.apply_remote([opening])
        with pytest.raises(sqlite3.DatabaseError):
            store.conn.execute("UPDATE events SET actor = 'someone else'")
        with pytest.raises(sqlite3.DatabaseError):
            store.conn.execute("DELETE FROM events")
        held = store.event(opening.id)
        assert held is not None
        assert held.actor == opening.actor
