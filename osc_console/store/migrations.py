"""Ordered schema migrations. ``PRAGMA user_version`` holds the version a file is at.

A migration is appended, never edited, once it has shipped: files in the field are at every
version. Each runs in its own transaction together with the version bump.
"""

from __future__ import annotations

from dataclasses import dataclass

# 'OSC1' in ASCII: marks a file as ours, so another program's database is never migrated.
APPLICATION_ID = 0x4F534331


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


_INITIAL = """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        -- The log. Plain columns and JSON text so sqlite3 and sqlite-utils can read it.
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            realm TEXT NOT NULL,
            incident_id TEXT,
            kind TEXT NOT NULL,
            schema INTEGER NOT NULL,
            payload TEXT NOT NULL,
            actor TEXT NOT NULL,
            agency TEXT NOT NULL,
            workstation TEXT NOT NULL,
            hlc TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            visibility TEXT NOT NULL,
            classification TEXT NOT NULL,
            base TEXT NOT NULL,
            refs TEXT NOT NULL,
            device_seq INTEGER NOT NULL,
            prev_hash TEXT,
            content_hash TEXT NOT NULL,
            stored_at TEXT NOT NULL,
            body TEXT GENERATED ALWAYS AS (
                CASE kind
                    WHEN 'log.added' THEN json_extract(payload, '$.text')
                    WHEN 'log.amended' THEN json_extract(payload, '$.text')
                    WHEN 'decision.recorded' THEN
                        json_extract(payload, '$.decision') || char(10)
                        || json_extract(payload, '$.rationale')
                END
            ) VIRTUAL,
            UNIQUE (workstation, device_seq)
        );
        CREATE INDEX events_incident ON events (incident_id, hlc, workstation, id);
        CREATE INDEX events_hlc ON events (hlc);

        -- Immutability is enforced by the database, not by convention.
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: correct an entry with log.amended'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only: nothing may be deleted'); END;

        -- Projections: rebuilt from the log by `osc-console check` and compared.
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            ref TEXT NOT NULL,
            realm TEXT NOT NULL,
            status TEXT NOT NULL,
            is_open INTEGER NOT NULL,
            urgency INTEGER NOT NULL,
            grade TEXT,
            council_priority TEXT,
            category TEXT,
            closing_category TEXT,
            summary TEXT NOT NULL,
            location TEXT NOT NULL,
            lat REAL,
            lon REAL,
            camera_id TEXT,
            source TEXT,
            lead_agency TEXT,
            visibility TEXT NOT NULL,
            classification TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            opened_workstation TEXT NOT NULL,
            last_recorded_at TEXT NOT NULL,
            closed_at TEXT,
            assigned_teams TEXT NOT NULL,
            active_assignments INTEGER NOT NULL,
            log_count INTEGER NOT NULL,
            has_conflict INTEGER NOT NULL,
            state TEXT NOT NULL
        );
        -- Covering the open queue's id query (visibility and id included), so that the first
        -- screenful reads a few index pages rather than one table page per incident.
        CREATE INDEX incidents_queue ON incidents (is_open, urgency, opened_at, visibility, id);
        -- Not UNIQUE: two workstations misconfigured with one code could both make a ref.
        -- Both incidents are kept (never lose an entry); `check` reports the clash.
        CREATE INDEX incidents_ref ON incidents (ref);
        CREATE INDEX incidents_opened ON incidents (opened_at);
        CREATE INDEX incidents_location ON incidents (location COLLATE NOCASE, opened_at);

        CREATE TABLE assignments (
            id TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL,
            team TEXT NOT NULL,
            agency TEXT,
            status TEXT NOT NULL,
            active INTEGER NOT NULL,
            assigned_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX assignments_incident ON assignments (incident_id);
        CREATE INDEX assignments_team ON assignments (team, active);

        CREATE VIRTUAL TABLE incidents_fts USING fts5(
            ref, summary, location, content='incidents', content_rowid='rowid',
            tokenize='unicode61 remove_diacritics 2'
        );
        -- New incidents are indexed by the store in one statement per batch (much faster
        -- than a trigger per row); changes and deletions are kept in step by triggers.
        CREATE TRIGGER incidents_fts_update AFTER UPDATE OF ref, summary, location ON incidents
        WHEN old.ref IS NOT new.ref OR old.summary IS NOT new.summary
            OR old.location IS NOT new.location
        BEGIN
            INSERT INTO incidents_fts (incidents_fts, rowid, ref, summary, location)
            VALUES ('delete', old.rowid, old.ref, old.summary, old.location);
            INSERT INTO incidents_fts (rowid, ref, summary, location)
            VALUES (new.rowid, new.ref, new.summary, new.location);
        END;
        CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
            INSERT INTO incidents_fts (incidents_fts, rowid, ref, summary, location)
            VALUES ('delete', old.rowid, old.ref, old.summary, old.location);
        END;

        -- Search over log text, decisions and amendments, read straight from the log through
        -- the generated column events.body. Every write transaction indexes the rows past
        -- meta 'fts.indexed_upto' (the last events rowid indexed) in one statement.
        CREATE VIRTUAL TABLE log_fts USING fts5(
            body, content='events', content_rowid='rowid', detail=column, columnsize=0,
            tokenize='unicode61 remove_diacritics 2'
        );
        INSERT INTO meta (key, value) VALUES ('fts.indexed_upto', '0');

        -- Sync bookkeeping: local events not yet acknowledged by the server.
        CREATE TABLE outbox (
            event_id TEXT PRIMARY KEY,
            queued_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'pending',
            last_error TEXT
        ) WITHOUT ROWID;
"""

