"""Opening a store file safely: refuse what is not ours or too new, then migrate.

The checks run on a read-only connection first, so a newer or foreign file is never touched
(not even by creating a WAL file beside it).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from osc_console.store.errors import NewerSchemaError, NotAStoreError, StoreError
from osc_console.store.migrations import APPLICATION_ID, LATEST_VERSION, MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"


def inspect_file(path: Path) -> int:
    """The schema version of an existing store file (0 for an empty one), or raise."""
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not header:
        return 0
    if header != SQLITE_HEADER:
        raise NotAStoreError(f"{path} is not an OSC Console store: it is not an SQLite database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotAStoreError(f"{path} is not a readable OSC Console store: {exc}") from exc
    if app_id != APPLICATION_ID and (app_id != 0 or tables > 0):
        raise NotAStoreError(
            f"{path} is an SQLite database of another program, not an OSC Console store"
        )
    if version > LATEST_VERSION:
        raise NewerSchemaError(
            f"{path} was written by a newer OSC Console (schema {version}; this program "
            f"understands up to {LATEST_VERSION}). Upgrade OSC Console; the file was not changed."
        )
    return int(version)


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the pragmas every store connection needs."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: the WAL is synced at every commit, so an entry shown as saved survives power loss.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")
    # Checkpoints are run when the console is idle (Store.checkpoint); this is the safety net,
    # set high so that a checkpoint rarely lands on an operator's Enter key.
    conn.execute("PRAGMA wal_autocheckpoint = 8192")
    return conn


def open_database(path: Path) -> sqlite_utils.Database:
    """Open (creating if need be) and migrate a store file to the latest schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    version = inspect_file(path) if path.exists() else 0
    try:
        conn = connect(path)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot be opened ({exc})") from exc
    db = sqlite_utils.Database(conn)
    if version < LATEST_VERSION:
        migrate(db, version)
    return db


def migrate(db: sqlite_utils.Database, current: int) -> None:
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        note = f"{migration.name} at {_now()}".replace("'", "''")
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n"
            f"PRAGMA application_id = {APPLICATION_ID};\n"
            f"PRAGMA user_version = {migration.version};\n"
            "INSERT OR REPLACE INTO meta (key, value) "
            f"VALUES ('migration.{migration.version}', '{note}');\n"
            "COMMIT;"
        )
        try:
            db.conn.executescript(script)
        except sqlite3.Error as exc:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise StoreError(
                f"migrating the store to schema {migration.version} failed: {exc}"
            ) from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
