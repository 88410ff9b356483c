"""The sync bookkeeping of a store: what waits to be pushed, and where pulling has reached.

An event enters the outbox in the same transaction that writes it (``Store.append``) and
leaves only when the server says it holds it. A refused event stays, marked with the
server's reason, for a person to see: nothing is dropped quietly. The pull cursor is kept
per server database (its ``server_id``), so pointing a workstation at another server starts
afresh rather than skipping that server's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from osc_console.models.events import Event
from osc_console.store import rows
from osc_console.store.event_store import Store


class OutboxState(StrEnum):
    PENDING = "pending"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RefusedEntry:
    """An entry the server refused, as the sync details show it."""

    event_id: str
    kind: str
    incident_id: str | None
    recorded_at: str
    reason: str


def pending(store: Store, limit: int) -> list[Event]:
    """The oldest waiting events, each workstation's chain in order."""
    found = store.conn.execute(
        f"{rows.SELECT_EVENT} WHERE id IN (SELECT event_id FROM outbox WHERE state = 'pending') "
        "ORDER BY workstation, device_seq LIMIT ?",
        (limit,),
    ).fetchall()
    return [rows.row_event(r) for r in found]


def acknowledge(store: Store, event_ids: Iterable[str]) -> None:
    """The server holds these: they leave the outbox (the events stay, of course)."""
    ids = [(i,) for i in event_ids]
    if not ids:
        return
    with store._write():  # same package: the store's own transaction helper
        store.conn.executemany("DELETE FROM outbox WHERE event_id = ?", ids)


def mark(store: Store, outcomes: Iterable[tuple[str, OutboxState, str | None]]) -> None:
    """Record an attempt: refused for good (with why) or still pending (with why not yet)."""
    values = [(state.value, reason, event_id) for event_id, state, reason in outcomes]
    if not values:
        return
    with store._write():
        store.conn.executemany(
            "UPDATE outbox SET state = ?, last_error = ?, attempts = attempts + 1 "
            "WHERE event_id = ?",
            values,
        )


def refused(store: Store) -> list[RefusedEntry]:
    found = store.conn.execute(
        "SELECT o.event_id, e.kind, e.incident_id, e.recorded_at, coalesce(o.last_error, '') "
        "FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.state = 'rejected' "
        "ORDER BY e.recorded_at"
    ).fetchall()
    return [RefusedEntry(*r) for r in found]


def refused_count(store: Store) -> int:
    return int(
        store.conn.execute("SELECT count(*) FROM outbox WHERE state = 'rejected'").fetchone()[0]
    )


def synced_hashes(store: Store) -> list[str]:
    """Content hashes of every event the server should also hold: all but the outbox's."""
    return [
        r[0]
        for r in store.conn.execute(
            "SELECT content_hash FROM events WHERE id NOT IN (SELECT event_id FROM outbox)"
        )
    ]


def cursor_key(server_id: str) -> str:
    return f"sync.cursor.{server_id}"


def cursor(store: Store, server_id: str) -> int:
    value = store.meta(cursor_key(server_id))
    return int(value) if value else 0
