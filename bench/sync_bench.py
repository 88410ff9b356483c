"""Sync benchmark: the figures of the sync issue and of signed events (issue 12), each against a
baseline in the same run.

    .venv/bin/python bench/sync_bench.py [--only latency|push|initial] [--events N] [--dir DIR]

Every event is signed by its author (Ed25519 over its content hash) with a key the server
certified; the server checks each pushed event's signature, key, agency, workstation and the
author's grant, and a pulling workstation checks every signature before applying a page.

1. Latency: an entry logged at workstation A (IncidentService.add_log, signed, then
   engine.kick()) until it is stored in workstation B's store (B's engine running, long-poll,
   signatures verified), over loopback against a separate ``osc-console serve`` process on
   SQLite: p50/p95/max (target p95 < 1 s). Both desks enrolled, both users signed in for real
   (device proof, password, a new key certified by the server).
2. Push throughput with 50 concurrent clients, each its own enrolled workstation and signed-in
   user pushing batches of that workstation's chain (signed with that user's certified key)
   over HTTP, per backend (SQLite file, one server process; PostgreSQL, two server processes
   sharing the database, requests sent round-robin to the two ports): events/s and p50/p99
   push latency with signature verification (``osc-console serve``) and without it (the same
   command in a process of the bench's own with only the Ed25519 verify patched out:
   signed_bench.py), and the backend's raw batched insert rate (the same rows, an equivalent
   plain table, executemany in batches of the same size, one transaction per batch, no HTTP).
   Raw, verified and unverified runs interleaved over rounds (a fresh database each); medians.
   Desks, accounts, keys and grants are written into each database with the server's own
   authority (its key file) before the server starts; the clients sign in for real.
3. Initial sync of 1,000,000 signed events into an empty workstation: SyncEngine.sync_once()
   against a server process holding them, with signature verification and (into another
   empty workstation, same run) with the client's Ed25519 verify patched out; versus
   Store.apply_stream of the same events from memory into another empty store (pages of the
   same size, signatures verified): seconds, events/s and ratios. And the verification alone
   (event_problems on 100,000 events) on one thread and on every core. 1,000,000 takes
   several minutes here; --events makes it smaller.

The machine is small and shared, so every ratio is against a baseline measured in the same run.
Server processes are started with the interpreter running this script (``-m osc_console``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psycopg
from signed_bench import (
    PASSWORD,
    Desk,
    Person,
    prepare_server,
    server_staff,
    without_signature_check,
)
from synthetic import BenchStaff, sentence, synthetic_events

from osc_console.models.agencies import Agency
from osc_console.models.changes import ChangeSet
from osc_console.models.events import Event, canonical_json
from osc_console.server.authority_file import load_authority
from osc_console.server.backends import open_backend
from osc_console.server.rules import Head
from osc_console.server.storage import now_iso
from osc_console.services.identity import WorkstationIdentity, register_operator
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.signing.authority import Authority
from osc_console.signing.directory import directory_of, event_problems
from osc_console.signing.documents import KeyCertificate, proof_message
from osc_console.signing.keys import SigningKey
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring
from osc_console.sync.client import HttpTransport
from osc_console.sync.engine import SyncEngine
from osc_console.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    PROTOCOL_VERSION,
    LoginReply,
    LoginRequest,
    Proof,
    PullPage,
)

HERE = Path(__file__).resolve().parent
PG_DSN = os.environ.get("OSC_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

# The server's event table, as a plain table (no triggers, no counter, no chains): the raw
# baseline of figure 2 inserts the same rows into it.
RAW_TABLE = """
CREATE TABLE raw_events (
    seq {BIG} PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    realm TEXT NOT NULL,
    workstation TEXT NOT NULL,
    device_seq {BIG} NOT NULL,
    visibility TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL,
    key_id TEXT,
    UNIQUE (realm, workstation, device_seq)
);
CREATE INDEX raw_events_realm_seq ON raw_events (realm, seq);
"""
RAW_INSERT = (
    "INSERT INTO raw_events (seq, id, realm, workstation, device_seq, visibility, content_hash, "
    "body, received_at, key_id) VALUES ({marks})"
)


# ---- small helpers ---------------------------------------------------------------------------


def percentile(samples: Sequence[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_bytecode() -> None:
    """Server processes start faster with compiled bytecode (PYTHONDONTWRITEBYTECODE may be set
    here); none of the figures includes a start-up, this only shortens the run."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "osc_console")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class Keys:
    """The server's signing key file (every server process of the run loads it), and the
    authority it holds: what certifies the benchmark's people."""

    file: Path

    @property
    def authority(self) -> Authority:
        return load_authority(self.file)


