"""Faults with real processes: servers killed by signal, a client killed mid-pull, and
several server processes on one PostgreSQL database with concurrent pushers and a puller.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from osc_console.models.agencies import Agency
from osc_console.models.events import Event
from osc_console.server.authority_file import AUTHORITY_KEY_FILE, load_authority
from osc_console.server.postgres_backend import PostgresBackend
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.server.storage import Backend
from osc_console.services.identity import WorkstationIdentity, register_operator
from osc_console.services.incidents import IncidentService
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from osc_console.sync.client import HttpTransport
from osc_console.sync.engine import Backoff
from osc_console.sync.protocol import PROTOCOL_VERSION
from tests.conftest import knife_incident
from tests.sync.harness import (
    PASSWORD,
    Workstation,
    add_users,
    author_at,
    check_invariants,
    enrol_data_dir,
    free_port,
    make_service,
    make_workstation,
    pg_schema,
    server_events,
    sign_in_at,
    signed_in,
)
from tests.sync.harness import desk as harness_desk

pytestmark = pytest.mark.slow


class ServerProcess:
    """``osc-console serve`` in its own process, which a test can kill with SIGKILL."""

    def __init__(self, db: str, folder: Path, port: int | None = None) -> None:
        self.db = db
        self.folder = folder
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "osc_console",
                "serve",
                "--port",
                str(self.port),
                "--db",
                self.db,
                "--data-dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the server process did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[tuple[str, Backend]]:
    """A server database URL and this process's own handle on it (for users and checks)."""
    if kind == "sqlite":
        path = folder / "server.db"
        backend: Backend = SqliteBackend(path)
        try:
            yield f"sqlite:///{path}", backend
        finally:
            backend.close()
    else:
        with pg_schema() as dsn:
            backend = PostgresBackend(dsn, pool_size=2)
            try:
                yield dsn, backend
            finally:
                backend.close()


def _service(backend: Backend, data: Path) -> SyncService:
    """This process's own service on the database that ``osc-console serve --data-dir
    DATA`` serves: the same signing key (its file in DATA), so what it certifies (desks
    enrolled, people signed in) the server processes trust."""
    return make_service(backend, authority=load_authority(data / AUTHORITY_KEY_FILE))


def _fast_engine(station: Workstation) -> None:
    station.engine._backoff = Backoff(base=0.05, cap=0.3)


