"""The engine's behaviour as an operator meets it: states, waiting entries, refusals, clocks,
expired sign-ins, and concurrent edits resolved by a duty manager."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.server.service import SyncService
from osc_console.services.incidents import IncidentService
from osc_console.store import outbox
from osc_console.store.event_store import Store
from osc_console.sync.engine import Backoff, SyncEngine, SyncState, SyncStatus
from osc_console.sync.transport import ServerUnreachableError, SignInNeededError
from tests.conftest import knife_incident
from tests.sync.harness import (
    PASSWORD,
    ServerThread,
    Workstation,
    add_users,
    author_at,
    desk,
    http,
    make_workstation,
    service_of,
)
from tests.sync.simnet import Fault, SimTransport


def _engine(
    tmp_path: Path,
    transport: SimTransport,
    states: list[SyncState],
    *,
    user: str = "alice",
    **kw: object,
) -> tuple[Store, IncidentService, SyncEngine]:
    """Police desk CR1, enrolled, where ``user`` has signed in and writes; its engine signs in
    through the desk (with whatever the test gives ``engine.sign_in``)."""
    service = service_of(transport)
    path = tmp_path / "CR1.db"
    store = Store.open(path)
    identity = desk(service, "CR1", Agency.POLICE, tmp_path)
    writer = IncidentService(store, author_at(service, store, "CR1", Agency.POLICE, user))
    engine = SyncEngine(
        lambda: Store.open(path),
        transport,
        workstation="CR1",
        on_state=states.append,
        backoff=Backoff(base=0.0, cap=0.0),
        identity=identity,
        **kw,  # type: ignore[arg-type]
    )
    return store, writer, engine


def test_offline_entries_wait_and_drain_when_the_server_returns(
    tmp_path: Path, service: SyncService
) -> None:
    transport = SimTransport(service)
    states: list[SyncState] = []
    store, desk, engine = _engine(tmp_path, transport, states)
    engine.sign_in("alice", PASSWORD)
    transport.partitioned = True
    opened = desk.open_incident(knife_incident())
    desk.add_log(opened.incident.id, "Caller rang back")

    with pytest.raises(ServerUnreachableError):
        engine.sync_once()
    assert engine.state.status is SyncStatus.OFFLINE
    assert engine.state.pending == 2
    assert store.incident(opened.incident.id) is not None  # read your writes, offline

    transport.partitioned = False
    engine.sync_once()
    assert engine.state.status is SyncStatus.ONLINE
    assert engine.state.pending == 0
    assert engine.state.last_success is not None
    assert service.backend.high_water() == 2
    store.close()


def test_an_expired_sign_in_without_a_kept_password_asks_again_and_loses_nothing(
    tmp_path: Path, service: SyncService
) -> None:
    transport = SimTransport(service)
    states: list[SyncState] = []
    store, desk, engine = _engine(tmp_path, transport, states, keep_password=False)
    engine.sign_in("alice", PASSWORD)
    engine.sync_once()
    desk.open_incident(knife_incident())
    transport.faults.append(Fault.TOKEN_EXPIRED)

    with pytest.raises(SignInNeededError):
        engine.sync_once()
    assert engine.state.status is SyncStatus.SIGN_IN_NEEDED
    assert engine.state.pending == 1

    engine.sign_in("alice", PASSWORD)
    engine.sync_once()
    assert engine.state.status is SyncStatus.ONLINE
    assert engine.state.pending == 0
    store.close()


def test_a_wrong_password_says_so_and_keeps_the_entries(
    tmp_path: Path, service: SyncService
) -> None:
    transport = SimTransport(service)
    store, desk, engine = _engine(tmp_path, transport, [])
    engine.sign_in("alice", "not the password")
    desk.open_incident(knife_incident())
    with pytest.raises(SignInNeededError, match="user name or password not recognised"):
        engine.sync_once()
    assert engine.state.status is SyncStatus.SIGN_IN_NEEDED
    assert engine.state.message == "user name or password not recognised"
    assert store.pending_count() == 1
    store.close()


def test_an_entry_the_server_refuses_stays_visible_with_the_reason(
    tmp_path: Path, service: SyncService
) -> None:
    transport = SimTransport(service)
    store, desk, engine = _engine(tmp_path, transport, [])
    # Alice's account is disabled while her console still holds her sign-in: what she
    # records after that is refused by the server (her grants were revoked).
    service.admin.disable("admin", "alice")
    time.sleep(0.002)  # recorded strictly after the revocation
    opened = desk.open_incident(knife_incident(visibility="police"))
    engine.sign_in("carol", PASSWORD)  # the next operator at the desk syncs it
    engine.sync_once()
    refused = outbox.refused(store)
    assert [r.event_id for r in refused] == [opened.events[0].id]
    assert refused[0].reason == (
        f"not permitted: alice held no grant at CR1 when this was recorded "
        f"({opened.events[0].recorded_at}); sign in to the server first"
    )
    assert engine.state.refused == 1
    assert engine.state.message == "1 entries refused by the server"
    assert store.event(opened.events[0].id) is not None  # never deleted
    store.close()


def test_a_clock_far_from_the_servers_is_reported(tmp_path: Path, service: SyncService) -> None:
    transport = SimTransport(service)
    ahead = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
    store, _, engine = _engine(tmp_path, transport, [], wall=ahead)
    engine.sign_in("alice", PASSWORD)
    engine.sync_once()
    assert engine.state.skew_warning == (
        "This workstation's clock is about 60 min ahead of the server's"
    )
    store.close()


def test_back_off_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(3))
    delays = [backoff.next_delay() for _ in range(10)]
    ceilings = [min(8.0, 0.5 * 2**n) for n in range(10)]
    assert all(c / 10 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, so a room does not retry in step
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_concurrent_edits_are_flagged_everywhere_and_a_duty_manager_resolves_them(
    tmp_path: Path, server: ServerThread
) -> None:
    one = make_workstation(tmp_path, "CR1", Agency.POLICE, http(server.url), user="alice")
    two = make_workstation(tmp_path, "CR2", Agency.POLICE, http(server.url), user="carol")
    opened = one.desk.open_incident(knife_incident())
    one.engine.sync_once()
    two.engine.sync_once()
    # Both desks change the grade without seeing each other's change.
    one.desk.change_grade(opened.incident.id, "priority")
    two.desk.change_grade(opened.incident.id, "scheduled")
    for station in (one, two, one):
        station.engine.sync_once()
    for station in (one, two):
        state = station.store.incident(opened.incident.id)
        assert state is not None
        values = sorted(c.value for c in state.conflicts["grade"])
        assert values == ["priority", "scheduled"]  # both kept
    _resolve(one, opened.incident.id)
    for station in (one, two):
        station.engine.sync_once()
        state = station.store.incident(opened.incident.id)
        assert state is not None
        assert not state.conflicts.get("grade")
        assert state.value("grade") == "priority"
    one.close()
    two.close()


def _resolve(station: Workstation, incident_id: str) -> None:
    service = service_of(station.transport)
    if service.accounts().find("shah") is None:
        add_users(service, ("shah", Agency.POLICE), role="duty_manager")
    author = author_at(service, station.store, station.code, Agency.POLICE, "shah")
    manager = IncidentService(station.store, author)
    manager.resolve_conflict(incident_id, "grade", "priority", "Confirmed with the caller")


def test_a_long_first_sync_reports_its_progress_then_clears_it(
    tmp_path: Path, service: SyncService
) -> None:
    source = make_workstation(tmp_path, "CR9", Agency.POLICE, SimTransport(service), user="carol")
    for n in range(30):
        opened = source.desk.open_incident(knife_incident(summary=f"Call {n}"))
        source.desk.add_log(opened.incident.id, "Units on the way")
    source.engine.sync_once()
    states: list[SyncState] = []
    store, _, engine = _engine(
        tmp_path, SimTransport(service), states, pull_limit=7, progress_threshold=20
    )
    engine.sign_in("alice", PASSWORD)
    engine.sync_once()
    shown = [s.progress for s in states if s.progress is not None]
    assert shown, "no progress was reported"
    assert all(total == 60 for _, total in shown)
    done = [d for d, _ in shown]
    assert done == sorted(done)
    assert 0 < done[0] < done[-1] < 60
    assert engine.state.progress is None
    assert store.event_count() == 60
    store.close()
    source.close()


def test_the_count_and_digest_check_agrees_and_raises_an_alarm_on_a_difference(
    tmp_path: Path, service: SyncService
) -> None:
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, SimTransport(service), user="alice")
    council = make_workstation(
        tmp_path, "CC1", Agency.CORPORATION, SimTransport(service), user="bob"
    )
    opened = police.desk.open_incident(knife_incident())
    police.desk.add_log(opened.incident.id, "Police-only note", visibility="police")
    police.engine.sync_once()
    assert police.engine.verify().line == "in agreement with the server: 2 events"
    assert council.engine.verify().line == "in agreement with the server: 1 events"

    # An event that reached this store without going through the server (a copied file),
    # signed by someone the server certified, so this store takes it.
    with Store.open(tmp_path / "other.db") as other:
        author = author_at(service, other, "ZZ9", Agency.POLICE, "carol")
        stray = IncidentService(other, author).open_incident(knife_incident())
        keys = other.certificates_held()
    assert police.store.apply_remote(stray.events, certificates=keys).stored
    verdict = police.engine.verify()
    assert not verdict.agree
    assert verdict.line.startswith("this workstation and the server disagree: 3 events here, 2")
    assert police.engine.state.alarms[-1] == verdict.line
    police.close()
    council.close()


def test_entries_that_can_never_go_out_are_an_error_not_online(
    tmp_path: Path, service: SyncService
) -> None:
    """A store whose own chain starts with events the server never got (demo data written
    under this workstation's code, say) must not show a healthy link."""
    transport = SimTransport(service)
    store, desk, engine = _engine(tmp_path, transport, [])
    opened = desk.open_incident(knife_incident())
    desk.add_log(opened.incident.id, "Units on the way")
    outbox.acknowledge(store, [opened.events[0].id])  # as if it had never been queued
    engine.sign_in("alice", PASSWORD)
    engine.sync_once()
    assert engine.state.status is SyncStatus.ERROR
    assert engine.state.message == (
        "1 entries wait for earlier entries the server has never received "
        "(waiting for CR1#1 (sent out of order))"
    )
    assert engine.state.pending == 1
    store.close()


def test_each_failed_sign_in_is_reported_even_with_the_same_message(
    tmp_path: Path, service: SyncService
) -> None:
    states: list[SyncState] = []
    store, _, engine = _engine(tmp_path, SimTransport(service), states)
    for _ in range(2):
        engine.sign_in("alice", "wrong password")
        with pytest.raises(SignInNeededError):
            engine.sync_once()
    attempts = [s.sign_in_attempts for s in states if s.status is SyncStatus.SIGN_IN_NEEDED]
    assert sorted(set(attempts)) == [1, 2]
    store.close()
