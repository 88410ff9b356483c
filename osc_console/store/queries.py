"""Reads shaped for the screens and the command line: queue, timeline, search, workload.

Every query takes the viewer's agency and only returns what that organisation may see; each
is answered from indexes (see bench/store_bench.py for the figures).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from osc_console.models.agencies import Agency, visibilities_for
from osc_console.models.clock import to_iso
from osc_console.models.events import Event
from osc_console.models.incident import AGEING_TARGET_MINUTES, DEFAULT_AGEING_MINUTES
from osc_console.models.payloads import Kind
from osc_console.store import rows


class StatusFilter(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


class QueueOrder(StrEnum):
    URGENCY = "urgency"  # most urgent grade first, then oldest first
    NEWEST = "newest"
    OLDEST = "oldest"
    REF = "ref"
    CATEGORY = "category"
    LOCATION = "location"
    STATUS = "status"
    LEAD_AGENCY = "lead_agency"
    TEAMS = "teams"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    viewer: Agency
    status: StatusFilter = StatusFilter.OPEN
    lead_agency: Agency | None = None
    team: str | None = None
    opened_by: str | None = None
    search: str | None = None
    order: QueueOrder = QueueOrder.URGENCY
    descending: bool = False  # reverses the order (a second click on a column header)

    def __post_init__(self) -> None:
        # Values often arrive as plain strings (combo box data, JSON): make them the enums
        # the query compares with, or fail here with a clear message.
        object.__setattr__(self, "viewer", Agency(self.viewer))
        object.__setattr__(self, "status", StatusFilter(self.status))
        object.__setattr__(self, "order", QueueOrder(self.order))
        if self.lead_agency is not None:
            object.__setattr__(self, "lead_agency", Agency(self.lead_agency))


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: str
    ref: str
    status: str
    grade: str | None
    council_priority: str | None
    category: str | None
    summary: str
    location: str
    lead_agency: str | None
    visibility: str
    classification: str
    opened_at: str
    assigned_teams: tuple[str, ...]
    log_count: int
    has_conflict: bool


_QUEUE_COLUMNS = (
    "id, ref, status, grade, council_priority, category, summary, location, lead_agency, "
    "visibility, classification, opened_at, assigned_teams, log_count, has_conflict"
)
_ORDER_SQL = {
    QueueOrder.URGENCY: (
        "is_open DESC, urgency, opened_at",
        "is_open DESC, urgency DESC, opened_at DESC",
    ),
    QueueOrder.NEWEST: ("opened_at DESC", "opened_at"),
    QueueOrder.OLDEST: ("opened_at", "opened_at DESC"),
    QueueOrder.REF: ("ref", "ref DESC"),
    QueueOrder.CATEGORY: ("category, urgency, opened_at", "category DESC, urgency, opened_at"),
    QueueOrder.LOCATION: ("location, opened_at", "location DESC, opened_at"),
    QueueOrder.STATUS: ("status, urgency, opened_at", "status DESC, urgency, opened_at"),
    QueueOrder.LEAD_AGENCY: (
        "lead_agency, urgency, opened_at",
        "lead_agency DESC, urgency, opened_at",
    ),
    QueueOrder.TEAMS: (
        "assigned_teams, urgency, opened_at",
        "assigned_teams DESC, urgency, opened_at",
    ),
}


def _order(f: QueueFilter) -> str:
    ascending, descending = _ORDER_SQL[f.order]
    return descending if f.descending else ascending


def fts_query(text: str) -> str | None:
    """Plain words to a safe FTS5 query: each word quoted, the last one as a prefix.

    Quotes, stars, colons and operators typed by a user are never FTS syntax here.
    """
    words = _words(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _where(f: QueueFilter) -> tuple[str, list[Any]]:
    visible = [v.value for v in visibilities_for(f.viewer)]
    clauses = [f"visibility IN ({', '.join('?' for _ in visible)})"]
    params: list[Any] = list(visible)
    if f.status is StatusFilter.OPEN:
        clauses.append("is_open = 1")
    elif f.status is StatusFilter.CLOSED:
        clauses.append("is_open = 0")
    if f.lead_agency is not None:
        clauses.append("lead_agency = ?")
        params.append(f.lead_agency.value)
    if f.team:
        clauses.append("id IN (SELECT incident_id FROM assignments WHERE team = ? AND active = 1)")
        params.append(f.team)
    if f.opened_by:
        clauses.append("opened_by = ?")
        params.append(f.opened_by)
    if f.search and f.search.strip():
        match = fts_query(f.search)
        if match is None:
            clauses.append("0")
        else:
            marks = ", ".join("?" for _ in visible)
            clauses.append(
                "(rowid IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH ?) "
                "OR id IN (SELECT e.incident_id FROM log_fts JOIN events e "
                f"ON e.rowid = log_fts.rowid WHERE log_fts MATCH ? AND e.visibility IN ({marks})))"
            )
            params.extend([match, match, *visible])
    return " AND ".join(clauses), params


def queue(
    conn: sqlite3.Connection, f: QueueFilter, limit: int = 200, offset: int = 0
) -> list[QueueRow]:
    where, params = _where(f)
    sql = (
        f"SELECT {_QUEUE_COLUMNS} FROM incidents WHERE {where} "
        f"ORDER BY {_order(f)} LIMIT ? OFFSET ?"
    )
    return [_queue_row(r) for r in conn.execute(sql, [*params, limit, offset])]


def queue_ids(conn: sqlite3.Connection, f: QueueFilter) -> list[str]:
    """Every matching id in queue order: a view holds only ids and fetches rows on demand."""
    where, params = _where(f)
    sql = f"SELECT id FROM incidents WHERE {where} ORDER BY {_order(f)}"
    return [r[0] for r in conn.execute(sql, params)]


@dataclass(frozen=True, slots=True)
class QueueCounts:
    total: int
    immediate: int
    ageing: int


def queue_counts(conn: sqlite3.Connection, f: QueueFilter, now: datetime) -> QueueCounts:
    """The queue footer: how many match, how many are Immediate, how many are ageing.

    Ageing is open past the urgency's target (models.incident.ageing_target_minutes). Asked
    in terms of the urgency column, so the covering queue index answers it alone.
    """
    where, params = _where(f)
    (first, first_minutes), (second, second_minutes) = AGEING_TARGET_MINUTES
    cutoffs = [
        to_iso(now - timedelta(minutes=m))
        for m in (first_minutes, second_minutes, DEFAULT_AGEING_MINUTES)
    ]
    row = conn.execute(
        "SELECT count(*), "
        "coalesce(sum(urgency = 0), 0), "
        f"coalesce(sum(is_open AND ((urgency <= {first} AND opened_at < ?) "
        f"OR (urgency > {first} AND urgency <= {second} AND opened_at < ?) "
        f"OR (urgency > {second} AND opened_at < ?))), 0) "
        f"FROM incidents WHERE {where}",
        [*cutoffs, *params],
    ).fetchone()
    return QueueCounts(int(row[0]), int(row[1]), int(row[2]))


def queue_count(conn: sqlite3.Connection, f: QueueFilter) -> int:
    where, params = _where(f)
    return int(conn.execute(f"SELECT count(*) FROM incidents WHERE {where}", params).fetchone()[0])


def rows_by_id(conn: sqlite3.Connection, ids: list[str]) -> dict[str, QueueRow]:
    found: dict[str, QueueRow] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = (
            f"SELECT {_QUEUE_COLUMNS} FROM incidents WHERE id IN ({', '.join('?' for _ in chunk)})"
        )
        for r in conn.execute(sql, chunk):
            found[r[0]] = _queue_row(r)
    return found


def _queue_row(r: tuple[Any, ...]) -> QueueRow:
    return QueueRow(
        id=r[0],
        ref=r[1],
        status=r[2],
        grade=r[3],
        council_priority=r[4],
        category=r[5],
        summary=r[6],
        location=r[7],
        lead_agency=r[8],
        visibility=r[9],
        classification=r[10],
        opened_at=r[11],
        assigned_teams=tuple(t for t in r[12].split(",") if t),
        log_count=r[13],
        has_conflict=bool(r[14]),
    )


def timeline(conn: sqlite3.Connection, incident_id: str, viewer: Agency) -> list[Event]:
    """Every event of an incident the viewer may see, in clock order (never wall-clock order)."""
    visible = [v.value for v in visibilities_for(viewer)]
    sql = (
        f"{rows.SELECT_EVENT} WHERE incident_id = ? AND visibility IN "
        f"({', '.join('?' for _ in visible)}) ORDER BY hlc, workstation, id"
    )
    found = conn.execute(sql, [incident_id, *visible]).fetchall()
    # The opening first, then clock order: the same order the projection folds in. The index
    # gives clock order; a stable sort moving the opening forward is cheaper than SQLite
    # sorting every row, payload and all, on both keys.
    found.sort(key=lambda row: row[3] != Kind.INCIDENT_OPENED)
    return [rows.row_event(r) for r in found]


@dataclass(frozen=True, slots=True)
class SearchHit:
    incident_id: str
    ref: str
    event_id: str | None  # the matching log entry, or None when the incident itself matched
    snippet: str


def search(conn: sqlite3.Connection, text: str, viewer: Agency, limit: int = 50) -> list[SearchHit]:
    """Full-text search over summaries, locations and log text; newest first."""
    match = fts_query(text)
    if match is None:
        return []
    visible = [v.value for v in visibilities_for(viewer)]
    marks = ", ".join("?" for _ in visible)
    hits = [
        SearchHit(r[0], r[1], None, r[2])
        for r in conn.execute(
            "SELECT i.id, i.ref, snippet(incidents_fts, -1, '[', ']', '…', 12) "
            "FROM incidents_fts JOIN incidents i ON i.rowid = incidents_fts.rowid "
            f"WHERE incidents_fts MATCH ? AND i.visibility IN ({marks}) "
            "ORDER BY incidents_fts.rowid DESC LIMIT ?",
            [match, *visible, limit],
        )
    ]
    hits += [
        SearchHit(r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT e.incident_id, i.ref, e.id, snippet(log_fts, 0, '[', ']', '…', 12) "
            "FROM log_fts JOIN events e ON e.rowid = log_fts.rowid "
            "JOIN incidents i ON i.id = e.incident_id "
            f"WHERE log_fts MATCH ? AND e.visibility IN ({marks}) AND i.visibility IN ({marks}) "
            "ORDER BY log_fts.rowid DESC LIMIT ?",
            [match, *visible, *visible, limit],
        )
    ]
    return hits[:limit]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text, flags=re.UNICODE)


def team_workload(conn: sqlite3.Connection) -> dict[str, int]:
    """Active assignments per team."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT team, count(*) FROM assignments WHERE active = 1 GROUP BY team ORDER BY team"
        )
    }


def repeat_locations(
    conn: sqlite3.Connection, location: str, since: datetime, viewer: Agency, limit: int = 20
) -> list[QueueRow]:
    """Incidents at the same place since a time: the repeat-location hint for call handlers."""
    visible = [v.value for v in visibilities_for(viewer)]
    sql = (
        f"SELECT {_QUEUE_COLUMNS} FROM incidents WHERE location = ? COLLATE NOCASE "
        "AND opened_at >= ? "
        f"AND visibility IN ({', '.join('?' for _ in visible)}) ORDER BY opened_at DESC LIMIT ?"
    )
    return [_queue_row(r) for r in conn.execute(sql, [location, to_iso(since), *visible, limit])]
