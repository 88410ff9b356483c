"""Randomised fault schedules (hypothesis) over a simulated network, on both backends.

Police and Corporation workstations log, edit and sync while their links lose requests and
answers, deliver batches twice or reordered, expire sign-ins, partition for a while, and
their clocks run hours ahead or behind or jump back. When the network heals and every
workstation has synced, SYNC.md's invariants must hold: nothing lost, nothing twice, nothing
changed, the same incidents everywhere an organisation can see them, every chain whole,
every concurrent edit flagged, every outbox empty, and no event where it may not be.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.errors import DomainError
from osc_console.server.postgres_backend import PostgresBackend
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.server.storage import Backend
from osc_console.services.identity import register_operator
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from osc_console.sync.engine import Backoff, SyncEngine
from osc_console.sync.transport import SyncError
from tests.sync.harness import (
    PASSWORD,
    Workstation,
    add_users,
    check_invariants,
    desk,
    make_service,
    pg_schema,
    sign_in_at,
)
from tests.sync.simnet import Fault, SimTransport

STATIONS = (("CR1", Agency.POLICE), ("CR2", Agency.POLICE), ("CC1", Agency.CORPORATION))
FAULTS = st.sampled_from(list(Fault))
SKEWS = (-49, -3, -1, 1, 2, 6)  # hours a workstation's clock may be set from the true time
# How long before the test each operator's grant was issued: before the furthest-behind clock.
GRANT_LEAD = timedelta(hours=-min(SKEWS) + 1)
# What a fault schedule did, summed over every example, reported at the end of the session.
RUN_COUNTS: dict[str, int] = {}


@dataclass
class Clock:
    """A workstation's wall clock that a test can set ahead, behind, or jump back."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _new_incident(agency: Agency, visibility: Visibility, n: int) -> NewIncident:
    if agency is Agency.POLICE:
        return NewIncident(
            summary=f"Police call {n}",
            category="VAP-WEAPON",
            source="999",
            location=Location("Leadenhall Street"),
            lead_agency=Agency.POLICE,
            grade="immediate",
            visibility=visibility,
        )
    return NewIncident(
        summary=f"Council call {n}",
        category="ASB-GEN",
        source="phone",
        location=Location("Fleet Street"),
        lead_agency=Agency.CORPORATION,
        council_priority="routine",
        visibility=visibility,
    )


