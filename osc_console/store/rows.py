"""Conversions between domain objects and table rows. One place knows the column order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from osc_console.models.clock import from_iso
from osc_console.models.events import HASHED_FIELDS, Event, canonical_json, compact_json
from osc_console.models.incident import urgency
from osc_console.models.projection import IncidentState

# The envelope's hashed fields in their stored order, the hash, the signature, and when it
# was stored (the one column that is not part of the event).
EVENT_COLUMNS = (*HASHED_FIELDS, "content_hash", "key_id", "sig", "stored_at")
INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
READ_COLUMNS = ", ".join(EVENT_COLUMNS[:-1])
SELECT_EVENT = f"SELECT {READ_COLUMNS} FROM events"


def _dumps(value: Any) -> str:
    return compact_json(value if isinstance(value, dict | list) else dict(value))


def event_row(event: Event, stored_at: str, payload_json: str | None = None) -> tuple[Any, ...]:
    return (
        event.id,
        event.realm,
        event.incident_id,
        event.kind,
        event.schema,
        payload_json if payload_json is not None else canonical_json(event.payload),
        event.actor,
        event.agency,
        event.workstation,
        event.hlc,
        event.recorded_at,
        event.occurred_at,
        event.visibility,
        event.classification,
        _dumps(event.base) if event.base else "{}",
        _dumps(list(event.refs)) if event.refs else "[]",
        event.device_seq,
        event.prev_hash,
        event.content_hash,
        event.key_id,
        event.sig,
        stored_at,
    )


def row_event(row: Sequence[Any]) -> Event:
    return Event(
        id=row[0],
        realm=row[1],
        incident_id=row[2],
        kind=row[3],
        schema=row[4],
        payload=json.loads(row[5]),
        actor=row[6],
        agency=row[7],
        workstation=row[8],
        hlc=row[9],
        recorded_at=row[10],
        occurred_at=row[11],
        visibility=row[12],
        classification=row[13],
        # Most events cite nothing: skip the JSON parser for the empty cases (a timeline of
        # thousands of entries reads measurably faster).
        base={} if row[14] == "{}" else json.loads(row[14]),
        refs=() if row[15] == "[]" else tuple(json.loads(row[15])),
        device_seq=row[16],
        prev_hash=row[17],
        content_hash=row[18],
        key_id=row[19],
        sig=row[20],
    )


INCIDENT_COLUMNS = (
    "id",
    "ref",
    "realm",
    "status",
    "is_open",
    "urgency",
    "grade",
    "council_priority",
    "category",
    "closing_category",
    "summary",
    "location",
    "lat",
    "lon",
    "camera_id",
    "source",
    "lead_agency",
    "visibility",
    "classification",
    "opened_at",
    "opened_by",
    "opened_workstation",
    "last_recorded_at",
    "closed_at",
    "assigned_teams",
    "active_assignments",
    "log_count",
    "has_conflict",
    "assign_ms",
    "attend_ms",
    "open_from_h",
    "open_until_h",
    "state",
)
INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)})"
)


# ---- the dashboard's running totals (migration 6) ---------------------------------------------

TotalKey = tuple[str, str, int, str, str, str]  # figure, span, bucket, visibility, lead, key
_TOTALS_COLUMNS = tuple(
    INCIDENT_COLUMNS.index(name)
    for name in ("visibility", "lead_agency", "grade", "category", "open_from_h", "open_until_h")
)
ADD_TOTAL = (
    "INSERT INTO dashboard_totals (figure, span, bucket, visibility, lead_agency, key, n) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n"
)
DROP_ZERO_TOTAL = (
    "DELETE FROM dashboard_totals WHERE figure = ? AND span = ? AND bucket = ? "
    "AND visibility = ? AND lead_agency = ? AND key = ? AND n = 0"
)


def add_totals(totals: dict[TotalKey, int], row: Sequence[Any], sign: int) -> None:
    """Add (sign 1) or take away (-1) what one incident row counts for in the dashboard's
    totals: the same figures migration 6's DASHBOARD_TOTALS_FROM_INCIDENTS works out in SQL
    (``osc-console check`` compares the two). Its opening's hour; its category by hour and
    by day; and, when it is open across at least one hour boundary, +1 at the first
    boundary after its opening and -1 at the first at or after its close."""
    visibility, lead, grade, category, from_h, until_h = (row[i] for i in _TOTALS_COLUMNS)
    if from_h is None:
        return
    lead = lead or ""
    category = category or ""
    grade = grade or ""
    hour = from_h - 1
    for key in (
        ("opened", "h", hour, visibility, lead, ""),
        ("category", "h", hour, visibility, lead, category),
        ("category", "d", hour // 24, visibility, lead, category),
    ):
        totals[key] = totals.get(key, 0) + sign
    if until_h is None or until_h > from_h:
        for key in (
            ("open", "h", from_h, visibility, lead, grade),
            ("open", "d", from_h // 24, visibility, lead, grade),
        ):
            totals[key] = totals.get(key, 0) + sign
    if until_h is not None and until_h > from_h:
        for key in (
            ("open", "h", until_h, visibility, lead, grade),
            ("open", "d", until_h // 24, visibility, lead, grade),
        ):
            totals[key] = totals.get(key, 0) - sign


def counts_in_totals(old: Sequence[Any], new: Sequence[Any]) -> bool:
    """Whether a change to an incident row moves any of its dashboard totals."""
    return any(old[i] != new[i] for i in _TOTALS_COLUMNS)


def incident_row(state: IncidentState) -> tuple[Any, ...]:
    location = state.value("location") or {}
    active = state.active_assignments()
    return (
        state.id,
        state.ref,
        state.realm,
        state.status,
        0 if state.is_closed else 1,
        urgency(state.value("grade"), state.value("council_priority")),
        state.value("grade"),
        state.value("council_priority"),
        state.value("category"),
        state.closing_category,
        state.value("summary") or "",
        location.get("text", ""),
        location.get("lat"),
        location.get("lon"),
        location.get("camera_id"),
        state.value("source"),
        state.value("lead_agency"),
        state.visibility,
        state.classification,
        state.opened_at,
        state.opened_by,
        state.opened_workstation,
        state.last_recorded_at,
        state.closed_at,
        ",".join(sorted({a.team for a in active})),
        len(active),
        state.log_count,
        1 if state.conflicts else 0,
        _first_ms(state, "assigned"),
        _first_ms(state, "on_scene"),
        *_open_hours(state),
        canonical_json(state.to_dict()),  # sorted keys: the same state is the same text
    )


def _first_ms(state: IncidentState, status: str) -> int | None:
    """Milliseconds from the opening to the first time any assignment reached a status.

    For the dashboard's response times. A skewed clock can put it before the opening: 0.
    """
    times = [t for a in state.assignments.values() if (t := a.times.get(status))]
    if not times or not state.opened_at:
        return None
    try:
        gap = from_iso(min(times)) - from_iso(state.opened_at)
    except ValueError:
        return None
    return max(0, round(gap / _MS))


_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_MS = 3_600_000


def _open_hours(state: IncidentState) -> tuple[int | None, int | None]:
    """The hour boundaries (epoch hours) the incident is open at: ``from <= h < until``.

    ``from`` is the first boundary after the opening, ``until`` the first at or after the
    close (None while open). The dashboard's open-incidents series counts from these.
    """
    try:
        opened = round((from_iso(state.opened_at) - _EPOCH) / _MS)
    except (TypeError, ValueError):
        return None, None
    if state.closed_at is None:
        return opened // _HOUR_MS + 1, None
    try:
        closed = round((from_iso(state.closed_at) - _EPOCH) / _MS)
    except (TypeError, ValueError):
        return opened // _HOUR_MS + 1, None
    return opened // _HOUR_MS + 1, -(-closed // _HOUR_MS)


LINK_COLUMNS = ("link_event", "incident_id", "other_id")
INSERT_LINK = (
    "INSERT OR REPLACE INTO incident_links (link_event, incident_id, other_id) VALUES (?, ?, ?)"
)


def link_rows(state: IncidentState) -> list[tuple[str, str, str]]:
    return [(link, state.id, other) for link, other in sorted(state.links.items())]


ASSIGNMENT_COLUMNS = (
    "id",
    "incident_id",
    "team",
    "agency",
    "status",
    "active",
    "assigned_at",
    "updated_at",
)
UPSERT_ASSIGNMENT = (
    f"INSERT INTO assignments ({', '.join(ASSIGNMENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in ASSIGNMENT_COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ASSIGNMENT_COLUMNS[1:])
)


def assignment_rows(state: IncidentState) -> list[tuple[Any, ...]]:
    return [
        (
            a.id,
            state.id,
            a.team,
            a.agency,
            a.status,
            1 if a.is_active else 0,
            a.times.get("assigned", ""),
            max(a.times.values()) if a.times else "",
        )
        for a in state.assignments.values()
    ]
