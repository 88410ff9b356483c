"""Reads for shift logs: the events of a time window, what was withheld, shift records.

Every read is answered from an index: ``events_occurred`` for the window, ``events_incident``
for one incident's events and for the incident-free shift records (``incident_id IS NULL``).
Times are the stored ISO UTC text, which sorts as time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from osc_console.models.agencies import Agency, visibilities_for
from osc_console.models.events import Event
from osc_console.models.payloads import SHIFT_KINDS
from osc_console.store import rows

_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


def _visible(viewer: Agency) -> list[str]:
    return [v.value for v in visibilities_for(viewer)]


def window_events(conn: sqlite3.Connection, start: str, end: str, viewer: Agency) -> list[Event]:
    """Events the viewer may see with ``start <= occurred_at < end``, shift records excluded
    (they belong to the shift they name, not to the hour they were written in)."""
    visible = _visible(viewer)
    kinds = sorted(SHIFT_KINDS)
    sql = (
        f"{rows.SELECT_EVENT} WHERE occurred_at >= ? AND occurred_at < ? "
        f"AND visibility IN ({_marks(visible)}) AND kind NOT IN ({_marks(kinds)}) "
        "ORDER BY occurred_at, hlc, workstation, id"
    )
    return [rows.row_event(r) for r in conn.execute(sql, [start, end, *visible, *kinds])]


def withheld_counts(
    conn: sqlite3.Connection, start: str, end: str, viewer: Agency
) -> dict[str, int]:
    """How many events of the window the viewer may not see, by visibility. Counts only:
    nothing of their content leaves the store."""
    visible = _visible(viewer)
    sql = (
        "SELECT visibility, count(*) FROM events WHERE occurred_at >= ? AND occurred_at < ? "
        f"AND visibility NOT IN ({_marks(visible)}) GROUP BY visibility ORDER BY visibility"
    )
    return {v: int(n) for v, n in conn.execute(sql, [start, end, *visible])}


def shift_records(
    conn: sqlite3.Connection, shift_date: str, shift: str, viewer: Agency | None = None
) -> list[Event]:
    """Handover notes, acknowledgements and sign-offs of one shift, in clock order.

    ``viewer=None`` reads every record whatever its visibility (used to refuse a second
    sign-off: a record the viewer cannot read still counts).
    """
    kinds = sorted(SHIFT_KINDS)
    params: list[object] = [*kinds, shift_date, shift]
    sql = (
        f"{rows.SELECT_EVENT} WHERE incident_id IS NULL AND kind IN ({_marks(kinds)}) "
        "AND json_extract(payload, '$.shift_date') = ? "
        "AND lower(json_extract(payload, '$.shift')) = ?"
    )
    if viewer is not None:
        visible = _visible(viewer)
        sql += f" AND visibility IN ({_marks(visible)})"
        params.extend(visible)
    sql += " ORDER BY hlc, workstation, id"
    return [rows.row_event(r) for r in conn.execute(sql, params)]


def open_at(conn: sqlite3.Connection, moment: str, viewer: Agency) -> list[str]:
    """Ids of incidents that may have been open at ``moment``: opened before it, and open
    now or closed at or after it. A superset; the caller folds each to ``moment`` to know."""
    visible = _visible(viewer)
    sql = (
        "SELECT id FROM incidents WHERE opened_at < ? "
        "AND (is_open = 1 OR closed_at IS NULL OR closed_at >= ?) "
        f"AND visibility IN ({_marks(visible)}) ORDER BY opened_at, id"
    )
    return [r[0] for r in conn.execute(sql, [moment, moment, *visible])]


def incident_events_before(
    conn: sqlite3.Connection, incident_ids: Iterable[str], end: str, viewer: Agency
) -> dict[str, list[Event]]:
    """Each incident's visible events that occurred before ``end``, in fold order."""
    visible = _visible(viewer)
    found: dict[str, list[Event]] = {}
    ids = list(dict.fromkeys(incident_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sql = (
            f"{rows.SELECT_EVENT} WHERE incident_id IN ({_marks(chunk)}) AND occurred_at < ? "
            f"AND visibility IN ({_marks(visible)}) "
            "ORDER BY incident_id, kind != 'incident.opened', hlc, workstation, id"
        )
        for row in conn.execute(sql, [*chunk, end, *visible]):
            event = rows.row_event(row)
            found.setdefault(event.incident_id or "", []).append(event)
    return found


def incident_refs(conn: sqlite3.Connection, incident_ids: Iterable[str]) -> dict[str, str]:
    """Reference of each incident held, by id."""
    ids = list(dict.fromkeys(incident_ids))
    refs: dict[str, str] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        sql = f"SELECT id, ref FROM incidents WHERE id IN ({_marks(chunk)})"
        refs.update(dict(conn.execute(sql, chunk)))
    return refs


def count_between(conn: sqlite3.Connection, start: str, end: str) -> int:
    """How many events (of any visibility) occurred in ``[start, end)``."""
    sql = "SELECT count(*) FROM events WHERE occurred_at >= ? AND occurred_at < ?"
    return int(conn.execute(sql, (start, end)).fetchone()[0])
