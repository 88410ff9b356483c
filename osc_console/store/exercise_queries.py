"""Reads of an exercise store's own events (start, pause, messages, stop, inject marks).

Answered from the ``events_incident`` index: exercise events belong to no incident.
"""

from __future__ import annotations

import sqlite3

from osc_console.models.events import Event
from osc_console.models.payloads import EXERCISE_KINDS
from osc_console.store import rows


def exercise_events(conn: sqlite3.Connection) -> list[Event]:
    """Every ``exercise.*`` event held, in clock order."""
    kinds = sorted(EXERCISE_KINDS)
    marks = ", ".join("?" for _ in kinds)
    sql = (
        f"{rows.SELECT_EVENT} WHERE incident_id IS NULL AND kind IN ({marks}) "
        "ORDER BY hlc, workstation, id"
    )
    return [rows.row_event(r) for r in conn.execute(sql, kinds)]


def newest_exercise_event(conn: sqlite3.Connection) -> str | None:
    """The id of the newest exercise event: a cheap "has anything changed?" for a poll."""
    kinds = sorted(EXERCISE_KINDS)
    marks = ", ".join("?" for _ in kinds)
    row = conn.execute(
        f"SELECT id FROM events WHERE incident_id IS NULL AND kind IN ({marks}) "
        "ORDER BY hlc DESC, workstation DESC, id DESC LIMIT 1",
        kinds,
    ).fetchone()
    return str(row[0]) if row else None
