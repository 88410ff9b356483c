"""A workstation's keyring: its device key, and what it keeps of each person who signed in.

One SQLite file beside the stores (``keyring.db``, readable by its owner only). It holds:
- the device key (the workstation's own: it proves the desk at sign-in and signs the
  desk's own entries; enrolled by an administrator);
- the authority this workstation trusts (the server's key, pinned at the first sign-in; or
  its own, when it is standalone);
- per person: their private key sealed under their password, its certificate, and the last
  grant the authority signed for them (what offline sign-in relies on);
- consecutive failed passwords per name, and the lock they lead to;
- the room's break-glass accounts as the server last described them.

Never a password, never an unsealed personal key.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from osc_console.signing.documents import Grant, KeyCertificate
from osc_console.signing.keys import SigningKey
from osc_console.store.errors import StoreError

KEYRING_FILE = "keyring.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    seed TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    certificate TEXT
);
CREATE TABLE IF NOT EXISTS authority (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    kind TEXT NOT NULL,
    server_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    seed TEXT,
    pinned_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    user TEXT PRIMARY KEY COLLATE NOCASE,
    display_name TEXT NOT NULL,
    agency TEXT NOT NULL,
    sealed_key TEXT,
    key_id TEXT,
    certificate TEXT,
    grant_doc TEXT,
    last_signed_in TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    user TEXT PRIMARY KEY COLLATE NOCASE,
    count INTEGER NOT NULL,
    locked_until TEXT
);
CREATE TABLE IF NOT EXISTS break_glass (
    user TEXT PRIMARY KEY COLLATE NOCASE,
    bundle TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS break_glass_keys (
    key_id TEXT PRIMARY KEY,
    certificate TEXT NOT NULL,
    pushed INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True, slots=True)
class PinnedAuthority:
    kind: str  # "server" or "standalone"
    server_id: str
    key_id: str
    public_key: str
    seed: str | None = None  # a standalone workstation holds its own authority's key

    @property
    def signing_key(self) -> SigningKey | None:
        return SigningKey.from_seed(base64.b64decode(self.seed)) if self.seed else None


@dataclass(frozen=True, slots=True)
class Person:
    """What this workstation keeps of someone who signed in here."""

    user: str
    display_name: str
    agency: str
    sealed_key: str | None
    key_id: str | None
    certificate: KeyCertificate | None
    grant: Grant | None
    last_signed_in: str | None


class Keyring:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not path.exists()
            self.conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10
            )
            if fresh:
                with contextlib.suppress(OSError):
                    os.chmod(path, 0o600)  # the device key is in here
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: the workstation's keyring cannot be opened ({exc})") from exc

    @classmethod
    def open(cls, data_dir: Path) -> Keyring:
        return cls(data_dir / KEYRING_FILE)

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ---- the device --------------------------------------------------------------------------
    def device_key(self, code: str, now: str) -> SigningKey:
        """This workstation's device key, made on first use. A keyring belongs to one
        workstation code: a different code means a different folder was meant."""
        row = self.conn.execute("SELECT code, seed FROM device WHERE id = 1").fetchone()
        if row is not None:
            if row[0] != code:
                raise StoreError(
                    f"this data folder belongs to workstation {row[0]}, not {code}; use "
                    "another --data-dir for another workstation"
                )
            return SigningKey.from_seed(base64.b64decode(row[1]))
        key = SigningKey.generate()
        with self._write():
            self.conn.execute(
                "INSERT OR IGNORE INTO device (id, code, seed, key_id, public_key, created_at) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                (code, base64.b64encode(key.seed).decode("ascii"), key.key_id, key.public_key, now),
            )
        return self.device_key(code, now)

    def device_certificate(self) -> KeyCertificate | None:
        row = self.conn.execute("SELECT certificate FROM device WHERE id = 1").fetchone()
        return KeyCertificate.from_wire(json.loads(row[0])) if row and row[0] else None

    def set_device_certificate(self, cert: KeyCertificate) -> None:
        with self._write():
            self.conn.execute(
                "UPDATE device SET certificate = ? WHERE id = 1", (json.dumps(cert.to_wire()),)
            )

    # ---- the authority -----------------------------------------------------------------------
    def authority(self) -> PinnedAuthority | None:
        row = self.conn.execute(
            "SELECT kind, server_id, key_id, public_key, seed FROM authority WHERE id = 1"
        ).fetchone()
        return PinnedAuthority(*row) if row else None

    def pin(self, authority: PinnedAuthority, now: str) -> None:
        with self._write():
            self.conn.execute(
                "INSERT OR REPLACE INTO authority (id, kind, server_id, key_id, public_key, "
                "seed, pinned_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
                (
                    authority.kind,
                    authority.server_id,
                    authority.key_id,
                    authority.public_key,
                    authority.seed,
                    now,
                ),
            )

    # ---- people ------------------------------------------------------------------------------
    def person(self, user: str) -> Person | None:
        row = self.conn.execute(
            "SELECT user, display_name, agency, sealed_key, key_id, certificate, grant_doc, "
            "last_signed_in FROM people WHERE user = ?",
            (user,),
        ).fetchone()
        return _person(row) if row else None

    def people(self) -> list[Person]:
        """Everyone who signed in here, most recent first."""
        return [
            _person(r)
            for r in self.conn.execute(
                "SELECT user, display_name, agency, sealed_key, key_id, certificate, grant_doc, "
                "last_signed_in FROM people ORDER BY last_signed_in IS NULL, "
                "last_signed_in DESC, user"
            )
        ]

    def keep(self, person: Person) -> None:
        with self._write():
            self.conn.execute(
                "INSERT OR REPLACE INTO people (user, display_name, agency, sealed_key, key_id, "
                "certificate, grant_doc, last_signed_in) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    person.user,
                    person.display_name,
                    person.agency,
                    person.sealed_key,
                    person.key_id,
                    json.dumps(person.certificate.to_wire()) if person.certificate else None,
                    json.dumps(person.grant.to_wire()) if person.grant else None,
                    person.last_signed_in,
                ),
            )

    # ---- failed passwords at this workstation --------------------------------------------------
    def failures(self, user: str) -> tuple[int, str | None]:
        row = self.conn.execute(
            "SELECT count, locked_until FROM failures WHERE user = ?", (user,)
        ).fetchone()
        return (int(row[0]), row[1]) if row else (0, None)

    def record_failure(self, user: str) -> int:
        with self._write():
            self.conn.execute(
                "INSERT INTO failures (user, count) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET count = count + 1",
                (user,),
            )
            return int(
                self.conn.execute("SELECT count FROM failures WHERE user = ?", (user,)).fetchone()[
                    0
                ]
            )

    def lock(self, user: str, until: str) -> None:
        with self._write():
            self.conn.execute("UPDATE failures SET locked_until = ? WHERE user = ?", (until, user))

    def clear_failures(self, user: str) -> None:
        with self._write():
            self.conn.execute("DELETE FROM failures WHERE user = ?", (user,))

    # ---- break glass ---------------------------------------------------------------------------
    def break_glass(self) -> list[dict[str, object]]:
        return [
            json.loads(r[0])
            for r in self.conn.execute("SELECT bundle FROM break_glass ORDER BY user")
        ]

    def keep_break_glass(self, bundles: list[dict[str, object]], now: str) -> None:
        with self._write():
            self.conn.execute("DELETE FROM break_glass")
            self.conn.executemany(
                "INSERT INTO break_glass (user, bundle, updated_at) VALUES (?, ?, ?)",
                [(str(b["user"]), json.dumps(b), now) for b in bundles],
            )

    def keep_break_glass_key(self, cert: KeyCertificate) -> None:
        with self._write():
            self.conn.execute(
                "INSERT OR IGNORE INTO break_glass_keys (key_id, certificate) VALUES (?, ?)",
                (cert.key_id, json.dumps(cert.to_wire())),
            )

    def break_glass_keys(self) -> list[KeyCertificate]:
        return [
            KeyCertificate.from_wire(json.loads(r[0]))
            for r in self.conn.execute("SELECT certificate FROM break_glass_keys")
        ]


def _person(row: tuple[object, ...]) -> Person:
    cert = row[5]
    grant = row[6]
    return Person(
        str(row[0]),
        str(row[1]),
        str(row[2]),
        row[3] if isinstance(row[3], str) else None,
        row[4] if isinstance(row[4], str) else None,
        KeyCertificate.from_wire(json.loads(cert)) if isinstance(cert, str) else None,
        Grant.from_wire(json.loads(grant)) if isinstance(grant, str) else None,
        row[7] if isinstance(row[7], str) else None,
    )