def _log_busily(stations: list[Workstation], stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        station = rng.choice(stations)
        rows = station.store.execute_read("SELECT id FROM incidents")
        if not rows or rng.random() < 0.2:
            outcome = station.desk.open_incident(
                knife_incident(lead_agency=Agency.POLICE)
                if station.agency is Agency.POLICE
                else knife_incident(
                    category="ASB-GEN",
                    lead_agency=Agency.CORPORATION,
                    grade=None,
                    council_priority="routine",
                )
            )
        else:
            outcome = station.desk.add_log(str(rng.choice(rows)[0]), f"update {rng.random():.4f}")
        station.made.extend(e.id for e in outcome.events)
        station.engine.kick()
        time.sleep(rng.uniform(0.005, 0.03))


def _drain(stations: list[Workstation], backend: Backend, limit: float = 30.0) -> float:
    """Liveness: after healing, every outbox empties and every station catches up."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if all(s.store.pending_count() == 0 for s in stations):
            high = backend.high_water()
            if all(_cursor(s) >= high for s in stations):
                return time.monotonic() - started
        time.sleep(0.05)
    pending = {s.code: s.store.pending_count() for s in stations}
    raise AssertionError(f"outboxes did not drain within {limit} s after healing: {pending}")


def _cursor(station: Workstation) -> int:
    rows = station.store.execute_read("SELECT value FROM meta WHERE key LIKE 'sync.cursor.%'")
    return max((int(v) for (v,) in rows), default=0)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
@pytest.mark.parametrize("seed", [1, 2])
def test_servers_killed_mid_push_and_mid_pull_lose_and_duplicate_nothing(
    tmp_path: Path, kind: str, seed: int
) -> None:
    rng = random.Random(seed)
    with _database(kind, tmp_path) as (db, backend):
        service = _service(backend, tmp_path)
        add_users(
            service, ("alice", Agency.POLICE), ("carol", Agency.POLICE), ("bob", Agency.CORPORATION)
        )
        server = ServerProcess(db, tmp_path).start()
        stations = [
            make_workstation(
                tmp_path,
                code,
                agency,
                HttpTransport(server.url, timeout=2.0),
                user=user,
                service=service,
            )
            for code, agency, user in (
                ("CR1", Agency.POLICE, "alice"),
                ("CR2", Agency.POLICE, "carol"),
                ("CC1", Agency.CORPORATION, "bob"),
            )
        ]
        for station in stations:
            _fast_engine(station)
            station.engine.long_poll = 0.5
            station.engine.start()
        stop = threading.Event()
        writer = threading.Thread(target=_log_busily, args=(stations, stop, seed))
        writer.start()
        kills = 0
        try:
            for _ in range(4):
                time.sleep(rng.uniform(0.2, 0.8))
                server.kill()  # mid-push or mid-pull: whatever was in flight
                kills += 1
                time.sleep(rng.uniform(0.05, 0.5))  # offline for a while, still logging
                server = ServerProcess(db, tmp_path, server.port).start()
            time.sleep(0.5)
        finally:
            stop.set()
            writer.join()
        try:
            took = _drain(stations, backend)
        finally:
            for station in stations:
                station.engine.stop(timeout=3)
            server.stop()
        counts = check_invariants(backend, stations)
        assert counts["server_events"] == sum(len(s.made) for s in stations)
        print(
            f"\n{kind} seed {seed}: {kills} kills, {counts['server_events']} events, "
            f"drained {took:.2f} s after healing"
        )
        for station in stations:
            station.store.close()


def test_a_client_killed_while_applying_a_large_first_sync_finishes_on_the_next_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "server.db"
    backend = SqliteBackend(path)
    service = _service(backend, tmp_path)
    add_users(service, ("alice", Agency.POLICE))
    with Store.open(tmp_path / "source.db") as source:
        author = author_at(service, source, "CR9", Agency.POLICE, "alice")
        desk = IncidentService(source, author)
        events: list[Event] = []
        for n in range(400):
            opened = desk.open_incident(knife_incident(summary=f"Call {n}"))
            events.extend(opened.events)
            for k in range(9):
                events.extend(desk.add_log(opened.incident.id, f"entry {k}").events)
    caller = signed_in(service, "alice", "CR9")
    for start in range(0, len(events), 1000):
        service.push(caller, PROTOCOL_VERSION, [e.to_wire() for e in events[start : start + 1000]])
    server = ServerProcess(f"sqlite:///{path}", tmp_path).start()
    data = tmp_path / "client"
    enrol_data_dir(service, data, "CR1", Agency.POLICE).close()
    command = [
        sys.executable,
        "-m",
        "osc_console",
        "sync",
        "--server",
        server.url,
        "--user",
        "alice",
        "--password-stdin",
        "--once",
        "--data-dir",
        str(data),
        "--workstation",
        "CR1",
    ]
    env = {**os.environ, "OSC_DATA_DIR": str(data)}
    try:
        victim = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
        assert victim.stdin is not None
        victim.stdin.write(f"{PASSWORD}\n".encode())
        victim.stdin.close()
        # Kill it once some pages are in, but well before the end.
        deadline = time.monotonic() + 30
        store_file = data / "live.db"
        while time.monotonic() < deadline:
            if store_file.exists():
                with Store.open(store_file) as peek:
                    if peek.event_count() >= 500:
                        break
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        with Store.open(store_file) as half:
            partial = half.event_count()
            assert check_store(half).ok  # a page is applied whole or not at all
        assert 0 < partial < len(events)

        again = subprocess.run(
            command, input=f"{PASSWORD}\n".encode(), env=env, capture_output=True, check=False
        )
        assert again.returncode == 0, again.stderr.decode()
        with Store.open(store_file) as done:
            held = {e.id: e.content_hash for e in done.iter_events()}
            assert held == server_events(backend, "live")
            assert check_store(done).ok
    finally:
        server.stop()
        backend.close()


@pytest.mark.pg
def test_concurrent_pushers_on_several_postgresql_servers_and_a_puller_miss_nothing(
    tmp_path: Path,
) -> None:
    chains = 6
    with pg_schema() as dsn:
        backend = PostgresBackend(dsn, pool_size=2)
        service = _service(backend, tmp_path)
        add_users(service, ("alice", Agency.POLICE))
        per_chain: dict[str, list[Event]] = {}
        for n in range(chains):
            code = f"WS{n}"
            with Store.open(tmp_path / f"{code}.db") as store:
                desk = IncidentService(
                    store, author_at(service, store, code, Agency.POLICE, "alice")
                )
                events: list[Event] = []
                for i in range(25):
                    opened = desk.open_incident(knife_incident(summary=f"{code} call {i}"))
                    events.extend(opened.events)
                    for k in range(7):
                        events.extend(desk.add_log(opened.incident.id, f"entry {k}").events)
                per_chain[code] = events
        total = sum(len(v) for v in per_chain.values())
        puller_desk = harness_desk(service, "PULL", Agency.POLICE)
        servers = [ServerProcess(dsn, tmp_path).start() for _ in range(3)]
        received: list[tuple[int, str]] = []
        done = threading.Event()
        failures: list[BaseException] = []

        def pusher(code: str, events: list[Event], seed: int) -> None:
            rng = random.Random(seed)
            try:
                transports = [HttpTransport(s.url, timeout=10) for s in servers]
                request = harness_desk(service, code, Agency.POLICE).login_request(
                    "alice", PASSWORD, "live"
                )
                token = transports[0].login(request).session.token
                for start in range(0, len(events), 20):
                    batch = events[start : start + 20]
                    answer = rng.choice(transports).push(token, batch)
                    assert {r.outcome.value for r in answer.results} == {"accepted"}
                for t in transports:
                    t.close()
            except BaseException as exc:
                failures.append(exc)

        def puller() -> None:
            try:
                transports = [HttpTransport(s.url, timeout=10) for s in servers]
                request = puller_desk.login_request("alice", PASSWORD, "live")
                token = transports[0].login(request).session.token
                cursor = 0
                rng = random.Random(99)
                deadline = time.monotonic() + 90
                while len(received) < total and time.monotonic() < deadline:
                    page = rng.choice(transports).pull(token, "live", cursor, 37, 0.2)
                    received.extend((p.seq, p.event.id) for p in page.events)
                    assert page.next >= cursor
                    cursor = page.next
                done.set()
                for t in transports:
                    t.close()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=puller)] + [
            threading.Thread(target=pusher, args=(code, events, i))
            for i, (code, events) in enumerate(per_chain.items())
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
        finally:
            for server in servers:
                server.stop()
            held = server_events(backend, "live")
            backend.close()
        assert not failures, failures
        ids = [event_id for _, event_id in received]
        seqs = [seq for seq, _ in received]
        assert len(ids) == total, f"the puller received {len(ids)} of {total}"
        assert len(set(ids)) == total, "an event was delivered twice"
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == total
        assert set(ids) == set(held)


@pytest.mark.pg
def test_a_tight_puller_never_steps_over_a_push_committed_while_it_reads(tmp_path: Path) -> None:
    """In-process stress of the pull's two reads (the high-water mark and the rows) against
    pushes committing in between: the cursor may never pass an event it did not hand out."""
    with pg_schema() as dsn:
        backend = PostgresBackend(dsn, pool_size=6)
        service = make_service(backend)
        add_users(service, ("alice", Agency.POLICE))
        chains: dict[str, list[Event]] = {}
        for n in range(4):
            code = f"TP{n}"
            with Store.open(tmp_path / f"{code}.db") as store:
                desk = IncidentService(
                    store, author_at(service, store, code, Agency.POLICE, "alice")
                )
                events: list[Event] = []
                for i in range(60):
                    opened = desk.open_incident(knife_incident(summary=f"{code} call {i}"))
                    events.extend(opened.events)
                    events.extend(desk.add_log(opened.incident.id, "entry").events)
                chains[code] = events
        total = sum(len(v) for v in chains.values())

        def caller(code: str) -> object:
            return signed_in(service, "alice", code)

        received: list[str] = []

        def push(code: str) -> None:
            who = caller(code)
            for event in chains[code]:
                service.push(who, PROTOCOL_VERSION, [event.to_wire()])  # type: ignore[arg-type]

        def pull() -> None:
            who = caller("PULL")
            cursor = 0
            deadline = time.monotonic() + 60
            while len(received) < total and time.monotonic() < deadline:
                page = service.pull(who, "live", cursor, 5000)  # type: ignore[arg-type]
                received.extend(json.loads(body)["id"] for _, body, _ in page.rows)
                cursor = page.next

        threads = [threading.Thread(target=pull)] + [
            threading.Thread(target=push, args=(code,)) for code in chains
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        backend.close()
    assert len(received) == total, f"the puller received {len(received)} of {total}"
    assert len(set(received)) == total


def test_headless_sync_keeps_syncing_until_interrupted(tmp_path: Path) -> None:
    """`osc-console sync` without --once: entries logged while it runs reach the server."""
    path = tmp_path / "server.db"
    backend = SqliteBackend(path)
    service = _service(backend, tmp_path)
    add_users(service, ("alice", Agency.POLICE))
    server = ServerProcess(f"sqlite:///{path}", tmp_path).start()
    data = tmp_path / "client"
    # Desk CR1 is enrolled, and alice signed in at its console (which writes below).
    keyring = enrol_data_dir(service, data, "CR1", Agency.POLICE)
    identity = WorkstationIdentity(keyring, "CR1", kdf_cost=TEST_COST)
    operator, _ = sign_in_at(service, identity, "alice")
    running = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "osc_console",
            "sync",
            "--server",
            server.url,
            "--user",
            "alice",
            "--password-stdin",
            "--data-dir",
            str(data),
            "--workstation",
            "CR1",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdin is not None
        running.stdin.write(f"{PASSWORD}\n")
        running.stdin.close()
        deadline = time.monotonic() + 20
        while not (data / "live.db").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with Store.open(data / "live.db") as store:
            register_operator(store, operator, identity)
            desk = IncidentService(store, operator.author("live"))
            made = {e.id for e in desk.open_incident(knife_incident()).events}
        while set(server_events(backend, "live")) != made and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(server_events(backend, "live")) == made
        asked = time.monotonic()
        running.send_signal(signal.SIGINT)
        assert running.wait(20) == 0
        print(f"\nheadless sync stopped {time.monotonic() - asked:.2f} s after Ctrl+C")
        assert running.stdout is not None
        out = running.stdout.read()
        assert "Online: 0 waiting" in out
    finally:
        if running.poll() is None:
            running.kill()
        server.stop()
        backend.close()
        keyring.close()
