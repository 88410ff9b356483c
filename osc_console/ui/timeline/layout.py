"""Where everything goes on the multi-agency timeline: lanes, markers and assignment spans.

Qt-free on purpose: the chart only draws what this module decides, so the decisions (which
lane an entry belongs to, what to do with identical times or skewed clocks) are tested
without a screen, and the CSV export writes exactly the figures the chart shows.

Lanes: one per agency (entries written by that agency's staff: logs, decisions, changes),
followed by one per team of that agency that was assigned (its assignment entries and the
bars of its assignments). Agencies come in their fixed order, teams by name.

Times are the operator's ``occurred_at`` (what people read), never used to order anything.
A workstation whose clock was skewed can put an entry before the opening or far in the
future: it is still drawn where its time says, the view simply widens to include it, and an
assignment phase whose end reads earlier than its start is drawn with no length rather than
backwards. Entries at the same moment in one lane are fanned out vertically so that each
stays visible and clickable.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from osc_console.models.agencies import Agency
from osc_console.models.clock import LONDON, from_iso, to_iso
from osc_console.models.events import Event
from osc_console.models.incident import AssignmentStatus
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState
from osc_console.models.reference import ReferenceData


class MarkerKind:
    """The shape families of the issue: log, assignment status, change, decision (+ two)."""

    LOG = "log"
    ASSIGNMENT = "assignment"
    CHANGE = "change"
    DECISION = "decision"
    LIFECYCLE = "lifecycle"  # opened, closed, reopened
    LINK = "link"
    OTHER = "other"


_KIND_OF: dict[str, str] = {
    Kind.LOG_ADDED: MarkerKind.LOG,
    Kind.LOG_AMENDED: MarkerKind.LOG,
    Kind.ASSIGNMENT_MADE: MarkerKind.ASSIGNMENT,
    Kind.ASSIGNMENT_STATUS: MarkerKind.ASSIGNMENT,
    Kind.ASSIGNMENT_WITHDRAWN: MarkerKind.ASSIGNMENT,
    Kind.INCIDENT_UPDATED: MarkerKind.CHANGE,
    Kind.INCIDENT_STATUS: MarkerKind.CHANGE,
    Kind.CONFLICT_RESOLVED: MarkerKind.CHANGE,
    Kind.DECISION_RECORDED: MarkerKind.DECISION,
    Kind.INCIDENT_OPENED: MarkerKind.LIFECYCLE,
    Kind.INCIDENT_CLOSED: MarkerKind.LIFECYCLE,
    Kind.INCIDENT_REOPENED: MarkerKind.LIFECYCLE,
    "incident.linked": MarkerKind.LINK,
    "incident.unlinked": MarkerKind.LINK,
}

# An assignment's phases, in order: each bar runs from its status's time to the next one's.
PHASES = (
    AssignmentStatus.ASSIGNED.value,
    AssignmentStatus.ACKNOWLEDGED.value,
    AssignmentStatus.EN_ROUTE.value,
    AssignmentStatus.ON_SCENE.value,
)
_ENDS = (
    AssignmentStatus.COMPLETED.value,
    AssignmentStatus.DECLINED.value,
    AssignmentStatus.WITHDRAWN.value,
)
_FAN_STEP = 0.16  # lane heights between markers at the same moment in one lane
_FAN_LIMIT = 0.38  # never into the next lane
MIN_SPAN_S = 60.0  # the narrowest time range shown (a single entry, identical times)


def marker_kind(kind: str) -> str:
    return _KIND_OF.get(kind, MarkerKind.OTHER)


@dataclass(frozen=True, slots=True)
class Lane:
    agency: str
    team: str | None  # None: the agency's own lane
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    event: Event
    ref: str
    x: float  # epoch seconds of occurred_at
    lane: int
    y: float  # lane, fanned out for identical times
    kind: str  # a MarkerKind


@dataclass(frozen=True, slots=True)
class Span:
    """One phase of one assignment, drawn as a bar in its team's lane."""

    assignment_id: str
    ref: str
    team: str
    lane: int
    phase: str
    x0: float
    x1: float
    open_ended: bool  # still in this phase: the bar runs to "now"


