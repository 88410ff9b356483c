"""Payload schemas, one per event kind and version, checked the same way on client and server.

Each schema lists its fields with a checker; a failure names the field as ``payload.<name>``
so the operator (or the integrator reading an API reply) knows what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.clock import is_iso_utc
from osc_console.models.errors import ValidationError
from osc_console.models.ids import is_uuid
from osc_console.models.incident import (
    REF_PATTERN,
    AssignmentStatus,
    CouncilPriority,
    Grade,
    Source,
    Status,
)
from osc_console.models.reference import ReferenceData
from osc_console.models.scenario import InjectKind

MAX_SUMMARY = 500
MAX_TEXT = 10_000
MAX_SHORT = 200

Checker = Callable[[Any, ReferenceData], None]


class Kind(StrEnum):
    INCIDENT_OPENED = "incident.opened"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_STATUS = "incident.status"
    INCIDENT_CLOSED = "incident.closed"
    INCIDENT_REOPENED = "incident.reopened"
    LOG_ADDED = "log.added"
    LOG_AMENDED = "log.amended"
    DECISION_RECORDED = "decision.recorded"
    ASSIGNMENT_MADE = "assignment.made"
    ASSIGNMENT_STATUS = "assignment.status"
    ASSIGNMENT_WITHDRAWN = "assignment.withdrawn"
    CONFLICT_RESOLVED = "conflict.resolved"
    SHIFT_SIGNED_OFF = "shift.signed_off"
    SHIFT_HANDOVER = "shift.handover"
    SHIFT_HANDOVER_ACKNOWLEDGED = "shift.handover_acknowledged"
    EXERCISE_STARTED = "exercise.started"
    EXERCISE_PAUSED = "exercise.paused"
    EXERCISE_RESUMED = "exercise.resumed"
    EXERCISE_SPEED_CHANGED = "exercise.speed_changed"
    EXERCISE_INJECT_RELEASED = "exercise.inject_released"
    EXERCISE_MESSAGE = "exercise.message"
    EXERCISE_STOPPED = "exercise.stopped"
    INCIDENT_LINKED = "incident.linked"
    INCIDENT_UNLINKED = "incident.unlinked"
    # The audit trail of who was at the keyboard (never part of an incident's log).
    SESSION_SIGNED_IN = "session.signed_in"
    SESSION_SIGNED_OUT = "session.signed_out"
    SESSION_LOCKED = "session.locked"
    SESSION_UNLOCKED = "session.unlocked"
    SESSION_SIGN_IN_FAILED = "session.sign_in_failed"
    # An administrator's change to an account or a workstation, as made from their console.
    ACCOUNT_CHANGED = "account.changed"


# Kinds that change what an incident *is*; on a joint incident these stay joint, so every
# organisation that can see the incident folds the same state.
STATE_KINDS = frozenset(
    {
        Kind.INCIDENT_UPDATED,
        Kind.INCIDENT_STATUS,
        Kind.INCIDENT_CLOSED,
        Kind.INCIDENT_REOPENED,
        Kind.ASSIGNMENT_MADE,
        Kind.ASSIGNMENT_STATUS,
        Kind.ASSIGNMENT_WITHDRAWN,
        Kind.CONFLICT_RESOLVED,
        Kind.INCIDENT_LINKED,
        Kind.INCIDENT_UNLINKED,
    }
)

# Fields an ``incident.updated`` may change; each is a single value with last-writer-wins.
UPDATABLE_FIELDS = (
    "summary",
    "category",
    "grade",
    "council_priority",
    "location",
    "lead_agency",
    "source",
    "caller",
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    check: Checker
    required: bool = True
    nullable: bool = False


def _text(limit: int, *, allow_empty: bool = False) -> Checker:
    def check(value: Any, _: ReferenceData) -> None:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if not allow_empty and not value.strip():
            raise ValueError("must not be empty")
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters; the limit is {limit}")

    return check


def _choice(enum: type[StrEnum]) -> Checker:
    values = [m.value for m in enum]

    def check(value: Any, _: ReferenceData) -> None:
        if value not in values:
            raise ValueError(f"{value!r} is not one of {', '.join(values)}")

    return check


def _uuid(value: Any, _: ReferenceData) -> None:
    if not is_uuid(value):
        raise ValueError("must be an id (UUID)")


def _iso(value: Any, _: ReferenceData) -> None:
    if not is_iso_utc(value):
        raise ValueError("must be an ISO 8601 UTC time")


def _ref(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, str) or not REF_PATTERN.match(value):
        raise ValueError("must look like 20261122-CR1-0007")


def _category(*, opening: bool) -> Checker:
    def check(value: Any, ref: ReferenceData) -> None:
        category = ref.categories.get(value) if isinstance(value, str) else None
        if category is None:
            raise ValueError(f"unknown category {value!r}")
        if opening and not category.opening:
            raise ValueError(f"{value!r} is a closing category, not one to open an incident with")
        if not opening and not category.closing:
            raise ValueError(f"{value!r} is an opening category, not a closing one")

    return check


def _team(value: Any, ref: ReferenceData) -> None:
    if not isinstance(value, str) or value not in ref.teams:
        raise ValueError(f"unknown team {value!r}")


def _location(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, Mapping):
        raise ValueError("must be an object with text and optional lat, lon, camera_id")
    text = value.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must not be empty")
    if len(text) > MAX_SHORT:
        raise ValueError(f"text is {len(text)} characters; the limit is {MAX_SHORT}")
    unknown = set(value) - {"text", "lat", "lon", "camera_id"}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    lat: Any = value.get("lat")
    lon: Any = value.get("lon")
    if (lat is None) != (lon is None):
        raise ValueError("give both lat and lon, or neither")
    if lat is not None:
        if not _is_number(lat) or not -90 <= lat <= 90:
            raise ValueError("lat must be a number from -90 to 90")
        if not _is_number(lon) or not -180 <= lon <= 180:
            raise ValueError("lon must be a number from -180 to 180")
    camera = value.get("camera_id")
    if camera is not None and (not isinstance(camera, str) or not camera.strip()):
        raise ValueError("camera_id must be text")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


CALLER_FIELDS = ("name", "phone", "address", "notes")


def _caller(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, Mapping):
        raise ValueError("must be an object with name, phone, address, notes")
    unknown = set(value) - set(CALLER_FIELDS)
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    for name in CALLER_FIELDS:
        item = value.get(name)
        if item is not None and (not isinstance(item, str) or len(item) > MAX_SHORT):
            raise ValueError(f"{name} must be text of at most {MAX_SHORT} characters")


def _changes(value: Any, ref: ReferenceData) -> None:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must name at least one field to change")
    for name, item in value.items():
        spec = _UPDATABLE.get(name)
        if spec is None:
            raise ValueError(f"{name!r} cannot be changed this way")
        if item is None and spec.nullable:
            continue
        try:
            spec.check(item, ref)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None


_UPDATABLE: dict[str, FieldSpec] = {
    "summary": FieldSpec("summary", _text(MAX_SUMMARY)),
    "category": FieldSpec("category", _category(opening=True)),
    "grade": FieldSpec("grade", _choice(Grade), nullable=True),
    "council_priority": FieldSpec("council_priority", _choice(CouncilPriority), nullable=True),
    "location": FieldSpec("location", _location),
    "lead_agency": FieldSpec("lead_agency", _choice(Agency)),
    "source": FieldSpec("source", _choice(Source)),
    "caller": FieldSpec("caller", _caller, nullable=True),
}

_ASSIGNMENT_UPDATES = [s for s in AssignmentStatus if s not in (AssignmentStatus.ASSIGNED,)]


def _assignment_status(value: Any, _: ReferenceData) -> None:
    if value not in {s.value for s in _ASSIGNMENT_UPDATES if s is not AssignmentStatus.WITHDRAWN}:
        allowed = ", ".join(
            s.value
            for s in _ASSIGNMENT_UPDATES
            if s.is_active or s.value in {"completed", "declined"}
        )
        raise ValueError(f"{value!r} is not one of {allowed}")


def _status(value: Any, _: ReferenceData) -> None:
    allowed = [s.value for s in Status if s is not Status.CLOSED]
    if value not in allowed:
        raise ValueError(
            f"{value!r} is not one of {', '.join(allowed)} "
            "(close and reopen have their own actions)"
        )


def _field_name(value: Any, _: ReferenceData) -> None:
    if value not in UPDATABLE_FIELDS:
        raise ValueError(f"{value!r} is not a field that can be in conflict")


MAX_UNLINKS = 1000


def _link_ids(value: Any, _: ReferenceData) -> None:
    """The ``incident.linked`` events an unlink removes: the adds its author saw (SYNC.md)."""
    if not isinstance(value, list) or not value:
        raise ValueError("must list the link entries removed (at least one id)")
    if len(value) > MAX_UNLINKS:
        raise ValueError(f"lists {len(value)} links; the limit is {MAX_UNLINKS}")
    for item in value:
        if not is_uuid(item):
            raise ValueError(f"{item!r} is not an id (UUID) of an incident.linked entry")
    if len(set(value)) != len(value):
        raise ValueError("names the same link entry twice")


def _any(value: Any, _: ReferenceData) -> None:
    return None


_SHIFT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The format of a shift name, not membership of one roster: patterns are configured per
# room (shifts.toml), and an event from a room with another roster must still be accepted.
_SHIFT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def _shift_date(value: Any, ref: ReferenceData) -> None:
    _text(10)(value, ref)
    try:
        if not _SHIFT_DATE.match(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date like 2026-11-22") from None


def _shift_name(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, str) or not _SHIFT_NAME.match(value):
        raise ValueError("must be a shift name such as early, late or night")


def _shift_fields(note: FieldSpec) -> tuple[FieldSpec, ...]:
    return (FieldSpec("shift_date", _shift_date), FieldSpec("shift", _shift_name), note)


MAX_SPEED = 10_000_000.0  # the exercise clock's fastest speed (tests play 40 min in ms)
MAX_EXERCISE_SECONDS = 7 * 24 * 3600  # a week of exercise time is more than any exercise


def _speed(value: Any, _: ReferenceData) -> None:
    if not _is_number(value) or not 0 < value <= MAX_SPEED:
        raise ValueError(f"must be a number more than 0 and at most {MAX_SPEED:g}")


def _exercise_seconds(value: Any, _: ReferenceData) -> None:
    if not _is_number(value) or not 0 <= value <= MAX_EXERCISE_SECONDS:
        raise ValueError(f"must be seconds of exercise time from 0 to {MAX_EXERCISE_SECONDS}")


def _count(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
        raise ValueError("must be a whole number from 0")


def _inject_number(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
        raise ValueError("must be an inject number from 1")


def _flag(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")


def _inject_kind(value: Any, _: ReferenceData) -> None:
    allowed = tuple(kind.value for kind in InjectKind)
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")


def _offset_label(value: Any, ref: ReferenceData) -> None:
    _text(20)(value, ref)
    if not re.match(r"^T\+\d+:\d{2}(:\d{2})?$", value):
        raise ValueError("must be an exercise time like T+04:30")


class SignInMethod(StrEnum):
    """How a person proved who they are at the workstation."""

    ONLINE = "online"  # the server checked the password and issued a grant
    OFFLINE = "offline"  # the server was unreachable: the password unlocked the held key
    STANDALONE = "standalone"  # no server: the workstation is its own authority
    BREAK_GLASS = "break_glass"  # the room's emergency account, every use recorded


class SignOutReason(StrEnum):
    SIGNED_OUT = "signed_out"
    SWITCHED = "switched"  # another operator took the desk without a restart
    CLOSED = "closed"  # the console was closed


class LockReason(StrEnum):
    IDLE = "idle"
    MANUAL = "manual"


def _user_name(value: Any, _: ReferenceData) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SHORT:
        raise ValueError(f"must be a user name of 1 to {MAX_SHORT} characters")


def _clock_fields() -> tuple[FieldSpec, ...]:
    """Every lifecycle event says where the exercise clock stood, so a player's console
    (and the after-action) can rebuild the clock from the events alone."""
    return (FieldSpec("exercise_seconds", _exercise_seconds), FieldSpec("speed", _speed))


SCHEMAS: dict[str, dict[int, tuple[FieldSpec, ...]]] = {
    Kind.INCIDENT_OPENED: {
        1: (
            FieldSpec("ref", _ref),
            FieldSpec("summary", _text(MAX_SUMMARY)),
            FieldSpec("category", _category(opening=True)),
            FieldSpec("source", _choice(Source)),
            FieldSpec("grade", _choice(Grade), required=False, nullable=True),
            FieldSpec("council_priority", _choice(CouncilPriority), required=False, nullable=True),
            FieldSpec("location", _location),
            FieldSpec("lead_agency", _choice(Agency)),
            FieldSpec("caller", _caller, required=False, nullable=True),
        )
    },
    Kind.INCIDENT_UPDATED: {1: (FieldSpec("changes", _changes),)},
    Kind.INCIDENT_STATUS: {
        1: (
            FieldSpec("status", _status),
            FieldSpec("reason", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    Kind.INCIDENT_CLOSED: {
        1: (
            FieldSpec("closing_category", _category(opening=False)),
            FieldSpec("resolution", _text(MAX_TEXT)),
        )
    },
    Kind.INCIDENT_REOPENED: {1: (FieldSpec("reason", _text(MAX_TEXT)),)},
    Kind.LOG_ADDED: {
        1: (
            FieldSpec("text", _text(MAX_TEXT)),
            FieldSpec("on_behalf_of", _text(MAX_SHORT), required=False, nullable=True),
        )
    },
    Kind.LOG_AMENDED: {
        1: (
            FieldSpec("amends", _uuid),
            FieldSpec("text", _text(MAX_TEXT)),
            FieldSpec("reason", _text(MAX_TEXT)),
        )
    },
    Kind.DECISION_RECORDED: {
        1: (
            FieldSpec("decision", _text(MAX_TEXT)),
            FieldSpec("rationale", _text(MAX_TEXT)),
            FieldSpec("decided_by", _text(MAX_SHORT), required=False, nullable=True),
        )
    },
    Kind.ASSIGNMENT_MADE: {
        1: (
            FieldSpec("assignment_id", _uuid),
            FieldSpec("team", _team),
            FieldSpec("note", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    Kind.ASSIGNMENT_STATUS: {
        1: (
            FieldSpec("assignment_id", _uuid),
            FieldSpec("status", _assignment_status),
            FieldSpec("note", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    Kind.ASSIGNMENT_WITHDRAWN: {
        1: (
            FieldSpec("assignment_id", _uuid),
            FieldSpec("reason", _text(MAX_TEXT)),
        )
    },
    Kind.CONFLICT_RESOLVED: {
        1: (
            FieldSpec("field", _field_name),
            FieldSpec("value", _any, nullable=True),
            FieldSpec("reason", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    # Linked incidents are an add/remove set: each link is its own entry (its event id is
    # the tag), and an unlink removes only the link entries it names, so a link made
    # concurrently on another workstation survives (SYNC.md, "set").
    Kind.INCIDENT_LINKED: {
        1: (
            FieldSpec("other", _uuid),
            FieldSpec("other_ref", _ref),
            FieldSpec("note", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    Kind.INCIDENT_UNLINKED: {
        1: (
            FieldSpec("other", _uuid),
            FieldSpec("removes", _link_ids),
            FieldSpec("reason", _text(MAX_TEXT)),
        )
    },
    Kind.SHIFT_SIGNED_OFF: {
        1: _shift_fields(
            FieldSpec("note", _text(MAX_TEXT, allow_empty=True), required=False, nullable=True)
        )
    },
    Kind.SHIFT_HANDOVER: {1: _shift_fields(FieldSpec("note", _text(MAX_TEXT)))},
    Kind.SHIFT_HANDOVER_ACKNOWLEDGED: {
        1: _shift_fields(
            FieldSpec("note", _text(MAX_TEXT, allow_empty=True), required=False, nullable=True)
        )
    },
    Kind.EXERCISE_STARTED: {
        1: (
            FieldSpec("scenario", _text(MAX_SHORT)),
            FieldSpec("codeword", _text(MAX_SHORT)),
            FieldSpec("start", _iso),
            FieldSpec("duration_seconds", _exercise_seconds),
            FieldSpec("injects", _count),
            *_clock_fields(),
        )
    },
    Kind.EXERCISE_PAUSED: {1: _clock_fields()},
    Kind.EXERCISE_RESUMED: {1: _clock_fields()},
    Kind.EXERCISE_SPEED_CHANGED: {1: _clock_fields()},
    Kind.EXERCISE_INJECT_RELEASED: {
        1: (
            FieldSpec("inject", _inject_number),
            FieldSpec("at", _offset_label),
            FieldSpec("inject_kind", _inject_kind),
            FieldSpec("title", _text(MAX_SUMMARY)),
            FieldSpec("early", _flag),
            FieldSpec("incident_id", _uuid, required=False, nullable=True),
            FieldSpec("incident_ref", _ref, required=False, nullable=True),
            *_clock_fields(),
        )
    },
    Kind.EXERCISE_MESSAGE: {
        1: (
            FieldSpec("text", _text(MAX_TEXT)),
            FieldSpec("inject", _inject_number, required=False, nullable=True),
            *_clock_fields(),
        )
    },
    Kind.EXERCISE_STOPPED: {
        1: (
            FieldSpec("reason", _text(MAX_TEXT)),
            FieldSpec("emergency", _flag),
            *_clock_fields(),
        )
    },
    Kind.SESSION_SIGNED_IN: {
        1: (
            FieldSpec("method", _choice(SignInMethod)),
            FieldSpec("role", _text(MAX_SHORT)),
            FieldSpec("grant_expires", _iso, required=False, nullable=True),
            FieldSpec("replaces", _user_name, required=False, nullable=True),
            # Break-glass: who the person at the desk says they are, and why.
            FieldSpec("declared_name", _text(MAX_SHORT), required=False, nullable=True),
            FieldSpec("reason", _text(MAX_TEXT), required=False, nullable=True),
        )
    },
    Kind.SESSION_SIGNED_OUT: {1: (FieldSpec("reason", _choice(SignOutReason)),)},
    Kind.SESSION_LOCKED: {
        1: (
            FieldSpec("reason", _choice(LockReason)),
            FieldSpec("idle_minutes", _count, required=False, nullable=True),
        )
    },
    Kind.SESSION_UNLOCKED: {1: ()},
    Kind.ACCOUNT_CHANGED: {
        1: (
            FieldSpec("subject", _text(MAX_SHORT)),
            FieldSpec("change", _text(MAX_TEXT)),
        )
    },
    Kind.SESSION_SIGN_IN_FAILED: {
        1: (
            FieldSpec("user", _user_name),
            FieldSpec("reason", _text(MAX_TEXT)),
            FieldSpec("consecutive", _count),
            FieldSpec("locked_until", _iso, required=False, nullable=True),
        )
    },
}

# Kinds about a shift, not an incident: incident_id is None; the payload names the shift.
SHIFT_KINDS = frozenset(
    {Kind.SHIFT_SIGNED_OFF, Kind.SHIFT_HANDOVER, Kind.SHIFT_HANDOVER_ACKNOWLEDGED}
)
# An exercise's own life (start, pause, injects, messages, stop): only ever in an exercise
# realm, never about one incident.
EXERCISE_KINDS = frozenset(k for k in Kind if k.value.startswith("exercise."))
# Who was at the keyboard: sign-in, sign-out, lock, unlock, failures. Reviewed on the audit
# screen; never shown in an incident's log or a shift's stream.
AUDIT_KINDS = frozenset(k for k in Kind if k.value.startswith(("session.", "account.")))
INCIDENT_FREE_KINDS = frozenset(SHIFT_KINDS | EXERCISE_KINDS | AUDIT_KINDS)


def check_realm(kind: str, realm: str) -> None:
    """Refuse an exercise event outside an exercise realm: the live log never holds one.

    Checked on every local write and every received event (client store and server alike),
    so exercise control traffic cannot reach live data by any path.
    """
    if kind in EXERCISE_KINDS and not realm.startswith("exercise:"):
        raise ValidationError(
            "realm", f"{kind} belongs to an exercise realm (exercise:<slug>), not {realm}"
        )


# The field names of each schema, computed once: validation runs for every synced event.
_FIELD_NAMES: dict[tuple[str, int], frozenset[str]] = {
    (kind, version): frozenset(spec.name for spec in specs)
    for kind, versions in SCHEMAS.items()
    for version, specs in versions.items()
}


def latest_schema(kind: str) -> int:
    return max(SCHEMAS[kind])


def is_known(kind: str, schema: int) -> bool:
    return kind in SCHEMAS and schema in SCHEMAS[kind]


def validate_payload(
    kind: str, schema: int, payload: Mapping[str, Any], ref: ReferenceData
) -> None:
    """Raise ValidationError naming the first field that is wrong."""
    versions = SCHEMAS.get(kind)
    if versions is None:
        raise ValidationError("kind", f"unknown event kind {kind!r}")
    if schema not in versions:
        newest = max(versions)
        if schema > newest:
            raise ValidationError(
                "schema",
                f"{kind} schema {schema} is newer than this program understands "
                f"(up to {newest}); upgrade OSC Console",
            )
        raise ValidationError("schema", f"{kind} has no schema {schema}")
    if not isinstance(payload, Mapping):
        raise ValidationError("payload", "must be a JSON object")
    specs = versions[schema]
    known = _FIELD_NAMES[kind, schema]
    for name in payload:
        if name not in known:
            raise ValidationError(f"payload.{name}", f"is not a field of {kind}")
    for spec in specs:
        if spec.name not in payload or payload[spec.name] is None:
            if spec.name in payload and spec.nullable:
                continue
            if spec.required:
                raise ValidationError(f"payload.{spec.name}", "is required")
            continue
        try:
            spec.check(payload[spec.name], ref)
        except ValueError as exc:
            raise ValidationError(f"payload.{spec.name}", str(exc)) from None
    if kind == Kind.CONFLICT_RESOLVED:
        field = _UPDATABLE[payload["field"]]
        value = payload.get("value")
        if value is None and not field.nullable:
            raise ValidationError("payload.value", f"{field.name} cannot be empty")
        if value is not None:
            try:
                field.check(value, ref)
            except ValueError as exc:
                raise ValidationError("payload.value", f"{field.name} {exc}") from None
    if kind == Kind.INCIDENT_OPENED and not (
        payload.get("grade") or payload.get("council_priority")
    ):
        raise ValidationError("payload.grade", "give a police grade or a council priority")
