"""An exercise through a real server: exercise control's events reach every player's
console in the exercise realm, "stop exercise" ends it for all of them, and live consoles
and the server's live realm never hold any of it. (SQLite and PostgreSQL backends.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.errors import DomainError
from osc_console.models.exercise_log import Phase
from osc_console.models.scenario import load_shipped
from osc_console.server.service import SyncService
from osc_console.services.exercise import ExerciseRun, after_action_of, status_of
from tests.conftest import knife_incident
from tests.sync.harness import (
    ServerThread,
    check_invariants,
    http,
    make_workstation,
    server_events,
)

SCENARIO = load_shipped("city-flood")
REALM = SCENARIO.realm


def test_exercise_control_reaches_every_player_and_stop_ends_it_for_all(
    tmp_path: Path, server: ServerThread, service: SyncService
) -> None:
    control = make_workstation(
        tmp_path, "EXCON", Agency.CORPORATION, http(server.url), realm=REALM, user="erin"
    )
    player = make_workstation(
        tmp_path, "CR1", Agency.POLICE, http(server.url), realm=REALM, user="alice"
    )
    live = make_workstation(tmp_path, "CR2", Agency.POLICE, http(server.url), user="carol")
    live_incident = live.desk.open_incident(knife_incident())
    live.made.extend(e.id for e in live_incident.events)

    # Exercise control starts the exercise and releases the first injects (at 600x).
    clock_run = ExerciseRun(control.store, SCENARIO, control.author, speed=600)
    clock_run.start()
    first = [clock_run.release(i) for i in SCENARIO.injects[:3]]
    control.made.extend(e.id for e in control.store.iter_events())
    for station in (control, player, live):
        station.engine.sync_once()

    status = status_of(player.store)
    assert status.phase is Phase.RUNNING
    assert status.codeword == SCENARIO.codeword
    assert status.injects_released == 3
    main_ref = first[0].incident_ref
    assert main_ref is not None
    assert player.store.incident_by_ref(main_ref) is not None

    # A player answers; exercise control sends a message, then stops the exercise.
    answer = player.desk.add_log(main_ref, "Cordon at Bank junction; RVP Mansion House")
    player.made.extend(e.id for e in answer.events)
    player.engine.sync_once()
    message = clock_run.send_message("Thames Water on site in 20 minutes")
    clock_run.stop("REAL INCIDENT: stop the exercise", emergency=True)
    stopped = clock_run.written[-1]
    control.made.extend([message.id, stopped.id])
    control.engine.sync_once()
    player.engine.sync_once()

    ended = status_of(player.store)
    assert ended.phase is Phase.ENDED
    assert ended.emergency
    assert [m.text for m in ended.messages] == ["Thames Water on site in 20 minutes"]
    with pytest.raises(DomainError, match="has ended"):
        player.desk.add_log(main_ref, "too late")

    # The after-action at exercise control counts the player's answer, made elsewhere.
    control.engine.sync_once()
    report = after_action_of(control.store, Agency.CORPORATION)
    answered = [r for r in report.responses if r.seconds is not None]
    assert [r.inject for r in answered] == [1]
    assert answered[0].first_action_workstation == "CR1"
    assert timedelta(seconds=answered[0].seconds or 0) < timedelta(minutes=1)

    # Live: the live console and the server's live realm hold nothing of the exercise.
    live.engine.sync_once()
    live_held = {e.kind for e in live.store.iter_events()}
    assert not [k for k in live_held if k.startswith("exercise.")]
    assert set(server_events(service.backend, "live")) == set(live.made)
    exercise_ids = set(server_events(service.backend, REALM))
    assert not exercise_ids & {e.id for e in live.store.iter_events()}
    assert live.store.incident_by_ref(main_ref) is None

    check_invariants(service.backend, [control, player], realm=REALM)
    check_invariants(service.backend, [live])
    for station in (control, player, live):
        station.close()
