"""An exercise as its events tell it: where the clock stands, what players were told, whether
it has ended, and the after-action timeline with injects marked against the responses.

Everything here is a pure function of the exercise store's events, so every player's console,
exercise control and the after-action export read the same story, whichever workstation wrote
which event: exercise control's lifecycle events (``exercise.started`` … ``exercise.stopped``)
carry the exercise clock's reading and speed, and each released inject is recorded by an
``exercise.inject_released`` event naming the incident it opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.clock import from_iso
from osc_console.models.events import Event
from osc_console.models.payloads import EXERCISE_KINDS, Kind
from osc_console.models.reference import ReferenceData
from osc_console.models.scenario import format_offset
from osc_console.models.shift_log import describe, kind_label

DEFAULT_CODEWORD = "EXERCISE EXERCISE EXERCISE"

# Lifecycle events that move the exercise clock (each carries its reading and speed).
_CLOCK_KINDS = frozenset(
    {
        Kind.EXERCISE_STARTED,
        Kind.EXERCISE_PAUSED,
        Kind.EXERCISE_RESUMED,
        Kind.EXERCISE_SPEED_CHANGED,
        Kind.EXERCISE_STOPPED,
    }
)
# Lifecycle events after which the clock runs (a speed change: only if it was running).
_RUNNING_AFTER = frozenset(
    {Kind.EXERCISE_STARTED, Kind.EXERCISE_RESUMED, Kind.EXERCISE_SPEED_CHANGED}
)


class Phase(StrEnum):
    NOT_STARTED = "not started"
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


def exercise_offset(seconds: float) -> str:
    """Exercise time as planners write it (``T+04:30`` or ``T+1:04:30``), never before T+0."""
    return format_offset(timedelta(seconds=max(0.0, seconds)))


def _order(event: Event) -> tuple[str, str, str]:
    return event.order_key


@dataclass(frozen=True, slots=True)
class PlayerMessage:
    text: str
    exercise_seconds: float
    recorded_at: str
    actor: str
    inject: int | None = None

    @property
    def at_label(self) -> str:
        return exercise_offset(self.exercise_seconds)


@dataclass(frozen=True, slots=True)
class ClockMark:
    """One lifecycle event: from its wall time on, the clock reads ``seconds`` + run x speed."""

    wall: datetime
    seconds: float
    speed: float
    running: bool


@dataclass(frozen=True, slots=True)
class ExerciseStatus:
    """What every console shows of an exercise: codeword, phase, clock, messages, the end."""

    realm: str
    phase: Phase = Phase.NOT_STARTED
    scenario: str | None = None
    codeword: str = DEFAULT_CODEWORD
    start: str | None = None  # the exercise clock's reading at T+0 (UTC ISO)
    duration_seconds: float | None = None
    injects_total: int = 0
    injects_released: int = 0
    speed: float = 1.0
    messages: tuple[PlayerMessage, ...] = ()
    marks: tuple[ClockMark, ...] = ()
    ended_reason: str | None = None
    ended_at: str | None = None
    ended_by: str | None = None
    emergency: bool = False

    @property
    def slug(self) -> str:
        return self.realm.partition(":")[2]

    @property
    def ended(self) -> bool:
        return self.phase is Phase.ENDED

    def seconds_at(self, wall: datetime) -> float:
        """The exercise clock at a wall time (0 before the start)."""
        current: ClockMark | None = None
        for mark in self.marks:
            if mark.wall <= wall:
                current = mark
            else:
                break
        if current is None:
            return 0.0
        if not current.running:
            return current.seconds
        return current.seconds + (wall - current.wall).total_seconds() * current.speed

    def clock_label(self, wall: datetime) -> str:
        return exercise_offset(self.seconds_at(wall))

    def headline(self) -> str:
        """One line for the banner: the scenario and where it stands."""
        name = self.scenario or self.slug
        if self.phase is Phase.ENDED:
            why = "STOPPED FOR A REAL EMERGENCY" if self.emergency else "ENDED"
            return f"{name} — {why}: {self.ended_reason or ''}".rstrip(": ")
        if self.phase is Phase.NOT_STARTED:
            return f"{name} — waiting for exercise control to start"
        speed = "" if self.speed == 1 else f" at {self.speed:g}×"
        return f"{name} — {self.phase.value}{speed}"


def exercise_status(realm: str, events: Iterable[Event]) -> ExerciseStatus:
    """Fold an exercise store's ``exercise.*`` events (others are ignored) into its status."""
    lifecycle = sorted((e for e in events if e.kind in EXERCISE_KINDS), key=_order)
    values: dict[str, Any] = {}
    phase = Phase.NOT_STARTED
    messages: list[PlayerMessage] = []
    marks: list[ClockMark] = []
    released: set[int] = set()
    for event in lifecycle:
        p = event.payload
        kind = event.kind
        if phase is Phase.ENDED and kind != Kind.EXERCISE_MESSAGE:
            continue  # the first stop is the end; nothing after it moves the clock
        if kind == Kind.EXERCISE_STARTED:
            values.update(
                scenario=p["scenario"],
                codeword=p["codeword"],
                start=p["start"],
                duration_seconds=float(p["duration_seconds"]),
                injects_total=int(p["injects"]),
            )
        if kind in _CLOCK_KINDS:
            if kind in _RUNNING_AFTER:
                running = kind != Kind.EXERCISE_SPEED_CHANGED or phase is Phase.RUNNING
            else:
                running = False
            marks.append(
                ClockMark(
                    from_iso(event.recorded_at),
                    float(p["exercise_seconds"]),
                    float(p["speed"]),
                    running,
                )
            )
            values["speed"] = float(p["speed"])
            if kind == Kind.EXERCISE_STOPPED:
                phase = Phase.ENDED
                values.update(
                    ended_reason=p["reason"],
                    ended_at=event.recorded_at,
                    ended_by=event.actor,
                    emergency=bool(p["emergency"]),
                )
            elif kind != Kind.EXERCISE_SPEED_CHANGED:
                phase = Phase.RUNNING if running else Phase.PAUSED
        elif kind == Kind.EXERCISE_MESSAGE:
            messages.append(
                PlayerMessage(
                    p["text"],
                    float(p["exercise_seconds"]),
                    event.recorded_at,
                    event.actor,
                    p.get("inject"),
                )
            )
        elif kind == Kind.EXERCISE_INJECT_RELEASED:
            released.add(int(p["inject"]))
    return ExerciseStatus(
        realm=realm,
        phase=phase,
        messages=tuple(messages),
        marks=tuple(marks),
        injects_released=len(released),
        **values,
    )