_USERS = """
        -- The people who sign in at this workstation (the console offers them at sign-in).
        CREATE TABLE users (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            agency TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_signed_in TEXT
        );
"""

_EVENTS_OCCURRED = """
        -- Shift logs read the events that happened within a window of local time.
        CREATE INDEX events_occurred ON events (occurred_at);
"""

_INCIDENT_LINKS = """
        -- Linked incidents (a projection of incident.linked / incident.unlinked): one row per
        -- link entry still in force, so a major-incident group is found from either end.
        CREATE TABLE incident_links (
            link_event TEXT PRIMARY KEY,
            incident_id TEXT NOT NULL,
            other_id TEXT NOT NULL
        );
        CREATE INDEX incident_links_incident ON incident_links (incident_id);
        CREATE INDEX incident_links_other ON incident_links (other_id);
        INSERT INTO incident_links (link_event, incident_id, other_id)
        SELECT j.key, i.id, j.value FROM incidents i, json_each(i.state, '$.links') j;
"""

_FIRST_RESPONSE = """
        -- The dashboard's response times, kept as projection columns so that no query reads
        -- the state JSON or parses a time: milliseconds from the opening to the first
        -- assignment and to the first arrival on scene (0 when a skewed clock puts them
        -- before it). One covering index answers every dashboard query without the table.
        ALTER TABLE incidents ADD COLUMN assign_ms INTEGER;
        ALTER TABLE incidents ADD COLUMN attend_ms INTEGER;
        UPDATE incidents SET
            assign_ms = (
                SELECT max(0, CAST(round((julianday(min(json_extract(j.value, '$.times.assigned')))
                    - julianday(incidents.opened_at)) * 86400000.0) AS INTEGER))
                FROM json_each(incidents.state, '$.assignments') j),
            attend_ms = (
                SELECT max(0, CAST(round((julianday(min(json_extract(j.value, '$.times.on_scene')))
                    - julianday(incidents.opened_at)) * 86400000.0) AS INTEGER))
                FROM json_each(incidents.state, '$.assignments') j);
        -- Open incidents by hour: an incident counts as open at each hour boundary h (epoch
        -- hours) with open_from_h <= h < open_until_h (NULL while it is open): the first
        -- boundary after the opening, and the first at or after the close.
        ALTER TABLE incidents ADD COLUMN open_from_h INTEGER;
        ALTER TABLE incidents ADD COLUMN open_until_h INTEGER;
        UPDATE incidents SET
            open_from_h = CAST(round((julianday(opened_at) - 2440587.5) * 86400000.0)
                AS INTEGER) / 3600000 + 1,
            open_until_h = CASE WHEN closed_at IS NULL THEN NULL
                ELSE (CAST(round((julianday(closed_at) - 2440587.5) * 86400000.0) AS INTEGER)
                    + 3599999) / 3600000 END;
        CREATE INDEX incidents_dashboard ON incidents (
            opened_at, visibility, lead_agency, grade, category, closed_at,
            assign_ms, attend_ms, open_from_h, open_until_h, location, lat, lon
        );
"""