@dataclass(frozen=True, slots=True)
class TimelineData:
    lanes: tuple[Lane, ...]
    markers: tuple[Marker, ...]
    spans: tuple[Span, ...]
    refs: tuple[str, ...]  # the incidents drawn, in the order given
    x_min: float
    x_max: float

    @property
    def is_empty(self) -> bool:
        return not self.markers and not self.spans

    def marker_of(self, event_id: str) -> Marker | None:
        for marker in self.markers:
            if marker.event.id == event_id:
                return marker
        return None


def _seconds(iso: str) -> float | None:
    if isinstance(iso, str) and iso.endswith("Z"):
        try:  # the stored form ('2026-11-22T13:05:12.345Z'): the quick way
            return datetime.fromisoformat(iso[:-1] + "+00:00").timestamp()
        except ValueError:
            pass
    try:
        return from_iso(iso).timestamp()
    except (TypeError, ValueError):
        return None


def _agency_order(agency: str) -> int:
    order = {a.value: i for i, a in enumerate(Agency)}
    return order.get(agency, len(order))


def _agency_label(agency: str) -> str:
    short = {"police": "Police", "corporation": "Corporation"}
    if agency in short:
        return short[agency]
    try:
        return Agency(agency).label
    except ValueError:
        return agency or "Unknown agency"


def build_timeline(
    incidents: Sequence[tuple[IncidentState | None, Sequence[Event]]],
    ref: ReferenceData,
    now: datetime,
) -> TimelineData:
    """Lay out the events of one incident, or of several linked ones merged."""
    now_s = now.timestamp()
    team_agency: dict[str, str] = {}
    assignment_team: dict[str, str] = {}
    for state, events in incidents:
        if state is not None:
            for a in state.assignments.values():
                assignment_team[a.id] = a.team
        for event in events:
            if event.kind == Kind.ASSIGNMENT_MADE:
                team = event.payload.get("team")
                assignment_id = event.payload.get("assignment_id")
                if isinstance(team, str) and isinstance(assignment_id, str):
                    assignment_team.setdefault(assignment_id, team)
    for team in set(assignment_team.values()):
        known = ref.team(team)
        team_agency[team] = known.agency.value if known else "unknown"

    # Which lane each event goes in, before the lanes are numbered.
    placed: list[tuple[Event, str, tuple[str, str | None]]] = []
    for state, events in incidents:
        incident_ref = state.ref if state is not None else ""
        for event in events:
            key: tuple[str, str | None] = (event.agency, None)
            if event.kind.startswith("assignment."):
                team = assignment_team.get(str(event.payload.get("assignment_id")))
                if team is not None:
                    key = (team_agency[team], team)
            placed.append((event, incident_ref, key))
    keys: set[tuple[str, str | None]] = {k for _, _, k in placed}
    for team, agency in team_agency.items():
        keys.add((agency, team))
    for agency in {k[0] for k in keys}:
        keys.add((agency, None))  # a team's lane always sits under its agency's

    def team_label(code: str | None) -> str:
        if code is None:
            return ""
        known = ref.team(code)
        return known.name if known else code

    ordered = sorted(
        keys, key=lambda k: (_agency_order(k[0]), k[0], k[1] is not None, team_label(k[1]))
    )
    lanes = tuple(
        Lane(agency, team, _agency_label(agency) if team is None else team_label(team))
        for agency, team in ordered
    )
    lane_of = {k: i for i, k in enumerate(ordered)}

    # Markers, fanned out where several share a lane and a second.
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    raw: list[tuple[Event, str, float, int]] = []
    for event, incident_ref, key in placed:
        x = _seconds(event.occurred_at)
        if x is None:
            x = _seconds(event.recorded_at) or now_s
        lane = lane_of[key]
        buckets[(lane, int(x))].append(len(raw))
        raw.append((event, incident_ref, x, lane))
    offsets = [0.0] * len(raw)
    for members in buckets.values():
        n = len(members)
        if n == 1:
            continue
        step = min(_FAN_STEP, 2 * _FAN_LIMIT / (n - 1))
        for rank, index in enumerate(members):
            offsets[index] = (rank - (n - 1) / 2) * step
    markers = tuple(
        Marker(event, incident_ref, x, lane, lane + offsets[i], marker_kind(event.kind))
        for i, (event, incident_ref, x, lane) in enumerate(raw)
    )

    spans: list[Span] = []
    for state, _events in incidents:
        if state is None:
            continue
        for a in state.assignments.values():
            team_lane = lane_of.get((team_agency.get(a.team, "unknown"), a.team))
            if team_lane is None:
                continue
            spans.extend(
                _assignment_spans(
                    a.id,
                    incident_ref=state.ref,
                    team=a.team,
                    lane=team_lane,
                    times=a.times,
                    now_s=now_s,
                )
            )

    xs = [m.x for m in markers] + [s.x0 for s in spans] + [s.x1 for s in spans]
    if xs:
        x_min, x_max = min(xs), max(xs)
    else:
        x_min = x_max = now_s
    if x_max - x_min < MIN_SPAN_S:  # one entry, or all at one moment: still a readable range
        middle = (x_min + x_max) / 2
        x_min, x_max = middle - MIN_SPAN_S / 2, middle + MIN_SPAN_S / 2
    refs = tuple(state.ref for state, _ in incidents if state is not None)
    return TimelineData(lanes, markers, tuple(spans), refs, x_min, x_max)


