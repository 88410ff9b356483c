"""Sync benchmark: the three figures of the sync issue, each against a baseline in the same run.

    .venv/bin/python bench/sync_bench.py [--only latency|push|initial] [--events N] [--dir DIR]

1. Latency: an entry logged at workstation A (IncidentService.add_log, then engine.kick())
   until it is stored in workstation B's store (B's engine running, long-poll), over loopback
   against a separate ``osc-console serve`` process on SQLite: p50/p95/max (target p95 < 1 s).
2. Push throughput with 50 concurrent clients, each pushing batches of its own workstation's
   chain over HTTP, per backend (SQLite file, one server process; PostgreSQL, two server
   processes sharing the database, requests sent round-robin to the two ports): events/s,
   its ratio to the backend's raw batched insert rate (the same rows, an equivalent plain
   table, executemany in batches of the same size, one transaction per batch, no HTTP), and
   p50/p99 push latency. Raw and HTTP runs interleaved over rounds; medians.
3. Initial sync of 1,000,000 events into an empty workstation: SyncEngine.sync_once()
   against a server process holding them, versus Store.apply_stream of the same events from
   memory into another empty store (pages of the same size): seconds, events/s and ratio.
   1,000,000 takes several minutes here; --events makes it smaller.

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
from synthetic import sentence, synthetic_events

from osc_console.models.agencies import Agency
from osc_console.models.changes import ChangeSet
from osc_console.models.events import Author, Event, canonical_json
from osc_console.server.backends import open_backend
from osc_console.server.rules import Head
from osc_console.server.service import SyncService
from osc_console.server.storage import now_iso
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from osc_console.sync.client import HttpTransport
from osc_console.sync.engine import SyncEngine
from osc_console.sync.protocol import DEFAULT_PULL_LIMIT, PROTOCOL_VERSION, PullPage
from osc_console.sync.transport import LoginAnswer

HERE = Path(__file__).resolve().parent
PASSWORD = "bench horse battery"
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
    UNIQUE (realm, workstation, device_seq)
);
CREATE INDEX raw_events_realm_seq ON raw_events (realm, seq);
"""
RAW_INSERT = (
    "INSERT INTO raw_events (seq, id, realm, workstation, device_seq, visibility, content_hash, "
    "body, received_at) VALUES ({marks})"
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


def add_users(db_url: str, folder: Path, *people: tuple[str, str]) -> None:
    backend = open_backend(db_url, folder)
    try:
        service = SyncService(backend)
        for name, agency in people:
            service.add_user(name, agency, "dispatcher", PASSWORD)
    finally:
        backend.close()


class ServerProcess:
    """``osc-console serve`` in its own process, on a free port of 127.0.0.1."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.port = free_port()
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "osc_console",
                "serve",
                "--port",
                str(self.port),
                "--db",
                db_url,
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
def servers(db_url: str, count: int, folder: Path, name: str) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        for i in range(count):
            started.append(ServerProcess(db_url, folder / f"{name}-server-{i}.log"))
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
        canonical_json(event.to_wire()),
        received_at,
    )


def chain_events(workstation: str, count: int, seed: int) -> list[Event]:
    """One workstation's chain: incidents opened, assigned and logged, all by that desk."""
    start = datetime.now(UTC) - timedelta(days=1)
    made = synthetic_events(count // 12 + 1, 10, seed=seed, start=start, workstations=[workstation])
    return list(islice(made, count))


# ---- 1. latency ------------------------------------------------------------------------------


def bench_latency(folder: Path, entries: int, gap: float) -> None:
    db = f"sqlite:///{folder / 'latency-server.db'}"
    add_users(db, folder, ("alice", "police"), ("bob", "corporation"))
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

    with servers(db, 1, folder, "latency") as (server,):
        store_a = Store.open(a_path)
        desk = IncidentService(store_a, Author("Operator CR1", Agency.POLICE, "CR1"))
        engine_a = SyncEngine(
            lambda: Store.open(a_path), HttpTransport(server.url), workstation="CR1"
        )
        engine_b = SyncEngine(
            lambda: Store.open(b_path),
            HttpTransport(server.url),
            workstation="CC1",
            on_changes=on_changes,
        )
        engine_a.sign_in("alice", PASSWORD)
        engine_b.sign_in("bob", PASSWORD)
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
        f"1. entry logged at A (police, add_log + kick) to stored at B (corporation, long-poll "
        f"{engine_b.long_poll:.0f} s), one `osc-console serve` process on SQLite, loopback, "
        f"{entries} entries one at a time with 0-{gap * 1000:.0f} ms random pauses: "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
        f"(target p95 < 1000 ms); of which add_log at A p50 "
        f"{statistics.median(local) * 1000:.1f} ms; server CPU {server_cpu:.1f} s"
    )


# ---- 2. push throughput ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientLoad:
    workstation: str
    bodies: list[bytes]  # one push request body per batch, serialised before the clock starts
    events: int


def _push_client(
    index: int,
    load: ClientLoad,
    urls: Sequence[str],
    go: threading.Event,
    out: dict[str, Any],
) -> None:
    with httpx.Client(timeout=httpx.Timeout(300.0)) as http:
        answer = http.post(
            f"{urls[index % len(urls)]}/v1/auth/login",
            json={"user": "bench", "password": PASSWORD, "workstation": load.workstation},
        )
        answer.raise_for_status()
        headers = {
            "Authorization": f"Bearer {answer.json()['token']}",
            "Content-Type": "application/json",
        }
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
    sql = RAW_INSERT.format(marks=",".join("?" * 9))
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
        sql = RAW_INSERT.format(marks=",".join(["%s"] * 9))
        start = time.perf_counter()
        for rows in batches:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, rows)
        return time.perf_counter() - start


