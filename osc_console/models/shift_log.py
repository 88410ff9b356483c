"""The shift log as read: what one organisation may see of one shift, ready to show.

These are plain values built by :func:`osc_console.services.shifts.build_shift_log` and
shown by the shift view and the reports (which sit beside services and may not import
them). :func:`describe` gives each event's one line of text, the same in view and report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from osc_console.models.agencies import Agency, Classification
from osc_console.models.clock import LONDON, from_iso, local_label
from osc_console.models.events import Event
from osc_console.models.incident import AssignmentStatus, Grade, Status
from osc_console.models.payloads import EXERCISE_KINDS, SHIFT_KINDS, Kind
from osc_console.models.reference import ReferenceData
from osc_console.models.shifts import ShiftWindow

# ---- what a shift log holds -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShiftEntry:
    """One event in the shift log, with what a reader needs beside it."""

    event: Event
    incident_ref: str | None
    text: str
    after_sign_off: bool = False

    @property
    def occurred(self) -> datetime:
        return from_iso(self.event.occurred_at)

    @property
    def recorded(self) -> datetime:
        return from_iso(self.event.recorded_at)

    @property
    def occurred_local(self) -> datetime:
        return self.occurred.astimezone(LONDON)

    @property
    def kind_label(self) -> str:
        return kind_label(self.event.kind)


@dataclass(frozen=True, slots=True)
class OutstandingAssignment:
    """A team still committed to an incident at the end of the shift."""

    assignment_id: str
    team: str
    team_name: str
    agency: str | None
    status: str
    assigned_at: str

    @property
    def label(self) -> str:
        return f"{self.team_name} ({AssignmentStatus(self.status).label})"


@dataclass(frozen=True, slots=True)
class ShiftIncident:
    """An incident as it stood at the end of the shift, with the shift's entries on it."""

    incident_id: str
    ref: str
    summary: str
    category: str | None
    grade: str | None
    council_priority: str | None
    lead_agency: str | None
    status: str
    visibility: str
    classification: str
    opened_at: str
    teams: tuple[str, ...]
    entries: tuple[ShiftEntry, ...]
    last_update: ShiftEntry | None
    outstanding: tuple[OutstandingAssignment, ...]

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED.value

    @property
    def urgency_label(self) -> str:
        """'I Immediate' for a police grade, 'Council: high' for a council priority."""
        if self.grade:
            grade = Grade(self.grade)
            return f"{grade.letter} {grade.label}"
        if self.council_priority:
            return f"Council: {self.council_priority}"
        return "-"

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")


@dataclass(frozen=True, slots=True)
class ShiftRecord:
    """A handover note, acknowledgement or sign-off: who, when, and what they wrote."""

    event: Event
    note: str | None

    @property
    def actor(self) -> str:
        return self.event.actor

    @property
    def recorded(self) -> datetime:
        return from_iso(self.event.recorded_at)

    def who_when(self, day: date | None = None) -> str:
        """'A. Patel at 23:04 GMT' (with the date when it is not ``day``)."""
        moment = self.recorded
        label = f"{self.actor} at {local_label(moment)}"
        local_day = moment.astimezone(LONDON).date()
        if day is None or local_day != day:
            label += f" on {local_day.isoformat()}"
        return label


@dataclass(frozen=True, slots=True)
class ShiftCounts:
    opened: int = 0
    closed: int = 0
    still_open: int = 0
    assignments_outstanding: int = 0
    decisions: int = 0
    amendments: int = 0

    def items(self) -> list[tuple[str, int]]:
        """Label and value, in the order the view and the report show them."""
        return [
            ("Opened", self.opened),
            ("Closed", self.closed),
            ("Still open at end", self.still_open),
            ("Assignments outstanding", self.assignments_outstanding),
            ("Decisions recorded", self.decisions),
            ("Amendments made", self.amendments),
        ]