def _assignment_spans(
    assignment_id: str,
    *,
    incident_ref: str,
    team: str,
    lane: int,
    times: dict[str, str],
    now_s: float,
) -> list[Span]:
    stamps = [(phase, _seconds(times[phase])) for phase in PHASES if phase in times]
    known = [(phase, x) for phase, x in stamps if x is not None]
    ends = [x for end in _ENDS if end in times and (x := _seconds(times[end])) is not None]
    finish = min(ends) if ends else None
    spans = []
    for i, (phase, x0) in enumerate(known):
        following = known[i + 1][1] if i + 1 < len(known) else finish
        open_ended = following is None
        x1 = max(now_s, x0) if following is None else following
        spans.append(
            Span(assignment_id, incident_ref, team, lane, phase, x0, max(x0, x1), open_ended)
        )
    return spans


def timeline_csv(data: TimelineData, describe: dict[str, str] | None = None) -> str:
    """The chart's figures: one row per marker and per assignment phase, UTC and local."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "row",
            "incident",
            "lane",
            "kind",
            "event_kind",
            "start_utc",
            "start_local",
            "end_utc",
            "actor",
            "event_id",
            "text",
        ]
    )
    for m in sorted(data.markers, key=lambda m: (m.x, m.lane)):
        start = datetime.fromtimestamp(m.x, LONDON)
        writer.writerow(
            [
                "entry",
                m.ref,
                data.lanes[m.lane].label,
                m.kind,
                m.event.kind,
                to_iso(start),
                start.strftime("%Y-%m-%d %H:%M:%S %Z"),
                "",
                m.event.actor,
                m.event.id,
                (describe or {}).get(m.event.id, ""),
            ]
        )
    for s in sorted(data.spans, key=lambda s: (s.x0, s.lane)):
        start = datetime.fromtimestamp(s.x0, LONDON)
        end = "" if s.open_ended else to_iso(datetime.fromtimestamp(s.x1, LONDON))
        writer.writerow(
            [
                "assignment",
                s.ref,
                data.lanes[s.lane].label,
                s.phase,
                "",
                to_iso(start),
                start.strftime("%Y-%m-%d %H:%M:%S %Z"),
                end,
                "",
                s.assignment_id,
                "",
            ]
        )
    return out.getvalue()
