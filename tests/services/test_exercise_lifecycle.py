"""The exercise's own life as events: every player's store tells the same story."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.clock import from_iso
from osc_console.models.errors import DomainError
from osc_console.models.events import Author
from osc_console.models.exercise_log import Phase
from osc_console.models.payloads import Kind
from osc_console.models.scenario import (
    Scenario,
    load_shipped,
    parse_scenario,
    shipped_scenario_text,
)
from osc_console.paths import store_path
from osc_console.services.exercise import (
    CONTROL_WORKSTATION,
    ExerciseError,
    ExerciseRun,
    RunState,
    after_action_of,
    list_exercises,
    status_of,
)
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from tests.signing import register, signed

WALL_START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = WALL_START

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def scenario() -> Scenario:
    return load_shipped("city-flood")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, scenario: Scenario, clock: Clock) -> Iterator[Store]:
    with Store.open(store_path(tmp_path, scenario.realm), scenario.realm, wall=clock) as opened:
        register(opened, control())
        yield opened


def control(agency: Agency = Agency.CORPORATION) -> Author:
    """The planner running exercise control, with a key of their own."""
    return signed(None, Author("Ana Planner", agency, CONTROL_WORKSTATION), "planner")


def player(store: Store, actor: str, agency: Agency, workstation: str) -> IncidentService:
    """A player's desk in the exercise: a dispatcher, signed in with a key."""
    author = Author(actor, agency, workstation, store.realm)
    return IncidentService(store, signed(store, author, "dispatcher"))