class FaultySync(RuleBasedStateMachine):
    make_backend: Callable[[Path], tuple[Backend, Callable[[], None]]]

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="osc-sim-"))
        self.backend, self._dispose = self.make_backend(self.folder)
        self.server_clock = Clock()
        self.service = make_service(self.backend, wall=self.server_clock)
        add_users(self.service, *((f"user-{c.lower()}", a) for c, a in STATIONS))
        self.stations: list[Workstation] = []
        self.clocks: dict[str, Clock] = {}
        self.opened = 0
        self.counts = {"rounds": 0, "failed rounds": 0, "faults": 0, "entries": 0}

    @initialize()
    def build_stations(self) -> None:
        for index, (code, agency) in enumerate(STATIONS):
            path = self.folder / f"{code}.db"
            clock = Clock()
            self.clocks[code] = clock
            store = Store.open(path, wall=clock)
            user = f"user-{code.lower()}"
            identity = desk(self.service, code, agency, self.folder)
            # The server judges an entry by the grant that covered the moment it was
            # recorded, by the workstation's clock. The clocks below run up to two days
            # behind, so each operator first signed in (with the desk's clock and the
            # server's in step) far enough back for their grant to cover that.
            self.server_clock.offset = -GRANT_LEAD
            identity.wall = Clock(-GRANT_LEAD)
            try:
                operator, _ = sign_in_at(self.service, identity, user)
            finally:
                identity.wall = Clock()
                self.server_clock.offset = timedelta()
            register_operator(store, operator, identity)
            author = operator.author("live")
            transport = SimTransport(self.service, seed=index)
            engine = SyncEngine(
                lambda path=path, clock=clock: Store.open(path, wall=clock),
                transport,
                workstation=code,
                push_batch=4,
                pull_limit=3,
                backoff=Backoff(base=0.0, cap=0.0),
                wall=clock,
                identity=identity,
            )
            engine.sign_in(user, PASSWORD)
            self.stations.append(
                Workstation(
                    path,
                    author,
                    user,
                    store,
                    IncidentService(store, author),
                    engine,
                    transport,
                    identity,
                )
            )

    # ---- what people do --------------------------------------------------------------------
    @rule(who=st.integers(0, 2), private=st.booleans())
    def open_incident(self, who: int, private: bool) -> None:
        station = self.stations[who]
        visibility = Visibility(station.agency.value) if private else Visibility.JOINT
        self.opened += 1
        outcome = station.desk.open_incident(_new_incident(station.agency, visibility, self.opened))
        self._made(station, outcome.events)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50), private=st.booleans())
    def log_entry(self, who: int, pick: int, private: bool) -> None:
        station = self.stations[who]
        incident = self._pick_incident(station, pick)
        if incident is None:
            return
        visibility = Visibility(station.agency.value) if private else None
        try:
            outcome = station.desk.add_log(incident, f"entry {pick}", visibility=visibility)
        except DomainError:
            return  # closed, or not visible here: refused with nothing written
        self._made(station, outcome.events)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50), text=st.sampled_from("ABC"))
    def edit_summary(self, who: int, pick: int, text: str) -> None:
        """Single-value edits: made offline on two desks, these become flagged conflicts."""
        station = self.stations[who]
        incident = self._pick_incident(station, pick)
        if incident is None:
            return
        try:
            outcome = station.desk.update(
                incident, {"summary": f"Summary {text} by {station.code}"}
            )
        except DomainError:
            return
        self._made(station, outcome.events)

    # ---- what the network and the clocks do ------------------------------------------------
    @rule(who=st.integers(0, 2), faults=st.lists(FAULTS, max_size=4))
    def sync(self, who: int, faults: list[Fault]) -> None:
        station = self.stations[who]
        transport = station.transport
        assert isinstance(transport, SimTransport)
        transport.faults.extend(faults)
        self.counts["rounds"] += 1
        self.counts["faults"] += sum(f is not Fault.NONE for f in faults)
        try:
            station.engine.sync_once()
        except SyncError:
            self.counts["failed rounds"] += 1
        transport.faults.clear()

    @rule(who=st.integers(0, 2), down=st.booleans())
    def partition(self, who: int, down: bool) -> None:
        transport = self.stations[who].transport
        assert isinstance(transport, SimTransport)
        transport.partitioned = down

    @rule(who=st.integers(0, 2), index=st.integers(0, 20))
    def late_duplicate(self, who: int, index: int) -> None:
        station = self.stations[who]
        transport = station.transport
        assert isinstance(transport, SimTransport)
        if transport.partitioned or not transport.sent:
            return
        assert station.identity is not None
        answer = transport.login(station.identity.login_request(station.user, PASSWORD, "live"))
        transport.replay(answer.session.token, index)

    @rule(who=st.integers(0, 2), hours=st.sampled_from(SKEWS))
    def skew_clock(self, who: int, hours: int) -> None:
        """Hours ahead, days behind, or (from ahead to behind) a jump back."""
        self.clocks[self.stations[who].code].offset = timedelta(hours=hours)

    # ---- checks as we go -------------------------------------------------------------------
    @invariant()
    def read_your_writes(self) -> None:
        """8: a workstation always shows its own entries at once, online or offline."""
        for station in self.stations:
            for event_id in station.made[-3:]:
                assert station.store.event(event_id) is not None

    @precondition(lambda self: bool(self.stations))
    @rule()
    def cursor_never_moves_back(self) -> None:
        """6: the cursor only moves forward (checked here on each store's recorded value)."""
        for station in self.stations:
            rows = station.store.execute_read("SELECT value FROM meta WHERE key LIKE 'sync.%'")
            for (value,) in rows:
                previous = getattr(station, "_cursor", 0)
                assert int(value) >= previous
                station._cursor = int(value)  # type: ignore[attr-defined]

    # ---- healing ---------------------------------------------------------------------------
    def teardown(self) -> None:
        try:
            if self.stations:
                self._heal_and_check()
        finally:
            for station in self.stations:
                station.store.close()
                if station.identity is not None:
                    station.identity.keyring.close()
            for key, value in self.counts.items():
                RUN_COUNTS[key] = RUN_COUNTS.get(key, 0) + value
            RUN_COUNTS["schedules"] = RUN_COUNTS.get("schedules", 0) + 1
            self._dispose()

    def _heal_and_check(self) -> None:
        for station in self.stations:
            transport = station.transport
            assert isinstance(transport, SimTransport)
            transport.partitioned = False
            transport.faults.clear()
        # Liveness: a bounded number of clean rounds must drain everything everywhere.
        for _ in range(3):
            for station in self.stations:
                station.engine.sync_once()
        check_invariants(self.backend, self.stations)
        self._check_conflicts_flagged()
        for station in self.stations:
            assert station.engine.verify().agree  # the count-and-digest check agrees

    def _check_conflicts_flagged(self) -> None:
        """7: two summary edits that saw the same value, from two desks, are a conflict."""
        for station in self.stations:
            edits: dict[tuple[str, str | None], set[str]] = {}
            for event in station.store.iter_events():
                if event.kind == "incident.updated" and "summary" in event.payload["changes"]:
                    key = (str(event.incident_id), event.base.get("summary"))
                    edits.setdefault(key, set()).add(event.workstation)
            for (incident_id, _), desks in edits.items():
                if len(desks) > 1:
                    state = station.store.incident(incident_id)
                    assert state is not None
                    assert state.conflicts.get("summary"), (
                        f"{station.code}: concurrent summary edits on {state.ref} not flagged"
                    )

    def _pick_incident(self, station: Workstation, pick: int) -> str | None:
        rows = station.store.execute_read("SELECT id FROM incidents ORDER BY id")
        return str(rows[pick % len(rows)][0]) if rows else None

    def _made(self, station: Workstation, events: object) -> None:
        made = [e.id for e in events]  # type: ignore[attr-defined]
        station.made.extend(made)
        self.counts["entries"] += len(made)


