"""The exercise's status folded from its events: the same story in any arrival order."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.events import Author, Event, EventDraft, seal
from osc_console.models.exercise_log import (
    DEFAULT_CODEWORD,
    Phase,
    exercise_offset,
    exercise_status,
)
from osc_console.models.payloads import Kind

REALM = "exercise:city-flood"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONTROL = Author("Ana Planner", Agency.CORPORATION, "EXCON", REALM)


class Log:
    """Seals events as exercise control's workstation would, one chain, times given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: Kind, wall_seconds: float, **payload: Any) -> Event:
        seq = len(self.events) + 1
        wall = T0 + timedelta(seconds=wall_seconds)
        event = seal(
            EventDraft(kind, payload),
            CONTROL,
            event_id=f"019d36ff-6340-7000-8000-{seq:012d}",
            hlc=f"{int(wall.timestamp() * 1000):013d}-{0:06d}",
            recorded_at=to_iso(wall),
            device_seq=seq,
            prev_hash=self.events[-1].content_hash if self.events else None,
        )
        self.events.append(event)
        return event


def started(log: Log, speed: float = 60) -> None:
    log.add(
        Kind.EXERCISE_STARTED,
        0,
        scenario="Bank Deluge",
        codeword="EXERCISE TRIDENT",
        start="2026-11-24T08:30:00.000Z",
        duration_seconds=2700,
        injects=14,
        exercise_seconds=0,
        speed=speed,
    )


def test_nothing_yet_is_not_started_with_the_default_codeword() -> None:
    status = exercise_status(REALM, [])
    assert status.phase is Phase.NOT_STARTED
    assert status.codeword == DEFAULT_CODEWORD
    assert status.seconds_at(T0) == 0
    assert status.headline() == "city-flood — waiting for exercise control to start"


def test_the_clock_through_start_pause_speed_and_resume() -> None:
    log = Log()
    started(log)  # 60x from wall 0
    log.add(Kind.EXERCISE_PAUSED, 2, exercise_seconds=120, speed=60)
    log.add(Kind.EXERCISE_SPEED_CHANGED, 30, exercise_seconds=120, speed=120)  # while paused
    log.add(Kind.EXERCISE_RESUMED, 40, exercise_seconds=120, speed=120)
    status = exercise_status(REALM, log.events)
    assert status.codeword == "EXERCISE TRIDENT"
    assert status.phase is Phase.RUNNING
    assert status.speed == 120
    at = T0 + timedelta(seconds=1)
    assert status.seconds_at(at) == 60
    assert status.seconds_at(T0 + timedelta(seconds=20)) == 120  # paused
    assert status.seconds_at(T0 + timedelta(seconds=35)) == 120  # a speed change keeps it paused
    assert status.seconds_at(T0 + timedelta(seconds=41.5)) == 300
    assert status.clock_label(T0 + timedelta(seconds=41.5)) == "T+05:00"
    assert status.headline() == "Bank Deluge — running at 120×"


def test_a_stop_is_the_end_and_later_clock_events_change_nothing() -> None:
    log = Log()
    started(log)
    log.add(
        Kind.EXERCISE_MESSAGE,
        1,
        text="Thames Water on site",
        inject=None,
        exercise_seconds=60,
        speed=60,
    )
    log.add(
        Kind.EXERCISE_STOPPED,
        2,
        reason="Real incident",
        emergency=True,
        exercise_seconds=120,
        speed=60,
    )
    log.add(Kind.EXERCISE_RESUMED, 3, exercise_seconds=120, speed=60)  # from a confused peer
    status = exercise_status(REALM, log.events)
    assert status.phase is Phase.ENDED
    assert status.ended_reason == "Real incident"
    assert status.emergency
    assert status.seconds_at(T0 + timedelta(hours=1)) == 120
    assert [m.text for m in status.messages] == ["Thames Water on site"]
    assert status.messages[0].at_label == "T+01:00"
    assert status.headline() == "Bank Deluge — STOPPED FOR A REAL EMERGENCY: Real incident"


def test_the_same_status_in_any_arrival_order() -> None:
    log = Log()
    started(log)
    log.add(Kind.EXERCISE_PAUSED, 2, exercise_seconds=120, speed=60)
    log.add(Kind.EXERCISE_MESSAGE, 3, text="One", inject=6, exercise_seconds=120, speed=60)
    log.add(Kind.EXERCISE_RESUMED, 4, exercise_seconds=120, speed=60)
    log.add(Kind.EXERCISE_SPEED_CHANGED, 5, exercise_seconds=180, speed=10)
    log.add(Kind.EXERCISE_MESSAGE, 6, text="Two", inject=None, exercise_seconds=190, speed=10)
    log.add(
        Kind.EXERCISE_STOPPED, 7, reason="ENDEX", emergency=False, exercise_seconds=200, speed=10
    )
    expected = exercise_status(REALM, log.events)
    rng = random.Random(7)
    orders = [list(p) for p in itertools.islice(itertools.permutations(log.events), 50)]
    for _ in range(50):
        shuffled = list(log.events)
        rng.shuffle(shuffled)
        orders.append(shuffled)
    for order in orders:
        assert exercise_status(REALM, order) == expected
    assert expected.phase is Phase.ENDED
    assert [m.text for m in expected.messages] == ["One", "Two"]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(0, "T+00:00"), (59.9, "T+00:59"), (270, "T+04:30"), (3870, "T+1:04:30"), (-5, "T+00:00")],
)
def test_exercise_offset(seconds: float, label: str) -> None:
    assert exercise_offset(seconds) == label
