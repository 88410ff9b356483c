"""The server's tables, written once for both databases.

Plain SQL that SQLite and PostgreSQL both read; the few differences (the integer type of a
seq, how immutability is enforced) are filled in by each backend.
"""

from __future__ import annotations

TABLES = """
CREATE TABLE IF NOT EXISTS server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- One row: the last seq handed out. Every push locks it first, so pushes commit in seq order.
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), seq {BIG} NOT NULL);

-- The log as received: the wire JSON exactly as checked, plus where it sits.
CREATE TABLE IF NOT EXISTS events (
    seq {BIG} PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    realm TEXT NOT NULL,
    workstation TEXT NOT NULL,
    device_seq {BIG} NOT NULL,
    visibility TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (realm, workstation, device_seq)
);
CREATE INDEX IF NOT EXISTS events_realm_seq ON events (realm, seq);

-- Events refused for their content whose chain link was sound: kept (never silently dropped)
-- and counted in their workstation's chain so that the events after them can follow.
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY,
    realm TEXT NOT NULL,
    workstation TEXT NOT NULL,
    device_seq {BIG} NOT NULL,
    prev_hash TEXT,
    content_hash TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Each workstation's chain head per realm: where its next event must follow on.
CREATE TABLE IF NOT EXISTS chains (
    realm TEXT NOT NULL,
    workstation TEXT NOT NULL,
    device_seq {BIG} NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (realm, workstation)
);

CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    name_key TEXT NOT NULL UNIQUE,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    agency TEXT NOT NULL,
    role TEXT NOT NULL,
    workstation TEXT NOT NULL,
    realm TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""

SQLITE_IMMUTABLE = """
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the server log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the server log is append-only'); END;
"""

POSTGRES_IMMUTABLE = """
CREATE OR REPLACE FUNCTION osc_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the server log is append-only'; END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION osc_events_append_only();
"""

INSERT_EVENT = (
    "INSERT INTO events (seq, id, realm, workstation, device_seq, visibility, content_hash, "
    "body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_QUARANTINE = (
    "INSERT INTO quarantine (id, realm, workstation, device_seq, prev_hash, content_hash, "
    "reason, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
