"""The embedded backend: one SQLite file, for a single room's server.

Writes take ``BEGIN IMMEDIATE`` (one writer at a time, also across processes); reads run on a
connection per thread in WAL mode, so a long-poll never waits behind a push.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from osc_console.server import schema
from osc_console.server.rules import Head
from osc_console.server.storage import (
    Backend,
    RawPage,
    StorageError,
    WriteTransaction,
)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    # Acknowledge only what is durable: FULL syncs the WAL at every commit.
    conn.execute("PRAGMA synchronous = FULL")
    return conn


class _SqliteWrite(WriteTransaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def held(self, ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        return self._by_id("SELECT id, content_hash, seq FROM events", ids)

    def quarantined(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        return self._by_id("SELECT id, content_hash, reason FROM quarantine", ids)

    def _by_id(self, select: str, ids: Sequence[str]) -> dict[str, Any]:
        """``select``'s rows for these ids, as id -> (the other two columns)."""
        found: dict[str, Any] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for event_id, first, second in self.conn.execute(
                f"{select} WHERE id IN ({marks})", chunk
            ):
                found[event_id] = (first, second)
        return found

    def heads(self, realm: str, workstations: Sequence[str]) -> dict[str, Head]:
        found: dict[str, Head] = {}
        for chunk in _chunks(workstations):
            marks = ",".join("?" * len(chunk))
            for workstation, device_seq, digest in self.conn.execute(
                "SELECT workstation, device_seq, content_hash FROM chains "
                f"WHERE realm = ? AND workstation IN ({marks})",
                [realm, *chunk],
            ):
                found[workstation] = Head(device_seq, digest)
        return found

    def take_seqs(self, count: int) -> int:
        (last,) = self.conn.execute(
            "UPDATE counter SET seq = seq + ? WHERE id = 1 RETURNING seq", (count,)
        ).fetchone()
        return int(last) - count + 1

    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(schema.INSERT_EVENT, rows)

    def insert_quarantine(self, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(schema.INSERT_QUARANTINE, rows)

    def save_heads(self, realm: str, heads: dict[str, Head]) -> None:
        self.conn.executemany(
            "INSERT INTO chains (realm, workstation, device_seq, content_hash) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (realm, workstation) DO UPDATE SET "
            "device_seq = excluded.device_seq, content_hash = excluded.content_hash",
            [(realm, ws, h.device_seq, h.content_hash) for ws, h in heads.items()],
        )


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


class SqliteBackend(Backend):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        conn = self._conn()
        try:
            # executescript commits first, so the transaction is part of the script.
            conn.executescript(
                "BEGIN IMMEDIATE;"
                + schema.TABLES.format(BIG="INTEGER")
                + schema.SQLITE_IMMUTABLE
                + "INSERT OR IGNORE INTO counter (id, seq) VALUES (1, 0);"
                + "INSERT OR IGNORE INTO server_meta (key, value) VALUES "
                + f"('server_id', '{secrets.token_hex(16)}');"
                + "COMMIT;"
            )
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"{path} cannot be used as a server database: {exc}") from exc
        self._server_id = str(
            conn.execute("SELECT value FROM server_meta WHERE key = 'server_id'").fetchone()[0]
        )
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring an older server database up to this program's schema, once, in one
        transaction (another process starting at the same moment may do it first)."""
        if self._schema_version(conn) >= schema.LATEST:
            return
        try:
            conn.executescript(
                "BEGIN IMMEDIATE;"
                + schema.IDENTITY.format(SERIAL="INTEGER PRIMARY KEY AUTOINCREMENT")
                + schema.SQLITE_AUDIT_IMMUTABLE
                + "INSERT OR REPLACE INTO server_meta (key, value) VALUES ('signing_since', "
                + "(SELECT CAST(seq AS TEXT) FROM counter WHERE id = 1));"
                + "INSERT OR REPLACE INTO server_meta (key, value) VALUES "
                + f"('schema', '{schema.LATEST}');"
                + "COMMIT;"
            )
        except sqlite3.DatabaseError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._schema_version(conn) < schema.LATEST:
                raise StorageError(f"{self.path} could not be upgraded: {exc}") from exc

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM server_meta WHERE key = 'schema'").fetchone()
        if row is not None:
            return int(row[0])
        # A database made by this program before versions were kept is at 1; a new one has
        # just been given the first version's tables.
        return 1

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def server_id(self) -> str:
        return self._server_id

    # ---- users (the statements are the base class's) ---------------------------------------
    _unique_violation = (sqlite3.IntegrityError,)

    def _execute(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._conn().execute(sql, params).fetchall()

    def meta(self, key: str) -> str | None:
        rows = self._execute("SELECT value FROM server_meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta_once(self, key: str, value: str) -> str:
        self._execute(
            "INSERT INTO server_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, value),
        )
        held = self.meta(key)
        assert held is not None
        return held

    # ---- the log ---------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[WriteTransaction]:
        # Writers of this process queue on a fair lock; SQLite's busy handler (which other
        # processes still meet through BEGIN IMMEDIATE) sleeps and retries unfairly, which
        # measured a p99 wait of seconds with 50 clients pushing at once.
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteWrite(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def pull(self, realm: str, after: int, limit: int, visibilities: Sequence[str]) -> RawPage:
        conn = self._conn()
        marks = ",".join("?" * len(visibilities))
        conn.execute("BEGIN")  # one snapshot for the rows and the high-water mark
        try:
            high = int(conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0])
            found = conn.execute(
                "SELECT seq, body, received_at, key_id FROM events WHERE realm = ? AND seq > ? "
                f"AND seq <= ? AND visibility IN ({marks}) ORDER BY seq LIMIT ?",
                (realm, after, high, *visibilities, limit),
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        rows = [(r[0], r[1], r[2]) for r in found]
        keys = frozenset(r[3] for r in found if r[3] is not None)
        if len(rows) == limit:
            return RawPage(rows, int(rows[-1][0]), True, high, keys)
        return RawPage(rows, max(after, high), False, high, keys)

    def high_water(self) -> int:
        return int(self._conn().execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0])

    def iter_bodies(self, realm: str, visibilities: Sequence[str]) -> Iterator[tuple[int, str]]:
        marks = ",".join("?" * len(visibilities))
        yield from self._conn().execute(
            f"SELECT seq, body FROM events WHERE realm = ? AND visibility IN ({marks}) "
            "ORDER BY seq",
            (realm, *visibilities),
        )

    def hashes(self, realm: str, visibilities: Sequence[str]) -> tuple[int, Iterator[str]]:
        conn = self._conn()
        marks = ",".join("?" * len(visibilities))
        conn.execute("BEGIN")
        try:
            high = int(conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()[0])
            rows = conn.execute(
                f"SELECT content_hash FROM events WHERE realm = ? AND visibility IN ({marks}) "
                "AND seq <= ?",
                (realm, *visibilities, high),
            ).fetchall()
        finally:
            conn.execute("COMMIT")
        return high, (r[0] for r in rows)

    def chains(self, realm: str) -> dict[str, list[tuple[int, str | None, str]]]:
        return _chains(self._conn(), realm)


def _chains(conn: sqlite3.Connection, realm: str) -> dict[str, list[tuple[int, str | None, str]]]:
    found: dict[str, list[tuple[int, str | None, str]]] = {}
    for workstation, device_seq, prev_hash, digest in conn.execute(
        "SELECT workstation, device_seq, json_extract(body, '$.prev_hash'), content_hash "
        "FROM events WHERE realm = ? UNION ALL "
        "SELECT workstation, device_seq, prev_hash, content_hash FROM quarantine "
        "WHERE realm = ? ORDER BY 1, 2",
        (realm, realm),
    ):
        found.setdefault(workstation, []).append((device_seq, prev_hash, digest))
    return found
