"""Pieces every sync test uses: a real server on a free port, workstations, the invariants.

The invariants are SYNC.md's ten, checked after the network heals and the outboxes drain.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
import uvicorn

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.clock import Stamp, to_iso
from osc_console.models.events import Author, Event, EventDraft, seal, sign_event
from osc_console.models.ids import uuid7
from osc_console.models.projection import fold
from osc_console.server.accounts import Account
from osc_console.server.app import create_app
from osc_console.server.passwords import hash_password
from osc_console.server.rules import Caller
from osc_console.server.service import SyncService
from osc_console.server.signin import SignInPolicy
from osc_console.server.storage import Backend
from osc_console.services.identity import Operator, WorkstationIdentity, register_operator
from osc_console.services.incidents import IncidentService
from osc_console.signing.vault import TEST_COST
from osc_console.store import outbox
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from osc_console.store.keyring import Keyring
from osc_console.sync.client import HttpTransport
from osc_console.sync.engine import Backoff, SyncEngine
from osc_console.sync.protocol import LoginReply
from osc_console.sync.transport import Transport

PG_DSN = os.environ.get("OSC_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
# Cheap password and key sealing: these tests sign in thousands of times.
FAST_POLICY = SignInPolicy(hash_cost=2**4, address_failures=10_000, glass_cost=TEST_COST)


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_pg() -> None:
    """Skip without PostgreSQL, unless CI says it must be there (then fail)."""
    if pg_available():
        return
    if os.environ.get("OSC_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required (OSC_REQUIRE_PG=1) but {PG_DSN} is unreachable")
    pytest.skip(f"PostgreSQL not reachable at {PG_DSN} (set OSC_TEST_PG_DSN)")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A private schema for one test; yields a DSN whose search_path points at it."""
    require_pg()
    name = f"osc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    joiner = "&" if "?" in PG_DSN else "?"
    try:
        yield f"{PG_DSN}{joiner}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """The real ASGI app on uvicorn, in this process, on 127.0.0.1."""

    # Which service answers at which address, so a workstation made for a URL can be
    # enrolled with that server as an administrator would.
    running: ClassVar[dict[str, SyncService]] = {}

    def __init__(self, service: SyncService, port: int | None = None) -> None:
        self.service = service
        self.port = port or free_port()
        ServerThread.running[self.url] = service
        config = uvicorn.Config(
            create_app(service), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Workstation:
    """One console's store, its desk (the service people use) and its sync engine."""

    path: Path
    author: Author
    user: str
    store: Store
    desk: IncidentService
    engine: SyncEngine
    transport: Transport
    identity: WorkstationIdentity | None = None
    made: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.author.workstation

    @property
    def agency(self) -> Agency:
        return Agency(self.author.agency)

    def close(self) -> None:
        self.engine.stop(timeout=2)
        self.store.close()
        if self.identity is not None:
            self.identity.keyring.close()


def service_of(transport: Transport) -> SyncService:
    """The service behind a test transport (simulated, or HTTP to a ServerThread)."""
    found = getattr(transport, "service", None)
    if isinstance(found, SyncService):
        return found
    base = getattr(transport, "base_url", "")
    return ServerThread.running[base]


def make_service(backend: Backend, **kw: object) -> SyncService:
    """A server's service with cheap password work (tests sign in thousands of times)."""
    kw.setdefault("policy", FAST_POLICY)
    return SyncService(backend, **kw)  # type: ignore[arg-type]


_DESKS: weakref.WeakKeyDictionary[SyncService, dict[str, WorkstationIdentity]] = (
    weakref.WeakKeyDictionary()
)


def desk(
    service: SyncService, code: str, agency: Agency, folder: Path | None = None
) -> WorkstationIdentity:
    """The workstation ``code`` (its keyring in ``folder``), enrolled with ``service`` as an
    administrator would enrol it. The same desk again for the same code."""
    desks = _DESKS.setdefault(service, {})
    found = desks.get(code)
    if found is not None:
        return found
    where = folder or Path(tempfile.mkdtemp(prefix="osc-desk-"))
    identity = WorkstationIdentity(Keyring(where / f"{code}.keys.db"), code, kdf_cost=TEST_COST)
    service.admin.enrol_workstation(
        "test harness", code, identity.device_key.public_key, agency.value
    )
    desks[code] = identity
    return identity


