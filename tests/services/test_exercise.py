"""Playing a scenario: injects arrive on the exercise clock, only ever in the exercise store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.clock import from_iso
from osc_console.models.events import Author
from osc_console.models.exercise_log import Phase, exercise_status
from osc_console.models.payloads import Kind
from osc_console.models.scenario import InjectKind, Scenario, load_shipped
from osc_console.paths import store_path
from osc_console.services.exercise import (
    CONTROL_WORKSTATION,
    ExerciseError,
    ExerciseRun,
    RunState,
    after_action_of,
)
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from tests.signing import register, signed

WALL_START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = WALL_START
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept += seconds
        self.now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def scenario() -> Scenario:
    return load_shipped("city-flood")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def control() -> Author:
    """The planner running exercise control, with a key of their own."""
    return signed(
        None, Author("Exercise control", Agency.CORPORATION, CONTROL_WORKSTATION), "planner"
    )


@pytest.fixture
def exercise_store(
    tmp_path: Path, scenario: Scenario, clock: FakeClock, control: Author
) -> Iterator[Store]:
    with Store.open(store_path(tmp_path, scenario.realm), scenario.realm, wall=clock) as opened:
        register(opened, control)
        yield opened


def test_a_live_store_is_refused(
    tmp_path: Path, scenario: Scenario, control: Author, clock: FakeClock
) -> None:
    with Store.open(store_path(tmp_path, "live"), "live") as live:
        with pytest.raises(ExerciseError, match="an exercise can never write live data"):
            ExerciseRun(live, scenario, control, clock=clock)
        assert live.event_count() == 0
    wrong = "holds exercise:other, not exercise:city-flood"
    with (
        Store.open(tmp_path / "other.db", "exercise:other") as other,
        pytest.raises(ExerciseError, match=wrong),
    ):
        ExerciseRun(other, scenario, control, clock=clock)


def test_shipped_scenario_at_high_speed_arrives_on_time(
    tmp_path: Path,
    scenario: Scenario,
    exercise_store: Store,
    control: Author,
    clock: FakeClock,
) -> None:
    speed = 600.0
    run = ExerciseRun(exercise_store, scenario, control, clock=clock, speed=speed)
    seen: list[str] = []
    summary = run.run_headless(sleep=clock.sleep, on_release=lambda r: seen.append(r.line()))

    assert summary.state is RunState.FINISHED
    assert summary.released == len(scenario.injects)
    assert summary.pending == 0
    assert len(seen) == len(scenario.injects)
    last = scenario.injects[-1].at
    assert clock.slept == pytest.approx(last.total_seconds() / speed, abs=0.01)

    written = 0
    for inject in scenario.injects:
        released = run.released[inject.number]
        expected = WALL_START + inject.at / speed
        assert abs(released.wall_time - expected) < timedelta(milliseconds=1)
        assert abs(released.exercise_time - inject.at) < timedelta(seconds=1)
        assert len(released.events) == 1
        written += 1
        event = exercise_store.event(released.events[0].id)
        if inject.kind is InjectKind.MESSAGE:
            assert event is not None
            assert event.kind == Kind.EXERCISE_MESSAGE
            assert event.payload["text"] == inject.text
            assert event.payload["inject"] == inject.number
            continue
        assert event is not None
        assert event.realm == "exercise:city-flood"
        assert event.workstation == CONTROL_WORKSTATION
        for stamp in (event.recorded_at, event.occurred_at):
            assert abs(from_iso(stamp) - expected) <= timedelta(milliseconds=1)
        if inject.kind is InjectKind.INCIDENT:
            assert event.kind == Kind.INCIDENT_OPENED
        else:
            assert event.kind == Kind.LOG_ADDED
            # Exercise control writes in its own name, always; a partner it speaks for is
            # named in the entry, never borrowed as its author.
            assert (event.actor, event.agency) == (control.actor, control.agency.value)
            if inject.agency is None:
                assert event.payload.get("on_behalf_of") is None
            else:
                team = exercise_store.reference.team(inject.team) if inject.team else None
                partner = team.name if team else inject.agency.label
                assert event.payload["on_behalf_of"] == partner
            if inject.kind is InjectKind.METHANE:
                assert event.payload["text"].startswith("METHANE\nM - Major incident:")
    # Each inject also recorded when it was released (the after-action's marks), and the
    # start was announced: every other event is one of those.
    releases = [e for e in exercise_store.iter_events() if e.kind == Kind.EXERCISE_INJECT_RELEASED]
    assert [e.payload["inject"] for e in releases] == [i.number for i in scenario.injects]
    for release, inject in zip(releases, scenario.injects, strict=True):
        assert release.payload["at"] == inject.at_label
        assert release.payload["exercise_seconds"] == pytest.approx(
            inject.at.total_seconds(), abs=0.5
        )
        assert set(release.refs) == {e.id for e in run.released[inject.number].events}
    assert exercise_store.event_count() == written + len(releases) + 1
    status = exercise_status(scenario.realm, exercise_store.iter_events())
    assert status.phase is Phase.RUNNING
    assert status.codeword == scenario.codeword
    assert status.injects_released == status.injects_total == len(scenario.injects)
    assert [m.text for m in status.messages] == [
        i.text for i in scenario.injects if i.kind is InjectKind.MESSAGE
    ]
    assert not store_path(tmp_path, "live").exists()


def test_pause_resume_and_speed(
    scenario: Scenario, exercise_store: Store, control: Author, clock: FakeClock
) -> None:
    run = ExerciseRun(exercise_store, scenario, control, clock=clock, speed=60)
    assert run.due() == []  # not started
    run.start()
    assert [i.number for i in run.due()] == [1]
    clock.advance(2)  # T+2:00
    assert run.elapsed() == timedelta(minutes=2)
    run.pause()
    clock.advance(600)
    assert run.elapsed() == timedelta(minutes=2)
    assert run.due() == []  # nothing comes while paused
    run.resume()
    run.set_speed(120)
    clock.advance(1.5)  # +3:00 at the new speed -> T+5:00
    assert run.elapsed() == timedelta(minutes=5)
    assert run.exercise_now() == scenario.start + timedelta(minutes=5)
    assert [i.number for i in run.due()] == [1, 2, 3]
    with pytest.raises(ExerciseError, match="more than 0"):
        run.set_speed(0)


def test_release_early_and_stop(
    scenario: Scenario, exercise_store: Store, control: Author, clock: FakeClock
) -> None:
    run = ExerciseRun(exercise_store, scenario, control, clock=clock)
    run.start()
    with pytest.raises(ExerciseError, match="release inject 'casualty' first"):
        run.release(scenario.injects[8])  # a log on the casualty, before it exists
    early = run.release_early("casualty")
    assert early.early
    assert early.incident_ref is not None
    assert exercise_store.incident_by_ref(early.incident_ref) is not None
    with pytest.raises(ExerciseError, match="already released"):
        run.release_early("casualty")
    summary = run.stop("REAL INCIDENT: stop the exercise")
    assert summary.state is RunState.STOPPED
    assert summary.stop_reason == "REAL INCIDENT: stop the exercise"
    assert summary.released == 1
    assert summary.pending == len(scenario.injects) - 1
    assert run.due() == []
    with pytest.raises(ExerciseError, match="the exercise is stopped"):
        run.release(scenario.injects[0])
    assert run.run_headless(sleep=clock.sleep).released == 1


def test_after_action_from_the_events(
    scenario: Scenario, exercise_store: Store, control: Author, clock: FakeClock
) -> None:
    run = ExerciseRun(exercise_store, scenario, control, clock=clock, speed=1)
    run.start()
    first = run.release(run.due()[0])  # the burst main, at T+0
    assert first.incident_ref is not None
    player = Author("PC Jane Smith", Agency.POLICE, "CR1", realm=scenario.realm)
    desk = IncidentService(exercise_store, signed(exercise_store, player, "dispatcher"))
    clock.advance(90)
    desk.add_log(first.incident_ref, "Cordon requested at Bank junction; RVP Mansion House")
    clock.advance(30)
    desk.assign(first.incident_ref, "POL-RESP-A")

    # The rest plays on; exercise-control partner logs are not player actions.
    run.run_headless(sleep=clock.sleep)
    subway = run.released[3]
    assert subway.incident_ref is not None
    council = Author("Sam Okafor", Agency.CORPORATION, "CC1", realm=scenario.realm)
    clock.advance(45)
    IncidentService(exercise_store, signed(exercise_store, council, "dispatcher")).assign(
        subway.incident_ref, "COL-EP"
    )
    released_subway = subway.wall_time

    report = after_action_of(exercise_store, Agency.POLICE)
    incidents = [r for r in report.responses if r.inject_kind == "incident"]
    assert [r.inject for r in incidents] == [
        i.number for i in scenario.injects if i.kind is InjectKind.INCIDENT
    ]
    assert [r.title for r in incidents] == [
        i.incident.summary for i in scenario.injects if i.incident is not None
    ]
    main = incidents[0]
    assert main.incident_ref == first.incident_ref
    assert main.seconds == 90.0
    assert main.first_action_kind == Kind.LOG_ADDED
    assert main.first_action_by == "PC Jane Smith"
    second = incidents[1]
    assert second.first_action_kind == Kind.ASSIGNMENT_MADE
    assert second.first_action_at is not None
    expected = (from_iso(second.first_action_at) - released_subway).total_seconds()
    assert second.seconds == pytest.approx(expected, abs=0.001)
    assert all(r.seconds is None for r in incidents[2:])  # no player touched them
    # Log, METHANE and message injects are marked, but no response time is asked of them.
    assert all(r.seconds is None for r in report.responses if r.inject_kind != "incident")
    assert report.to_dict()["responses"][0]["seconds"] == 90.0


def test_after_action_refuses_the_live_store(tmp_path: Path) -> None:
    with Store.open(store_path(tmp_path, "live"), "live") as live, pytest.raises(ExerciseError):
        after_action_of(live, Agency.POLICE)
