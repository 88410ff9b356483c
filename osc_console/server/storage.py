"""The server's storage, one interface over SQLite and PostgreSQL.

The push algorithm lives here once; a backend supplies a write transaction that holds the
one lock every push takes first (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's row lock on the
counter). Because every decision, every ``seq`` and the commit happen under that lock,
``seq`` values become visible in order: a puller that has seen ``seq`` N can never later
meet a smaller one (SYNC.md: the PostgreSQL sequence trap).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from osc_console.models.clock import to_iso
from osc_console.server.accounts import Accounts
from osc_console.server.rules import Caller, Checked, Decision, Head, Verdict, decide, new_heads
from osc_console.sync.protocol import Outcome, PushResult, fold_digests


class StorageError(Exception):
    """The database refused or could not be reached; the request is answered with a 5xx."""


@dataclass(frozen=True, slots=True)
class RawPage:
    """A pull page as stored text: each row is (seq, wire JSON, received_at)."""

    rows: list[tuple[int, str, str]]
    next: int
    more: bool
    high_water: int = 0  # the last seq committed when the page was read (for progress)
    key_ids: frozenset[str] = frozenset()  # the keys that signed the page's events


@dataclass(frozen=True, slots=True)
class Digest:
    """How many events, and one digest of all their hashes: two sides holding the same set
    of events compute the same pair, whatever order they hold them in."""

    count: int
    digest: str
    high_water: int


class WriteTransaction(ABC):
    """Primitive steps of a push, all inside one locked transaction."""

    @abstractmethod
    def held(self, ids: Sequence[str]) -> dict[str, tuple[str, int]]: ...

    @abstractmethod
    def quarantined(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]: ...

    @abstractmethod
    def heads(self, realm: str, workstations: Sequence[str]) -> dict[str, Head]: ...

    @abstractmethod
    def take_seqs(self, count: int) -> int:
        """Reserve ``count`` seq values; returns the first."""

    @abstractmethod
    def insert_events(self, rows: Sequence[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    def insert_quarantine(self, rows: Sequence[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    def save_heads(self, realm: str, heads: dict[str, Head]) -> None: ...


def token_digest(token: str) -> str:
    """Tokens are stored hashed: a copy of the database signs nobody in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def safe_url(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


class Backend(ABC):
    """A server database. Thread-safe: the HTTP layer calls it from a pool of threads."""

    url: str

    # ---- set-up ----------------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def server_id(self) -> str:
        """A random id made when the database was created: a cursor is only valid for it."""

    # ---- accounts, workstations, keys, grants, tokens, audit -------------------------------
    # One statement, committed; SQL written with ``?`` marks (each backend adapts them).
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]: ...

    # What the database raises when a UNIQUE constraint is broken.
    _unique_violation: tuple[type[Exception], ...] = ()

    @property
    def accounts(self) -> Accounts:
        return Accounts(self._execute, self._unique_violation)

    @abstractmethod
    def meta(self, key: str) -> str | None:
        """A value of ``server_meta`` (the server's id, when signing began, its key)."""

    @abstractmethod
    def set_meta_once(self, key: str, value: str) -> str:
        """Set ``key`` unless it is set; returns the value it holds afterwards."""

    # ---- the log ---------------------------------------------------------------------------
    @abstractmethod
    def write(self) -> AbstractContextManager[WriteTransaction]: ...

    @abstractmethod
    def pull(self, realm: str, after: int, limit: int, visibilities: Sequence[str]) -> RawPage:
        """Rows after ``after`` in seq order, read in one snapshot with the high-water mark."""

    @abstractmethod
    def high_water(self) -> int: ...

    @abstractmethod
    def iter_bodies(self, realm: str, visibilities: Sequence[str]) -> Iterator[tuple[int, str]]:
        """(seq, wire JSON) of every visible event, for digests and tests."""

    @abstractmethod
    def hashes(self, realm: str, visibilities: Sequence[str]) -> tuple[int, Iterator[str]]:
        """The high-water mark and, read in the same snapshot, the content hash of every
        visible event up to it."""

    def digest(self, realm: str, visibilities: Sequence[str]) -> Digest:
        high, digests = self.hashes(realm, visibilities)
        count, folded = fold_digests(digests)
        return Digest(count, folded, high)

    @abstractmethod
    def chains(self, realm: str) -> dict[str, list[tuple[int, str | None, str]]]:
        """Per workstation: (device_seq, prev_hash, content_hash) of stored and quarantined
        events in chain order, so a test (or an operator) can verify every chain."""

    # ---- push ------------------------------------------------------------------------------
    def push(self, caller: Caller, batch: Sequence[Checked]) -> list[PushResult]:
        """Store a checked batch in one transaction; answer per event, after the commit."""
        received_at = now_iso()
        with self.write() as tx:
            ids = [c.event_id for c in batch if c.event is not None]
            held = tx.held(ids)
            quarantined = tx.quarantined([i for i in ids if i not in held])
            workstations = sorted({c.event.workstation for c in batch if c.event is not None})
            heads = tx.heads(caller.realm, workstations)
            decisions = decide(batch, held, heads)
            decisions = [_seen_before(d, quarantined) for d in decisions]
            accepted = [d for d in decisions if d.verdict is Verdict.ACCEPT]
            first = tx.take_seqs(len(accepted)) if accepted else 0
            seqs: dict[int, int] = {}
            rows = []
            for offset, decision in enumerate(
                sorted(accepted, key=lambda d: _chain_order(d.checked))
            ):
                event = decision.checked.event
                assert event is not None
                seq = first + offset
                seqs[decision.checked.index] = seq
                rows.append(
                    (
                        seq,
                        event.id,
                        event.realm,
                        event.workstation,
                        event.device_seq,
                        event.visibility,
                        event.content_hash,
                        decision.checked.body,
                        received_at,
                        event.key_id,
                    )
                )
            if rows:
                tx.insert_events(rows)
            parked = [
                (
                    d.checked.event.id,
                    d.checked.event.realm,
                    d.checked.event.workstation,
                    d.checked.event.device_seq,
                    d.checked.event.prev_hash,
                    d.checked.event.content_hash,
                    d.reason or "",
                    d.checked.body,
                    received_at,
                )
                for d in decisions
                if d.verdict is Verdict.QUARANTINE and d.checked.event is not None
            ]
            if parked:
                tx.insert_quarantine(parked)
            heads_after = new_heads(decisions)
            if heads_after:
                tx.save_heads(caller.realm, heads_after)
        return [_result(d, seqs) for d in decisions]


