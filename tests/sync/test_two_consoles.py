"""Two or more consoles against a real server on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from osc_console.models.agencies import Agency, Visibility
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.store import outbox
from osc_console.store.event_store import Store
from tests.conftest import knife_incident
from tests.sync.harness import (
    PASSWORD,
    ServerThread,
    Workstation,
    add_users,
    check_invariants,
    http,
    make_service,
    make_workstation,
)


def _stations(tmp_path: Path, server: ServerThread) -> tuple[Workstation, Workstation]:
    police = make_workstation(tmp_path, "CR1", Agency.POLICE, http(server.url), user="alice")
    council = make_workstation(tmp_path, "CC1", Agency.CORPORATION, http(server.url), user="bob")
    return police, council


def test_an_entry_logged_at_one_console_appears_at_the_other(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    police, council = _stations(tmp_path, server)
    opened = police.desk.open_incident(knife_incident(visibility=Visibility.JOINT))
    police.made.extend(e.id for e in opened.events)
    logged = police.desk.add_log(opened.incident.id, "Two units on the way")
    police.made.extend(e.id for e in logged.events)
    assert police.store.pending_count() == 2

    police.engine.sync_once()
    assert police.store.pending_count() == 0
    council.engine.sync_once()

    seen = council.store.incident(opened.incident.id)
    assert seen is not None
    assert seen.ref == opened.incident.ref
    assert [e.payload.get("text") for e in council.store.events_of(seen.id)][-1] == (
        "Two units on the way"
    )
    check_invariants(service.backend, [police, council])
    assert police.engine.verify().agree
    assert council.engine.verify().agree
    police.close()
    council.close()


def test_police_only_entries_never_reach_the_council(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    police, council = _stations(tmp_path, server)
    joint = police.desk.open_incident(knife_incident())
    secret = police.desk.add_log(
        joint.incident.id, "Informant names the suspect", visibility=Visibility.POLICE
    )
    police.made.extend(e.id for e in (*joint.events, *secret.events))
    police.engine.sync_once()
    council.engine.sync_once()

    held = {e.id for e in council.store.iter_events()}
    assert secret.events[0].id not in held
    assert joint.events[0].id in held
    check_invariants(service.backend, [police, council])
    police.close()
    council.close()


def test_pushing_the_same_outbox_twice_changes_nothing(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    police, council = _stations(tmp_path, server)
    council.close()
    opened = police.desk.open_incident(knife_incident())
    events = list(opened.events)
    assert police.identity is not None
    request = police.identity.login_request("alice", PASSWORD, "live")
    token = police.transport.login(request).session.token
    first = police.transport.push(token, events)
    again = police.transport.push(token, events)
    assert [r.outcome.value for r in first.results] == ["accepted"]
    assert [r.outcome.value for r in again.results] == ["duplicate"]
    assert again.results[0].seq == first.results[0].seq
    assert service.backend.high_water() == 1
    police.close()


def test_a_store_pointing_at_a_new_server_starts_its_cursor_afresh(
    tmp_path: Path, server: ServerThread
) -> None:
    police, council = _stations(tmp_path, server)
    police.desk.open_incident(knife_incident())
    police.engine.sync_once()
    council.engine.sync_once()
    with Store.open(council.path) as store:
        keys = [k for (k,) in store.execute_read("SELECT key FROM meta WHERE key LIKE 'sync.%'")]
        assert len(keys) == 1
        assert outbox.cursor(store, keys[0].removeprefix("sync.cursor.")) == 1
    first_key = keys[0]

    # The room moves to a new server, whose log starts again at 1 with other events: the
    # same store must read that log from its start, keeping the old server's cursor apart.
    # (The new server has its own signing key: its administrator enrols the desks afresh.)
    second = make_service(SqliteBackend(tmp_path / "second-server.db"))
    add_users(second, ("alice", Agency.POLICE), ("bob", Agency.CORPORATION))
    running = ServerThread(second).start()
    try:
        elsewhere = make_workstation(
            tmp_path, "CR7", Agency.POLICE, http(running.url), user="alice"
        )
        moved = elsewhere.desk.open_incident(knife_incident(visibility=Visibility.JOINT))
        elsewhere.engine.sync_once()
        moved_council = make_workstation(
            tmp_path,
            "CC1",
            Agency.CORPORATION,
            http(running.url),
            user="bob",
            keys=tmp_path / "second-server-keys",
        )
        moved_council.engine.sync_once()
        with Store.open(council.path) as store:
            keys = [
                k for (k,) in store.execute_read("SELECT key FROM meta WHERE key LIKE 'sync.%'")
            ]
            assert len(keys) == 2
            (new_key,) = set(keys) - {first_key}
            assert outbox.cursor(store, first_key.removeprefix("sync.cursor.")) == 1
            assert outbox.cursor(store, new_key.removeprefix("sync.cursor.")) == 1
            assert store.incident(moved.incident.id) is not None  # read from seq 1
        elsewhere.close()
        moved_council.close()
    finally:
        running.stop()
        second.backend.close()
    police.close()
    council.close()