@dataclass(frozen=True, slots=True)
class ShiftLog:
    """One shift as one organisation may see it. Built by :func:`build_shift_log`."""

    window: ShiftWindow
    viewer: Agency
    counts: ShiftCounts
    entries: tuple[ShiftEntry, ...]  # chronological by occurred time (then clock order)
    incidents: tuple[ShiftIncident, ...]  # incidents with entries in the shift, first first
    handover: tuple[ShiftIncident, ...]  # incidents still open at the end of the shift
    handover_notes: tuple[ShiftRecord, ...] = ()
    acknowledgements: tuple[ShiftRecord, ...] = ()
    sign_offs: tuple[ShiftRecord, ...] = ()
    withheld: Mapping[str, int] = field(default_factory=dict)  # visibility -> count
    built_at: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.entries

    @property
    def handover_note(self) -> ShiftRecord | None:
        """The latest handover note (earlier ones stay in :attr:`handover_notes`)."""
        return self.handover_notes[-1] if self.handover_notes else None

    @property
    def acknowledgement(self) -> ShiftRecord | None:
        return self.acknowledgements[-1] if self.acknowledgements else None

    @property
    def sign_off(self) -> ShiftRecord | None:
        """The sign-off that stands: the first in clock order. A second one can only arrive
        from a workstation that signed off offline; it stays in :attr:`sign_offs`."""
        return self.sign_offs[0] if self.sign_offs else None

    @property
    def duty_manager(self) -> str | None:
        """Who answers for the shift: who signed it off, else who wrote the handover."""
        record = self.sign_off or self.handover_note
        return record.actor if record else None

    @property
    def after_sign_off_count(self) -> int:
        return sum(1 for e in self.entries if e.after_sign_off)

    @property
    def withheld_total(self) -> int:
        return sum(self.withheld.values())

    @property
    def withheld_line(self) -> str | None:
        """'12 police-only entries withheld', or None when nothing was withheld."""
        if not self.withheld_total:
            return None
        parts = [
            f"{n} {v}-only {'entry' if n == 1 else 'entries'}"
            for v, n in sorted(self.withheld.items())
        ]
        return f"{' and '.join(parts)} withheld: {self.viewer.label} staff may not see them"

    @property
    def classification(self) -> Classification:
        """The protective marking of what is shown: the highest among entries and handover."""
        marks = [e.event.classification for e in self.entries]
        marks += [i.classification for i in self.handover]
        if Classification.OFFICIAL_SENSITIVE.value in marks:
            return Classification.OFFICIAL_SENSITIVE
        return Classification.OFFICIAL

    def filtered(
        self,
        *,
        agency: str | None = None,
        team: str | None = None,
        category: str | None = None,
        operator: str | None = None,
    ) -> tuple[ShiftEntry, ...]:
        """The chronological entries narrowed as the view's filters ask.

        ``agency``: entries written by that agency's staff; ``team``: entries of incidents the
        team was assigned to; ``category``: of incidents of that category; ``operator``: by
        that actor. Shift records (handover, sign-off) pass the team/category filters only
        when none is set.
        """
        by_id = {i.incident_id: i for i in (*self.incidents, *self.handover)}
        chosen = []
        for entry in self.entries:
            event = entry.event
            incident = by_id.get(event.incident_id or "")
            if agency and event.agency != agency:
                continue
            if operator and event.actor != operator:
                continue
            if team and (incident is None or team not in incident.teams):
                continue
            if category and (incident is None or incident.category != category):
                continue
            chosen.append(entry)
        return tuple(chosen)


# ---- one line of text per event --------------------------------------------------------------

_KIND_LABELS = {
    Kind.INCIDENT_OPENED: "Opened",
    Kind.INCIDENT_UPDATED: "Updated",
    Kind.INCIDENT_STATUS: "Status",
    Kind.INCIDENT_CLOSED: "Closed",
    Kind.INCIDENT_REOPENED: "Reopened",
    Kind.LOG_ADDED: "Log",
    Kind.LOG_AMENDED: "Amendment",
    Kind.DECISION_RECORDED: "Decision",
    Kind.ASSIGNMENT_MADE: "Assigned",
    Kind.ASSIGNMENT_STATUS: "Assignment",
    Kind.ASSIGNMENT_WITHDRAWN: "Withdrawn",
    Kind.CONFLICT_RESOLVED: "Conflict resolved",
    Kind.SHIFT_HANDOVER: "Handover",
    Kind.SHIFT_HANDOVER_ACKNOWLEDGED: "Handover acknowledged",
    Kind.SHIFT_SIGNED_OFF: "Signed off",
    Kind.EXERCISE_STARTED: "Exercise started",
    Kind.EXERCISE_PAUSED: "Exercise paused",
    Kind.EXERCISE_RESUMED: "Exercise resumed",
    Kind.EXERCISE_SPEED_CHANGED: "Clock speed",
    Kind.EXERCISE_INJECT_RELEASED: "Inject",
    Kind.EXERCISE_MESSAGE: "Message",
    Kind.EXERCISE_STOPPED: "Exercise stopped",
}


_LABELS_BY_VALUE: dict[str, str] = {k.value: v for k, v in _KIND_LABELS.items()}


def kind_label(kind: str) -> str:
    return _LABELS_BY_VALUE.get(kind, kind)


