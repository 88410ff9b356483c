"""What may be recorded now: checks of a new local event against the incident as it stands.

Payload shape is checked by :mod:`payloads`; these rules need the current state (is the
incident closed, is this transition allowed, does that assignment exist). They run inside the
store's write transaction, so the state they see is the state the event is appended to.
"""

from __future__ import annotations

from collections.abc import Callable

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.errors import DomainError, NotFoundError, TransitionError, ValidationError
from osc_console.models.events import Author, EventDraft
from osc_console.models.incident import (
    ASSIGNMENT_TRANSITIONS,
    STATUS_TRANSITIONS,
    AssignmentStatus,
    Status,
)
from osc_console.models.payloads import INCIDENT_FREE_KINDS, STATE_KINDS, Kind, check_realm
from osc_console.models.projection import IncidentState

# Kinds still accepted on a closed incident: late notes and decisions are part of the record.
_ALLOWED_WHEN_CLOSED = frozenset(
    {
        Kind.LOG_ADDED,
        Kind.LOG_AMENDED,
        Kind.DECISION_RECORDED,
        Kind.INCIDENT_REOPENED,
        # A closed call is often the first of several about one event: it may join the group.
        Kind.INCIDENT_LINKED,
        Kind.INCIDENT_UNLINKED,
    }
)


EntryLookup = Callable[[str], str | None]


def _no_entries(entry_id: str) -> str | None:
    return None


def check_draft(
    draft: EventDraft,
    author: Author,
    state: IncidentState | None,
    entry_incident: EntryLookup = _no_entries,
) -> None:
    """Raise a DomainError if the draft may not be appended to ``state`` (None: no incident).

    ``entry_incident`` answers which incident a log entry or decision belongs to (None if it
    is not held), so an amendment can only point at an entry of its own incident.
    """
    check_realm(draft.kind, author.realm)
    if not can_see(author.agency, Visibility(draft.visibility)):
        raise ValidationError(
            "visibility",
            f"{author.agency.label} staff cannot record {draft.visibility}-only entries",
        )
    if draft.kind in INCIDENT_FREE_KINDS:
        if draft.incident_id is not None:
            raise ValidationError("incident_id", f"{draft.kind} does not belong to an incident")
        return
    if draft.incident_id is None:
        raise ValidationError("incident_id", f"{draft.kind} needs an incident")
    if draft.kind == Kind.INCIDENT_OPENED:
        if state is not None:
            raise DomainError(f"incident {state.ref} already exists")
        return
    if state is None:
        raise NotFoundError(f"incident: no incident {draft.incident_id} in this store")
    if not can_see(author.agency, Visibility(state.visibility)):
        raise NotFoundError(f"incident: no incident {draft.incident_id} in this store")
    _check_visibility(draft, state)
    if state.is_closed and draft.kind not in _ALLOWED_WHEN_CLOSED:
        raise TransitionError(f"incident {state.ref} is closed: reopen it first")
    if draft.kind == Kind.LOG_AMENDED and entry_incident(draft.payload["amends"]) != state.id:
        raise NotFoundError(
            f"amends: no log entry {draft.payload['amends']} on incident {state.ref}"
        )
    checker = _CHECKS.get(draft.kind)  # type: ignore[call-overload]
    if checker is not None:
        checker(draft, state)


def _check_visibility(draft: EventDraft, state: IncidentState) -> None:
    incident_visibility = Visibility(state.visibility)
    wanted = Visibility(draft.visibility)
    if incident_visibility is not Visibility.JOINT and wanted is not incident_visibility:
        raise ValidationError(
            "visibility",
            f"incident {state.ref} is {incident_visibility.value}-only; "
            f"its entries must be {incident_visibility.value}-only too",
        )
    if draft.kind in STATE_KINDS and wanted is not incident_visibility:
        raise ValidationError(
            "visibility",
            "changes to a joint incident are seen by both organisations; only log entries "
            "and decisions may be restricted",
        )