def _chain_order(checked: Checked) -> tuple[str, int]:
    event = checked.event
    return (event.workstation, event.device_seq) if event else ("", 0)


def _seen_before(decision: Decision, quarantined: dict[str, tuple[str, str]]) -> Decision:
    """An event refused earlier and pushed again gets the same answer, not a chain error."""
    event = decision.checked.event
    if event is None or event.id not in quarantined or decision.verdict is Verdict.DUPLICATE:
        return decision
    digest, reason = quarantined[event.id]
    if digest == event.content_hash:
        return Decision(decision.checked, Verdict.REJECT, reason)
    return Decision(
        decision.checked, Verdict.REJECT, "id collision: refused earlier with different content"
    )


def _result(decision: Decision, seqs: dict[int, int]) -> PushResult:
    checked = decision.checked
    verdict = decision.verdict
    if verdict is Verdict.ACCEPT:
        return PushResult(checked.event_id, Outcome.ACCEPTED, seq=seqs[checked.index])
    if verdict is Verdict.DUPLICATE:
        seq = decision.seq if decision.seq is not None else seqs.get(decision.same_as or -1)
        return PushResult(checked.event_id, Outcome.DUPLICATE, seq=seq)
    if verdict is Verdict.DEFER:
        return PushResult(checked.event_id, Outcome.DEFERRED, reason=decision.reason)
    return PushResult(checked.event_id, Outcome.REJECTED, reason=decision.reason)
