"""Search across every incident and its log text, with the filters a duty manager asks for.

Words are matched through the FTS5 indexes (``incidents_fts`` for reference, summary and
location; ``log_fts`` for log entries, amendments and decisions). Whatever the operator types
is treated as plain words (``queries.fts_query`` quotes each one), so quotes, stars, brackets
or ``OR`` are never FTS syntax and never an error. Filters apply to the incident: opened in
the date range, its lead agency, a team ever assigned to it, its category and its grade.
With no words, the filters alone list incidents, newest first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from osc_console.models.agencies import Agency, visibilities_for
from osc_console.models.clock import to_iso
from osc_console.store.queries import fts_query

DEFAULT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class SearchFilter:
    viewer: Agency
    text: str = ""
    opened_from: datetime | None = None  # inclusive
    opened_to: datetime | None = None  # exclusive
    lead_agency: Agency | None = None
    team: str | None = None
    category: str | None = None
    grade: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "viewer", Agency(self.viewer))
        if self.lead_agency is not None:
            object.__setattr__(self, "lead_agency", Agency(self.lead_agency))


@dataclass(frozen=True, slots=True)
class SearchResult:
    incident_id: str
    ref: str
    event_id: str | None  # the matching log entry; None when the incident itself matched
    snippet: str  # the matching words in [brackets]
    at: str  # when the matching entry happened (or the incident was opened), UTC ISO
    opened_at: str
    grade: str | None
    council_priority: str | None
    category: str | None
    lead_agency: str | None
    status: str
    summary: str


_INCIDENT = (
    "i.id, i.ref, i.opened_at, i.grade, i.council_priority, i.category, i.lead_agency, "
    "i.status, i.summary"
)


def _incident_filter(f: SearchFilter) -> tuple[str, list[Any]]:
    visible = [v.value for v in visibilities_for(f.viewer)]
    clauses = [f"i.visibility IN ({', '.join('?' for _ in visible)})"]
    params: list[Any] = list(visible)
    if f.opened_from is not None:
        clauses.append("i.opened_at >= ?")
        params.append(to_iso(f.opened_from))
    if f.opened_to is not None:
        clauses.append("i.opened_at < ?")
        params.append(to_iso(f.opened_to))
    if f.lead_agency is not None:
        clauses.append("i.lead_agency = ?")
        params.append(f.lead_agency.value)
    if f.team:
        clauses.append("i.id IN (SELECT incident_id FROM assignments WHERE team = ?)")
        params.append(f.team)
    if f.category:
        clauses.append("i.category = ?")
        params.append(f.category)
    if f.grade:
        clauses.append("(i.grade = ? OR i.council_priority = ?)")
        params.extend([f.grade, f.grade])
    return " AND ".join(clauses), params


def _result(row: tuple[Any, ...], event_id: str | None, snippet: str, at: str) -> SearchResult:
    return SearchResult(
        incident_id=row[0],
        ref=row[1],
        event_id=event_id,
        snippet=snippet,
        at=at,
        opened_at=row[2],
        grade=row[3],
        council_priority=row[4],
        category=row[5],
        lead_agency=row[6],
        status=row[7],
        summary=row[8],
    )


def search_incidents(conn: sqlite3.Connection, f: SearchFilter) -> list[SearchResult]:
    """Matches, newest first: incidents whose summary, location or reference match, and log
    entries that match (each opening its incident at that entry)."""
    where, params = _incident_filter(f)
    limit = max(1, f.limit)
    if not f.text.strip():
        return [
            _result(r, None, r[8], r[2])
            for r in conn.execute(
                f"SELECT {_INCIDENT} FROM incidents i WHERE {where} "
                "ORDER BY i.opened_at DESC LIMIT ?",
                [*params, limit],
            )
        ]
    match = fts_query(f.text)
    if match is None:
        return []  # only punctuation: there is nothing to look for
    visible = [v.value for v in visibilities_for(f.viewer)]
    marks = ", ".join("?" for _ in visible)
    found = [
        _result(r[:9], None, r[9], r[2])
        for r in conn.execute(
            f"SELECT {_INCIDENT}, snippet(incidents_fts, -1, '[', ']', '…', 12) "
            "FROM incidents_fts JOIN incidents i ON i.rowid = incidents_fts.rowid "
            f"WHERE incidents_fts MATCH ? AND {where} ORDER BY i.opened_at DESC LIMIT ?",
            [match, *params, limit],
        )
    ]
    found += [
        _result(r[:9], r[9], r[10], r[11])
        for r in conn.execute(
            f"SELECT {_INCIDENT}, e.id, snippet(log_fts, 0, '[', ']', '…', 12), e.occurred_at "
            "FROM log_fts JOIN events e ON e.rowid = log_fts.rowid "
            "JOIN incidents i ON i.id = e.incident_id "
            f"WHERE log_fts MATCH ? AND e.visibility IN ({marks}) AND {where} "
            "ORDER BY e.occurred_at DESC LIMIT ?",
            [match, *visible, *params, limit],
        )
    ]
    found.sort(key=lambda r: (r.at, r.event_id or ""), reverse=True)
    return found[:limit]
