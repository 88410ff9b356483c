"""The PostgreSQL backend: several server processes may serve one database at once.

Every push begins by locking the counter row (``SELECT … FOR UPDATE``) and assigns its
``seq`` values under that lock, so pushes commit one after another in ``seq`` order and a
puller never meets a gap that is later filled. Pulls read the counter first and then only
rows at or below it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from osc_console.server import schema
from osc_console.server.rules import Head
from osc_console.server.storage import (
    Backend,
    RawPage,
    StorageError,
    WriteTransaction,
    safe_url,
)


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


# Creating the schema from several processes at once must not race: one advisory lock.
_SCHEMA_LOCK = 0x05C5E4


class _PostgresWrite(WriteTransaction):
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def held(self, ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        if not ids:
            return {}
        rows = self.conn.execute(
            "SELECT id, content_hash, seq FROM events WHERE id = ANY(%s)", (list(ids),)
        ).fetchall()
        return {r[0]: (r[1], int(r[2])) for r in rows}

    def quarantined(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        if not ids:
            return {}
        rows = self.conn.execute(
            "SELECT id, content_hash, reason FROM quarantine WHERE id = ANY(%s)", (list(ids),)
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def heads(self, realm: str, workstations: Sequence[str]) -> dict[str, Head]:
        if not workstations:
            return {}
        rows = self.conn.execute(
            "SELECT workstation, device_seq, content_hash FROM chains "
            "WHERE realm = %s AND workstation = ANY(%s)",
            (realm, list(workstations)),
        ).fetchall()
        return {r[0]: Head(int(r[1]), r[2]) for r in rows}

    def take_seqs(self, count: int) -> int:
        row = self.conn.execute(
            "UPDATE counter SET seq = seq + %s WHERE id = 1 RETURNING seq", (count,)
        ).fetchone()
        assert row is not None
        return int(row[0]) - count + 1

    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(schema.INSERT_EVENT), rows)

    def insert_quarantine(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(schema.INSERT_QUARANTINE), rows)

    def save_heads(self, realm: str, heads: dict[str, Head]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO chains (realm, workstation, device_seq, content_hash) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (realm, workstation) DO UPDATE SET "
                "device_seq = excluded.device_seq, content_hash = excluded.content_hash",
                [(realm, ws, h.device_seq, h.content_hash) for ws, h in heads.items()],
            )


class PostgresBackend(Backend):
    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        try:
            self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=True, timeout=30
            )
            self.pool.wait(timeout=10)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StorageError(f"cannot reach PostgreSQL at {safe_url(url)}: {exc}") from exc
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            conn.execute(schema.TABLES.format(BIG="BIGINT"))
            exists = conn.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = 'events_append_only' "
                "AND tgrelid = 'events'::regclass"
            ).fetchone()
            if exists is None:
                conn.execute(schema.POSTGRES_IMMUTABLE)
            conn.execute("INSERT INTO counter (id, seq) VALUES (1, 0) ON CONFLICT DO NOTHING")
            conn.execute(
                "INSERT INTO server_meta (key, value) VALUES ('server_id', %s) "
                "ON CONFLICT DO NOTHING",
                (secrets.token_hex(16),),
            )
            row = conn.execute("SELECT value FROM server_meta WHERE key = 'server_id'").fetchone()
            assert row is not None
            self._server_id = str(row[0])
            version = conn.execute("SELECT value FROM server_meta WHERE key = 'schema'").fetchone()
            if version is None or int(version[0]) < schema.LATEST:
                # Under the advisory lock: one process upgrades, the others find it done.
                conn.execute(schema.IDENTITY.format(SERIAL="BIGSERIAL PRIMARY KEY"))
                conn.execute(schema.POSTGRES_AUDIT_IMMUTABLE)
                conn.execute(
                    "INSERT INTO server_meta (key, value) SELECT 'signing_since', "
                    "CAST(seq AS TEXT) FROM counter WHERE id = 1 "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                )
                conn.execute(
                    "INSERT INTO server_meta (key, value) VALUES ('schema', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(schema.LATEST),),
                )

    def close(self) -> None:
        self.pool.close()

    def server_id(self) -> str:
        return self._server_id

    # ---- users (the statements are the base class's) ---------------------------------------
    _unique_violation = (psycopg.errors.UniqueViolation,)

    def _execute(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            cursor = conn.execute(_pg(sql), params)
            return cursor.fetchall() if cursor.description else []

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
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT seq FROM counter WHERE id = 1 FOR UPDATE")
            yield _PostgresWrite(conn)

    def pull(self, realm: str, after: int, limit: int, visibilities: Sequence[str]) -> RawPage:
        # The counter first, then only rows at or below it. Pushes commit in seq order (the
        # counter lock), so once the counter reads H every event up to H is committed and
        # visible to the next statement: no snapshot isolation is needed, and nothing
        # committed between the two statements can be stepped over.
        with self.pool.connection() as conn:
            high_row = conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()
            high = int(high_row[0]) if high_row else 0
            rows = conn.execute(
                "SELECT seq, body, received_at, key_id FROM events WHERE realm = %s AND "
                "seq > %s AND seq <= %s AND visibility = ANY(%s) ORDER BY seq LIMIT %s",
                (realm, after, high, list(visibilities), limit),
            ).fetchall()
        page = [(int(r[0]), r[1], r[2]) for r in rows]
        keys = frozenset(r[3] for r in rows if r[3] is not None)
        if len(page) == limit:
            return RawPage(page, page[-1][0], True, high, keys)
        return RawPage(page, max(after, high), False, high, keys)

    def high_water(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def iter_bodies(self, realm: str, visibilities: Sequence[str]) -> Iterator[tuple[int, str]]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT seq, body FROM events WHERE realm = %s AND visibility = ANY(%s) "
                "ORDER BY seq",
                (realm, list(visibilities)),
            ).fetchall()
        for seq, body in rows:
            yield int(seq), body

    def hashes(self, realm: str, visibilities: Sequence[str]) -> tuple[int, Iterator[str]]:
        with self.pool.connection() as conn:  # counter first, as in pull
            row = conn.execute("SELECT seq FROM counter WHERE id = 1").fetchone()
            high = int(row[0]) if row else 0
            rows = conn.execute(
                "SELECT content_hash FROM events WHERE realm = %s AND "
                "visibility = ANY(%s) AND seq <= %s",
                (realm, list(visibilities), high),
            ).fetchall()
        return high, (r[0] for r in rows)

    def chains(self, realm: str) -> dict[str, list[tuple[int, str | None, str]]]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT workstation, device_seq, (body::json)->>'prev_hash', content_hash "
                "FROM events WHERE realm = %s UNION ALL "
                "SELECT workstation, device_seq, prev_hash, content_hash FROM quarantine "
                "WHERE realm = %s ORDER BY 1, 2",
                (realm, realm),
            ).fetchall()
        found: dict[str, list[tuple[int, str | None, str]]] = {}
        for workstation, device_seq, prev_hash, digest in rows:
            found.setdefault(workstation, []).append((int(device_seq), prev_hash, digest))
        return found