def test_every_step_of_the_clock_is_an_event_players_can_fold(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    assert status_of(store).phase is Phase.NOT_STARTED
    assert status_of(store).codeword == "EXERCISE EXERCISE EXERCISE"  # before any event
    run = ExerciseRun(store, scenario, control(), clock=clock, speed=60)
    run.start()
    status = status_of(store)
    assert status.phase is Phase.RUNNING
    assert (status.scenario, status.codeword) == (scenario.name, scenario.codeword)
    assert status.injects_total == len(scenario.injects)
    clock.sleep(2)  # T+2:00
    run.pause()
    assert status_of(store).phase is Phase.PAUSED
    assert status_of(store).seconds_at(clock.now + timedelta(hours=1)) == 120
    clock.sleep(30)
    run.resume()
    run.set_speed(120)
    clock.sleep(1.5)  # +3:00 at the new speed
    status = status_of(store)
    assert status.phase is Phase.RUNNING
    assert status.speed == 120
    assert status.seconds_at(clock.now) == pytest.approx(300)
    assert status.clock_label(clock.now) == "T+05:00"
    assert run.elapsed().total_seconds() == pytest.approx(300)
    kinds = [e.kind for e in store.iter_events()]
    assert kinds == [
        Kind.EXERCISE_STARTED,
        Kind.EXERCISE_PAUSED,
        Kind.EXERCISE_RESUMED,
        Kind.EXERCISE_SPEED_CHANGED,
    ]


def test_stop_ends_the_exercise_for_every_player_at_once(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    run = ExerciseRun(store, scenario, control(), clock=clock)
    run.start()
    opened = run.release(scenario.injects[0])
    assert opened.incident_ref is not None
    desk = player(store, "PC Jane Smith", Agency.POLICE, "CR1")
    desk.add_log(opened.incident_ref, "Cordon at Bank junction")
    run.send_message("Thames Water on site in 20 minutes")
    run.stop("REAL INCIDENT at Liverpool Street: stop the exercise", emergency=True)

    status = status_of(store)
    assert status.phase is Phase.ENDED
    assert status.emergency
    assert status.ended_reason == "REAL INCIDENT at Liverpool Street: stop the exercise"
    assert status.headline().endswith(
        "STOPPED FOR A REAL EMERGENCY: REAL INCIDENT at Liverpool Street: stop the exercise"
    )
    assert [m.text for m in status.messages] == ["Thames Water on site in 20 minutes"]
    before = store.event_count()
    with pytest.raises(DomainError, match="has ended"):
        desk.add_log(opened.incident_ref, "Still here")
    with pytest.raises(ExerciseError, match="cannot send a message"):
        run.send_message("too late")
    assert store.event_count() == before


def test_a_second_control_run_cannot_restart_or_replay_an_exercise(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    first = ExerciseRun(store, scenario, control(), clock=clock)
    first.start()
    second = ExerciseRun(store, scenario, control(), clock=clock)
    with pytest.raises(ExerciseError, match="already started"):
        second.start()
    first.stop("ENDEX")
    third = ExerciseRun(store, scenario, control(), clock=clock)
    with pytest.raises(ExerciseError, match=r"has ended \(ENDEX\)"):
        third.start()
    assert second.state is RunState.READY


def test_a_run_stopped_from_another_console_releases_nothing_more(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    mine = ExerciseRun(store, scenario, control(), clock=clock)
    mine.start()
    other = ExerciseRun(store, scenario, control(), clock=clock)
    other.state = RunState.RUNNING  # the deputy's panel, already running
    other.stop("ENDEX")
    with pytest.raises(ExerciseError, match=r"the exercise has ended \(ENDEX\)"):
        mine.release(scenario.injects[0])
    assert mine.state is RunState.STOPPED


def test_after_action_marks_injects_against_responses(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    """The shipped scenario at 60x, two players answering: figures checked against events."""
    run = ExerciseRun(store, scenario, control(), clock=clock, speed=60)
    run.start()
    police = player(store, "PC Jane Smith", Agency.POLICE, "CR1")
    council = player(store, "Sam Okafor", Agency.CORPORATION, "CC1")
    main = run.release(run.due()[0])
    assert main.incident_ref is not None
    clock.sleep(1.5)  # 1.5 wall seconds: T+1:30 at 60x
    police.add_log(main.incident_ref, "Cordon requested at Bank junction")
    clock.sleep(1)
    police.assign(main.incident_ref, "POL-RESP-A")
    run.run_headless(sleep=clock.sleep)
    subway = run.released[3]
    assert subway.incident_ref is not None
    clock.sleep(45)
    council.assign(subway.incident_ref, "COL-EP")

    report = after_action_of(store, Agency.CORPORATION)
    assert [r.inject for r in report.responses] == [i.number for i in scenario.injects]
    by_inject = {r.inject: r for r in report.responses}
    first = by_inject[1]
    assert first.incident_ref == main.incident_ref
    assert first.seconds == pytest.approx(1.5)
    assert first.first_action_kind == Kind.LOG_ADDED
    assert first.first_action_by == "PC Jane Smith"
    assert first.response_label == "0:02"
    third = by_inject[3]
    assert third.first_action_kind == Kind.ASSIGNMENT_MADE
    assert third.first_action_at is not None
    expected = (from_iso(third.first_action_at) - subway.wall_time).total_seconds()
    assert third.seconds == pytest.approx(expected, abs=0.001)
    unanswered = [
        r.inject for r in report.responses if r.inject_kind == "incident" and r.seconds is None
    ]
    assert unanswered == [5, 8, 10, 12]
    for inject in scenario.injects:
        assert by_inject[inject.number].at == inject.at_label
        assert by_inject[inject.number].released_seconds == pytest.approx(
            inject.at.total_seconds(), abs=1
        )

    marks = {row.mark for row in report.rows if row.mark}
    assert "INJECT 1 (T+00:00)" in marks
    assert "FIRST RESPONSE to inject 1 after 0:02" in marks
    response_row = next(r for r in report.rows if r.mark.startswith("FIRST RESPONSE to inject 1"))
    assert response_row.exercise_time == "T+01:30"  # on the exercise clock, at 60x
    assert response_row.incident_ref == main.incident_ref
    assert not response_row.control
    message_rows = [r for r in report.rows if r.event.kind == Kind.EXERCISE_MESSAGE]
    assert [r.mark for r in message_rows] == ["INJECT 6 (T+12:30)", "INJECT 14 (T+40:00)"]
    assert report.withheld == 0


def test_after_action_refuses_a_live_store(tmp_path: Path) -> None:
    with Store.open(store_path(tmp_path, "live"), "live") as live:
        with pytest.raises(ExerciseError, match="only ever made from an exercise"):
            after_action_of(live, Agency.POLICE)
        with pytest.raises(ExerciseError, match="not an exercise"):
            status_of(live)


def test_list_exercises_finds_each_exercise_store_and_says_why_one_cannot_be_read(
    tmp_path: Path, scenario: Scenario, clock: Clock
) -> None:
    with Store.open(store_path(tmp_path, scenario.realm), scenario.realm, wall=clock) as store:
        register(store, control())
        run = ExerciseRun(store, scenario, control(), clock=clock)
        run.start()
        run.stop("ENDEX")
    Store.open(store_path(tmp_path, "live"), "live").close()
    (tmp_path / "exercise-broken.db").write_bytes(b"not a database at all" * 100)
    found = {info.realm: info for info in list_exercises(tmp_path)}
    assert set(found) == {"exercise:city-flood", "exercise:broken"}
    ended = found["exercise:city-flood"].status
    assert ended is not None
    assert ended.phase is Phase.ENDED
    assert found["exercise:broken"].status is None
    assert found["exercise:broken"].problem


def test_control_takes_over_a_running_exercise_after_a_restart(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    """Exercise control's console restarts at T+06:00: the new run carries on the same clock,
    releases the rest on time and nothing twice, and logs on earlier incidents still land."""
    first = ExerciseRun(store, scenario, control(), clock=clock, speed=60)
    first.start()
    clock.sleep(6)  # T+6:00 at 60x
    for inject in first.due():
        first.release(inject)
    assert sorted(first.released) == [1, 2, 3]
    del first  # the console went away

    clock.sleep(0.5)  # T+6:30
    again = ExerciseRun.take_over(store, scenario, control(), clock=clock)
    assert again.state is RunState.RUNNING
    assert again.speed == 60
    assert again.elapsed().total_seconds() == pytest.approx(390, abs=0.01)
    assert sorted(again.released) == [1, 2, 3]
    assert again.released[1].incident_ref is not None
    assert [i.number for i in again.due()] == []  # T+07:00 has not come yet
    clock.sleep(0.5)  # T+7:00: the LFB log on the first incident
    (log,) = [again.release(i) for i in again.due()]
    assert log.inject.number == 4
    assert log.incident_ref == again.released[1].incident_ref
    again.run_headless(sleep=clock.sleep)
    releases = [e for e in store.iter_events() if e.kind == Kind.EXERCISE_INJECT_RELEASED]
    assert sorted(e.payload["inject"] for e in releases) == list(range(1, 15))  # none twice
    assert again.state is RunState.FINISHED


def test_take_over_of_a_paused_ended_or_other_exercise(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    assert ExerciseRun.take_over(store, scenario, control(), clock=clock).state is RunState.READY
    first = ExerciseRun(store, scenario, control(), clock=clock, speed=60)
    first.start()
    clock.sleep(3)
    first.pause()
    clock.sleep(100)
    paused = ExerciseRun.take_over(store, scenario, control(), clock=clock)
    assert paused.state is RunState.PAUSED
    assert paused.elapsed().total_seconds() == pytest.approx(180)
    other = Scenario(
        "Another", scenario.slug, "EX", scenario.start, scenario.duration, scenario.injects[:2]
    )
    with pytest.raises(ExerciseError, match="was started from another scenario"):
        ExerciseRun.take_over(store, other, control(), clock=clock)
    paused.stop("ENDEX")
    with pytest.raises(ExerciseError, match=r"has ended \(ENDEX\)"):
        ExerciseRun.take_over(store, scenario, control(), clock=clock)


def test_an_inject_about_a_police_only_incident_is_not_shown_to_corporation_readers(
    store: Store, clock: Clock
) -> None:
    head, crowd = shipped_scenario_text("city-flood").split('id = "crowd"')
    crowd = crowd.replace(
        'lead_agency = "police"\n', 'lead_agency = "police"\nvisibility = "police"\n', 1
    )
    scenario = parse_scenario(head + 'id = "crowd"' + crowd, "restricted.toml")
    # A police-only inject is released by a police planner (control writes in its own name).
    planner = control(Agency.POLICE)
    register(store, planner)
    run = ExerciseRun(store, scenario, planner, clock=clock, speed=600)
    run.run_headless(sleep=clock.sleep)
    releases = [e for e in store.iter_events() if e.kind == Kind.EXERCISE_INJECT_RELEASED]
    by_inject = {e.payload["inject"]: e for e in releases}
    assert {n for n, e in by_inject.items() if e.visibility == "police"} == {12}
    secret = scenario.injects[11].incident
    assert secret is not None
    police = after_action_of(store, Agency.POLICE)
    council = after_action_of(store, Agency.CORPORATION)
    assert [r.inject for r in police.responses] == list(range(1, 15))
    assert [r.inject for r in council.responses] == [*range(1, 12), 13, 14]
    assert secret.summary not in {r.title for r in council.responses}
    assert all(secret.summary not in row.text for row in council.rows)
    assert council.withheld > 0
    assert police.withheld == 0


def test_the_clock_runs_on_after_the_last_inject_until_the_exercise_ends(
    store: Store, scenario: Scenario, clock: Clock
) -> None:
    """Players keep working after the last inject: their clock and control's agree."""
    run = ExerciseRun(store, scenario, control(), clock=clock, speed=60)
    run.run_headless(sleep=clock.sleep)
    assert run.state is RunState.FINISHED
    assert run.clock_running
    clock.sleep(10)  # ten more exercise minutes
    expected = scenario.injects[-1].at.total_seconds() + 600
    assert run.elapsed().total_seconds() == pytest.approx(expected)
    assert status_of(store).seconds_at(clock.now) == pytest.approx(expected)
    run.stop("ENDEX")
    (stopped,) = [e for e in store.iter_events() if e.kind == Kind.EXERCISE_STOPPED]
    assert stopped.payload["exercise_seconds"] == pytest.approx(expected)
    clock.sleep(10)
    assert status_of(store).seconds_at(clock.now) == pytest.approx(expected)