def _status(draft: EventDraft, state: IncidentState) -> None:
    target = Status(draft.payload["status"])
    current = Status(state.status)
    if target is current:
        raise TransitionError(f"incident {state.ref} is already {current.value}")
    if target not in STATUS_TRANSITIONS[current]:
        allowed = ", ".join(
            s.value for s in sorted(STATUS_TRANSITIONS[current], key=list(Status).index)
        )
        raise TransitionError(
            f"incident {state.ref} cannot go from {current.value} to {target.value}"
            + (f" (allowed: {allowed})" if allowed else "")
        )


def _reopened(draft: EventDraft, state: IncidentState) -> None:
    if not state.is_closed:
        raise TransitionError(f"incident {state.ref} is not closed, so it cannot be reopened")


def _updated(draft: EventDraft, state: IncidentState) -> None:
    changes = draft.payload["changes"]
    if all(state.value(name) == value for name, value in changes.items()):
        raise ValidationError("changes", "nothing would change")


def _assignment_made(draft: EventDraft, state: IncidentState) -> None:
    team = draft.payload["team"]
    for assignment in state.active_assignments():
        if assignment.team == team:
            raise DomainError(f"team {team} is already assigned to incident {state.ref}")
    if draft.payload["assignment_id"] in state.assignments:
        raise DomainError("assignment_id: already used on this incident")


def _assignment_status(draft: EventDraft, state: IncidentState) -> None:
    assignment = state.assignments.get(draft.payload["assignment_id"])
    if assignment is None:
        raise NotFoundError(
            f"assignment: no assignment {draft.payload['assignment_id']} on {state.ref}"
        )
    current = AssignmentStatus(assignment.status)
    target = AssignmentStatus(draft.payload["status"])
    if target not in ASSIGNMENT_TRANSITIONS[current]:
        raise TransitionError(
            f"assignment of {assignment.team} cannot go from {current.label} to {target.label}"
        )


def _assignment_withdrawn(draft: EventDraft, state: IncidentState) -> None:
    assignment = state.assignments.get(draft.payload["assignment_id"])
    if assignment is None:
        raise NotFoundError(
            f"assignment: no assignment {draft.payload['assignment_id']} on {state.ref}"
        )
    if not assignment.is_active:
        raise TransitionError(
            f"assignment of {assignment.team} is {assignment.status} and cannot be withdrawn"
        )


def _conflict_resolved(draft: EventDraft, state: IncidentState) -> None:
    name = draft.payload["field"]
    if not state.conflicts.get(name):
        raise DomainError(f"incident {state.ref} has no conflicting values for {name}")


def _linked(draft: EventDraft, state: IncidentState) -> None:
    other = draft.payload["other"]
    if other == state.id:
        raise ValidationError("other", f"incident {state.ref} cannot be linked to itself")
    if other in state.links.values():
        raise DomainError(f"incident {state.ref} is already linked to {draft.payload['other_ref']}")


def _unlinked(draft: EventDraft, state: IncidentState) -> None:
    other = draft.payload["other"]
    for link_id in draft.payload["removes"]:
        if state.links.get(link_id) != other:
            raise NotFoundError(
                f"removes: {link_id} is not a link from {state.ref} to that incident"
            )


_CHECKS = {
    Kind.INCIDENT_STATUS: _status,
    Kind.INCIDENT_REOPENED: _reopened,
    Kind.INCIDENT_UPDATED: _updated,
    Kind.ASSIGNMENT_MADE: _assignment_made,
    Kind.ASSIGNMENT_STATUS: _assignment_status,
    Kind.ASSIGNMENT_WITHDRAWN: _assignment_withdrawn,
    Kind.CONFLICT_RESOLVED: _conflict_resolved,
    Kind.INCIDENT_LINKED: _linked,
    Kind.INCIDENT_UNLINKED: _unlinked,
}


def agency_of(name: str) -> Agency:
    try:
        return Agency(name)
    except ValueError:
        raise ValidationError(
            "agency", f"{name!r} is not one of {', '.join(a.value for a in Agency)}"
        ) from None