def sign_in_at(
    service: SyncService,
    identity: WorkstationIdentity,
    user: str,
    realm: str = "live",
    password: str = PASSWORD,
) -> tuple[Operator, LoginReply]:
    """Sign ``user`` in at the desk, straight to the service (no network): what the console's
    sign-in screen does. Returns the operator and the server's answer."""
    request = identity.login_request(user, password, realm)
    reply = service.login(request.to_wire(), "test")
    identity.accepted(reply, password)
    return identity.operator(reply), reply


def operator_at(
    service: SyncService, code: str, agency: Agency, user: str, realm: str = "live"
) -> Operator:
    """``user`` signed in at desk ``code`` (enrolled as ``agency``'s if it is new)."""
    operator, _ = sign_in_at(service, desk(service, code, agency), user, realm)
    return operator


def enrol_data_dir(service: SyncService, data: Path, code: str, agency: Agency) -> Keyring:
    """The data folder of a console (or ``osc-console sync``) becomes desk ``code``, enrolled
    with ``service``. Returns its keyring, open (the caller closes it)."""
    keyring = Keyring.open(data)
    identity = WorkstationIdentity(keyring, code, kdf_cost=TEST_COST)
    service.admin.enrol_workstation(
        "test harness", code, identity.device_key.public_key, agency.value
    )
    return keyring


def author_at(
    service: SyncService, store: Store, code: str, agency: Agency, user: str, *, realm: str = "live"
) -> Author:
    """``user`` signed in at desk ``code`` and able to write to ``store``."""
    identity = desk(service, code, agency)
    operator, _ = sign_in_at(service, identity, user, realm)
    register_operator(store, operator, identity)
    return operator.author(realm)


def make_workstation(
    folder: Path,
    code: str,
    agency: Agency,
    transport: Transport,
    *,
    realm: str = "live",
    user: str | None = None,
    wall: object = None,
    service: SyncService | None = None,
    keys: Path | None = None,
) -> Workstation:
    """A console at desk ``code`` whose store is ``folder/CODE.db``: the desk enrolled with
    ``service`` (by default the one behind ``transport``; give it for a server in another
    process), its keyring in ``keys`` (default ``folder``), and ``user`` signed in."""
    service = service or service_of(transport)
    path = folder / f"{code}.db"
    store = Store.open(path, realm)
    name = user or f"user-{code.lower()}"
    identity = desk(service, code, agency, keys or folder)
    operator, _ = sign_in_at(service, identity, name, realm)
    register_operator(store, operator, identity)
    author = operator.author(realm)
    engine = SyncEngine(
        lambda: Store.open(path, realm),
        transport,
        workstation=code,
        realm=realm,
        backoff=Backoff(base=0.01, cap=0.05),
        long_poll=1.0,
        identity=identity,
        certificates=identity.keyring.break_glass_keys,
    )
    engine.sign_in(name, PASSWORD)
    return Workstation(
        path, author, name, store, IncidentService(store, author), engine, transport, identity
    )


# Password hashing at its lowest cost (see FAST_POLICY).
FAST_HASH = hash_password(PASSWORD, cost=2**4)


def signed_in(service: SyncService, user: str, workstation: str, realm: str = "live") -> Caller:
    """The caller a sign-in gives, as the server sees it behind the Authorization header."""
    account = service.accounts().find(user)
    agency = account.agency if account is not None else Agency.POLICE
    identity = desk(service, workstation, agency)
    _, reply = sign_in_at(service, identity, user, realm)
    return service.authenticate(f"Bearer {reply.session.token}")


def add_users(service: SyncService, *people: tuple[str, Agency], role: str = "dispatcher") -> None:
    for name, agency in people:
        service.accounts().add(
            Account(name, "", agency, role, FAST_HASH, must_change=False),
            "2000-01-01T00:00:00.000Z",
        )