# What the incidents add up to in the dashboard's running totals (see _DASHBOARD_TOTALS): for
# each incident, its opening's hour, its category by hour and by day, and, when it is open
# across at least one hour boundary, +1 at the first boundary after its opening and -1 at the
# first at or after its close. The store adds the same in Python as it writes incidents
# (rows.add_totals); this is the backfill, and what ``osc-console check`` compares with.
DASHBOARD_TOTALS_FROM_INCIDENTS = """
        SELECT figure, span, bucket, visibility, lead_agency, key, sum(n) AS n FROM (
            SELECT 'opened' AS figure, 'h' AS span, open_from_h - 1 AS bucket, visibility,
                ifnull(lead_agency, '') AS lead_agency, '' AS key, 1 AS n FROM incidents
            UNION ALL SELECT 'category', 'h', open_from_h - 1, visibility,
                ifnull(lead_agency, ''), ifnull(category, ''), 1 FROM incidents
            UNION ALL SELECT 'category', 'd', (open_from_h - 1) / 24, visibility,
                ifnull(lead_agency, ''), ifnull(category, ''), 1 FROM incidents
            UNION ALL SELECT 'open', 'h', open_from_h, visibility,
                ifnull(lead_agency, ''), ifnull(grade, ''), 1 FROM incidents
                WHERE open_until_h IS NULL OR open_until_h > open_from_h
            UNION ALL SELECT 'open', 'd', open_from_h / 24, visibility,
                ifnull(lead_agency, ''), ifnull(grade, ''), 1 FROM incidents
                WHERE open_until_h IS NULL OR open_until_h > open_from_h
            UNION ALL SELECT 'open', 'h', open_until_h, visibility,
                ifnull(lead_agency, ''), ifnull(grade, ''), -1 FROM incidents
                WHERE open_until_h > open_from_h
            UNION ALL SELECT 'open', 'd', open_until_h / 24, visibility,
                ifnull(lead_agency, ''), ifnull(grade, ''), -1 FROM incidents
                WHERE open_until_h > open_from_h
        ) WHERE bucket IS NOT NULL
        GROUP BY figure, span, bucket, visibility, lead_agency, key HAVING sum(n) != 0"""

_DASHBOARD_TOTALS = (
    """
        -- The dashboard's counts kept up to date on every write, so that a 30-day dashboard
        -- adds up a few thousand totals instead of grouping every incident of the period.
        -- figure 'opened': incidents opened in the UTC hour ``bucket`` (epoch hours; key '');
        -- 'category': opened, by category, per hour (span 'h') and per UTC day (span 'd',
        -- bucket = epoch hour / 24); 'open': the change in the number of open incidents of
        -- grade ``key`` at the hour boundary ``bucket`` (per boundary, and per day of
        -- boundaries). A missing lead agency, category or grade is kept as ''; a total of 0
        -- is not kept. The store keeps them as it writes incidents (in the same
        -- transaction); a later migration that changes incidents must rebuild them.
        CREATE TABLE dashboard_totals (
            figure TEXT NOT NULL,
            span TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            visibility TEXT NOT NULL,
            lead_agency TEXT NOT NULL,
            key TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (figure, span, bucket, visibility, lead_agency, key)
        ) WITHOUT ROWID;
        INSERT INTO dashboard_totals (figure, span, bucket, visibility, lead_agency, key, n)
        """
    + DASHBOARD_TOTALS_FROM_INCIDENTS
    + """;
        -- Time to assign and to attend per grade: one grade's incidents of a period are one
        -- range of this index, so no query sorts the whole period to group it by grade.
        CREATE INDEX incidents_response ON incidents (
            grade, opened_at, visibility, lead_agency, assign_ms, attend_ms
        );
        -- The same look-up by place (without case) as before, now covering what the
        -- dashboard shows of its busiest places, so it reads no table rows for them.
        DROP INDEX incidents_location;
        CREATE INDEX incidents_location ON incidents (
            location COLLATE NOCASE, opened_at, visibility, lead_agency, lat, lon
        );
"""
)

