"""Incident use cases: what a call handler, dispatcher or duty manager asks for, as events.

Each method builds drafts from the incident as it stands (so updates cite the value they saw
as their ``base``), appends them through the store's one door, and returns what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from osc_console.models.agencies import Agency, Classification, Visibility, can_see
from osc_console.models.changes import ChangeSet
from osc_console.models.errors import NotFoundError, ValidationError
from osc_console.models.events import Author, Event, EventDraft
from osc_console.models.ids import is_uuid, uuid7
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState
from osc_console.store.event_store import Store


@dataclass(frozen=True, slots=True)
class Location:
    text: str
    lat: float | None = None
    lon: float | None = None
    camera_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"text": self.text.strip()}
        # Both or neither: one alone is passed on so that validation names the mistake.
        if self.lat is not None:
            payload["lat"] = self.lat
        if self.lon is not None:
            payload["lon"] = self.lon
        if self.camera_id:
            payload["camera_id"] = self.camera_id
        return payload


@dataclass(frozen=True, slots=True)
class NewIncident:
    summary: str
    category: str
    source: str
    location: Location
    lead_agency: Agency
    grade: str | None = None
    council_priority: str | None = None
    caller: Mapping[str, str] | None = None
    visibility: Visibility = Visibility.JOINT
    classification: Classification = Classification.OFFICIAL
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The incident after the operation, the events written, and what changed."""

    incident: IncidentState
    events: tuple[Event, ...]
    changes: ChangeSet


