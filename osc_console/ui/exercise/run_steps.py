"""The exercise run's steps as the control panel takes them: each runs on the database
worker (where the :class:`ExerciseRun` lives) and returns a :class:`RunSnapshot`, the only
thing of the run the UI thread reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from osc_console.models.changes import ChangeSet
from osc_console.models.events import Event
from osc_console.models.payloads import Kind
from osc_console.services.exercise import ExerciseRun, Released, RunState


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """The run as it stood on the worker, for the UI thread to draw."""

    state: RunState
    elapsed: timedelta
    speed: float
    wall: datetime
    released: dict[int, Released] = field(default_factory=dict)
    stop_reason: str | None = None
    new: tuple[Released, ...] = ()
    events: tuple[Event, ...] = ()  # the exercise's own events this step wrote
    problem: str | None = None  # why this step was refused, in the planner's words
    clock_running: bool = False

    def elapsed_at(self, now: datetime) -> timedelta:
        """The exercise clock carried forward from the snapshot (for the display only)."""
        if not self.clock_running:
            return self.elapsed
        return self.elapsed + (now - self.wall) * self.speed

    def changes(self) -> ChangeSet:
        """What this step wrote, for every panel's one refresh message."""
        seen = {e.id for e in self.events}
        events = [*self.events, *(e for r in self.new for e in r.events if e.id not in seen)]
        return ChangeSet(
            tuple(e.id for e in events),
            frozenset(e.incident_id for e in events if e.incident_id),
            frozenset(
                e.incident_id for e in events if e.kind == Kind.INCIDENT_OPENED and e.incident_id
            ),
            frozenset(e.kind for e in events),
        )


def snapshot_of(
    run: ExerciseRun, *, new: tuple[Released, ...] = (), problem: str | None = None
) -> RunSnapshot:
    """Copy what the UI needs of the run (on the worker, where the run is changed)."""
    return RunSnapshot(
        run.state,
        run.elapsed(),
        run.speed,
        datetime.now(UTC),
        dict(run.released),
        run.stop_reason,
        new=new,
        problem=problem,
        clock_running=run.clock_running,
    )


def release_due(run: ExerciseRun) -> RunSnapshot:
    new = [run.release(inject) for inject in run.due()]
    return snapshot_of(run, new=tuple(new))
