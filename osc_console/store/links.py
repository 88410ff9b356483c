"""Linked incidents: the major-incident group an incident belongs to.

Links are recorded on one incident (``incident.linked``) but read both ways: a group is every
incident reachable through links from either end, found breadth-first from the
``incident_links`` projection. Only incidents the viewer may see take part, and a group stops
growing at ``limit`` (a mistaken chain of links must not make a screen read the whole store).
"""

from __future__ import annotations

import sqlite3

from osc_console.models.agencies import Agency, visibilities_for

GROUP_LIMIT = 200


def linked_ids(conn: sqlite3.Connection, incident_id: str) -> set[str]:
    """The incidents linked directly to one, in either direction."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT other_id FROM incident_links WHERE incident_id = ? "
            "UNION SELECT incident_id FROM incident_links WHERE other_id = ?",
            [incident_id, incident_id],
        )
    }


def incident_group(
    conn: sqlite3.Connection, incident_id: str, viewer: Agency, limit: int = GROUP_LIMIT
) -> list[str]:
    """The incident and every incident linked to it, directly or through others.

    The incident itself first, then the rest by opening time; only what ``viewer`` may see.
    """
    visible = {v.value for v in visibilities_for(viewer)}
    seen = {incident_id}
    frontier = [incident_id]
    while frontier and len(seen) < limit:
        following = []
        for current in frontier:
            for other in sorted(linked_ids(conn, current) - seen):
                if len(seen) >= limit:
                    break
                seen.add(other)
                following.append(other)
        frontier = following
    others = sorted(seen - {incident_id})
    rows = []
    for start in range(0, len(others), 500):
        chunk = others[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows += conn.execute(
            f"SELECT id, opened_at, visibility FROM incidents WHERE id IN ({marks})", chunk
        ).fetchall()
    ordered = [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0])) if r[2] in visible]
    return [incident_id, *ordered]
