"""The store: append events through one door, keep projections in step, in one transaction.

Every write is a single SQLite transaction holding the event, its chain link, the projection
rows, the search index and the outbox entry: either all of it is durable or none of it is.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osc_console.models.authority import check_authority
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import (
    MAX_FORWARD_MS,
    HybridClock,
    Stamp,
    from_iso,
    london_date,
    to_iso,
)
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import (
    Author,
    Event,
    EventDraft,
    canonical_json,
    event_hash,
    seal,
)
from osc_console.models.ids import uuid7
from osc_console.models.incident import REALM_PATTERN
from osc_console.models.payloads import (
    AUDIT_KINDS,
    Kind,
    check_realm,
    is_known,
    validate_payload,
)
from osc_console.models.projection import IncidentState, fold, fold_key
from osc_console.models.reference import ReferenceData, reference_data
from osc_console.models.rules import check_draft
from osc_console.signing.directory import (
    GLASS_WORKSTATION,
    KeyDirectory,
    directory_of,
    event_problems,
)
from osc_console.signing.documents import KeyCertificate
from osc_console.store import rows
from osc_console.store.database import connect, open_database
from osc_console.store.errors import NotAStoreError, StoreError, StoreWriteError

if TYPE_CHECKING:
    import sqlite_utils

# How far in the future an operator may say something happened (clock differences, typing).
OCCURRED_TOLERANCE = timedelta(minutes=5)
_LINK_KINDS = frozenset({Kind.INCIDENT_LINKED.value, Kind.INCIDENT_UNLINKED.value})


@dataclass(frozen=True, slots=True)
class Rejection:
    event_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RefusedRemote:
    """An event received from the server that this store refused (kept, with why)."""

    event_id: str
    kind: str
    actor: str
    workstation: str
    recorded_at: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What a bulk apply did: stored, already held, refused (with why), and what changed."""

    stored: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    clock_capped: tuple[str, ...] = ()
    changes: ChangeSet = field(default_factory=ChangeSet)


@dataclass(slots=True)
class _Checked:
    """A page checked without the database, ready to be written."""

    batch: list[Event]
    valid: list[tuple[Event, str]] = field(default_factory=list)  # with canonical payload JSON
    rejected: list[Rejection] = field(default_factory=list)
    repeated: bool = False
    unsigned_ok: UnsignedPolicy | None = None


# Which unsigned events a caller vouches for as written before signing existed (the server
# says which of its events predate signing); by default none are.
UnsignedPolicy = Callable[[Event], bool]


def _no_unsigned(event: Event) -> bool:
    return False


class UnsignedEntryError(DomainError):
    """A new entry without a signer or a role: nothing new is written unsigned."""


@dataclass(slots=True)
class _Projected:
    """An incident's stored row and its state, as read at the start of a write."""

    row: tuple[Any, ...]
    state: IncidentState