def bench_push(
    folder: Path, *, clients: int, per_client: int, batch: int, rounds: int, processes: int
) -> None:
    made = time.perf_counter()
    chains = [chain_events(f"PB{i + 1:02d}", per_client, seed=i) for i in range(clients)]
    loads = [
        ClientLoad(
            events[0].workstation,
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
        for events in chains
    ]
    raw_rows = _raw_batches(chains, batch)
    total = clients * per_client
    print(
        f"   ({total:,} events for {clients} workstation chains made in "
        f"{time.perf_counter() - made:.0f} s; {processes} client processes)"
    )
    del chains
    pool = PushClients(loads, processes)
    try:
        for backend in ("sqlite", "postgresql"):
            _push_backend(
                folder,
                backend,
                pool=pool,
                raw_rows=raw_rows,
                total=total,
                clients=clients,
                batch=batch,
                rounds=rounds,
            )
    finally:
        pool.close()


def _push_backend(
    folder: Path,
    backend: str,
    *,
    pool: PushClients,
    raw_rows: list[list[tuple[Any, ...]]],
    total: int,
    clients: int,
    batch: int,
    rounds: int,
) -> None:
    raw_times: list[float] = []
    runs: list[PushRun] = []
    for round_ in range(rounds):
        if backend == "sqlite":
            raw_times.append(raw_sqlite(folder / f"push-raw-{round_}.db", raw_rows))
            db = f"sqlite:///{folder / f'push-server-{round_}.db'}"
            add_users(db, folder, ("bench", "police"))
            with servers(db, 1, folder, f"push-sqlite-{round_}") as procs:
                runs.append(pool.run([p.url for p in procs], procs))
        else:
            with pg_schema(PG_DSN) as dsn:
                raw_times.append(raw_postgres(dsn, raw_rows))
            with pg_schema(PG_DSN) as dsn:
                add_users(dsn, folder, ("bench", "police"))
                with servers(dsn, 2, folder, f"push-pg-{round_}") as procs:
                    runs.append(pool.run([p.url for p in procs], procs))
        run = runs[-1]
        print(
            f"   {backend} round {round_ + 1}: raw {total / raw_times[-1]:,.0f} events/s; "
            f"HTTP {run.events / run.seconds:,.0f} events/s "
            f"(p99 push {percentile(run.latencies, 99) * 1000:.0f} ms; server CPU "
            f"{run.server_cpu:.1f} s, client CPU {run.client_cpu:.1f} s in {run.seconds:.1f} s)",
            flush=True,
        )
    raw_rate = total / statistics.median(raw_times)
    rates = [r.events / r.seconds for r in runs]
    rate = statistics.median(rates)
    latencies = [x for r in runs for x in r.latencies]
    where = (
        "one `osc-console serve` process, SQLite file (WAL, synchronous=FULL)"
        if backend == "sqlite"
        else "two `osc-console serve` processes on one PostgreSQL database, round-robin"
    )
    print(
        f"2. push throughput, {backend}: {clients} concurrent clients, {total:,} events per "
        f"round in batches of {batch}, {where}, {len(runs)} rounds (medians): "
        f"{rate:,.0f} events/s over HTTP vs raw batched insert {raw_rate:,.0f} events/s "
        f"(executemany, {batch} rows per transaction, same rows and table shape); "
        f"ratio {rate / raw_rate:.3f}; push latency p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 "
        f"{percentile(latencies, 99) * 1000:.0f} ms (over {len(latencies):,} pushes)",
        flush=True,
    )


# ---- 3. initial sync -------------------------------------------------------------------------


class TimedTransport(HttpTransport):
    """The HTTP transport, counting the time spent in pulls (server, wire, JSON, envelopes)."""

    pull_seconds = 0.0
    login_seconds = 0.0
    pages = 0

    def login(self, user: str, password: str, workstation: str, realm: str) -> LoginAnswer:
        start = time.perf_counter()
        try:
            return super().login(user, password, workstation, realm)
        finally:
            self.login_seconds += time.perf_counter() - start

    def pull(self, token: str, realm: str, after: int, limit: int, wait: float) -> PullPage:
        start = time.perf_counter()
        try:
            return super().pull(token, realm, after, limit, wait)
        finally:
            self.pull_seconds += time.perf_counter() - start
            self.pages += 1


def load_server(db_url: str, folder: Path, events: list[Event], batch: int = 5000) -> float:
    """Store the events on the server in the order they were made, without HTTP.

    Through the backend's own write transaction (seqs from the counter, chain heads saved), not
    through ``Backend.push``: a push sorts its batch by workstation chain, so big batches from
    six interleaved chains would hand out seqs far from clock order, and a first sync would
    then meet most incidents out of clock order and re-read and re-fold each of them on every
    page (Store._project's events_of path: a quarter of the sync's time at 30,000 events).
    Live pushes are small batches from one workstation each, so seq order is close to clock
    order; this keeps it exactly so, and Store.apply_stream gets the events in the same order.
    """
    backend = open_backend(db_url, folder)
    start = time.perf_counter()
    try:
        SyncService(backend).add_user("reader", "police", "dispatcher", PASSWORD)
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


def bench_initial(folder: Path, count: int, page: int) -> None:
    made = time.perf_counter()
    events = list(islice(synthetic_events(count // 12 + 1, 10, seed=13, closed_share=0.9), count))
    made_s = time.perf_counter() - made
    db = f"sqlite:///{folder / f'initial-server-{count}.db'}"
    loaded_s = load_server(db, folder, events)
    print(
        f"   ({count:,} events made in {made_s:.0f} s, stored on the server in {loaded_s:.0f} s)",
        flush=True,
    )

    raw_store = Store.open(folder / "initial-raw.db")
    start = time.perf_counter()
    result = raw_store.apply_stream(events[i : i + page] for i in range(0, len(events), page))
    raw_s = time.perf_counter() - start
    if len(result.stored) != count or result.rejected:
        raise RuntimeError(f"apply_stream stored {len(result.stored)} of {count}")
    raw_store.close()
    del events, result
    gc.collect()

    path = folder / "initial-sync.db"
    Store.open(path).close()
    with servers(db, 1, folder, "initial") as (server,):
        transport = TimedTransport(server.url, timeout=120.0)
        engine = SyncEngine(lambda: Store.open(path), transport, workstation="CR9", pull_limit=page)
        engine.sign_in("reader", PASSWORD)
        cpu_before = server.cpu()
        start = time.perf_counter()
        round_result = engine.sync_once()
        sync_s = time.perf_counter() - start
        server_cpu = server.cpu() - cpu_before
    store = Store.open(path)
    held = store.event_count()
    store.close()
    if round_result.pulled != count or held != count:
        raise RuntimeError(f"the sync pulled {round_result.pulled} and holds {held} of {count}")
    raw_rate, sync_rate = count / raw_s, count / sync_s
    print(
        f"3. initial sync of {count:,} events into an empty workstation (SyncEngine.sync_once, "
        f"pages of {page}, one `osc-console serve` process on SQLite): {sync_s:.1f} s, "
        f"{sync_rate:,.0f} events/s; Store.apply_stream of the same events from memory, "
        f"pages of {page}: {raw_s:.1f} s, {raw_rate:,.0f} events/s; "
        f"ratio {sync_rate / raw_rate:.2f} (one run each). Of the sync: "
        f"{transport.pull_seconds:.1f} s in {transport.pages} pulls "
        f"(server, wire, JSON, envelopes; server CPU {server_cpu:.1f} s), "
        f"{transport.login_seconds:.1f} s signing in, "
        f"{sync_s - transport.pull_seconds - transport.login_seconds:.1f} s applying to the store"
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
    if args.only in (None, "latency"):
        bench_latency(folder, args.entries, args.gap)
    if args.only in (None, "push"):
        bench_push(
            folder,
            clients=args.clients,
            per_client=args.per_client,
            batch=args.batch,
            rounds=args.rounds,
            processes=args.client_processes,
        )
    if args.only in (None, "initial"):
        bench_initial(folder, args.events, DEFAULT_PULL_LIMIT)


if __name__ == "__main__":
    main()