def _sqlite(folder: Path) -> tuple[Backend, Callable[[], None]]:
    backend = SqliteBackend(folder / "server.db")
    return backend, backend.close


def _postgres(folder: Path) -> tuple[Backend, Callable[[], None]]:
    schema = pg_schema()
    dsn = schema.__enter__()
    backend = PostgresBackend(dsn, pool_size=2)

    def dispose() -> None:
        backend.close()
        schema.__exit__(None, None, None)

    return backend, dispose


_SETTINGS = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class SqliteFaults(FaultySync):
    make_backend = staticmethod(_sqlite)


class PostgresFaults(FaultySync):
    make_backend = staticmethod(_postgres)


def test_fault_schedules_on_sqlite() -> None:
    SqliteFaults.TestCase.settings = _SETTINGS
    RUN_COUNTS.clear()
    SqliteFaults.TestCase().runTest()
    print(f"\nSQLite fault schedules: {RUN_COUNTS}")


@pytest.mark.pg
def test_fault_schedules_on_postgresql() -> None:
    PostgresFaults.TestCase.settings = settings(_SETTINGS, max_examples=60)
    RUN_COUNTS.clear()
    PostgresFaults.TestCase().runTest()
    print(f"\nPostgreSQL fault schedules: {RUN_COUNTS}")