# ---- after-action -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InjectResponse:
    """One released inject, and for an incident inject the players' first action on it."""

    inject: int
    at: str  # the scenario's time, e.g. T+05:00
    inject_kind: str
    title: str
    released_at: str  # wall time (UTC ISO) exercise control released it
    released_seconds: float  # the exercise clock when it was released
    early: bool
    incident_ref: str | None = None
    first_action_at: str | None = None
    first_action_kind: str | None = None
    first_action_by: str | None = None
    first_action_workstation: str | None = None

    @property
    def seconds(self) -> float | None:
        """Wall seconds from the release to the players' first action (None: no action)."""
        if self.first_action_at is None:
            return None
        return (from_iso(self.first_action_at) - from_iso(self.released_at)).total_seconds()

    @property
    def response_label(self) -> str:
        if self.inject_kind != "incident":
            return ""
        seconds = self.seconds
        if seconds is None:
            return "no player action"
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}:{secs:02d}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "inject": self.inject,
            "at": self.at,
            "kind": self.inject_kind,
            "title": self.title,
            "released_at": self.released_at,
            "released_at_exercise": exercise_offset(self.released_seconds),
            "early": self.early,
            "incident_ref": self.incident_ref,
            "first_action_at": self.first_action_at,
            "first_action_kind": self.first_action_kind,
            "first_action_by": self.first_action_by,
            "first_action_workstation": self.first_action_workstation,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class TimelineRow:
    event: Event
    exercise_time: str  # T+mm:ss on the exercise clock when it was recorded
    incident_ref: str | None
    text: str
    kind_label: str
    control: bool  # written by exercise control (an inject or the exercise's own life)
    mark: str = ""  # "INJECT 3 (T+05:00)" or "FIRST RESPONSE to inject 3 after 1:30"


