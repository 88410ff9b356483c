"""The sync engine: push the outbox, pull what others wrote, never on the UI thread.

One round is: sign in if needed, push every waiting event in batches, then pull pages until
the server has nothing more. Each pulled page is applied, and the cursor moved, in one local
transaction, so an interruption anywhere leaves the store consistent and the next round
finishes the job (SYNC.md). While the server cannot be reached the engine waits with
exponential back-off and full jitter, so a room full of workstations does not return in step.

In the console two threads run: a pusher woken whenever an entry is logged, and a puller
that long-polls so that others' entries appear within about a second. ``sync_once`` runs
the same steps in the calling thread (the command line, tests).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import TypeVar

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.changes import ChangeSet
from osc_console.models.clock import from_iso, to_iso
from osc_console.models.errors import DomainError
from osc_console.models.events import Event
from osc_console.signing.documents import KeyCertificate, signing_since_message
from osc_console.signing.keys import verify
from osc_console.store import outbox
from osc_console.store.event_store import Store
from osc_console.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    Outcome,
    PullPage,
    Session,
    fold_digests,
)
from osc_console.sync.transport import (
    LoginAnswer,
    ServerRefusedError,
    ServerUnreachableError,
    SignInHelper,
    SignInNeededError,
    SyncError,
    Transport,
)

T = TypeVar("T")

# A clock this far from the server's is worth telling the operator about.
SKEW_WARNING_MS = 2 * 60 * 1000
# Behind by more than this many seqs: show the first sync's progress.
PROGRESS_THRESHOLD = 2000


class SyncStatus(StrEnum):
    OFFLINE = "offline"
    SYNCING = "syncing"
    ONLINE = "online"
    ERROR = "error"
    SIGN_IN_NEEDED = "sign_in_needed"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return {
            SyncStatus.OFFLINE: "Offline",
            SyncStatus.SYNCING: "Syncing",
            SyncStatus.ONLINE: "Online",
            SyncStatus.ERROR: "Sync error",
            SyncStatus.SIGN_IN_NEEDED: "Sign-in needed",
            SyncStatus.STOPPED: "Sync stopped",
        }[self]


@dataclass(frozen=True, slots=True)
class SyncState:
    """Everything the status indicator shows, as one immutable value."""

    status: SyncStatus = SyncStatus.OFFLINE
    server: str = ""
    user: str | None = None
    pending: int = 0
    refused: int = 0
    last_success: str | None = None
    message: str = ""
    retry_in: float | None = None
    clock_skew_ms: int | None = None
    capped_events: int = 0
    progress: tuple[int, int] | None = None
    alarms: tuple[str, ...] = ()
    sign_in_attempts: int = 0  # failed sign-ins: each one is news, even with the same message

    @property
    def skew_warning(self) -> str | None:
        skew = self.clock_skew_ms
        if skew is not None and abs(skew) >= SKEW_WARNING_MS:
            minutes = round(abs(skew) / 60000)
            side = "behind" if skew > 0 else "ahead of"
            return f"This workstation's clock is about {minutes} min {side} the server's"
        if self.capped_events:
            return (
                f"{self.capped_events} received entries carry a clock far ahead of this one; "
                "they are stored, but did not move this workstation's clock"
            )
        return None


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    password: str


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with full jitter: a random pause up to base x 2^failures."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 20)))
        self.failures += 1
        return self.rng.uniform(ceiling / 10, ceiling)

    def reset(self) -> None:
        self.failures = 0


@dataclass(frozen=True, slots=True)
class Agreement:
    """The count-and-digest check: does this store hold exactly what the server holds for it?"""

    local_count: int
    server_count: int
    agree: bool

    @property
    def line(self) -> str:
        if self.agree:
            return f"in agreement with the server: {self.local_count} events"
        return (
            f"this workstation and the server disagree: {self.local_count} events here, "
            f"{self.server_count} there (nothing was changed; sync again, then report it)"
        )


@dataclass(frozen=True, slots=True)
class RoundResult:
    pushed: int
    pulled: int


class SyncEngine:
    def __init__(
        self,
        open_store: Callable[[], Store],
        transport: Transport,
        *,
        workstation: str,
        realm: str = "live",
        server_label: str = "",
        on_state: Callable[[SyncState], None] | None = None,
        on_changes: Callable[[ChangeSet], None] | None = None,
        push_batch: int = 500,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        long_poll: float = 20.0,
        backoff: Backoff | None = None,
        keep_password: bool = True,
        progress_threshold: int = PROGRESS_THRESHOLD,
        wall: Callable[[], datetime] | None = None,
        identity: SignInHelper | None = None,
        certificates: Callable[[], Sequence[KeyCertificate]] | None = None,
    ) -> None:
        self._open_store = open_store
        self.transport = transport
        # Makes this workstation's sign-in requests (device proof, new keys) and keeps what
        # the answers give; certificates: break-glass keys made offline, pushed with their
        # entries so the server can check them.
        self._identity = identity
        self._certificates = certificates or (lambda: ())
        self._reply: LoginAnswer | None = None
        self.workstation = workstation
        self.realm = realm
        self.push_batch = push_batch
        self.pull_limit = pull_limit
        self.long_poll = long_poll
        self.keep_password = keep_password
        self.progress_threshold = progress_threshold
        self._on_state = on_state
        self._on_changes = on_changes
        self._wall = wall or (lambda: datetime.now(UTC))
        self._backoff = backoff or Backoff()
        self._lock = threading.RLock()
        self._credentials: Credentials | None = None
        self._session: Session | None = None
        self._server_id = ""
        self._state = SyncState(server=server_label)
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._signed_in = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pulled_once = False
        self._contacted = False  # the last push step reached the server
        self._stuck = ""  # why waiting entries cannot move, if they cannot
        self._wake = threading.Event()  # cuts a back-off pause short ("Sync now")
        self._signing_in = threading.Lock()

    # ---- what the UI and command line call -------------------------------------------------
    @property
    def state(self) -> SyncState:
        with self._lock:
            return self._state

    def sign_in(self, user: str, password: str) -> None:
        """Credentials for the next attempt; the engine signs in on its own thread."""
        with self._lock:
            self._credentials = Credentials(user, password)
            self._session = None
        self._signed_in.set()
        self.kick()

    def sign_out(self) -> None:
        """Nobody to sync as (the operator changed and signed in offline): forget the
        sign-in until the next one; entries wait in the outbox meanwhile."""
        with self._lock:
            self._credentials = None
            self._session = None
            self._reply = None
        self._update(status=SyncStatus.SIGN_IN_NEEDED, user=None, message="sign in to sync")

    def adopt(self, reply: LoginAnswer) -> None:
        """Use a sign-in the console has just made (rather than signing in twice)."""
        with self._lock:
            self._reply = reply
            self._session = reply.session
            self._server_id = reply.server_id or "default"
        self._update(user=reply.session.user)
        self._signed_in.set()
        self.kick()

    def kick(self) -> None:
        """Something was logged here (or "Sync now"): push now, even during a back-off."""
        self._kick.set()
        self._wake.set()

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for name, loop in (("sync-push", self._push_loop), ("sync-pull", self._pull_loop)):
            thread = threading.Thread(target=loop, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads, waiting at most ``timeout`` seconds in all.

        A long-poll already in flight cannot be interrupted (closing the HTTP client does
        not abort it); the threads are daemons and stop of themselves when it returns, and
        nothing they hold is lost: every write they make is one committed transaction.
        """
        self._stop.set()
        self._kick.set()
        self._wake.set()
        self._signed_in.set()
        self.transport.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._update(status=SyncStatus.STOPPED, retry_in=None)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def sync_once(self, *, wait: float = 0.0) -> RoundResult:
        """One whole round in this thread. Raises SyncError when it could not finish."""
        store = self._open_store()
        try:
            self._refresh_counts(store)
            pushed = self._with_session(lambda: self.push_pending(store))
            pulled = self._with_session(lambda: self.pull_available(store, wait=wait))
            # Entries logged while pulling go out in the same round.
            pushed += self._with_session(lambda: self.push_pending(store))
            self._succeeded(store)
            return RoundResult(pushed, pulled)
        except SyncError as exc:
            self._failed(exc, store)
            raise
        finally:
            store.close()

    def verify(self, attempts: int = 3) -> Agreement:
        """Prove this store and the server agree (SYNC.md's count-and-digest check).

        Pulls first, and again if the server moved on meanwhile; a disagreement that
        remains is raised as an alarm, never repaired by overwriting either side.
        """
        store = self._open_store()
        try:
            agreement = Agreement(0, 0, agree=False)
            for _ in range(attempts):
                self._with_session(lambda: self.pull_available(store))
                server = self._with_session(
                    lambda: self.transport.digest(self._token(), self.realm)
                )
                if outbox.cursor(store, self._cursor_id()) < int(server["high_water"]):
                    continue  # others pushed meanwhile: catch up and look again
                count, digest = fold_digests(outbox.synced_hashes(store))
                agreement = Agreement(count, int(server["count"]), digest == server["digest"])
                if agreement.agree:
                    return agreement
            self._alarm(agreement.line)
            return agreement
        finally:
            store.close()

    # ---- push ------------------------------------------------------------------------------
    def push_pending(self, store: Store) -> int:
        """Push until the outbox holds nothing the server will take now."""
        acked_total = 0
        while not self._stop.is_set():
            batch = outbox.pending(store, self.push_batch)
            if not batch:
                self._stuck = ""  # everything went, or was refused: nothing waits
                break
            token = self._token()
            self._update(status=SyncStatus.SYNCING)
            used = {e.key_id for e in batch}
            certs = [c for c in self._certificates() if c.key_id in used]
            answer = self.transport.push(token, batch, certs)
            self._contacted = True
            self._observe_server_time(answer.server_time)
            acked: list[str] = []
            marks: list[tuple[str, outbox.OutboxState, str | None]] = []
            for result in answer.results:
                if result.outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE):
                    acked.append(result.id)
                elif result.outcome is Outcome.REJECTED:
                    marks.append((result.id, outbox.OutboxState.REJECTED, result.reason))
                else:
                    marks.append((result.id, outbox.OutboxState.PENDING, result.reason))
            outbox.acknowledge(store, acked)
            outbox.mark(store, marks)
            acked_total += len(acked)
            self._refresh_counts(store)
            if not acked and not any(m[1] is outbox.OutboxState.REJECTED for m in marks):
                # Only deferred events: the next round tries them again. Say so, so that a
                # queue that cannot move is never shown as healthy.
                waiting = [m for m in marks if m[1] is outbox.OutboxState.PENDING]
                self._stuck = (
                    f"{len(waiting)} entries wait for earlier entries the server has never "
                    f"received ({waiting[0][2]})"
                    if waiting
                    else ""
                )
                break
        return acked_total

    # ---- pull ------------------------------------------------------------------------------
    def pull_available(self, store: Store, *, wait: float = 0.0) -> int:
        """Pull pages until the server has nothing more; returns how many events were new."""
        token = self._token()  # signed in first: the cursor belongs to that server's database
        with self._lock:
            session = self._session
        cursor_id = self._cursor_id()
        key = outbox.cursor_key(cursor_id)
        cursor = outbox.cursor(store, cursor_id)
        started_at = cursor
        stored = 0
        while not self._stop.is_set():
            with self._lock:
                if self._session is not session:
                    break  # another operator's sign-in: their organisation has its own cursor
            page = self.transport.pull(token, self.realm, cursor, self.pull_limit, wait)
            wait = 0.0
            self._observe_server_time(page.server_time)
            if page.next < cursor:
                raise ServerRefusedError(
                    f"the server's cursor went back from {cursor} to {page.next}; "
                    "nothing was changed here (was the server restored from a backup?)"
                )
            events = self._permitted([p.event for p in page.events], session)
            self._trust_authority(store)
            result = store.apply_remote(
                events,
                meta={key: str(page.next)},
                certificates=page.keys,
                unsigned_ok=_vouched(page.unsigned_ok(self._signing_since(store, page))),
            )
            cursor = page.next
            stored += len(result.stored)
            if result.rejected:
                self._alarm(
                    f"{len(result.rejected)} events from the server could not be stored here: "
                    f"{result.rejected[0].reason}"
                )
            if result.clock_capped:
                with self._lock:
                    capped = self._state.capped_events + len(result.clock_capped)
                self._update(capped_events=capped)
            if result.changes.events and self._on_changes is not None:
                self._on_changes(result.changes)
            if page.more and page.high_water - started_at > self.progress_threshold:
                # A long history: say how far the first sync has come (seq, not events, as
                # the only total the server knows without counting).
                self._update(progress=(cursor - started_at, page.high_water - started_at))
            if not page.more:
                break
        self._update(progress=None)
        return stored

    def _signing_since(self, store: Store, page: PullPage) -> int:
        """Where the server says signing began, if its authority signed it; the first figure
        a workstation takes is kept, and a later, larger one never believed (a server
        database changed to vouch for planted unsigned entries)."""
        with self._lock:
            reply = self._reply
        key = f"signing.since.{self._server_id}"
        pinned = store.meta(key)
        if reply is None or not reply.authority_public_key:
            return int(pinned) if pinned else 0
        message = signing_since_message(self._server_id, page.signing_since)
        if not verify(reply.authority_public_key, message, page.signing_since_sig):
            if page.signing_since:
                self._alarm(
                    "the server's word on which entries predate signing does not verify: no "
                    "unsigned entry is taken from it"
                )
            return int(pinned) if pinned else 0
        if pinned is None:
            store.set_meta({key: str(page.signing_since)})
            return page.signing_since
        return min(int(pinned), page.signing_since)

    def _trust_authority(self, store: Store) -> None:
        """The server's authority key, as the sign-in gave it: what certifies every key."""
        with self._lock:
            reply = self._reply
        if reply is None or not reply.authority_key_id:
            return
        if reply.authority_key_id not in store.authorities():
            store.trust_authority(
                reply.authority_key_id, reply.authority_public_key, f"server {reply.server_id}"
            )

    def _cursor_id(self) -> str:
        """Where pulling has reached, per server database and per organisation: a desk shared
        by both (an operator switched) reads each organisation's history in full."""
        with self._lock:
            session = self._session
        agency = session.agency if session is not None else "none"
        return f"{self._server_id}.{agency}"

    def _permitted(self, events: Sequence[Event], session: Session | None) -> list[Event]:
        """Defence in depth: an event this organisation may not see is never stored."""
        if session is None:
            return list(events)
        agency = Agency(session.agency)
        kept = [
            e for e in events if can_see(agency, Visibility(e.visibility)) and e.realm == self.realm
        ]
        if len(kept) != len(events):
            self._alarm(
                f"the server sent {len(events) - len(kept)} events this workstation may not "
                "hold; they were not stored"
            )
        return kept

    # ---- sessions --------------------------------------------------------------------------
    def _token(self) -> str:
        with self._lock:
            session = self._session
        if session is None:
            # One sign-in at a time: the push and pull threads both find no session when
            # someone signs in, and two requests for one person would make two new keys.
            with self._signing_in:
                with self._lock:
                    session = self._session
                if session is None:
                    session = self._login()
        return session.token

    def _login(self) -> Session:
        with self._lock:
            credentials = self._credentials
        if credentials is None:
            raise SignInNeededError("sign in to the server to sync")
        if self._identity is None:
            raise SignInNeededError("this workstation cannot sign in: it has no identity")
        try:
            request = self._identity.login_request(
                credentials.user, credentials.password, self.realm
            )
            answer: LoginAnswer = self.transport.login(request)
            try:
                self._identity.accepted(answer, credentials.password)
            except DomainError as refused:  # this workstation cannot keep what it was given
                raise SignInNeededError(str(refused)) from refused
        except SignInNeededError as exc:
            with self._lock:
                if self._credentials is credentials:
                    self._credentials = None
                attempts = self._state.sign_in_attempts + 1
            self._update(
                status=SyncStatus.SIGN_IN_NEEDED, message=str(exc), sign_in_attempts=attempts
            )
            raise
        if answer.session.must_change_password:
            raise SignInNeededError(
                f"{answer.session.user} must choose a new password first (it was reset)"
            )
        with self._lock:
            self._session = answer.session
            self._reply = answer
            self._server_id = answer.server_id or "default"
            if not self.keep_password:
                self._credentials = None
        self._update(user=answer.session.user)
        return answer.session

    def _with_session(self, step: Callable[[], T]) -> T:
        """Run a step; if the sign-in expired between pages, sign in again once and resume."""
        with self._lock:
            used = self._session
        try:
            return step()
        except SignInNeededError:
            with self._lock:
                # Only forget the sign-in that failed: another thread may already hold a
                # fresh one.
                if self._session is used:
                    self._session = None
                can_retry = self._credentials is not None or self._session is not None
            if not can_retry:
                raise
            return step()

    # ---- state -----------------------------------------------------------------------------
    def _update(self, **changes: object) -> None:
        with self._lock:
            new = replace(self._state, **changes)  # type: ignore[arg-type]
            if new == self._state:
                return
            self._state = new
        if self._on_state is not None:
            self._on_state(new)

    def _alarm(self, message: str) -> None:
        with self._lock:
            alarms = (*self._state.alarms[-4:], message)
        self._update(alarms=alarms)

    def _refresh_counts(self, store: Store) -> None:
        self._update(pending=store.pending_count(), refused=outbox.refused_count(store))

    def _observe_server_time(self, server_time: str) -> None:
        if not server_time:
            return
        try:
            server = from_iso(server_time)
        except ValueError:
            return
        skew = int((server - self._wall()).total_seconds() * 1000)
        with self._lock:
            previous = self._state.clock_skew_ms
        # Round-trip time makes the reading jitter; only a real change is worth an update.
        if previous is None or abs(previous - skew) > 1000:
            self._update(clock_skew_ms=skew)

    def _succeeded(self, store: Store) -> None:
        self._backoff.reset()
        self._refresh_counts(store)
        refused = self.state.refused
        if self._stuck:
            self._update(status=SyncStatus.ERROR, message=self._stuck, retry_in=None)
            return
        self._update(
            status=SyncStatus.ONLINE,
            last_success=to_iso(self._wall()),
            message=f"{refused} entries refused by the server" if refused else "",
            retry_in=None,
        )

    def _failed(self, exc: SyncError, store: Store | None, retry_in: float | None = None) -> None:
        if store is not None:
            self._refresh_counts(store)
        if isinstance(exc, SignInNeededError):
            self._update(status=SyncStatus.SIGN_IN_NEEDED, message=str(exc), retry_in=None)
        elif isinstance(exc, ServerUnreachableError):
            self._update(status=SyncStatus.OFFLINE, message=str(exc), retry_in=retry_in)
        else:
            self._update(status=SyncStatus.ERROR, message=str(exc), retry_in=retry_in)

    # ---- background loops ------------------------------------------------------------------
    def _push_loop(self) -> None:
        store = self._open_store()
        try:
            self._refresh_counts(store)
            while not self._stop.is_set():
                self._kick.clear()
                try:
                    self._contacted = False
                    self._with_session(lambda: self.push_pending(store))
                    # Only a push that reached the server says anything about the link.
                    if self._contacted and self._pulled_once:
                        self._succeeded(store)
                    else:
                        self._refresh_counts(store)
                    self._kick.wait(timeout=2.0)
                except SyncError as exc:
                    self._pause_after(exc, store)
        finally:
            store.close()

    def _pull_loop(self) -> None:
        store = self._open_store()
        try:
            while not self._stop.is_set():
                # The first pull of a session answers at once, so "online" shows at once.
                wait = self.long_poll if self._pulled_once else 0.0
                try:
                    self._with_session(partial(self.pull_available, store, wait=wait))
                    self._pulled_once = True
                    self._succeeded(store)
                except SyncError as exc:
                    self._pause_after(exc, store)
        finally:
            store.close()

    def _pause_after(self, exc: SyncError, store: Store) -> None:
        if self._stop.is_set():
            return
        if isinstance(exc, SignInNeededError):
            self._failed(exc, store)
            self._signed_in.clear()
            # Wait for the user (or stop); re-check now and then in case another thread
            # signed in meanwhile.
            self._signed_in.wait(timeout=5.0)
            return
        delay = self._backoff.next_delay()
        self._failed(exc, store, retry_in=delay)
        self._wake.clear()
        self._wake.wait(delay)


def _vouched(ids: frozenset[str]) -> Callable[[Event], bool]:
    """The server vouches that these unsigned events were stored before it required
    signatures ("unsigned (before signing)")."""

    def before_signing(event: Event) -> bool:
        return event.id in ids

    return before_signing