def _value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, Mapping):
        return str(value.get("text") or value.get("name") or ", ".join(map(str, value.values())))
    return str(value)


def describe(event: Event, reference: ReferenceData, teams: Mapping[str, str] | None = None) -> str:
    """What an event says, in one line of plain words (the view's and the report's text)."""
    p = event.payload
    kind = event.kind
    team_of = teams or {}

    def team_name(code: str) -> str:
        team = reference.team(code)
        return team.name if team else code

    def category_name(code: Any) -> str:
        category = reference.categories.get(code) if isinstance(code, str) else None
        return category.name if category else str(code)

    if kind == Kind.INCIDENT_OPENED:
        urgency = p.get("grade") or p.get("council_priority") or ""
        where = _value_text(p.get("location"))
        return f"{p.get('summary', '')} — {category_name(p.get('category'))}, {where}" + (
            f" ({urgency})" if urgency else ""
        )
    if kind == Kind.INCIDENT_UPDATED:
        changes = p.get("changes") or {}
        return "; ".join(f"{k.replace('_', ' ')} → {_value_text(v)}" for k, v in changes.items())
    if kind == Kind.INCIDENT_STATUS:
        reason = f": {p['reason']}" if p.get("reason") else ""
        return f"{str(p.get('status', '')).replace('_', ' ')}{reason}"
    if kind == Kind.INCIDENT_CLOSED:
        return f"{category_name(p.get('closing_category'))}: {p.get('resolution', '')}"
    if kind in (Kind.INCIDENT_REOPENED,):
        return str(p.get("reason", ""))
    if kind == Kind.LOG_ADDED:
        behalf = f" (on behalf of {p['on_behalf_of']})" if p.get("on_behalf_of") else ""
        return f"{p.get('text', '')}{behalf}"
    if kind == Kind.LOG_AMENDED:
        return f"{p.get('text', '')} (reason: {p.get('reason', '')})"
    if kind == Kind.DECISION_RECORDED:
        by = f" (decided by {p['decided_by']})" if p.get("decided_by") else ""
        return f"{p.get('decision', '')}. Rationale: {p.get('rationale', '')}{by}"
    if kind == Kind.ASSIGNMENT_MADE:
        note = f": {p['note']}" if p.get("note") else ""
        return f"{team_name(str(p.get('team', '')))}{note}"
    if kind == Kind.ASSIGNMENT_STATUS:
        code = team_of.get(str(p.get("assignment_id", "")), "")
        note = f": {p['note']}" if p.get("note") else ""
        status = AssignmentStatus(p["status"]).label if p.get("status") else ""
        return f"{team_name(code) if code else 'A team'} {status}{note}"
    if kind == Kind.ASSIGNMENT_WITHDRAWN:
        code = team_of.get(str(p.get("assignment_id", "")), "")
        return f"{team_name(code) if code else 'A team'} withdrawn: {p.get('reason', '')}"
    if kind == Kind.CONFLICT_RESOLVED:
        reason = f" ({p['reason']})" if p.get("reason") else ""
        return (
            f"{str(p.get('field', '')).replace('_', ' ')} → {_value_text(p.get('value'))}{reason}"
        )
    if kind in SHIFT_KINDS:
        note = p.get("note") or ""
        what = f"the {p.get('shift', '')} shift of {p.get('shift_date', '')}"
        return f"{what}: {note}" if note else what
    if kind in EXERCISE_KINDS:
        return _exercise_text(kind, p)
    return f"{kind}: {p}"


def _exercise_text(kind: str, p: Mapping[str, Any]) -> str:
    """An exercise's own events in words (shift logs and after-action reports alike)."""
    if kind == Kind.EXERCISE_STARTED:
        return f"{p.get('scenario')} ({p.get('injects')} injects), codeword {p.get('codeword')}"
    if kind == Kind.EXERCISE_SPEED_CHANGED:
        return f"the exercise clock now runs at {p.get('speed')}×"
    if kind == Kind.EXERCISE_MESSAGE:
        return f"to the players: {p.get('text')}"
    if kind == Kind.EXERCISE_INJECT_RELEASED:
        early = " (released early)" if p.get("early") else ""
        return f"inject {p.get('inject')} ({p.get('at')}){early}: {p.get('title')}"
    if kind == Kind.EXERCISE_STOPPED:
        why = "STOPPED FOR A REAL EMERGENCY" if p.get("emergency") else "ended"
        return f"{why}: {p.get('reason')}"
    return "the exercise clock " + ("stopped" if kind == Kind.EXERCISE_PAUSED else "runs again")
