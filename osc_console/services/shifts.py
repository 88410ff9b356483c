"""The shift log, handover and sign-off: what a duty manager answers for, as events.

:func:`build_shift_log` (or :meth:`ShiftService.shift_log`) reads one shift as a viewer's
organisation may see it: every entry that *occurred* within the shift's window, grouped by
incident and as one chronological stream, the counts at the top, the handover (incidents
still open at the end of the shift, each folded to the end time, with its last update and
outstanding assignments), the handover note, its acknowledgement and the sign-off. Entries
recorded after the sign-off are marked ``after_sign_off``. Entries the viewer may not see are
only counted (:attr:`ShiftLog.withheld`), never read.

Writing (:meth:`ShiftService.write_handover`, :meth:`~ShiftService.acknowledge_handover`,
:meth:`~ShiftService.sign_off`) appends ``shift.*`` events through the store's one door. Only a
duty manager or an admin may write them: the service is given the signed-in :class:`User`
and refuses anyone else (the UI should also hide the actions: :func:`may_manage_shifts`).

Nothing here imports Qt; the UI calls these on its database worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from osc_console.models.agencies import Agency, Classification, Visibility
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import now_utc, to_iso
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author, Event, EventDraft
from osc_console.models.incident import AssignmentStatus, Status, urgency
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState, fold
from osc_console.models.reference import ReferenceData
from osc_console.models.shift_log import (
    OutstandingAssignment,
    ShiftCounts,
    ShiftEntry,
    ShiftIncident,
    ShiftLog,
    ShiftRecord,
    describe,
)
from osc_console.models.shifts import (
    DEFAULT_PATTERNS,
    ShiftPattern,
    ShiftWindow,
    current_shift,
    load_patterns,
    shift_window,
)
from osc_console.models.users import Action, User
from osc_console.paths import config_dir
from osc_console.store import shift_queries
from osc_console.store.event_store import Store


def may_manage_shifts(user: User | None) -> bool:
    """Whether ``user`` may write a handover, acknowledge one, or sign a shift off."""
    return user is not None and user.may(Action.MANAGE_SHIFT)


def configured_patterns() -> tuple[ShiftPattern, ...]:
    """The room's shift patterns: ``shifts.toml`` in the config folder, else the defaults.
    A wrong file raises a ValidationError naming it."""
    return load_patterns(config_dir())


# ---- building it ---------------------------------------------------------------------------


def build_shift_log(
    store: Store,
    day: date,
    shift: str,
    viewer: Agency,
    *,
    patterns: Sequence[ShiftPattern] | None = None,
) -> ShiftLog:
    """The log of shift ``shift`` starting on London date ``day``, as ``viewer`` may see it."""
    window = shift_window(day, shift, patterns)
    start, end = to_iso(window.start_utc), to_iso(window.end_utc)
    conn = store.conn
    reference = store.reference
    in_window = shift_queries.window_events(conn, start, end, viewer)
    withheld = shift_queries.withheld_counts(conn, start, end, viewer)
    records = shift_queries.shift_records(conn, day.isoformat(), window.name, viewer)

    touched = list(dict.fromkeys(e.incident_id for e in in_window if e.incident_id))
    candidates = shift_queries.open_at(conn, end, viewer)
    folded_events = shift_queries.incident_events_before(conn, [*touched, *candidates], end, viewer)
    states = {
        incident_id: state
        for incident_id, events in folded_events.items()
        if (state := fold(events, reference)) is not None and state.opened
    }
    refs = {i: s.ref for i, s in states.items()}
    missing = [i for i in touched if i not in refs]
    if missing:  # an incident whose opening lies after the end (or is not held): current ref
        refs.update(shift_queries.incident_refs(conn, missing))
    teams = _assignment_teams(folded_events.values())
    for event in in_window:
        if event.kind == Kind.ASSIGNMENT_MADE:
            teams.setdefault(event.payload.get("assignment_id", ""), event.payload.get("team", ""))

    signed = _records(records, Kind.SHIFT_SIGNED_OFF)
    signed_at = signed[0].event.recorded_at if signed else None
    entries = [
        ShiftEntry(
            event,
            refs.get(event.incident_id or ""),
            describe(event, reference, teams),
            after_sign_off=signed_at is not None and event.recorded_at > signed_at,
        )
        for event in in_window
    ]
    record_entries = [ShiftEntry(e, None, describe(e, reference, teams)) for e in records]
    stream = sorted([*entries, *record_entries], key=_stream_key)

    by_incident: dict[str, list[ShiftEntry]] = defaultdict(list)
    for entry in entries:
        if entry.event.incident_id:
            by_incident[entry.event.incident_id].append(entry)
    last_updates = {
        incident_id: _last_update(events, reference, teams, refs.get(incident_id))
        for incident_id, events in folded_events.items()
    }
    incidents = [
        _shift_incident(
            states.get(i), i, refs.get(i, "?"), by_incident[i], last_updates.get(i), reference
        )
        for i in touched
    ]
    handover = [
        _shift_incident(state, i, state.ref, by_incident.get(i, []), last_updates.get(i), reference)
        for i, state in states.items()
        if not state.is_closed
    ]
    handover.sort(key=lambda s: (_urgency_key(s), s.opened_at, s.ref))
    counts = ShiftCounts(
        opened=sum(1 for e in in_window if e.kind == Kind.INCIDENT_OPENED),
        closed=sum(1 for e in in_window if e.kind == Kind.INCIDENT_CLOSED),
        still_open=len(handover),
        assignments_outstanding=sum(len(s.outstanding) for s in handover),
        decisions=sum(1 for e in in_window if e.kind == Kind.DECISION_RECORDED),
        amendments=sum(1 for e in in_window if e.kind == Kind.LOG_AMENDED),
    )
    return ShiftLog(
        window=window,
        viewer=viewer,
        counts=counts,
        entries=tuple(stream),
        incidents=tuple(incidents),
        handover=tuple(handover),
        handover_notes=_records(records, Kind.SHIFT_HANDOVER),
        acknowledgements=_records(records, Kind.SHIFT_HANDOVER_ACKNOWLEDGED),
        sign_offs=signed,
        withheld=withheld,
        built_at=to_iso(now_utc()),
    )


def _stream_key(entry: ShiftEntry) -> tuple[str, str, str, str]:
    return (entry.event.occurred_at, *entry.event.order_key)


def _records(events: Iterable[Event], kind: Kind) -> tuple[ShiftRecord, ...]:
    return tuple(ShiftRecord(e, (e.payload.get("note") or None)) for e in events if e.kind == kind)


def _assignment_teams(groups: Iterable[list[Event]]) -> dict[str, str]:
    teams: dict[str, str] = {}
    for events in groups:
        for event in events:
            if event.kind == Kind.ASSIGNMENT_MADE:
                teams[event.payload["assignment_id"]] = event.payload["team"]
    return teams


def _last_update(
    events: list[Event], reference: ReferenceData, teams: Mapping[str, str], ref: str | None
) -> ShiftEntry | None:
    if not events:
        return None
    last = max(events, key=lambda e: (e.occurred_at, *e.order_key))
    return ShiftEntry(last, ref, describe(last, reference, teams))


def _urgency_key(incident: ShiftIncident) -> int:
    return urgency(incident.grade, incident.council_priority)


def _shift_incident(  # noqa: PLR0917 - private helper, called twice with all six
    state: IncidentState | None,
    incident_id: str,
    ref: str,
    entries: list[ShiftEntry],
    last_update: ShiftEntry | None,
    reference: ReferenceData,
) -> ShiftIncident:
    if state is None:  # its opening is not before the end of the shift: show what we have
        first = entries[0].event if entries else None
        return ShiftIncident(
            incident_id,
            ref,
            "(opening not held)",
            None,
            None,
            None,
            None,
            Status.OPEN.value,
            first.visibility if first else Visibility.JOINT.value,
            first.classification if first else Classification.OFFICIAL.value,
            first.occurred_at if first else "",
            (),
            tuple(entries),
            last_update,
            (),
        )
    outstanding = tuple(
        OutstandingAssignment(
            a.id,
            a.team,
            team.name if (team := reference.team(a.team)) else a.team,
            a.agency,
            a.status,
            a.times.get(AssignmentStatus.ASSIGNED.value, ""),
        )
        for a in state.active_assignments()
    )
    return ShiftIncident(
        incident_id=incident_id,
        ref=state.ref,
        summary=str(state.value("summary") or ""),
        category=state.value("category"),
        grade=state.value("grade"),
        council_priority=state.value("council_priority"),
        lead_agency=state.value("lead_agency"),
        status=state.status,
        visibility=state.visibility,
        classification=state.classification,
        opened_at=state.opened_at,
        teams=tuple(sorted({a.team for a in state.assignments.values()})),
        entries=tuple(entries),
        last_update=last_update,
        outstanding=outstanding,
    )


def busiest_shift(
    store: Store,
    first: date,
    last: date,
    *,
    patterns: Sequence[ShiftPattern] | None = None,
) -> ShiftWindow:
    """The shift starting between ``first`` and ``last`` (London dates, inclusive) in which
    the most events occurred (benchmarks and sample reports; ties go to the earliest)."""
    best: tuple[int, ShiftWindow] | None = None
    day = first
    while day <= last:
        for pattern in patterns or DEFAULT_PATTERNS:
            window = shift_window(day, pattern.name, patterns)
            n = shift_queries.count_between(
                store.conn, to_iso(window.start_utc), to_iso(window.end_utc)
            )
            if best is None or n > best[0]:
                best = (n, window)
        day += timedelta(days=1)
    if best is None:
        raise ValueError("the first day is after the last")
    return best[1]


# ---- the use cases ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShiftOutcome:
    """The event written and what changed (the UI refreshes from ``changes``)."""

    event: Event
    changes: ChangeSet


class ShiftService:
    """Reading and signing off shifts for one signed-in person.

    ``user`` is who is signed in; writes need a duty manager or an admin. ``patterns``
    defaults to :func:`configured_patterns`; ``clock`` gives "now" (tests pass a fixed one).
    """

    def __init__(
        self,
        store: Store,
        author: Author,
        *,
        user: User | None = None,
        patterns: Sequence[ShiftPattern] | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.store = store
        self.author = author
        self.user = user
        self.patterns = tuple(patterns) if patterns is not None else configured_patterns()
        self._clock = clock

    # ---- reading -------------------------------------------------------------------------
    def current(self) -> ShiftWindow:
        """The shift under way now: the view's default."""
        return current_shift(self._clock(), self.patterns)

    def window(self, day: date, shift: str) -> ShiftWindow:
        return shift_window(day, shift, self.patterns)

    def shift_log(self, day: date, shift: str, viewer: Agency | None = None) -> ShiftLog:
        """The log of a shift as ``viewer`` (default: the author's organisation) may see it."""
        return build_shift_log(
            self.store, day, shift, viewer or self.author.agency, patterns=self.patterns
        )

    # ---- writing -------------------------------------------------------------------------
    def write_handover(self, day: date, shift: str, note: str) -> ShiftOutcome:
        """The outgoing manager's handover note (required text). Several may be written;
        the latest is the one shown, all stay in the log."""
        window = self._writable(day, shift, "write a handover for")
        text = (note or "").strip()
        if not text:
            raise ValidationError(
                "note",
                f"a handover note is needed for {window.title}: say what the next shift inherits",
            )
        return self._append(Kind.SHIFT_HANDOVER, window, text)

    def acknowledge_handover(self, day: date, shift: str, note: str | None = None) -> ShiftOutcome:
        """The incoming manager acknowledges the handover note of ``shift`` (the outgoing one).
        Refused when no handover note has been written (or has reached this workstation)."""
        window = self._writable(day, shift, "acknowledge the handover of")
        records = shift_queries.shift_records(
            self.store.conn, window.day.isoformat(), window.name, self.author.agency
        )
        if not any(r.kind == Kind.SHIFT_HANDOVER for r in records):
            raise DomainError(
                f"no handover note has been written for {window.title}; there is nothing to "
                "acknowledge yet"
            )
        return self._append(Kind.SHIFT_HANDOVER_ACKNOWLEDGED, window, (note or "").strip() or None)

    def sign_off(self, day: date, shift: str, note: str | None = None) -> ShiftOutcome:
        """Sign the shift off. A shift is signed off once: a second sign-off is refused with
        who signed it and when. Entries added to the shift afterwards are marked in the log."""
        window = self._writable(day, shift, "sign off")
        records = shift_queries.shift_records(self.store.conn, window.day.isoformat(), window.name)
        done = _records(records, Kind.SHIFT_SIGNED_OFF)
        if done:
            raise DomainError(f"{window.title} was signed off by {done[0].who_when(window.day)}")
        return self._append(Kind.SHIFT_SIGNED_OFF, window, (note or "").strip() or None)

    def _writable(self, day: date, shift: str, doing: str) -> ShiftWindow:
        user = self.user
        if not may_manage_shifts(user):
            who = user.label if user is not None else "nobody is signed in"
            raise DomainError(f"only a duty manager or an admin may {doing} a shift ({who})")
        window = self.window(day, shift)
        if window.start_utc > self._clock():
            raise DomainError(f"{window.title} has not started yet; you cannot {doing} it")
        return window

    def _append(self, kind: Kind, window: ShiftWindow, note: str | None) -> ShiftOutcome:
        payload = {"shift_date": window.day.isoformat(), "shift": window.name, "note": note}
        event, changes = self.store.append(EventDraft(kind, payload), self.author)
        return ShiftOutcome(event, changes)
