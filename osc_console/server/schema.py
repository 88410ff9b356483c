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

# Schema versions after the first (``server_meta`` 'schema'; a database without it is at 1).
# Each runs once, in one transaction, under the lock every server process takes at start.
IDENTITY = """
-- Who did it, provably: signatures on events, enrolled workstations, certified keys, grants.
ALTER TABLE events ADD COLUMN key_id TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;
-- A break-glass account's key, made from its password (Argon2id with this salt and cost):
-- only the password certifies a key made for one use at a desk while the server is down.
ALTER TABLE users ADD COLUMN glass_salt TEXT;
ALTER TABLE users ADD COLUMN glass_key TEXT;
ALTER TABLE users ADD COLUMN changed_at TEXT;
ALTER TABLE tokens ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;

-- Consecutive failed passwords per typed name, known or not (so that a name cannot be told
-- from a non-name by how the server answers), and the lock they lead to.
CREATE TABLE sign_in_failures (
    name_key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL,
    locked_until TEXT
);

-- Workstations an administrator enrolled, by their device key.
CREATE TABLE workstations (
    code TEXT PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    agency TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);

-- Certified keys: each person's per workstation (and each workstation's device key, under
-- the user '@CODE'). Every pushed signature is checked against these.
CREATE TABLE user_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    user_name TEXT NOT NULL,
    agency TEXT NOT NULL,
    workstation TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    issuer TEXT NOT NULL,
    break_glass INTEGER NOT NULL DEFAULT 0,
    sig TEXT NOT NULL
);
CREATE INDEX user_keys_user ON user_keys (user_name, workstation);

-- Grants: the role a person held at a workstation from one sign-in until it expired (or
-- the account was disabled). An entry is judged by the grant that covered its recording.
CREATE TABLE grants (
    grant_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    workstation TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    break_glass INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX grants_user ON grants (user_name, workstation, issued_at);

-- What was done to accounts and workstations, and every sign-in the server saw: who, when,
-- from where. Append-only, like the log.
CREATE TABLE audit (
    seq {SERIAL},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT NOT NULL,
    workstation TEXT NOT NULL
);

-- Sign-in proofs already used (a proof is good once, for a few minutes).
CREATE TABLE nonces (nonce TEXT PRIMARY KEY, at TEXT NOT NULL);
"""

SQLITE_AUDIT_IMMUTABLE = """
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""

POSTGRES_AUDIT_IMMUTABLE = """
CREATE OR REPLACE FUNCTION osc_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION osc_audit_append_only();
"""

LATEST = 2

INSERT_EVENT = (
    "INSERT INTO events (seq, id, realm, workstation, device_seq, visibility, content_hash, "
    "body, received_at, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_QUARANTINE = (
    "INSERT INTO quarantine (id, realm, workstation, device_seq, prev_hash, content_hash, "
    "reason, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