@dataclass(frozen=True, slots=True)
class AfterActionTimeline:
    status: ExerciseStatus
    viewer: Agency
    responses: tuple[InjectResponse, ...]
    rows: tuple[TimelineRow, ...]
    withheld: int = 0

    @property
    def responded(self) -> list[InjectResponse]:
        return [r for r in self.responses if r.seconds is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "realm": self.status.realm,
            "scenario": self.status.scenario,
            "codeword": self.status.codeword,
            "phase": self.status.phase.value,
            "viewer": self.viewer.value,
            "withheld": self.withheld,
            "responses": [r.to_dict() for r in self.responses],
            "events": len(self.rows),
        }


def after_action_timeline(
    realm: str,
    events: Iterable[Event],
    viewer: Agency,
    reference: ReferenceData,
) -> AfterActionTimeline:
    """The multi-agency timeline as ``viewer`` may see it, injects marked against responses.

    Exercise control is whichever workstation recorded ``exercise.inject_released`` events;
    a player's first action on an inject's incident is the earliest event recorded on that
    incident by any other workstation (a log entry, an assignment, a change of grade, …).
    Response time is wall time from the incident's opening by exercise control to that action.
    """
    every = sorted(events, key=lambda e: (e.recorded_at, e.order_key))
    status = exercise_status(realm, every)
    releases = [e for e in every if e.kind == Kind.EXERCISE_INJECT_RELEASED]
    control = frozenset(e.workstation for e in releases)
    refs: dict[str, str] = {}
    opened_at: dict[str, str] = {}
    first: dict[str, Event] = {}
    teams: dict[str, str] = {}
    for event in every:
        incident = event.incident_id
        if incident is None:
            continue
        if event.kind == Kind.INCIDENT_OPENED:
            refs[incident] = str(event.payload.get("ref", ""))
            opened_at.setdefault(incident, event.recorded_at)
        if event.kind == Kind.ASSIGNMENT_MADE:
            teams[str(event.payload.get("assignment_id"))] = str(event.payload.get("team"))
        if event.workstation not in control and incident not in first:
            first[incident] = event
    responses: list[InjectResponse] = []
    response_of: dict[str, InjectResponse] = {}
    for release in releases:
        if not can_see(viewer, Visibility(release.visibility)):
            continue  # an inject about an incident this reader may not see
        p = release.payload
        incident = p.get("incident_id")
        action = first.get(incident) if incident and p["inject_kind"] == "incident" else None
        response = InjectResponse(
            inject=int(p["inject"]),
            at=str(p["at"]),
            inject_kind=str(p["inject_kind"]),
            title=str(p["title"]),
            released_at=opened_at.get(incident, release.recorded_at)
            if incident
            else release.recorded_at,
            released_seconds=float(p["exercise_seconds"]),
            early=bool(p["early"]),
            incident_ref=p.get("incident_ref"),
            first_action_at=action.recorded_at if action else None,
            first_action_kind=action.kind if action else None,
            first_action_by=action.actor if action else None,
            first_action_workstation=action.workstation if action else None,
        )
        responses.append(response)
        if action is not None:
            response_of[action.id] = response
    marks: dict[str, str] = {}
    for release in releases:
        p = release.payload
        label = f"INJECT {p['inject']} ({p['at']})" + (", released early" if p["early"] else "")
        for event_id in release.refs:
            marks[event_id] = label
        if not release.refs:
            marks[release.id] = label
    for event_id, response in response_of.items():
        marks[event_id] = (
            f"FIRST RESPONSE to inject {response.inject} after {response.response_label}"
        )
    rows: list[TimelineRow] = []
    withheld = 0
    for event in every:
        if not can_see(viewer, Visibility(event.visibility)):
            withheld += 1
            continue
        if event.kind == Kind.EXERCISE_INJECT_RELEASED and event.refs:
            continue  # its events carry the mark; a message inject's own event is shown
        rows.append(
            TimelineRow(
                event=event,
                exercise_time=status.clock_label(from_iso(event.recorded_at)),
                incident_ref=refs.get(event.incident_id or ""),
                text=describe(event, reference, teams),
                kind_label=kind_label(event.kind),
                control=event.workstation in control,
                mark=marks.get(event.id, ""),
            )
        )
    return AfterActionTimeline(status, viewer, tuple(responses), tuple(rows), withheld)