_SIGNATURES = """
        -- Every new event is signed by its author (``sig``, Ed25519 over the content hash,
        -- with the key ``key_id`` names). Events written before this migration stay as they
        -- were and are shown as unsigned (before signing).
        ALTER TABLE events ADD COLUMN key_id TEXT;
        ALTER TABLE events ADD COLUMN sig TEXT;
        INSERT INTO meta (key, value) VALUES
            ('signing.since', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

        -- Whose keys this store trusts to certify authors: the central server's signing key,
        -- or this workstation's own when it is standalone.
        CREATE TABLE authorities (
            key_id TEXT PRIMARY KEY,
            public_key TEXT NOT NULL,
            name TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        -- Authors' public keys, each certified by an authority: what every signature in the
        -- log is checked against (and ``osc-console check`` again). Never changed or removed.
        CREATE TABLE key_certificates (
            key_id TEXT PRIMARY KEY,
            public_key TEXT NOT NULL,
            user TEXT NOT NULL,
            agency TEXT NOT NULL,
            workstation TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            issuer TEXT NOT NULL,
            break_glass INTEGER NOT NULL,
            sig TEXT NOT NULL,
            stored_at TEXT NOT NULL
        );
        CREATE TRIGGER key_certificates_no_update BEFORE UPDATE ON key_certificates
        BEGIN SELECT RAISE(ABORT, 'key certificates are never changed'); END;
        CREATE TRIGGER key_certificates_no_delete BEFORE DELETE ON key_certificates
        BEGIN SELECT RAISE(ABORT, 'key certificates are never removed'); END;

        -- The unsigned events this store holds that were written before signing existed:
        -- those it held when it was upgraded, and those the server vouched for (signed by
        -- its authority) when they were pulled. Any other unsigned event is a fault.
        CREATE TABLE pre_signing (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT INTO pre_signing (event_id) SELECT id FROM events;
        CREATE TRIGGER pre_signing_no_update BEFORE UPDATE ON pre_signing
        BEGIN SELECT RAISE(ABORT, 'the entries from before signing are never changed'); END;
        CREATE TRIGGER pre_signing_no_delete BEFORE DELETE ON pre_signing
        BEGIN SELECT RAISE(ABORT, 'the entries from before signing are never changed'); END;

        -- Events received from the server that this workstation refused (a signature that
        -- fails, an unregistered key): kept as received, with why, to be shown and reported.
        CREATE TABLE refused_events (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            workstation TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            body TEXT NOT NULL,
            refused_at TEXT NOT NULL
        );
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _INITIAL),
    Migration(2, "users", _USERS),
    Migration(3, "events by occurred time", _EVENTS_OCCURRED),
    Migration(4, "linked incidents", _INCIDENT_LINKS),
    Migration(5, "dashboard figures as incident columns", _FIRST_RESPONSE),
    Migration(6, "dashboard running totals", _DASHBOARD_TOTALS),
    Migration(7, "signed events and key certificates", _SIGNATURES),
)
LATEST_VERSION = MIGRATIONS[-1].version