class Store:
    """One realm's store file."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        realm: str,
        *,
        reference: ReferenceData | None = None,
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self.conn = conn
        self._db: sqlite_utils.Database | None = None
        self.path = path
        self.realm = realm
        self.reference = reference or reference_data()
        self._wall = wall or (lambda: datetime.now(UTC))
        self.clock = HybridClock(self._last_stamp(), wall=self._wall_ms)
        self._readers: list[sqlite3.Connection] = []
        self._directory: KeyDirectory | None = None

    # ---- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        realm: str = "live",
        *,
        wall: Callable[[], datetime] | None = None,
    ) -> Store:
        if not REALM_PATTERN.match(realm):
            raise StoreError(f"realm {realm!r} must be 'live' or 'exercise:<slug>'")
        conn = open_database(path, realm)
        try:
            return cls(conn, path, realm, wall=wall)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise NotAStoreError(f"{path} is damaged and cannot be used: {exc}") from exc

    @property
    def db(self) -> sqlite_utils.Database:
        """The file through sqlite-utils, for inspection (tables, triggers, counts).

        Imported on first use: sqlite-utils pulls in numpy when it is installed, which would
        cost the console a noticeable part of its start-up for nothing the queue needs.
        """
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
        self._readers.clear()
        self.conn.close()

    def read_connections(self, count: int) -> list[sqlite3.Connection]:
        """This store's connection and ``count - 1`` read-only ones to the same file.

        For reads spread over threads (the dashboard's queries): SQLite runs each without
        Python's lock, and WAL readers never block the writer. Made on first use, kept, and
        closed with the store. The caller must use each from one thread at a time.
        """
        while len(self._readers) < count - 1:
            reader = connect(self.path)
            reader.execute("PRAGMA query_only = ON")
            self._readers.append(reader)
        return [self.conn, *self._readers[: max(0, count - 1)]]

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file; the console calls this when idle."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wall_ms(self) -> int:
        return int(self._wall().timestamp() * 1000)

    def _last_stamp(self) -> Stamp | None:
        """Where the clock starts: past everything held, but never past the forward cap.

        A remote stamp far in the future was stored without dragging the clock along; reading
        it back at start-up must not do so either. Our own chains' stamps always count.
        """
        row = self.conn.execute("SELECT max(hlc) FROM events").fetchone()
        if not row or not row[0]:
            return None
        held = Stamp.parse(row[0])
        cap = Stamp(self._wall_ms() + MAX_FORWARD_MS, 0)
        start = min(held, cap)
        for (key,) in self.conn.execute("SELECT key FROM meta WHERE key LIKE 'chain.%'"):
            own = self.conn.execute(
                "SELECT hlc FROM events WHERE workstation = ? ORDER BY device_seq DESC LIMIT 1",
                (key.removeprefix("chain."),),
            ).fetchone()
            if own is not None:
                start = max(start, Stamp.parse(own[0]))
        return start

    # ---- the one door for local writes -----------------------------------------------------
    def append(self, draft: EventDraft, author: Author) -> tuple[Event, ChangeSet]:
        events, changes = self.append_many([draft], author)
        return events[0], changes

    def append_many(
        self, drafts: Sequence[EventDraft], author: Author
    ) -> tuple[list[Event], ChangeSet]:
        """Validate and append drafts in one transaction: all are saved, or none is."""
        if author.realm != self.realm:
            raise ValidationError("realm", f"this store holds {self.realm}, not {author.realm}")
        self._check_signer(author)
        for draft in drafts:
            check_authority(author.role or "", draft.kind)
            if draft.kind != Kind.INCIDENT_OPENED:
                validate_payload(draft.kind, draft.schema, draft.payload, self.reference)
        events: list[Event] = []
        changes = ChangeSet()
        with self._write():
            if any(d.kind not in AUDIT_KINDS for d in drafts):
                # Who opens an ended exercise for review is still recorded; nothing else is.
                self._refuse_if_exercise_ended()
            for draft in drafts:
                event, changed = self._append_one(draft, author)
                events.append(event)
                changes = changes.merge(changed)
        return events, changes

    def _append_one(self, draft: EventDraft, author: Author) -> tuple[Event, ChangeSet]:
        now = self._wall()
        loaded = self._projected([draft.incident_id]) if draft.incident_id else {}
        before = loaded.get(draft.incident_id) if draft.incident_id else None
        state = before.state if before else None
        check_draft(draft, author, state, self._entry_incident)
        if draft.kind == Kind.INCIDENT_OPENED:
            payload = {**draft.payload, "ref": self._next_ref(author.workstation, now)}
            draft = replace(draft, payload=payload)
            validate_payload(draft.kind, draft.schema, draft.payload, self.reference)
        if draft.occurred_at is not None:
            try:
                occurred = from_iso(draft.occurred_at)
            except ValueError:
                raise ValidationError("occurred_at", "is not a date and time") from None
            if occurred > now + OCCURRED_TOLERANCE:
                raise ValidationError("occurred_at", "is in the future")
            draft = replace(draft, occurred_at=to_iso(occurred))
        head = self.conn.execute(
            "SELECT device_seq, content_hash FROM events WHERE workstation = ? "
            "ORDER BY device_seq DESC LIMIT 1",
            (author.workstation,),
        ).fetchone()
        assert author.signer is not None  # _check_signer, before the transaction
        event = seal(
            draft,
            author,
            event_id=uuid7(),
            hlc=str(self.clock.now()),
            recorded_at=to_iso(now),
            device_seq=(head[0] + 1) if head else 1,
            prev_hash=head[1] if head else None,
            signer=author.signer,
        )
        stored_at = event.recorded_at
        if head is None:
            # Remember which chains were written here: their gaps can never be explained by
            # visibility, so `check` treats them as errors.
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, 'local')",
                (f"chain.{author.workstation}",),
            )
        self.conn.execute(rows.INSERT_EVENT, rows.event_row(event, stored_at))
        self.conn.execute(
            "INSERT INTO outbox (event_id, queued_at) VALUES (?, ?)", (event.id, stored_at)
        )
        changes = self._project([event], loaded)
        self._index_pending()
        return event, changes

    def _check_signer(self, author: Author) -> None:
        """The author holds a key certified for them at this workstation, and a role."""
        if author.signer is None or author.role is None:
            raise UnsignedEntryError(
                f"{author.actor} is not signed in with a key: nothing new is recorded unsigned"
            )
        cert = self.key_directory().certificates.get(author.signer.key_id)
        if cert is None:
            raise UnsignedEntryError(
                f"the key of {author.actor} is not registered in this store; sign in again"
            )
        if (cert.user, cert.workstation, cert.agency) != (
            author.actor,
            author.workstation,
            author.agency.value,
        ):
            raise UnsignedEntryError(
                f"the key in use belongs to {cert.user} ({cert.agency}) at {cert.workstation}, "
                f"not to {author.actor} ({author.agency.value}) at {author.workstation}"
            )

    # ---- keys: who is trusted to certify authors, and the authors' certified keys ---------
    def key_directory(self) -> KeyDirectory:
        """The authorities and certified keys held, read once and kept in step with writes."""
        if self._directory is None:
            authorities = dict(
                self.conn.execute("SELECT key_id, public_key FROM authorities").fetchall()
            )
            certs = [
                KeyCertificate.from_row(row)
                for row in self.conn.execute(
                    f"SELECT {KeyCertificate.COLUMNS} FROM key_certificates"
                )
            ]
            self._directory = directory_of(authorities, certs)
        return self._directory

    def authorities(self) -> dict[str, str]:
        return dict(self.key_directory().authorities)

    def certificates_held(self) -> list[KeyCertificate]:
        """Every certificate stored, as stored (``check`` verifies each again)."""
        return [
            KeyCertificate.from_row(row)
            for row in self.conn.execute(f"SELECT {KeyCertificate.COLUMNS} FROM key_certificates")
        ]

    def pre_signing(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these unsigned events are on record as written before signing existed."""
        found: set[str] = set()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            marks = ",".join("?" for _ in chunk)
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT event_id FROM pre_signing WHERE event_id IN ({marks})", chunk
                )
            )
        return found

    def authorities_held(self) -> dict[str, str]:
        """The trusted authorities as stored (key id -> public key)."""
        return dict(self.conn.execute("SELECT key_id, public_key FROM authorities").fetchall())

    def trust_authority(self, key_id: str, public_key: str, name: str) -> None:
        """Trust ``public_key`` to certify authors' keys (a server's, or this workstation's
        own when standalone). Trusting an authority is never undone: what it certified
        stays checkable."""
        with self._write():
            self.conn.execute(
                "INSERT OR IGNORE INTO authorities (key_id, public_key, name, added_at) "
                "VALUES (?, ?, ?, ?)",
                (key_id, public_key, name, to_iso(self._wall())),
            )
        self._directory = None

    def add_certificates(self, certs: Iterable[KeyCertificate]) -> list[str]:
        """Store the certificates that verify; returns why the others were not stored."""
        try:
            with self._write():
                return self._add_certificates(list(certs))
        except BaseException:
            self._directory = None  # what was added in memory was rolled back on disk
            raise

    def _add_certificates(self, certs: list[KeyCertificate]) -> list[str]:
        directory = self.key_directory()
        problems: list[str] = []
        fresh: list[KeyCertificate] = []
        # Certificates that certify others (a break-glass account's own key) go in first.
        for cert in sorted(certs, key=lambda c: c.workstation != GLASS_WORKSTATION):
            held = directory.certificates.get(cert.key_id)
            if held is not None and held == cert:
                continue
            problem = directory.add(cert)
            if problem is not None:
                problems.append(problem)
            else:
                fresh.append(cert)
        stored_at = to_iso(self._wall())
        self.conn.executemany(
            f"INSERT OR IGNORE INTO key_certificates ({KeyCertificate.COLUMNS}, stored_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*c.row(), stored_at) for c in fresh],
        )
        return problems

    def refused_events(self) -> list[RefusedRemote]:
        """Events from the server refused here, with why, oldest first."""
        return [
            RefusedRemote(*r)
            for r in self.conn.execute(
                "SELECT id, kind, actor, workstation, recorded_at, reason FROM refused_events "
                "ORDER BY refused_at, recorded_at"
            )
        ]

    def exercise_ended(self) -> Event | None:
        """The ``exercise.stopped`` event when this exercise store's exercise has ended."""
        if self.realm == "live":
            return None
        row = self.conn.execute(
            f"{rows.SELECT_EVENT} WHERE incident_id IS NULL AND kind = ? "
            "ORDER BY hlc, workstation, id LIMIT 1",
            (Kind.EXERCISE_STOPPED.value,),
        ).fetchone()
        return rows.row_event(row) if row else None

    def _refuse_if_exercise_ended(self) -> None:
        """Once exercise control stops an exercise, no player can record anything more in it:
        "stop exercise" ends it for everyone at once (events made before the stop and
        arriving later by sync are still accepted: they happened in the exercise)."""
        ended = self.exercise_ended()
        if ended is not None:
            reason = ended.payload.get("reason", "stopped")
            raise DomainError(
                f"the exercise {self.realm.partition(':')[2]} has ended ({reason}); "
                "nothing more can be recorded in it"
            )

    def _entry_incident(self, entry_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT incident_id FROM events WHERE id = ? AND kind IN (?, ?)",
            (entry_id, Kind.LOG_ADDED.value, Kind.DECISION_RECORDED.value),
        ).fetchone()
        return row[0] if row else None

    def _next_ref(self, workstation: str, now: datetime) -> str:
        prefix = f"{london_date(now):%Y%m%d}-{workstation}-"
        highest = 0
        for (ref,) in self.conn.execute(
            "SELECT ref FROM incidents WHERE ref >= ? AND ref < ?", (prefix, prefix + "~")
        ):
            number = ref[len(prefix) :]
            if number.isdigit():
                highest = max(highest, int(number))
        return f"{prefix}{highest + 1:04d}"

    # ---- applying events made elsewhere (sync pulls, demo data) ---------------------------
    def apply_remote(
        self,
        incoming: Iterable[Event],
        *,
        meta: dict[str, str] | None = None,
        certificates: Sequence[KeyCertificate] = (),
        unsigned_ok: UnsignedPolicy = _no_unsigned,
    ) -> ApplyResult:
        """Store events made on other workstations, in one transaction, skipping duplicates.

        An event whose id is already held with the same hash is a harmless repeat; the same id
        with different content is refused loudly. Unknown kinds and newer schemas are stored
        and shown generically, never dropped. ``meta`` keys (a sync cursor) are written in the
        same transaction, so a crash leaves both the page and the cursor as they were.

        Every event's signature is checked against the certified keys held (``certificates``
        arriving with the page are checked and stored first); an event that fails is not
        applied but kept in ``refused_events`` with why. An unsigned event is accepted only
        when ``unsigned_ok`` vouches for it (written before signing existed).
        """
        batch = list(incoming)
        held = self.key_directory().certificates
        fresh = [c for c in certificates if held.get(c.key_id) != c]
        if fresh:  # most pages bring only keys already held: no write for them
            self.add_certificates(fresh)
        if not batch:
            if meta:
                self.set_meta(meta)
            return ApplyResult()
        return self._commit(self._prepare(batch, unsigned_ok), meta)

    def apply_stream(
        self,
        batches: Iterable[Sequence[Event]],
        progress: Callable[[int], None] | None = None,
        *,
        unsigned_ok: UnsignedPolicy = _no_unsigned,
    ) -> ApplyResult:
        """Apply a stream of pages (a first sync, demo data): one transaction per page.

        Pages are checked and written one after the other. (Checking the next page on a
        second thread was measured slower: sqlite3's executemany takes the interpreter lock
        back for every row it binds, so the two threads convoy on it.)
        """
        stored: list[str] = []
        duplicates: list[str] = []
        rejected: list[Rejection] = []
        capped: list[str] = []
        # Gathered page by page and joined once: merging ChangeSets per page copies the
        # growing event tuple each time (quadratic in the length of the stream).
        changed_events: list[str] = []
        incidents: set[str] = set()
        new_incidents: set[str] = set()
        kinds: set[str] = set()
        applied = 0
        for page in batches:
            batch = list(page)
            result = self._commit(self._prepare(batch, unsigned_ok))
            stored.extend(result.stored)
            duplicates.extend(result.duplicates)
            rejected.extend(result.rejected)
            capped.extend(result.clock_capped)
            changed = result.changes
            changed_events.extend(changed.events)
            incidents.update(changed.incidents)
            new_incidents.update(changed.new_incidents)
            kinds.update(changed.kinds)
            applied += len(batch)
            if progress is not None:
                progress(applied)
        changes = ChangeSet(
            tuple(changed_events), frozenset(incidents), frozenset(new_incidents), frozenset(kinds)
        )
        return ApplyResult(
            tuple(stored), tuple(duplicates), tuple(rejected), tuple(capped), changes
        )

    def _prepare(self, batch: list[Event], unsigned_ok: UnsignedPolicy) -> _Checked:
        """Everything about a page that needs no database: hashes, payloads, signatures."""
        checked = _Checked(batch)
        seen: set[str] = set()
        candidates: list[tuple[Event, str]] = []
        problem = self._remote_problem
        for event in batch:
            event_id = event.id
            if event_id in seen:
                checked.repeated = True  # the careful path sorts out repeats within a page
                continue
            seen.add(event_id)
            payload_json = canonical_json(event.payload)
            reason = problem(event, payload_json)
            if reason:
                checked.rejected.append(Rejection(event_id, reason))
            else:
                candidates.append((event, payload_json))
        # Signatures last, on the events that are otherwise sound, spread over the cores.
        signatures = event_problems([e for e, _ in candidates], self.key_directory())
        for (event, payload_json), reason in zip(candidates, signatures, strict=True):
            if reason is None or (reason == "unsigned" and unsigned_ok(event)):
                checked.valid.append((event, payload_json))
            else:
                checked.rejected.append(Rejection(event.id, _signature_words(reason)))
        checked.unsigned_ok = unsigned_ok
        return checked

    def _commit(self, checked: _Checked, meta: dict[str, str] | None = None) -> ApplyResult:
        if not checked.batch:
            return ApplyResult()
        with self._write():
            if meta:
                self._set_meta(meta)
            if not checked.repeated:
                try:
                    with self._savepoint("bulk"):
                        return self._insert_fast(checked)
                except sqlite3.IntegrityError:
                    pass  # an id or chain position already held: go event by event
            return self._insert_careful(checked.batch, checked.unsigned_ok or _no_unsigned)

    def _set_meta(self, meta: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(meta.items()),
        )

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, meta: dict[str, str]) -> None:
        with self._write():
            self._set_meta(meta)

    def _insert_fast(self, checked: _Checked) -> ApplyResult:
        """The usual pull: nothing in the page is held yet, so insert it all at once."""
        stored_at = to_iso(self._wall())
        self.conn.executemany(
            rows.INSERT_EVENT, [rows.event_row(e, stored_at, p) for e, p in checked.valid]
        )
        stored = [e for e, _ in checked.valid]
        self._keep_refused(checked.batch, checked.rejected)
        return self._after_insert(stored, [], list(checked.rejected), len(checked.batch))

    def _keep_refused(self, batch: list[Event], rejected: Sequence[Rejection]) -> None:
        """Refused events are kept as received, with why: never dropped unseen."""
        if not rejected:
            return
        why = {r.event_id: r.reason for r in rejected}
        refused_at = to_iso(self._wall())
        self.conn.executemany(
            "INSERT OR IGNORE INTO refused_events (id, kind, actor, workstation, recorded_at, "
            "reason, body, refused_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.id,
                    e.kind,
                    e.actor,
                    e.workstation,
                    e.recorded_at,
                    why[e.id],
                    canonical_json(e.to_wire()),
                    refused_at,
                )
                for e in batch
                if e.id in why and not why[e.id].startswith("id collision")
            ],
        )

    def _insert_careful(self, batch: list[Event], unsigned_ok: UnsignedPolicy) -> ApplyResult:
        """Event by event: repeats are harmless, clashes are refused by name."""
        held = self._held_hashes([e.id for e in batch])
        stored: list[Event] = []
        duplicates: list[str] = []
        rejected: list[Rejection] = []
        stored_at = to_iso(self._wall())
        for event in batch:
            known_hash = held.get(event.id)
            if known_hash is not None:
                if known_hash == event.content_hash:
                    duplicates.append(event.id)
                else:
                    rejected.append(Rejection(event.id, "id collision: same id, different content"))
                continue
            payload_json = canonical_json(event.payload)
            reason = self._remote_problem(event, payload_json)
            if reason is None:
                signature = self.key_directory().event_problem(event)
                if signature is not None and not (signature == "unsigned" and unsigned_ok(event)):
                    reason = _signature_words(signature)
            if reason:
                rejected.append(Rejection(event.id, reason))
                continue
            try:
                with self._savepoint("one"):
                    self.conn.execute(
                        rows.INSERT_EVENT, rows.event_row(event, stored_at, payload_json)
                    )
            except sqlite3.IntegrityError:
                rejected.append(
                    Rejection(
                        event.id,
                        f"chain position {event.workstation}#{event.device_seq} is already "
                        "held by another event (a cloned workstation?)",
                    )
                )
                continue
            held[event.id] = event.content_hash
            stored.append(event)
        self._keep_refused(batch, rejected)
        return self._after_insert(stored, duplicates, rejected, len(batch))

    def _after_insert(
        self, stored: list[Event], duplicates: list[str], rejected: list[Rejection], size: int
    ) -> ApplyResult:
        capped = self._observe(stored)
        unsigned = [(e.id,) for e in stored if e.sig is None]
        if unsigned:  # vouched for as written before signing (see apply_remote)
            self.conn.executemany(
                "INSERT OR IGNORE INTO pre_signing (event_id) VALUES (?)", unsigned
            )
        changes = self._project(stored)
        self._index_pending()
        return ApplyResult(
            tuple(e.id for e in stored),
            tuple(duplicates),
            tuple(rejected),
            tuple(capped),
            changes,
        )

    def _observe(self, events: list[Event]) -> list[str]:
        """Advance the clock past received stamps; name the events too far ahead to follow."""
        if not events:
            return []
        newest = max(e.hlc for e in events)  # fixed-width stamps sort as text
        if self.clock.observe(Stamp.parse(newest)):
            return []
        limit = self._wall_ms() + self.clock.max_forward_ms
        return [e.id for e in events if Stamp.parse(e.hlc).ms > limit]

    def _remote_problem(self, event: Event, payload_json: str) -> str | None:
        if event.realm != self.realm:
            return f"belongs to realm {event.realm}, not {self.realm}"
        try:
            check_realm(event.kind, event.realm)
        except ValidationError as exc:
            return str(exc)
        if event_hash(event, payload_json) != event.content_hash:
            return "content hash does not match the event"
        if is_known(event.kind, event.schema):
            try:
                validate_payload(event.kind, event.schema, event.payload, self.reference)
            except ValidationError as exc:
                return str(exc)
        return None

    def _held_hashes(self, ids: list[str]) -> dict[str, str]:
        held: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            for event_id, digest in self.conn.execute(
                f"SELECT id, content_hash FROM events WHERE id IN ({marks})", chunk
            ):
                held[event_id] = digest
        return held

    # ---- projections -----------------------------------------------------------------------
    def _project(
        self, events: Sequence[Event], loaded: dict[str, _Projected] | None = None
    ) -> ChangeSet:
        """Bring projections up to date with events just inserted (same transaction)."""
        by_incident: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            if event.incident_id is not None:
                by_incident[event.incident_id].append(event)
        if loaded is None:
            loaded = self._projected(list(by_incident))
        held_counts = self._event_counts([i for i in by_incident if i not in loaded])
        new_rows = []
        updates: list[tuple[str, list[str], list[Any]]] = []
        totals: dict[rows.TotalKey, int] = {}
        assignment_rows = []
        relinked: list[IncidentState] = []
        new_incidents = set()
        for incident_id, new in by_incident.items():
            new.sort(key=fold_key)
            before = loaded.get(incident_id)
            state: IncidentState | None
            if before is None:
                if held_counts.get(incident_id, 0) == len(new):
                    # the usual case: no re-read needed
                    state = fold(new, self.reference, presorted=True)
                else:
                    state = fold(self.events_of(incident_id), self.reference)
                incremental = False
            elif new[0].kind != Kind.INCIDENT_OPENED and new[0].order_key > before.state.last_key:
                state = before.state
                for event in new:
                    state.apply(event, self.reference)
                incremental = True
            else:  # arrived out of clock order: fold the whole incident again
                state = fold(self.events_of(incident_id), self.reference)
                incremental = False
            if state is None or not state.opened:
                continue  # its opening has not arrived yet; the events wait in the log
            if any(e.kind == Kind.INCIDENT_OPENED for e in new):
                new_incidents.add(incident_id)
            row = rows.incident_row(state)
            if before is None:
                new_rows.append(row)
                rows.add_totals(totals, row, 1)
            else:
                if rows.counts_in_totals(before.row, row):
                    rows.add_totals(totals, before.row, -1)
                    rows.add_totals(totals, row, 1)
                # Only the columns that changed: untouched indexes are not rewritten.
                changed = [
                    (name, value)
                    for name, value, old in zip(rows.INCIDENT_COLUMNS, row, before.row, strict=True)
                    if value != old
                ]
                if changed:
                    updates.append((incident_id, [c[0] for c in changed], [c[1] for c in changed]))
            if not incremental or any(e.kind.startswith("assignment.") for e in new):
                assignment_rows.extend(rows.assignment_rows(state))
            if any(e.kind in _LINK_KINDS for e in new) or (not incremental and state.links):
                relinked.append(state)
        if new_rows:
            # Only incidents with no row yet (``loaded`` holds every stored one): a plain
            # INSERT, measurably cheaper than an upsert that must look for a clash first.
            self.conn.executemany(rows.INSERT_INCIDENT, new_rows)
            self._index_incidents([r[0] for r in new_rows])
        for incident_id, names, values in updates:
            assignments = ", ".join(f"{name} = ?" for name in names)
            self.conn.execute(
                f"UPDATE incidents SET {assignments} WHERE id = ?", [*values, incident_id]
            )
        self._add_totals(totals)
        if assignment_rows:
            self.conn.executemany(rows.UPSERT_ASSIGNMENT, assignment_rows)
        for state in relinked:
            self.conn.execute("DELETE FROM incident_links WHERE incident_id = ?", [state.id])
            self.conn.executemany(rows.INSERT_LINK, rows.link_rows(state))
        return ChangeSet(
            tuple(e.id for e in events),
            frozenset(by_incident),
            frozenset(new_incidents),
            frozenset(e.kind for e in events),
        )

    def _add_totals(self, totals: dict[rows.TotalKey, int]) -> None:
        """The dashboard's running totals follow the incidents just written: one change per
        total touched (a page of thousands of incidents touches a few hundred), and a total
        that comes to 0 is removed, so stores holding the same incidents hold the same
        totals whatever order the events reached them in."""
        changed = [(*key, n) for key, n in totals.items() if n]
        if not changed:
            return
        self.conn.executemany(rows.ADD_TOTAL, changed)
        self.conn.executemany(rows.DROP_ZERO_TOTAL, [c[:6] for c in changed])

    def _index_incidents(self, incident_ids: list[str]) -> None:
        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            self.conn.execute(
                "INSERT INTO incidents_fts (rowid, ref, summary, location) "
                f"SELECT rowid, ref, summary, location FROM incidents WHERE id IN ({marks})",
                chunk,
            )

    def _projected(self, incident_ids: list[str]) -> dict[str, _Projected]:
        found: dict[str, _Projected] = {}
        columns = ", ".join(rows.INCIDENT_COLUMNS)
        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            for row in self.conn.execute(
                f"SELECT {columns} FROM incidents WHERE id IN ({marks})", chunk
            ):
                found[row[0]] = _Projected(row, IncidentState.from_dict(json.loads(row[-1])))
        return found

    def _event_counts(self, incident_ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            for incident_id, count in self.conn.execute(
                f"SELECT incident_id, count(*) FROM events WHERE incident_id IN ({marks}) "
                "GROUP BY incident_id",
                chunk,
            ):
                counts[incident_id] = count
        return counts

    # ---- search index -----------------------------------------------------------------------
    def index_pending(self) -> int:
        """Index any log text past the watermark (none, unless the file was edited by hand)."""
        with self._write():
            return self._index_pending()

    def search_backlog(self) -> int:
        """Events not yet in the search index: always 0 after a write commits."""
        upto = self._indexed_upto()
        row = self.conn.execute("SELECT max(rowid) FROM events").fetchone()
        return max(0, (row[0] or 0) - upto)

    def _indexed_upto(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'fts.indexed_upto'").fetchone()
        return int(row[0]) if row else 0

    def _index_pending(self) -> int:
        """Inside every write transaction: index the log text past the watermark.

        One INSERT … SELECT per transaction (not a trigger per row, which is several times
        slower), so search always covers everything committed.
        """
        upto = self._indexed_upto()
        end = self.conn.execute("SELECT max(rowid) FROM events").fetchone()[0] or 0
        if end <= upto:
            return 0
        self.conn.execute(
            "INSERT INTO log_fts (rowid, body) SELECT rowid, body FROM events "
            "WHERE rowid > ? AND rowid <= ? AND body IS NOT NULL",
            (upto, end),
        )
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'fts.indexed_upto'", (str(end),))
        return end - upto

    # ---- reading ---------------------------------------------------------------------------
    def incident(self, incident_id: str | None) -> IncidentState | None:
        row = self.conn.execute(
            "SELECT state FROM incidents WHERE id = ?", (incident_id,)
        ).fetchone()
        return IncidentState.from_dict(json.loads(row[0])) if row else None

    def incident_by_ref(self, ref: str) -> IncidentState | None:
        found = self.conn.execute("SELECT state FROM incidents WHERE ref = ?", (ref,)).fetchall()
        if len(found) > 1:
            raise DomainError(
                f"reference {ref} names {len(found)} incidents (two workstations share a code?); "
                "use the incident id"
            )
        return IncidentState.from_dict(json.loads(found[0][0])) if found else None

    def events_of(self, incident_id: str) -> list[Event]:
        cursor = self.conn.execute(
            f"{rows.SELECT_EVENT} WHERE incident_id = ? ORDER BY hlc, workstation, id",
            (incident_id,),
        )
        return [rows.row_event(r) for r in cursor]

    def event(self, event_id: str) -> Event | None:
        row = self.conn.execute(f"{rows.SELECT_EVENT} WHERE id = ?", (event_id,)).fetchone()
        return rows.row_event(row) if row else None

    def iter_events(self, batch: int = 5000) -> Iterator[Event]:
        """Every event in storage order, read in pages so memory stays flat."""
        last = 0
        while True:
            page = self.conn.execute(
                f"SELECT rowid, {rows.READ_COLUMNS} FROM events "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch),
            ).fetchall()
            if not page:
                return
            for row in page:
                yield rows.row_event(row[1:])
            last = page[-1][0]

    def event_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def pending_count(self) -> int:
        return int(
            self.conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        )

    # ---- transactions ----------------------------------------------------------------------
    def _write(self) -> _WriteTransaction:
        return _WriteTransaction(self.conn, self.path)

    def _savepoint(self, name: str) -> _Savepoint:
        return _Savepoint(self.conn, name)

    def execute_read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, params))