class ServerProcess:
    """``osc-console serve`` in its own process, on a free port of 127.0.0.1; with
    ``verify=False`` the same command run by signed_bench.py, with the event signature check
    patched out."""

    def __init__(self, db_url: str, log: Path, keys: Keys, *, verify: bool = True) -> None:
        self.port = free_port()
        self.log = log.open("ab")
        command = (
            [sys.executable, "-m", "osc_console"]
            if verify
            else [sys.executable, str(HERE / "signed_bench.py")]
        )
        self.proc = subprocess.Popen(
            [
                *command,
                "serve",
                "--port",
                str(self.port),
                "--db",
                db_url,
                "--data-dir",
                str(keys.file.parent),
                "--authority-key",
                str(keys.file),
            ],
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@contextlib.contextmanager
def servers(
    db_url: str, count: int, folder: Path, name: str, keys: Keys, *, verify: bool = True
) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        for i in range(count):
            started.append(
                ServerProcess(db_url, folder / f"{name}-server-{i}.log", keys, verify=verify)
            )
        yield started
    finally:
        for server in started:
            server.stop()


@contextlib.contextmanager
def pg_schema(base_dsn: str) -> Iterator[str]:
    """A private schema, dropped afterwards; yields a DSN whose search_path points at it."""
    name = f"osc_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    joiner = "&" if "?" in base_dsn else "?"
    try:
        yield f"{base_dsn}{joiner}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(base_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def server_row(seq: int, event: Event, received_at: str) -> tuple[Any, ...]:
    """The row the server stores for an event, as ``Backend.push`` builds it."""
    return (
        seq,
        event.id,
        event.realm,
        event.workstation,
        event.device_seq,
        event.visibility,
        event.content_hash,
        canonical_json(event.to_wire()),  # the wire JSON, key_id and sig included
        received_at,
        event.key_id,
    )


def chain_events(workstation: str, count: int, seed: int, staff: BenchStaff) -> list[Event]:
    """One workstation's chain: incidents opened, assigned and logged, all by that desk's
    dispatcher (``operator <desk>``), signed with their key."""
    start = datetime.now(UTC) - timedelta(days=1)
    made = synthetic_events(
        count // 12 + 1, 10, seed=seed, start=start, workstations=[workstation], staff=staff
    )
    return list(islice(made, count))


def sign_in(
    transport: HttpTransport, identity: WorkstationIdentity, user: str
) -> tuple[LoginReply, float]:
    """A real sign-in at an enrolled desk, as the console's sign-in screen makes it (device
    proof, password, a new key at a first sign-in); returns the answer and the seconds."""
    start = time.perf_counter()
    reply = transport.login(identity.login_request(user, PASSWORD, "live"))
    identity.accepted(reply, PASSWORD)
    return reply, time.perf_counter() - start


# ---- 1. latency ------------------------------------------------------------------------------


def bench_latency(folder: Path, keys: Keys, entries: int, gap: float) -> None:
    db = f"sqlite:///{folder / 'latency-server.db'}"
    # Two desks, each with its own device key (in its keyring), enrolled by an administrator.
    desk_a = WorkstationIdentity(Keyring(folder / "latency-a.keys.db"), "CR1")
    desk_b = WorkstationIdentity(Keyring(folder / "latency-b.keys.db"), "CC1")
    prepare_server(
        db,
        folder,
        keys.authority,
        desks=[
            Desk("CR1", Agency.POLICE, desk_a.device_key.public_key),
            Desk("CC1", Agency.CORPORATION, desk_b.device_key.public_key),
        ],
        people=[Person("alice", Agency.POLICE), Person("bob", Agency.CORPORATION)],
    )
    a_path, b_path = folder / "latency-a.db", folder / "latency-b.db"
    Store.open(b_path).close()
    seen: dict[str, float] = {}
    arrived = threading.Condition()

    def on_changes(changes: ChangeSet) -> None:
        now = time.perf_counter()
        with arrived:
            for event_id in changes.events:
                seen.setdefault(event_id, now)
            arrived.notify_all()

    def wait_for(event_id: str, timeout: float = 60.0) -> float:
        with arrived:
            if not arrived.wait_for(lambda: event_id in seen, timeout):
                raise TimeoutError(f"{event_id} did not reach workstation B in {timeout} s")
            return seen[event_id]

    with servers(db, 1, folder, "latency", keys) as (server,):
        store_a = Store.open(a_path)
        transport_a, transport_b = HttpTransport(server.url), HttpTransport(server.url)
        # Signed in at each desk as the console does it (a first sign-in: a new key each,
        # certified by the server); A's store can then check what alice signs.
        reply_a, signin_a = sign_in(transport_a, desk_a, "alice")
        reply_b, signin_b = sign_in(transport_b, desk_b, "bob")
        operator = desk_a.operator(reply_a)
        register_operator(store_a, operator, desk_a)
        desk = IncidentService(store_a, operator.author("live"))
        engine_a = SyncEngine(
            lambda: Store.open(a_path), transport_a, workstation="CR1", identity=desk_a
        )
        engine_b = SyncEngine(
            lambda: Store.open(b_path),
            transport_b,
            workstation="CC1",
            on_changes=on_changes,
            identity=desk_b,
        )
        engine_a.adopt(reply_a)
        engine_b.adopt(reply_b)
        engine_a.start()
        engine_b.start()
        try:
            opened = desk.open_incident(
                NewIncident(
                    summary="Group fighting outside a bar, one man with a head wound",
                    category="VAP-WEAPON",
                    source="999",
                    location=Location("Leadenhall Street"),
                    lead_agency=Agency.POLICE,
                    grade="immediate",
                )
            )
            engine_a.kick()
            wait_for(opened.events[-1].id)
            rng = random.Random(1)
            latencies: list[float] = []
            local: list[float] = []
            cpu_before = server.cpu()
            for _ in range(entries):
                # A random pause, so that entries do not fall into step with any timer.
                time.sleep(rng.uniform(0, gap))
                start = time.perf_counter()
                logged = desk.add_log(opened.incident.id, sentence(rng, rng.randint(6, 30)))
                engine_a.kick()
                local.append(time.perf_counter() - start)
                latencies.append(wait_for(logged.events[0].id) - start)
            server_cpu = server.cpu() - cpu_before
        finally:
            engine_a.stop()
            engine_b.stop()
            store_a.close()
    print(
        f"1. entry logged at A (police, add_log signed by alice's certified key + kick) to "
        f"stored at B (corporation, long-poll {engine_b.long_poll:.0f} s, signature verified "
        f"at the server and at B), one `osc-console serve` process on SQLite, loopback, "
        f"{entries} entries one at a time with 0-{gap * 1000:.0f} ms random pauses: "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
        f"(target p95 < 1000 ms); of which add_log at A (sealed, signed, stored) p50 "
        f"{statistics.median(local) * 1000:.1f} ms; server CPU {server_cpu:.1f} s "
        f"(both desks enrolled; real sign-ins, before the clock: A {signin_a:.2f} s, "
        f"B {signin_b:.2f} s)"
    )


# ---- 2. push throughput ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientLoad:
    workstation: str
    user: str  # signed in at that workstation; the events are signed with their key
    device_seed: bytes  # the workstation's device key, for its sign-in proof
    bodies: list[bytes]  # one push request body per batch, serialised before the clock starts
    events: int


def _client_login(http: httpx.Client, url: str, load: ClientLoad) -> str:
    """A real sign-in of ``load.user`` at its desk (device proof, password); its key is the
    one certified in the database already, so no new key is made. Told to wait (the
    server's password gate, with 50 at once), it waits and tries again."""
    device = SigningKey.from_seed(load.device_seed)
    for _ in range(100):
        nonce, at = secrets.token_urlsafe(24), now_iso()
        proof = Proof(
            nonce, at, device.sign(proof_message(load.user, load.workstation, "live", nonce, at))
        )
        request = LoginRequest(load.user, PASSWORD, load.workstation, "live", proof)
        answer = http.post(f"{url}/v1/auth/login", json=request.to_wire())
        if answer.status_code == 429:
            time.sleep(random.uniform(0.05, 0.5))
            continue
        if answer.status_code != 200:
            raise RuntimeError(f"sign-in at {load.workstation}: {answer.text[:300]}")
        return str(answer.json()["token"])
    raise RuntimeError(f"sign-in at {load.workstation}: the server stayed busy")


def _push_client(
    index: int,
    load: ClientLoad,
    urls: Sequence[str],
    go: threading.Event,
    out: dict[str, Any],
) -> None:
    with httpx.Client(timeout=httpx.Timeout(300.0)) as http:
        try:
            token = _client_login(http, urls[index % len(urls)], load)
        except Exception as exc:
            out["problems"] = [str(exc)]
            raise
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        out["ready"] = True
        go.wait()
        latencies: list[float] = []
        accepted = 0
        problems: list[str] = []
        for k, body in enumerate(load.bodies):
            url = urls[(index + k) % len(urls)]  # round-robin over the server processes
            start = time.monotonic()
            response = http.post(f"{url}/v1/sync/push", content=body, headers=headers)
            latencies.append(time.monotonic() - start)
            if response.status_code != 200:
                problems.append(f"{response.status_code}: {response.text[:200]}")
                continue
            for result in response.json()["results"]:
                if result["outcome"] == "accepted":
                    accepted += 1
                elif len(problems) < 3:
                    problems.append(f"{result['outcome']}: {result.get('reason')}")
        out.update(latencies=latencies, accepted=accepted, problems=problems, end=time.monotonic())


def _push_worker(loads: list[tuple[int, ClientLoad]], commands: Any, results: Any) -> None:
    """A client process: one thread per client, started together on the parent's word."""
    while True:
        urls = commands.get()
        if urls is None:
            return
        go = threading.Event()
        outs: list[dict[str, Any]] = [{} for _ in loads]
        threads = [
            threading.Thread(target=_push_client, args=(index, load, urls, go, out))
            for (index, load), out in zip(loads, outs, strict=True)
        ]
        for thread in threads:
            thread.start()
        while not all(out.get("ready") for out in outs):
            if not all(t.is_alive() for t in threads):
                break
            time.sleep(0.01)
        results.put("ready")
        if commands.get() != "go":
            raise RuntimeError("expected the word to go")
        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        go.set()
        for thread in threads:
            thread.join()
        cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
        results.put(
            {
                "latencies": [x for out in outs for x in out.get("latencies", [])],
                "accepted": sum(out.get("accepted", 0) for out in outs),
                "problems": [p for out in outs for p in out.get("problems", [])][:5],
                "end": max(out.get("end", 0.0) for out in outs),
                "cpu": cpu,
                "failed": sum(1 for out in outs if "end" not in out),
            }
        )


@dataclass
class PushRun:
    seconds: float
    events: int
    latencies: list[float]
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class PushClients:
    """Client processes kept for every round and backend: the events are made once."""

    def __init__(self, loads: list[ClientLoad], processes: int) -> None:
        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.workers: list[tuple[Any, Any]] = []
        for p in range(processes):
            mine = [(i, load) for i, load in enumerate(loads) if i % processes == p]
            commands = ctx.Queue()
            proc = ctx.Process(target=_push_worker, args=(mine, commands, self.results))
            proc.start()
            self.workers.append((proc, commands))
        self.total = sum(load.events for load in loads)

    def run(self, urls: list[str], server_procs: list[ServerProcess]) -> PushRun:
        for _, commands in self.workers:
            commands.put(urls)
        for _ in self.workers:
            if self.results.get(timeout=600) != "ready":
                raise RuntimeError("a client process did not get ready")
        cpu_before = sum(s.cpu() for s in server_procs)
        start = time.monotonic()
        for _, commands in self.workers:
            commands.put("go")
        reports = [self.results.get(timeout=3600) for _ in self.workers]
        end = max(r["end"] for r in reports)
        server_cpu = sum(s.cpu() for s in server_procs) - cpu_before
        accepted = sum(r["accepted"] for r in reports)
        problems = [p for r in reports for p in r["problems"]]
        failed = sum(r["failed"] for r in reports)
        if accepted != self.total or problems or failed:
            raise RuntimeError(
                f"accepted {accepted} of {self.total}; {failed} clients failed; {problems[:5]}"
            )
        return PushRun(
            end - start,
            accepted,
            [x for r in reports for x in r["latencies"]],
            server_cpu,
            sum(r["cpu"] for r in reports),
        )

    def close(self) -> None:
        for _, commands in self.workers:
            commands.put(None)
        for proc, _ in self.workers:
            proc.join(30)


def _raw_batches(loads: list[list[Event]], batch: int) -> list[list[tuple[Any, ...]]]:
    """The server's rows for the same events, in the batches the clients send, interleaved
    across clients as they would arrive."""
    received_at = now_iso()
    batches: list[list[tuple[Any, ...]]] = []
    seq = 0
    longest = max(len(events) for events in loads)
    for start in range(0, longest, batch):
        for events in loads:
            chunk = events[start : start + batch]
            if not chunk:
                continue
            batches.append([server_row(seq + i + 1, e, received_at) for i, e in enumerate(chunk)])
            seq += len(chunk)
    return batches


def raw_sqlite(path: Path, batches: list[list[tuple[Any, ...]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")  # as the server's connections
    conn.executescript(RAW_TABLE.format(BIG="INTEGER"))
    sql = RAW_INSERT.format(marks=",".join("?" * 10))
    start = time.perf_counter()
    for rows in batches:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def raw_postgres(dsn: str, batches: list[list[tuple[Any, ...]]]) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(RAW_TABLE.format(BIG="BIGINT"))
        sql = RAW_INSERT.format(marks=",".join(["%s"] * 10))
        start = time.perf_counter()
        for rows in batches:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows)
        return time.perf_counter() - start


@dataclass(frozen=True)
class PushSetUp:
    """What every server database of figure 2 holds before its server starts."""

    keys: Keys
    desks: list[Desk]
    people: list[Person]
    certificates: list[KeyCertificate]

    def prepare(self, db_url: str, folder: Path) -> None:
        prepare_server(
            db_url,
            folder,
            self.keys.authority,
            desks=self.desks,
            people=self.people,
            certificates=self.certificates,
        )


def bench_push(
    folder: Path,
    keys: Keys,
    *,
    clients: int,
    per_client: int,
    batch: int,
    rounds: int,
    processes: int,
) -> None:
    made = time.perf_counter()
    staff = server_staff(keys.authority)
    codes = [f"PB{i + 1:02d}" for i in range(clients)]
    chains = [chain_events(code, per_client, i, staff) for i, code in enumerate(codes)]
    devices = [SigningKey.generate() for _ in codes]
    set_up = PushSetUp(
        keys,
        [Desk(code, Agency.POLICE, d.public_key) for code, d in zip(codes, devices, strict=True)],
        [
            Person(events[0].actor, Agency.POLICE, desks=(code,))
            for code, events in zip(codes, chains, strict=True)
        ],
        staff.certificates,
    )
    loads = [
        ClientLoad(
            code,
            events[0].actor,
            device.seed,
            [
                json.dumps(
                    {
                        "protocol": PROTOCOL_VERSION,
                        "events": [e.to_wire() for e in events[s : s + batch]],
                    },
                    separators=(",", ":"),
                    ensure_ascii=False,
                ).encode("utf-8")
                for s in range(0, len(events), batch)
            ],
            len(events),
        )
        for code, device, events in zip(codes, devices, chains, strict=True)
    ]
    raw_rows = _raw_batches(chains, batch)
    total = clients * per_client
    print(
        f"   ({total:,} signed events for {clients} workstation chains (one signed-in user "
        f"each, key certified by the server) made in {time.perf_counter() - made:.0f} s; "
        f"{processes} client processes)"
    )
    del chains
    pool = PushClients(loads, processes)
    try:
        for backend in ("sqlite", "postgresql"):
            _push_backend(
                folder,
                backend,
                set_up=set_up,
                pool=pool,
                raw_rows=raw_rows,
                total=total,
                clients=clients,
                batch=batch,
                rounds=rounds,
            )
    finally:
        pool.close()


def _push_http(
    folder: Path, backend: str, set_up: PushSetUp, pool: PushClients, name: str, *, verify: bool
) -> PushRun:
    """One timed push of every client's batches into a fresh database."""
    if backend == "sqlite":
        db = f"sqlite:///{folder / f'{name}.db'}"
        set_up.prepare(db, folder)
        with servers(db, 1, folder, name, set_up.keys, verify=verify) as procs:
            return pool.run([p.url for p in procs], procs)
    with pg_schema(PG_DSN) as dsn:
        set_up.prepare(dsn, folder)
        with servers(dsn, 2, folder, name, set_up.keys, verify=verify) as procs:
            return pool.run([p.url for p in procs], procs)


def _push_backend(
    folder: Path,
    backend: str,
    *,
    set_up: PushSetUp,
    pool: PushClients,
    raw_rows: list[list[tuple[Any, ...]]],
    total: int,
    clients: int,
    batch: int,
    rounds: int,
) -> None:
    raw_times: list[float] = []
    runs: dict[bool, list[PushRun]] = {True: [], False: []}
    short = "sqlite" if backend == "sqlite" else "pg"
    for round_ in range(rounds):
        if backend == "sqlite":
            raw_times.append(raw_sqlite(folder / f"push-raw-{round_}.db", raw_rows))
        else:
            with pg_schema(PG_DSN) as dsn:
                raw_times.append(raw_postgres(dsn, raw_rows))
        # Which goes first alternates from round to round.
        for verify in (True, False) if round_ % 2 == 0 else (False, True):
            label = "verified" if verify else "unverified"
            runs[verify].append(
                _push_http(
                    folder,
                    backend,
                    set_up,
                    pool,
                    f"push-{short}-{label}-{round_}",
                    verify=verify,
                )
            )
        on, off = runs[True][-1], runs[False][-1]
        print(
            f"   {backend} round {round_ + 1}: raw {total / raw_times[-1]:,.0f} events/s; "
            f"HTTP with verification {on.rate:,.0f} events/s (p99 push "
            f"{percentile(on.latencies, 99) * 1000:.0f} ms; server CPU {on.server_cpu:.1f} s, "
            f"client CPU {on.client_cpu:.1f} s in {on.seconds:.1f} s), without "
            f"{off.rate:,.0f} events/s (p99 push {percentile(off.latencies, 99) * 1000:.0f} ms; "
            f"server CPU {off.server_cpu:.1f} s, client CPU {off.client_cpu:.1f} s in "
            f"{off.seconds:.1f} s)",
            flush=True,
        )
    raw_rate = total / statistics.median(raw_times)
    rate = {v: statistics.median(r.rate for r in runs[v]) for v in runs}
    latencies = {v: [x for r in runs[v] for x in r.latencies] for v in runs}
    cpu_per_event = {
        v: statistics.median(r.server_cpu / r.events for r in runs[v]) * 1e6 for v in runs
    }
    where = (
        "one server process, SQLite file (WAL, synchronous=FULL)"
        if backend == "sqlite"
        else "two server processes on one PostgreSQL database, round-robin"
    )

    def figures(verify: bool) -> str:
        return (
            f"{rate[verify]:,.0f} events/s, push latency p50 "
            f"{statistics.median(latencies[verify]) * 1000:.0f} ms, p99 "
            f"{percentile(latencies[verify], 99) * 1000:.0f} ms, server CPU "
            f"{cpu_per_event[verify]:.0f} µs/event"
        )

    print(
        f"2. push throughput, {backend}: {clients} concurrent clients (each its own enrolled "
        f"workstation and signed-in user), {total:,} signed events per round in batches of "
        f"{batch}, {where}, {rounds} rounds (medians; {len(latencies[True]):,} pushes each "
        f"way): WITH signature verification (`osc-console serve`) {figures(True)}; WITHOUT "
        f"(the same command with only the Ed25519 verify patched out) {figures(False)}; "
        f"with/without {rate[True] / rate[False]:.3f}; raw batched insert {raw_rate:,.0f} "
        f"events/s (executemany, {batch} rows per transaction, same rows and table shape): "
        f"ratio with verification {rate[True] / raw_rate:.3f}, without "
        f"{rate[False] / raw_rate:.3f}",
        flush=True,
    )


# ---- 3. initial sync -------------------------------------------------------------------------


class TimedTransport(HttpTransport):
    """The HTTP transport, counting the time spent in pulls (server, wire, JSON, envelopes)."""

    pull_seconds = 0.0
    pages = 0

    def pull(self, token: str, realm: str, after: int, limit: int, wait: float) -> PullPage:
        start = time.perf_counter()
        try:
            return super().pull(token, realm, after, limit, wait)
        finally:
            self.pull_seconds += time.perf_counter() - start
            self.pages += 1


def load_server(
    db_url: str,
    folder: Path,
    keys: Keys,
    events: list[Event],
    *,
    certificates: list[KeyCertificate],
    readers: list[Desk],
    batch: int = 5000,
) -> float:
    """Store the events on the server in the order they were made, without HTTP.

    Through the backend's own write transaction (seqs from the counter, chain heads saved), not
    through ``Backend.push``: a push sorts its batch by workstation chain, so big batches from
    six interleaved chains would hand out seqs far from clock order, and a first sync would
    then meet most incidents out of clock order and re-read and re-fold each of them on every
    page (Store._project's events_of path: a quarter of the sync's time at 30,000 events).
    Live pushes are small batches from one workstation each, so seq order is close to clock
    order; this keeps it exactly so, and Store.apply_stream gets the events in the same order.

    The authors' keys are registered (certified by the server's authority), so a pull hands
    out their certificates; the readers' desks are enrolled and ``reader`` has an account.
    """
    start = time.perf_counter()
    prepare_server(
        db_url,
        folder,
        keys.authority,
        desks=readers,
        people=[Person("reader", Agency.POLICE)],
        certificates=certificates,
    )
    backend = open_backend(db_url, folder)
    try:
        for first in range(0, len(events), batch):
            chunk = events[first : first + batch]
            received_at = now_iso()
            heads: dict[str, Head] = {}
            with backend.write() as tx:
                seq = tx.take_seqs(len(chunk))
                rows = []
                for offset, event in enumerate(chunk):
                    rows.append(server_row(seq + offset, event, received_at))
                    heads[event.workstation] = Head(event.device_seq, event.content_hash)
                tx.insert_events(rows)
                tx.save_heads("live", heads)
        return time.perf_counter() - start
    finally:
        backend.close()


@dataclass
class FirstSync:
    seconds: float
    pull_seconds: float
    pages: int
    sign_in_seconds: float
    server_cpu: float


def first_sync(
    server: ServerProcess, path: Path, identity: WorkstationIdentity, count: int, page: int
) -> FirstSync:
    """An empty workstation's first sync: signed in first (as the console does, before its
    engine starts), then one SyncEngine.sync_once, timed."""
    Store.open(path).close()
    transport = TimedTransport(server.url, timeout=120.0)
    reply, sign_in_s = sign_in(transport, identity, "reader")
    engine = SyncEngine(
        lambda: Store.open(path),
        transport,
        workstation=identity.code,
        pull_limit=page,
        identity=identity,
    )
    engine.adopt(reply)
    cpu_before = server.cpu()
    start = time.perf_counter()
    result = engine.sync_once()
    seconds = time.perf_counter() - start
    server_cpu = server.cpu() - cpu_before
    transport.close()
    store = Store.open(path)
    held, refused = store.event_count(), len(store.refused_events())
    store.close()
    if result.pulled != count or held != count or refused:
        raise RuntimeError(
            f"the sync pulled {result.pulled} and holds {held} of {count}; {refused} refused"
        )
    return FirstSync(seconds, transport.pull_seconds, transport.pages, sign_in_s, server_cpu)


def verification_rate(events: list[Event], staff: BenchStaff, workers: int) -> float:
    """Events/s of signature checks alone (event_problems, as a pulled page is checked)."""
    directory = directory_of(
        {staff.authority.key_id: staff.authority.public_key}, staff.certificates
    )
    start = time.perf_counter()
    problems = event_problems(events, directory, workers=workers)
    seconds = time.perf_counter() - start
    if any(problems):
        raise RuntimeError(f"a signature did not verify: {next(p for p in problems if p)}")
    return len(events) / seconds


def bench_initial(folder: Path, keys: Keys, count: int, page: int) -> None:
    staff = server_staff(keys.authority)
    made = time.perf_counter()
    events = list(
        islice(synthetic_events(count // 12 + 1, 10, seed=13, closed_share=0.9, staff=staff), count)
    )
    made_s = time.perf_counter() - made
    db = f"sqlite:///{folder / f'initial-server-{count}.db'}"
    # Two empty workstations of the same room: one syncs with verification, one without.
    desks = {
        code: WorkstationIdentity(
            Keyring(folder / f"initial-{code}.keys.db"), code, kdf_cost=TEST_COST
        )
        for code in ("CR8", "CR9")
    }
    loaded_s = load_server(
        db,
        folder,
        keys,
        events,
        certificates=staff.certificates,
        readers=[Desk(code, Agency.POLICE, d.device_key.public_key) for code, d in desks.items()],
    )
    print(
        f"   ({count:,} events made and signed in {made_s:.0f} s, stored on the server in "
        f"{loaded_s:.0f} s)",
        flush=True,
    )

    # The verification alone, one thread and every core, interleaved over three rounds.
    cpus = os.cpu_count() or 1
    sample = events[: min(100_000, count)]
    rates: dict[int, list[float]] = {1: [], cpus: []}
    for _ in range(3):
        for workers, found in rates.items():
            found.append(verification_rate(sample, staff, workers))
    rate_one, rate_all = statistics.median(rates[1]), statistics.median(rates[cpus])
    del sample

    raw_store = staff.enrol(Store.open(folder / "initial-raw.db"))
    os.sync()  # what earlier steps wrote goes to disk now, not during the next timed step
    start = time.perf_counter()
    result = raw_store.apply_stream(events[i : i + page] for i in range(0, len(events), page))
    raw_s = time.perf_counter() - start
    if len(result.stored) != count or result.rejected:
        raise RuntimeError(f"apply_stream stored {len(result.stored)} of {count}")
    raw_store.close()
    del events, result
    gc.collect()

    with servers(db, 1, folder, "initial", keys) as (server,):
        os.sync()
        on = first_sync(server, folder / "initial-sync.db", desks["CR9"], count, page)
        gc.collect()
        os.sync()
        with without_signature_check():
            off = first_sync(
                server, folder / "initial-sync-unverified.db", desks["CR8"], count, page
            )
    for desk in desks.values():
        desk.keyring.close()
    raw_rate, on_rate, off_rate = count / raw_s, count / on.seconds, count / off.seconds

    def parts(run: FirstSync) -> str:
        return (
            f"{run.pull_seconds:.1f} s in {run.pages} pulls (server, wire, JSON, envelopes; "
            f"server CPU {run.server_cpu:.1f} s), "
            f"{run.seconds - run.pull_seconds:.1f} s checking and applying to the store"
        )

    print(
        f"3. initial sync of {count:,} signed events into an empty workstation "
        f"(SyncEngine.sync_once, pages of {page}, one `osc-console serve` process on SQLite, "
        f"signed in before the clock): WITH signature verification {on.seconds:.1f} s, "
        f"{on_rate:,.0f} events/s; WITHOUT (the same sync into another empty workstation, "
        f"this process's Ed25519 verify patched out) {off.seconds:.1f} s, {off_rate:,.0f} "
        f"events/s; with/without time ratio {on.seconds / off.seconds:.2f} "
        f"(throughput {on_rate / off_rate:.2f}); Store.apply_stream of the same events from "
        f"memory, pages of {page}, signatures verified: {raw_s:.1f} s, {raw_rate:,.0f} "
        f"events/s; sync with verification / apply_stream {on_rate / raw_rate:.2f} (one run "
        f"each). Of the sync with verification: {parts(on)}; without: {parts(off)}."
    )
    print(
        f"   signature verification alone (event_problems on {min(100_000, count):,} of "
        f"these events, Ed25519 via cryptography, which releases the GIL; medians of 3 "
        f"interleaved rounds): 1 thread "
        f"{rate_one:,.0f} events/s, {cpus} threads (os.cpu_count()) {rate_all:,.0f} events/s "
        f"(x{rate_all / rate_one:.2f}); at that rate verifying {count:,} events takes "
        f"{count / rate_all:.1f} s of the sync. It runs on the sync engine's thread (never the "
        f"UI thread), each pulled page spread over min(8, cores) threads, so it scales with "
        f"the cores up to 8."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["latency", "push", "initial"])
    parser.add_argument("--dir", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--events", type=int, default=1_000_000, help="figure 3's history size")
    parser.add_argument("--entries", type=int, default=200, help="figure 1's entry count")
    parser.add_argument("--gap", type=float, default=0.2, help="figure 1's longest pause (s)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=2000, help="events each client pushes")
    parser.add_argument("--batch", type=int, default=100, help="events per push")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=5)
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="osc-sync-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"benchmark folder: {folder}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    compile_bytecode()
    # The server's signing key: every server process of the run loads this file, and the
    # benchmark certifies its people with it.
    keys = Keys(folder / "server-authority.key")
    load_authority(keys.file)  # made now, before any server process could race to make it
    if args.only in (None, "latency"):
        bench_latency(folder, keys, args.entries, args.gap)
    if args.only in (None, "push"):
        bench_push(
            folder,
            keys,
            clients=args.clients,
            per_client=args.per_client,
            batch=args.batch,
            rounds=args.rounds,
            processes=args.client_processes,
        )
    if args.only in (None, "initial"):
        bench_initial(folder, keys, args.events, DEFAULT_PULL_LIMIT)


if __name__ == "__main__":
    main()
