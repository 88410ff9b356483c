"""The projection: a pure, deterministic fold from an incident's events to its state.

The fold sorts events by (clock, workstation, id), with ``incident.opened`` first, so the same
set of events gives the same state whatever order they arrived in. Single-value fields are
last-writer-wins by that order, but an update whose ``base`` is not the value it replaced was
made without seeing it: both values are kept as a conflict for a person to resolve. Log entries
and decisions only ever add. Status follows the lifecycle; concurrent transitions are settled
by precedence (further along the lifecycle wins), and reopening needs its own event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from osc_console.models.agencies import Classification
from osc_console.models.events import Event
from osc_console.models.incident import (
    ASSIGNMENT_TRANSITIONS,
    STATUS_TRANSITIONS,
    AssignmentStatus,
    Status,
)
from osc_console.models.payloads import UPDATABLE_FIELDS, Kind, is_known
from osc_console.models.reference import ReferenceData


@dataclass(slots=True)
class Stamped:
    """A field value and the event that set it (its stamp, which later updates cite as base)."""

    value: Any
    event_id: str
    hlc: str
    workstation: str
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "event_id": self.event_id,
            "hlc": self.hlc,
            "workstation": self.workstation,
            "actor": self.actor,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stamped:
        return cls(data["value"], data["event_id"], data["hlc"], data["workstation"], data["actor"])

    @classmethod
    def of(cls, value: Any, event: Event) -> Stamped:
        return cls(value, event.id, event.hlc, event.workstation, event.actor)


@dataclass(slots=True)
class AssignmentState:
    id: str
    team: str
    agency: str | None
    status: str
    made_event: str
    made_by: str
    times: dict[str, str] = field(default_factory=dict)
    status_event: str = ""
    note: str | None = None

    @property
    def is_active(self) -> bool:
        return AssignmentStatus(self.status).is_active

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team": self.team,
            "agency": self.agency,
            "status": self.status,
            "made_event": self.made_event,
            "made_by": self.made_by,
            "times": dict(self.times),
            "status_event": self.status_event,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssignmentState:
        return cls(
            data["id"],
            data["team"],
            data["agency"],
            data["status"],
            data["made_event"],
            data["made_by"],
            dict(data["times"]),
            data["status_event"],
            data.get("note"),
        )


@dataclass(slots=True)
class IncidentState:
    id: str
    ref: str = ""
    realm: str = "live"
    visibility: str = "joint"
    classification: str = Classification.OFFICIAL.value
    opened: bool = False
    opened_at: str = ""
    opened_event: str = ""
    opened_by: str = ""
    opened_agency: str = ""
    opened_workstation: str = ""
    fields: dict[str, Stamped] = field(default_factory=dict)
    status: str = Status.OPEN.value
    status_event: str = ""
    closing_category: str | None = None
    resolution: str | None = None
    closed_at: str | None = None
    reopen_count: int = 0
    assignments: dict[str, AssignmentState] = field(default_factory=dict)
    conflicts: dict[str, list[Stamped]] = field(default_factory=dict)
    log_count: int = 0
    decision_count: int = 0
    amendment_count: int = 0
    event_count: int = 0
    last_key: tuple[str, str, str] = ("", "", "")
    last_recorded_at: str = ""
    # Linked incidents, an add/remove set: link entry id -> the other incident's id, and the
    # link entries removed (kept so that a link folded after its removal stays removed).
    links: dict[str, str] = field(default_factory=dict)
    unlinked: set[str] = field(default_factory=set)

    # ---- reading -------------------------------------------------------------------------
    def value(self, name: str) -> Any:
        stamped = self.fields.get(name)
        return None if stamped is None else stamped.value

    def stamp_of(self, name: str) -> str | None:
        stamped = self.fields.get(name)
        return None if stamped is None else stamped.event_id

    def active_assignments(self) -> list[AssignmentState]:
        return [a for a in self.assignments.values() if a.is_active]

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED.value

    # ---- folding -------------------------------------------------------------------------
    def apply(self, event: Event, ref: ReferenceData) -> None:
        """Fold one event in. Callers must feed events in :func:`fold_key` order.

        An entry restricted to one organisation on a joint incident (a police-only log line)
        is not folded in: the incident's row is seen by both organisations, so nothing in it
        may depend on what only one of them holds. Such entries show in the timeline of
        those who may see them.
        """
        kind = event.kind
        if kind != _OPENED and self.opened and event.visibility != self.visibility:
            return
        self.event_count += 1
        if kind != _OPENED:
            key = (event.hlc, event.workstation, event.id)  # event.order_key, built inline
            self.last_key = max(self.last_key, key)
        self.last_recorded_at = max(self.last_recorded_at, event.recorded_at)
        classification = event.classification
        if (
            classification != self.classification
            and _CLASSIFICATION_RANK[classification] > _CLASSIFICATION_RANK[self.classification]
        ):
            self.classification = classification
        # A newer schema of a known kind is kept in the log and shown generically; only the
        # versions this program understands are folded.
        handler = _HANDLERS.get(kind) if is_known(kind, event.schema) else None  # type: ignore[call-overload]
        if handler is not None:
            handler(self, event, ref)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ref": self.ref,
            "realm": self.realm,
            "visibility": self.visibility,
            "classification": self.classification,
            "opened": self.opened,
            "opened_at": self.opened_at,
            "opened_event": self.opened_event,
            "opened_by": self.opened_by,
            "opened_agency": self.opened_agency,
            "opened_workstation": self.opened_workstation,
            # Most fields share one stamp (the opening): each stamp is written once.
            "fields": {k: [v.value, v.event_id] for k, v in sorted(self.fields.items())},
            "stamps": {v.event_id: [v.hlc, v.workstation, v.actor] for v in self.fields.values()},
            "status": self.status,
            "status_event": self.status_event,
            "closing_category": self.closing_category,
            "resolution": self.resolution,
            "closed_at": self.closed_at,
            "reopen_count": self.reopen_count,
            "assignments": {k: v.to_dict() for k, v in sorted(self.assignments.items())},
            "conflicts": {
                k: [c.to_dict() for c in v] for k, v in sorted(self.conflicts.items()) if v
            },
            "log_count": self.log_count,
            "decision_count": self.decision_count,
            "amendment_count": self.amendment_count,
            "event_count": self.event_count,
            "last_key": list(self.last_key),
            "last_recorded_at": self.last_recorded_at,
            # Only when used, so that the stored state of an incident never linked is the
            # same text as before links existed.
            **({"links": dict(sorted(self.links.items()))} if self.links else {}),
            **({"unlinked": sorted(self.unlinked)} if self.unlinked else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IncidentState:
        state = cls(id=data["id"])
        for name in (
            "ref",
            "realm",
            "visibility",
            "classification",
            "opened",
            "opened_at",
            "opened_event",
            "opened_by",
            "opened_agency",
            "opened_workstation",
            "status",
            "status_event",
            "closing_category",
            "resolution",
            "closed_at",
            "reopen_count",
            "log_count",
            "decision_count",
            "amendment_count",
            "event_count",
            "last_recorded_at",
        ):
            setattr(state, name, data[name])
        stamps = data["stamps"]
        state.fields = {
            k: Stamped(value, event_id, *stamps[event_id])
            for k, (value, event_id) in data["fields"].items()
        }
        state.assignments = {
            k: AssignmentState.from_dict(v) for k, v in data["assignments"].items()
        }
        state.conflicts = {
            k: [Stamped.from_dict(c) for c in v] for k, v in data["conflicts"].items()
        }
        last = data["last_key"]
        state.last_key = (last[0], last[1], last[2])
        state.links = dict(data.get("links", {}))
        state.unlinked = set(data.get("unlinked", ()))
        return state

    def linked_incidents(self) -> set[str]:
        """The ids of the incidents this one links to (each once, however often linked)."""
        return set(self.links.values())


_CLASSIFICATION_RANK = {c.value: c.rank for c in Classification}
_OPENED: str = Kind.INCIDENT_OPENED.value


def fold_key(event: Event) -> tuple[int, str, str, str]:
    """The total order of the fold: the opening first, then clock, workstation, id."""
    return (0 if event.kind == _OPENED else 1, event.hlc, event.workstation, event.id)


def fold(
    events: Iterable[Event], ref: ReferenceData, *, presorted: bool = False
) -> IncidentState | None:
    """The state of one incident from its events, in whatever order they are given."""
    ordered = list(events) if presorted else sorted(events, key=fold_key)
    if not ordered:
        return None
    incident_id = ordered[0].incident_id
    if incident_id is None:
        raise ValueError("fold() takes the events of one incident")
    state = IncidentState(id=incident_id)
    for event in ordered:
        if event.incident_id != incident_id:
            raise ValueError("fold() takes the events of one incident")
        state.apply(event, ref)
    return state


# ---- handlers, one per kind ----------------------------------------------------------------


def _opened(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    payload = event.payload
    state.opened = True
    state.ref = payload["ref"]
    state.realm = event.realm
    state.visibility = event.visibility
    state.opened_at = event.occurred_at
    state.opened_event = event.id
    state.opened_by = event.actor
    state.opened_agency = event.agency
    state.opened_workstation = event.workstation
    for name in UPDATABLE_FIELDS:
        # A field set by an update that sorted before the opening (a far-behind clock) stands.
        if name not in state.fields:
            state.fields[name] = Stamped.of(payload.get(name), event)
    if not state.status_event:
        state.status_event = event.id


def _updated(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    for name, value in event.payload["changes"].items():
        _set_field(state, name, value, event)


def _set_field(state: IncidentState, name: str, value: Any, event: Event) -> None:
    current = state.fields.get(name)
    seen = event.base.get(name)
    new = Stamped.of(value, event)
    candidates = state.conflicts.get(name)
    if current is not None and seen != current.event_id:
        # Made without seeing the value it replaces: keep both for a person to choose.
        candidates = state.conflicts.setdefault(name, [])
        if all(c.event_id != current.event_id for c in candidates):
            candidates.append(current)
        candidates.append(new)
    elif candidates and current is not None:
        # An edit of the value it saw supersedes that candidate; the conflict goes on with it.
        state.conflicts[name] = [new if c.event_id == current.event_id else c for c in candidates]
    state.fields[name] = new


def _conflict_resolved(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    name = event.payload["field"]
    seen = set(event.refs)
    unseen = [c for c in state.conflicts.get(name, []) if c.event_id not in seen]
    current = state.fields.get(name)
    if (
        current is not None
        and current.event_id not in seen
        and all(c.event_id != current.event_id for c in unseen)
    ):
        unseen.append(current)  # a value set after the resolver looked: still in conflict
    resolution = Stamped.of(event.payload["value"], event)
    state.fields[name] = resolution
    if unseen:
        state.conflicts[name] = [resolution, *unseen]
    else:
        state.conflicts.pop(name, None)


def _status(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    target = Status(event.payload["status"])
    current = Status(state.status)
    if current is Status.CLOSED:
        return
    concurrent = event.base.get("status") not in (None, state.status_event)
    if target in STATUS_TRANSITIONS[current] or (
        concurrent and target.precedence > current.precedence
    ):
        state.status = target.value
        state.status_event = event.id


def _closed(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    if state.is_closed:
        return  # a concurrent second close: the first in clock order stands, both in the log
    state.status = Status.CLOSED.value
    state.status_event = event.id
    state.closing_category = event.payload["closing_category"]
    state.resolution = event.payload["resolution"]
    state.closed_at = event.occurred_at


def _reopened(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    if not state.is_closed:
        return  # a concurrent second reopen changes nothing more
    state.status = Status.OPEN.value
    state.status_event = event.id
    state.closing_category = None
    state.resolution = None
    state.closed_at = None
    state.reopen_count += 1
    if state.active_assignments():
        state.status = Status.ASSIGNED.value


def _log_added(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    state.log_count += 1


def _log_amended(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    state.amendment_count += 1


def _decision(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    state.decision_count += 1


def _assignment_made(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    payload = event.payload
    team = ref.team(payload["team"])
    assignment = AssignmentState(
        id=payload["assignment_id"],
        team=payload["team"],
        agency=team.agency.value if team else None,
        status=AssignmentStatus.ASSIGNED.value,
        made_event=event.id,
        made_by=event.actor,
        times={AssignmentStatus.ASSIGNED.value: event.occurred_at},
        status_event=event.id,
        note=payload.get("note"),
    )
    state.assignments[assignment.id] = assignment
    if state.status == Status.OPEN.value:
        state.status = Status.ASSIGNED.value
        state.status_event = event.id


def _assignment_status(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    assignment = state.assignments.get(event.payload["assignment_id"])
    if assignment is None:
        return  # its assignment.made is not held here; the entry still shows in the timeline
    _move_assignment(assignment, AssignmentStatus(event.payload["status"]), event)
    target = AssignmentStatus(assignment.status)
    if target in (AssignmentStatus.EN_ROUTE, AssignmentStatus.ON_SCENE) and state.status in (
        Status.OPEN.value,
        Status.ASSIGNED.value,
    ):
        state.status = Status.IN_PROGRESS.value
        state.status_event = event.id
    _fall_back_when_unassigned(state, event)


def _assignment_withdrawn(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    assignment = state.assignments.get(event.payload["assignment_id"])
    if assignment is None or not assignment.is_active:
        return
    assignment.status = AssignmentStatus.WITHDRAWN.value
    assignment.status_event = event.id
    assignment.times[AssignmentStatus.WITHDRAWN.value] = event.occurred_at
    _fall_back_when_unassigned(state, event)


def _move_assignment(assignment: AssignmentState, target: AssignmentStatus, event: Event) -> None:
    current = AssignmentStatus(assignment.status)
    concurrent = event.base.get("assignment") not in (None, assignment.status_event)
    order = list(AssignmentStatus)
    if target in ASSIGNMENT_TRANSITIONS[current] or (
        concurrent and current.is_active and order.index(target) > order.index(current)
    ):
        assignment.status = target.value
        assignment.status_event = event.id
        assignment.times.setdefault(target.value, event.occurred_at)


def _fall_back_when_unassigned(state: IncidentState, event: Event) -> None:
    if state.status == Status.ASSIGNED.value and not state.active_assignments():
        state.status = Status.OPEN.value
        state.status_event = event.id


def _linked(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    if event.id not in state.unlinked:
        state.links[event.id] = event.payload["other"]


def _unlinked(state: IncidentState, event: Event, ref: ReferenceData) -> None:
    # Only the link entries its author saw: a concurrent link to the same incident survives.
    for link_id in event.payload["removes"]:
        state.unlinked.add(link_id)
        state.links.pop(link_id, None)


_HANDLERS = {
    Kind.INCIDENT_OPENED: _opened,
    Kind.INCIDENT_UPDATED: _updated,
    Kind.INCIDENT_STATUS: _status,
    Kind.INCIDENT_CLOSED: _closed,
    Kind.INCIDENT_REOPENED: _reopened,
    Kind.LOG_ADDED: _log_added,
    Kind.LOG_AMENDED: _log_amended,
    Kind.DECISION_RECORDED: _decision,
    Kind.ASSIGNMENT_MADE: _assignment_made,
    Kind.ASSIGNMENT_STATUS: _assignment_status,
    Kind.ASSIGNMENT_WITHDRAWN: _assignment_withdrawn,
    Kind.CONFLICT_RESOLVED: _conflict_resolved,
    Kind.INCIDENT_LINKED: _linked,
    Kind.INCIDENT_UNLINKED: _unlinked,
}