def _signature_words(reason: str) -> str:
    if reason == "unsigned":
        return "unsigned: new entries must be signed by their author"
    return f"signature refused: {reason}"


class _WriteTransaction:
    """BEGIN IMMEDIATE … COMMIT; any failure rolls back and says why in the operator's terms."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def __enter__(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreWriteError(_explain(self.path, exc)) from exc

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error as commit_error:
                self._rollback()
                raise StoreWriteError(_explain(self.path, commit_error)) from commit_error
        self._rollback()
        if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.IntegrityError
        ):
            raise StoreWriteError(_explain(self.path, exc)) from exc

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class _Savepoint:
    def __init__(self, conn: sqlite3.Connection, name: str) -> None:
        self.conn = conn
        self.name = name

    def __enter__(self) -> None:
        self.conn.execute(f"SAVEPOINT {self.name}")

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.conn.execute(f"RELEASE {self.name}")
        else:
            self.conn.execute(f"ROLLBACK TO {self.name}")
            self.conn.execute(f"RELEASE {self.name}")


def _explain(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        why = "the file is read-only"
    elif "disk is full" in text or "full" in text:
        why = "the disk is full"
    elif "locked" in text or "busy" in text:
        why = "another program is holding the file"
    else:
        why = text
    return f"not saved: {why} ({path}). Nothing was written; what you typed is kept."
