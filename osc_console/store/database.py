"""Opening a store file safely: refuse what is not ours or too new, then migrate.

The checks run on a read-only connection first, so a newer or foreign file is never touched
(not even by creating a WAL file beside it).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from osc_console.store.errors import NewerSchemaError, NotAStoreError, StoreError, StoreWriteError
from osc_console.store.migrations import APPLICATION_ID, LATEST_VERSION, MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"


def inspect_file(path: Path) -> int:
    """The schema version of an existing store file (0 for an empty one), or raise.

    Read from the file header itself (application id at byte 68, user version at 60, schema
    cookie at 40), so a refused file is never opened by SQLite: not even a -wal or -shm file
    appears beside it. Only when a -wal file already exists (the header may be stale) is the
    file asked through a read-only connection.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not header:
        return 0
    if not header.startswith(SQLITE_HEADER) or len(header) < 100:
        raise NotAStoreError(f"{path} is not an OSC Console store: it is not an SQLite database")
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        app_id, version, has_schema = _ask_sqlite(path)
    else:
        app_id = int.from_bytes(header[68:72], "big")
        version = int.from_bytes(header[60:64], "big")
        has_schema = int.from_bytes(header[40:44], "big") > 0
    if app_id != APPLICATION_ID and (app_id != 0 or has_schema):
        raise NotAStoreError(
            f"{path} is an SQLite database of another program, not an OSC Console store"
        )
    if version > LATEST_VERSION:
        raise NewerSchemaError(
            f"{path} was written by a newer OSC Console (schema {version}; this program "
            f"understands up to {LATEST_VERSION}). Upgrade OSC Console; the file was not changed."
        )
    return version


def _ask_sqlite(path: Path) -> tuple[int, int, bool]:
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
    return int(app_id), int(version), tables > 0


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the pragmas every store connection needs."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    # FULL: the WAL is synced at every commit, so an entry shown as saved survives power loss.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # temp_store is left at its default: a GROUP BY over 100,000 incidents sorted in a
    # MEMORY temp store took 137 ms against 82 ms with the default (bench/dashboard_bench.py).
    conn.execute("PRAGMA cache_size = -65536")
    # Checkpoints are run when the console is idle (Store.checkpoint); this is the safety net,
    # set high so that a checkpoint rarely lands on an operator's Enter key.
    conn.execute("PRAGMA wal_autocheckpoint = 8192")
    return conn


def open_database(path: Path, realm: str) -> sqlite3.Connection:
    """Open (creating if need be) a store of ``realm`` and migrate it to the latest schema.

    The realm is checked before any migration, so a file of another realm is left as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path.parent}: cannot be created ({exc.strerror or exc})") from exc
    version = inspect_file(path) if path.exists() else 0
    try:
        conn = connect(path)
    except sqlite3.Error as exc:
        raise _opening_error(path, exc) from exc
    try:
        if version >= 1:
            stored = conn.execute("SELECT value FROM meta WHERE key = 'realm'").fetchone()
            if stored is not None and stored[0] != realm:
                raise StoreError(
                    f"{path} holds realm {stored[0]!r}, not {realm!r}; nothing was changed"
                )
        if version < LATEST_VERSION:
            migrate(conn, version)
        # Another process opening the same new file at the same moment may name the realm
        # first: naming it is one atomic step, and whoever named it, it must be this realm.
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('realm', ?)", (realm,))
        stored = conn.execute("SELECT value FROM meta WHERE key = 'realm'").fetchone()
        if stored[0] != realm:
            raise StoreError(
                f"{path} holds realm {stored[0]!r}, not {realm!r}; nothing was changed"
            )
    except sqlite3.Error as exc:
        conn.close()
        raise _opening_error(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _opening_error(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return StoreWriteError(
            f"{path}: cannot be opened for writing (the file or its folder is read-only)"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in text or "not a database" in text or "corrupt" in text
    ):
        return NotAStoreError(f"{path} is damaged and cannot be used: {text}")
    return StoreError(f"{path}: cannot be opened ({text})")


def migrate(conn: sqlite3.Connection, current: int) -> None:
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
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Another process (the console and a headless sync, say) may have opened the same
            # new file at the same moment and migrated it first: then there is nothing to do.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= migration.version:
                continue
            raise StoreError(
                f"migrating the store to schema {migration.version} failed: {exc}"
            ) from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