def hand_made(
    draft: EventDraft,
    author: Author,
    *,
    after: Event | None = None,
    device_seq: int | None = None,
    recorded_at: str | None = None,
    counter: int = 0,
) -> Event:
    """An event sealed (and signed, if ``author`` has a signer) by hand, as a console that
    skipped its store's own checks would make it: the server must judge it alone. It follows
    ``after`` in its chain, or takes ``device_seq`` (default 1)."""
    now = datetime.now(UTC)
    event = seal(
        draft,
        author,
        event_id=uuid7(),
        hlc=str(Stamp(int(now.timestamp() * 1000), counter)),
        recorded_at=recorded_at or to_iso(now),
        device_seq=device_seq or (after.device_seq + 1 if after is not None else 1),
        prev_hash=after.content_hash if after is not None else None,
    )
    return sign_event(event, author.signer) if author.signer is not None else event


def http(url: str) -> HttpTransport:
    return HttpTransport(url, timeout=5.0)


# ---- the invariants ------------------------------------------------------------------------


def server_events(backend: Backend, realm: str, agency: Agency | None = None) -> dict[str, str]:
    """id -> content hash of what the server holds (all, or what an agency may see)."""
    import json

    vis = [v.value for v in Visibility if agency is None or can_see(agency, v)]
    held: dict[str, str] = {}
    for _, body in backend.iter_bodies(realm, vis):
        data = json.loads(body)
        assert data["id"] not in held, f"event {data['id']} twice on the server"
        held[data["id"]] = data["content_hash"]
    return held


def local_events(store: Store) -> dict[str, Event]:
    found: dict[str, Event] = {}
    for event in store.iter_events():
        assert event.id not in found, f"event {event.id} twice in {store.path.name}"
        found[event.id] = event
    return found


def check_invariants(
    backend: Backend, stations: list[Workstation], realm: str = "live"
) -> dict[str, int]:
    """SYNC.md's invariants after healing. Returns a few counts for the test to report."""
    everything = server_events(backend, realm)
    # 1, 2, 3: nothing lost, nothing twice, nothing changed — made here, held there, same hash.
    for station in stations:
        held = local_events(station.store)
        for event_id in station.made:
            assert event_id in everything, f"{station.code} made {event_id}; the server lost it"
            assert event_id in held
        for event_id, event in held.items():
            assert event.computed_hash() == event.content_hash, f"{event_id} changed"
            if event_id in everything:
                assert everything[event_id] == event.content_hash, f"{event_id} differs"
        # 9 (liveness): the outbox drained.
        assert station.store.pending_count() == 0, f"{station.code}'s outbox did not drain"
        assert outbox.refused(station.store) == []
        # 10 (need-to-know) and 1 for others: exactly what this organisation may see.
        visible = server_events(backend, realm, station.agency)
        assert set(held) == set(visible), (
            f"{station.code}: {len(set(visible) - set(held))} missing, "
            f"{len(set(held) - set(visible))} extra"
        )
        for event in held.values():
            assert can_see(station.agency, Visibility(event.visibility)), "need-to-know broken"
            assert event.realm == realm
        # 4 (convergence) is checked below; the store's own projection equals a rebuild.
        assert check_store(station.store).ok
    # 5: every chain on the server is gap-free and linked.
    for workstation, chain in backend.chains(realm).items():
        previous: str | None = None
        for position, (device_seq, prev_hash, digest) in enumerate(chain, start=1):
            assert device_seq == position, f"{workstation}: gap before #{device_seq}"
            assert prev_hash == previous, f"{workstation}#{device_seq} does not link"
            previous = digest
    # 4: incidents fold to the same state on every workstation of the same organisation.
    by_agency: dict[Agency, list[Workstation]] = {}
    for station in stations:
        by_agency.setdefault(station.agency, []).append(station)
    for group in by_agency.values():
        states = [_folded(s.store) for s in group]
        for other in states[1:]:
            assert other == states[0], "workstations of one organisation disagree"
    return {"server_events": len(everything)}


def _folded(store: Store) -> dict[str, object]:
    by_incident: dict[str, list[Event]] = {}
    for event in store.iter_events():
        if event.incident_id:
            by_incident.setdefault(event.incident_id, []).append(event)
    return {i: fold(events, store.reference) for i, events in by_incident.items()}