class IncidentService:
    def __init__(self, store: Store, author: Author) -> None:
        self.store = store
        self.author = author

    # ---- finding -------------------------------------------------------------------------
    def find(self, ref_or_id: str) -> IncidentState:
        """An incident by reference or id; unknown or not visible reads the same way."""
        key = ref_or_id.strip()
        state = self.store.incident(key) if is_uuid(key) else self.store.incident_by_ref(key)
        if state is None or not _visible(self.author.agency, state.visibility):
            raise NotFoundError(f"incident: no incident {key} in this store")
        return state

    # ---- call handling -------------------------------------------------------------------
    def open_incident(self, new: NewIncident) -> Outcome:
        location = self._with_gazetteer(new.location)
        payload: dict[str, Any] = {
            "ref": None,  # allocated by the store inside the write transaction
            "summary": new.summary.strip(),
            "category": new.category,
            "source": new.source,
            "location": location.to_payload(),
            "lead_agency": Agency(new.lead_agency).value,
            "grade": new.grade or None,
            "council_priority": new.council_priority or None,
            "caller": _clean_caller(new.caller),
        }
        draft = EventDraft(
            Kind.INCIDENT_OPENED,
            payload,
            incident_id=uuid7(),
            visibility=new.visibility,
            classification=new.classification,
            occurred_at=new.occurred_at,
        )
        return self._write([draft])

    def add_log(
        self,
        incident: str,
        text: str,
        *,
        occurred_at: str | None = None,
        on_behalf_of: str | None = None,
        visibility: Visibility | None = None,
        classification: Classification = Classification.OFFICIAL,
    ) -> Outcome:
        state = self.find(incident)
        payload = {"text": text.strip(), "on_behalf_of": (on_behalf_of or "").strip() or None}
        draft = EventDraft(
            Kind.LOG_ADDED,
            payload,
            incident_id=state.id,
            visibility=visibility or Visibility(state.visibility),
            classification=classification,
            occurred_at=occurred_at,
        )
        return self._write([draft])

    def amend_log(self, incident: str, entry_id: str, text: str, reason: str) -> Outcome:
        state = self.find(incident)
        original = self.store.event(entry_id)
        if original is None or original.incident_id != state.id:
            raise NotFoundError(f"amends: no log entry {entry_id} on incident {state.ref}")
        draft = EventDraft(
            Kind.LOG_AMENDED,
            {"amends": entry_id, "text": text.strip(), "reason": reason.strip()},
            incident_id=state.id,
            visibility=Visibility(original.visibility),
            classification=Classification(original.classification),
            refs=(entry_id,),
        )
        return self._write([draft])

    def record_decision(
        self, incident: str, decision: str, rationale: str, decided_by: str | None = None
    ) -> Outcome:
        state = self.find(incident)
        draft = EventDraft(
            Kind.DECISION_RECORDED,
            {
                "decision": decision.strip(),
                "rationale": rationale.strip(),
                "decided_by": (decided_by or "").strip() or None,
            },
            incident_id=state.id,
            visibility=Visibility(state.visibility),
        )
        return self._write([draft])

    # ---- changing the incident -----------------------------------------------------------
    def update(self, incident: str, changes: Mapping[str, Any]) -> Outcome:
        """Change single-value fields; each cites the value the operator saw."""
        state = self.find(incident)
        clean = dict(changes)
        if "location" in clean and isinstance(clean["location"], Location):
            clean["location"] = self._with_gazetteer(clean["location"]).to_payload()
        base = {name: stamp for name in clean if (stamp := state.stamp_of(name)) is not None}
        draft = EventDraft(
            Kind.INCIDENT_UPDATED,
            {"changes": clean},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
        return self._write([draft])

    def change_grade(self, incident: str, grade: str) -> Outcome:
        return self.update(incident, {"grade": grade})

    def set_status(self, incident: str, status: str, reason: str | None = None) -> Outcome:
        state = self.find(incident)
        return self._write([self._status_draft(state, status, reason)])

    def close(self, incident: str, closing_category: str, resolution: str) -> Outcome:
        state = self.find(incident)
        draft = EventDraft(
            Kind.INCIDENT_CLOSED,
            {"closing_category": closing_category, "resolution": resolution.strip()},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base={"status": state.status_event},
        )
        return self._write([draft])

    def reopen(self, incident: str, reason: str) -> Outcome:
        state = self.find(incident)
        draft = EventDraft(
            Kind.INCIDENT_REOPENED,
            {"reason": reason.strip()},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base={"status": state.status_event},
        )
        return self._write([draft])

    def resolve_conflict(
        self, incident: str, field: str, value: Any, reason: str | None = None
    ) -> Outcome:
        state = self.find(incident)
        candidates = state.conflicts.get(field, [])
        seen = [c.event_id for c in candidates]
        if (current := state.stamp_of(field)) is not None:
            seen.append(current)
        draft = EventDraft(
            Kind.CONFLICT_RESOLVED,
            {"field": field, "value": value, "reason": reason},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            refs=tuple(seen),
        )
        return self._write([draft])

    # ---- teams ---------------------------------------------------------------------------
    def assign(self, incident: str, team: str, note: str | None = None) -> Outcome:
        state = self.find(incident)
        draft = EventDraft(
            Kind.ASSIGNMENT_MADE,
            {"assignment_id": uuid7(), "team": team, "note": (note or "").strip() or None},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
        )
        return self._write([draft])

    def update_assignment(
        self, incident: str, assignment_id: str, status: str, note: str | None = None
    ) -> Outcome:
        state = self.find(incident)
        assignment = state.assignments.get(assignment_id)
        base = {"assignment": assignment.status_event} if assignment else {}
        draft = EventDraft(
            Kind.ASSIGNMENT_STATUS,
            {
                "assignment_id": assignment_id,
                "status": status,
                "note": (note or "").strip() or None,
            },
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
        return self._write([draft])

    def withdraw_assignment(self, incident: str, assignment_id: str, reason: str) -> Outcome:
        state = self.find(incident)
        assignment = state.assignments.get(assignment_id)
        base = {"assignment": assignment.status_event} if assignment else {}
        draft = EventDraft(
            Kind.ASSIGNMENT_WITHDRAWN,
            {"assignment_id": assignment_id, "reason": reason.strip()},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base=base,
        )
        return self._write([draft])

    # ---- linked incidents (a major-incident group) ------------------------------------------
    def link(self, incident: str, other: str, note: str | None = None) -> Outcome:
        """Link two incidents (several calls about one event); recorded on ``incident``."""
        state, target = self.find(incident), self.find(other)
        if target.visibility not in (Visibility.JOINT.value, state.visibility):
            # Everyone who sees this incident would see the other's reference in the link.
            raise ValidationError(
                "other",
                f"{target.ref} is {target.visibility}-only and cannot be linked to "
                f"{state.ref}, which is {state.visibility}",
            )
        if state.id in target.linked_incidents():
            raise ValidationError("other", f"{target.ref} is already linked to {state.ref}")
        draft = EventDraft(
            Kind.INCIDENT_LINKED,
            {"other": target.id, "other_ref": target.ref, "note": (note or "").strip() or None},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
        )
        return self._write([draft])

    def unlink(self, incident: str, other: str, reason: str) -> Outcome:
        """Remove the links between two incidents that this desk holds, from either end.

        Each removal names the link entries it saw, so a link made at the same time on
        another workstation survives (an add/remove set).
        """
        state, target = self.find(incident), self.find(other)
        drafts = []
        for holder, to in ((target, state), (state, target)):
            seen = sorted(k for k, v in holder.links.items() if v == to.id)
            if seen:
                drafts.append(
                    EventDraft(
                        Kind.INCIDENT_UNLINKED,
                        {"other": to.id, "removes": seen, "reason": reason.strip()},
                        incident_id=holder.id,
                        visibility=Visibility(holder.visibility),
                        refs=tuple(seen),
                    )
                )
        if not drafts:
            raise NotFoundError(f"other: {target.ref} is not linked to {state.ref}")
        return self._write(drafts)

    # ---- helpers -------------------------------------------------------------------------
    def _status_draft(self, state: IncidentState, status: str, reason: str | None) -> EventDraft:
        return EventDraft(
            Kind.INCIDENT_STATUS,
            {"status": status, "reason": (reason or "").strip() or None},
            incident_id=state.id,
            visibility=Visibility(state.visibility),
            base={"status": state.status_event},
        )

    def _write(self, drafts: list[EventDraft]) -> Outcome:
        events, changes = self.store.append_many(drafts, self.author)
        incident_id = events[-1].incident_id
        state = self.store.incident(incident_id) if incident_id else None
        if state is None:
            raise ValidationError("incident", "was not recorded")
        return Outcome(state, tuple(events), changes)

    def _with_gazetteer(self, location: Location) -> Location:
        """Fill coordinates from the gazetteer when the operator picked a known place."""
        if location.lat is not None or location.lon is not None:
            return location
        place = self.store.reference.places.get(location.text.strip())
        if place is None:
            return location
        camera = location.camera_id or None
        return Location(place.name, place.lat, place.lon, camera)


def incident_summary(state: IncidentState) -> dict[str, Any]:
    """The stable, documented shape scripts receive for an incident (``--json``)."""
    location = state.value("location") or {}
    return {
        "id": state.id,
        "ref": state.ref,
        "realm": state.realm,
        "status": state.status,
        "summary": state.value("summary"),
        "category": state.value("category"),
        "grade": state.value("grade"),
        "council_priority": state.value("council_priority"),
        "source": state.value("source"),
        "location": dict(location),
        "lead_agency": state.value("lead_agency"),
        "visibility": state.visibility,
        "classification": state.classification,
        "opened_at": state.opened_at,
        "opened_by": state.opened_by,
        "workstation": state.opened_workstation,
        "closing_category": state.closing_category,
        "resolution": state.resolution,
        "closed_at": state.closed_at,
        "assignments": [
            {
                "id": a.id,
                "team": a.team,
                "agency": a.agency,
                "status": a.status,
                "times": dict(a.times),
            }
            for a in state.assignments.values()
        ],
        "log_entries": state.log_count,
        "decisions": state.decision_count,
        "amendments": state.amendment_count,
        "conflicts": {
            name: [{"value": c.value, "actor": c.actor, "workstation": c.workstation} for c in cs]
            for name, cs in state.conflicts.items()
        },
    }


def _clean_caller(caller: Mapping[str, str] | None) -> dict[str, str] | None:
    if not caller:
        return None
    clean = {k: v.strip() for k, v in caller.items() if v and v.strip()}
    return clean or None


def _visible(agency: Agency, visibility: str) -> bool:
    return can_see(agency, Visibility(visibility))
