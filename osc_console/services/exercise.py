"""Playing an exercise scenario: injects released on the exercise clock, and the after-action.

The exercise clock reads T = (wall time elapsed while running) x speed from the start, so a
planner can pause, resume and speed the exercise up. Injects are written by exercise control
(workstation ``EXCON`` unless told otherwise) through :class:`IncidentService`, into the
exercise's own store only: a run refuses any store whose realm is not ``exercise:<slug>``,
so an exercise event can never reach live data.

The exercise's own life is recorded as events too, so every player's console sees it arrive
through its store (and, with a server, through sync): ``exercise.started`` (scenario, codeword,
clock), ``exercise.paused`` / ``resumed`` / ``speed_changed``, ``exercise.message`` (a message
to the players), ``exercise.inject_released`` (which inject, when, what it wrote: the
after-action's marks) and ``exercise.stopped``, after which the store accepts nothing more.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.clock import from_iso, now_utc, to_iso
from osc_console.models.errors import DomainError
from osc_console.models.events import Author, Event, EventDraft
from osc_console.models.exercise_log import (
    AfterActionTimeline,
    ExerciseStatus,
    Phase,
    after_action_timeline,
    exercise_status,
)
from osc_console.models.incident import REALM_PATTERN
from osc_console.models.payloads import Kind
from osc_console.models.scenario import Inject, InjectKind, Scenario
from osc_console.paths import store_path
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.store.exercise_queries import exercise_events

CONTROL_WORKSTATION = "EXCON"
CONTROL_ACTOR = "Exercise control"


class ExerciseError(DomainError):
    """An exercise request refused: wrong realm, stopped exercise, inject not releasable."""


class RunState(StrEnum):
    READY = "ready"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Released:
    """One inject as released: when (exercise and wall time) and what it wrote."""

    inject: Inject
    exercise_time: timedelta
    wall_time: datetime
    events: tuple[Event, ...] = ()
    incident_ref: str | None = None
    early: bool = False

    def line(self) -> str:
        inject = self.inject
        head = f"{inject.at_label:>10}  {inject.kind.value:<8}"
        if inject.kind is InjectKind.INCIDENT and inject.incident is not None:
            return f"{head} opened {self.incident_ref}: {inject.incident.summary}"
        if inject.kind is InjectKind.MESSAGE:
            return f"{head} to the players: {inject.text}"
        who = inject.team or (inject.agency.value if inject.agency else "control")
        first = inject.log_text().splitlines()[0]
        return f"{head} on {self.incident_ref} from {who}: {first}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "inject": self.inject.number,
            "id": self.inject.id,
            "at": self.inject.at_label,
            "kind": self.inject.kind.value,
            "released_at": to_iso(self.wall_time),
            "exercise_seconds": self.exercise_time.total_seconds(),
            "early": self.early,
            "incident_ref": self.incident_ref,
            "events": [e.id for e in self.events],
            "text": self.inject.text if self.inject.kind is InjectKind.MESSAGE else None,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    scenario: str
    realm: str
    codeword: str
    state: RunState
    released: int
    pending: int
    events: int
    incidents: tuple[str, ...]
    stop_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "realm": self.realm,
            "codeword": self.codeword,
            "state": self.state.value,
            "released": self.released,
            "pending": self.pending,
            "events": self.events,
            "incidents": list(self.incidents),
            "stop_reason": self.stop_reason,
        }


def check_exercise_store(store: Store, scenario: Scenario) -> None:
    """Refuse any store that is not this exercise's own: live data is never written."""
    if store.realm == "live":
        raise ExerciseError(
            f"exercise {scenario.slug!r} refused: {store.path} is the live store, and an "
            "exercise can never write live data"
        )
    if store.realm != scenario.realm:
        raise ExerciseError(
            f"exercise {scenario.slug!r} refused: {store.path} holds {store.realm}, "
            f"not {scenario.realm}"
        )


class ExerciseRun:
    """One playing of a scenario against its exercise store."""

    def __init__(
        self,
        store: Store,
        scenario: Scenario,
        author: Author,
        *,
        clock: Callable[[], datetime] = now_utc,
        speed: float = 1.0,
    ) -> None:
        check_exercise_store(store, scenario)
        self.store = store
        self.scenario = scenario
        self.author = replace(author, realm=scenario.realm)
        self._clock = clock
        self._speed = _positive(speed)
        self._base = timedelta(0)  # exercise time accumulated before the current anchor
        self._anchor: datetime | None = None  # wall time the clock last (re)started
        self.state = RunState.READY
        self.stop_reason: str | None = None
        self.released: dict[int, Released] = {}  # by inject number
        self._incidents: dict[str, str] = {}  # incident inject id -> incident id
        # The exercise's own events this run wrote, in order (a caller's "what changed").
        self.written: list[Event] = []

    # ---- the exercise clock ----------------------------------------------------------------
    @property
    def speed(self) -> float:
        return self._speed

    @property
    def clock_running(self) -> bool:
        return self._anchor is not None

    def elapsed(self, now: datetime | None = None) -> timedelta:
        """Exercise time T since the start."""
        if self._anchor is None:
            return self._base
        wall = (now or self._clock()) - self._anchor
        return self._base + wall * self._speed

    def exercise_now(self, now: datetime | None = None) -> datetime:
        """The exercise clock as players see it: the scenario's start plus T."""
        return self.scenario.start + self.elapsed(now)

    @classmethod
    def take_over(
        cls,
        store: Store,
        scenario: Scenario,
        author: Author,
        *,
        clock: Callable[[], datetime] = now_utc,
    ) -> ExerciseRun:
        """Exercise control again, after its console restarted in the middle of an exercise.

        The run is rebuilt from the store's events as the players see it: the clock's reading
        and speed, running or paused, and which injects are out (and the incidents they
        opened), so the rest are released on time and none twice. A run not yet started is
        simply ready; an ended exercise, or one started from another scenario, is refused.
        """
        run = cls(store, scenario, author, clock=clock)
        events = exercise_events(store.conn)
        status = exercise_status(scenario.realm, events)
        if status.phase is Phase.NOT_STARTED:
            return run
        if status.phase is Phase.ENDED:
            raise _has_ended(scenario.slug, status.ended_reason)
        if status.scenario != scenario.name or status.injects_total != len(scenario.injects):
            raise ExerciseError(
                f"exercise {scenario.slug} was started from another scenario "
                f"({status.scenario!r}, {status.injects_total} injects), not {scenario.name!r}"
            )
        now = clock()
        run._speed = status.speed
        run._base = timedelta(seconds=status.seconds_at(now))
        run._anchor = now if status.phase is Phase.RUNNING else None
        run.state = RunState.RUNNING if status.phase is Phase.RUNNING else RunState.PAUSED
        for event in events:
            if event.kind != Kind.EXERCISE_INJECT_RELEASED:
                continue
            p = event.payload
            number = int(p["inject"])
            if not 1 <= number <= len(scenario.injects):
                raise ExerciseError(
                    f"the store names inject {number}, which {scenario.name!r} lacks"
                )
            inject = scenario.injects[number - 1]
            written = tuple(e for e in (store.event(i) for i in event.refs) if e is not None)
            run.released[number] = Released(
                inject,
                timedelta(seconds=float(p["exercise_seconds"])),
                from_iso(event.recorded_at),
                written,
                p.get("incident_ref"),
                bool(p["early"]),
            )
            if inject.id is not None and p.get("incident_id"):
                run._incidents[inject.id] = str(p["incident_id"])
        if not run.pending():
            run.state = RunState.FINISHED
        return run

    def start(self) -> None:
        """Start the clock and tell every player (``exercise.started``).

        Refused when this store's exercise has already been started or has ended: injects
        would be released twice, and an ended exercise stays ended (start a new slug).
        """
        if self.state is not RunState.READY:
            raise ExerciseError(f"the exercise has already been started ({self.state.value})")
        held = status_of(self.store)
        if held.phase is Phase.ENDED:
            raise _has_ended(self.scenario.slug, held.ended_reason)
        if held.phase is not Phase.NOT_STARTED:
            raise ExerciseError(
                f"exercise {self.scenario.slug} was already started in {self.store.path}; "
                "its injects would be released twice"
            )
        self._anchor = self._clock()
        self._record(
            Kind.EXERCISE_STARTED,
            reading=self._base,
            scenario=self.scenario.name,
            codeword=self.scenario.codeword,
            start=to_iso(self.scenario.start),
            duration_seconds=self.scenario.duration.total_seconds(),
            injects=len(self.scenario.injects),
        )
        self.state = RunState.RUNNING

    def pause(self) -> None:
        self._require(RunState.RUNNING, "pause")
        self._base = self.elapsed()
        self._anchor = None
        self._record(Kind.EXERCISE_PAUSED, reading=self._base)
        self.state = RunState.PAUSED

    def resume(self) -> None:
        self._require(RunState.PAUSED, "resume")
        self._anchor = self._clock()
        self._record(Kind.EXERCISE_RESUMED, reading=self._base)
        self.state = RunState.RUNNING

    def set_speed(self, speed: float) -> None:
        new = _positive(speed)
        if new == self._speed:
            return
        before = (self._base, self._anchor, self._speed)
        if self._anchor is not None:
            now = self._clock()
            self._base = self.elapsed(now)
            self._anchor = now
        self._speed = new
        if self.state in (RunState.RUNNING, RunState.PAUSED):
            try:
                self._record(Kind.EXERCISE_SPEED_CHANGED, reading=self._base)
            except BaseException:
                self._base, self._anchor, self._speed = before
                raise

    def stop(self, reason: str, *, emergency: bool = False) -> RunSummary:
        """End the exercise at once for every player (``exercise.stopped``): nothing more is
        released, and their stores accept nothing more. ``emergency``: stopped for a real
        incident, which every console says in so many words."""
        if self.state is RunState.STOPPED:
            return self.summary()
        why = reason.strip() or ("real emergency" if emergency else "stopped")
        self._base = self.elapsed()
        self._anchor = None
        if self.state is not RunState.READY and self.store.exercise_ended() is None:
            self._record(Kind.EXERCISE_STOPPED, reading=self._base, reason=why, emergency=emergency)
        self.state = RunState.STOPPED
        self.stop_reason = why
        return self.summary()

    def send_message(self, text: str) -> Event:
        """A message from exercise control to every player, kept in the exercise's log."""
        if self.state not in (RunState.RUNNING, RunState.PAUSED, RunState.FINISHED):
            raise ExerciseError(f"cannot send a message: the exercise is {self.state.value}")
        if not text.strip():
            raise ExerciseError("the message is empty")
        return self._record(Kind.EXERCISE_MESSAGE, text=text.strip(), inject=None)

    def _record(
        self,
        kind: Kind,
        *,
        reading: timedelta | None = None,
        refs: tuple[str, ...] = (),
        visibility: Visibility = Visibility.JOINT,
        **payload: Any,
    ) -> Event:
        """Append one of the exercise's own events, stamped with the clock's ``reading``
        (by default: now). Lifecycle steps pass the reading they fixed, because at a high
        speed even the microseconds between two clock reads are whole exercise seconds."""
        if reading is None:
            reading = self.elapsed()
        draft = EventDraft(
            kind,
            {
                **payload,
                "exercise_seconds": round(reading.total_seconds(), 3),
                "speed": self._speed,
            },
            refs=refs,
            visibility=visibility,
        )
        event, _ = self.store.append(draft, self._author_for(visibility))
        self.written.append(event)
        return event

    # ---- injects ---------------------------------------------------------------------------
    def pending(self) -> list[Inject]:
        return [i for i in self.scenario.injects if i.number not in self.released]

    def due(self, now: datetime | None = None) -> list[Inject]:
        """Injects whose time has come and that have not been released, in file order."""
        if self.state is not RunState.RUNNING:
            return []
        elapsed = self.elapsed(now)
        return [i for i in self.pending() if i.at <= elapsed]

    def release_early(self, inject_id: str) -> Released:
        return self.release(self.scenario.inject(inject_id), early=True)

    def release(self, inject: Inject, *, early: bool = False) -> Released:
        """Write one inject into the exercise store through the incident service."""
        if self.state in (RunState.STOPPED, RunState.FINISHED, RunState.READY):
            raise ExerciseError(f"{inject.label}: the exercise is {self.state.value}")
        if inject.number in self.released:
            raise ExerciseError(f"{inject.label}: already released")
        if inject not in self.scenario.injects:
            raise ExerciseError(f"{inject.label}: not an inject of {self.scenario.name!r}")
        ended = self.store.exercise_ended()
        if ended is not None:  # stopped from another console: this run ends too
            self.state = RunState.STOPPED
            self.stop_reason = str(ended.payload.get("reason", "stopped"))
            raise ExerciseError(f"{inject.label}: the exercise has ended ({self.stop_reason})")
        wall = self._clock()
        elapsed = self.elapsed(wall)
        events: tuple[Event, ...] = ()
        ref: str | None = None
        # The release mark is seen by whoever may see the incident: an inject about a
        # police-only incident does not tell Corporation players what it was.
        visibility = Visibility.JOINT
        if inject.kind is InjectKind.INCIDENT and inject.incident is not None:
            spec = inject.incident
            visibility = spec.visibility
            service = IncidentService(self.store, self._author_for(spec.visibility))
            outcome = service.open_incident(
                NewIncident(
                    summary=spec.summary,
                    category=spec.category,
                    source=spec.source,
                    location=Location(spec.location),
                    lead_agency=spec.lead_agency,
                    grade=spec.grade,
                    council_priority=spec.council_priority,
                    visibility=spec.visibility,
                    classification=spec.classification,
                )
            )
            events, ref = outcome.events, outcome.incident.ref
            if inject.id is not None:
                self._incidents[inject.id] = outcome.incident.id
        elif inject.kind in (InjectKind.LOG, InjectKind.METHANE) and inject.target is not None:
            incident_id = self._incidents.get(inject.target)
            if incident_id is None:
                raise ExerciseError(
                    f"{inject.label}: release inject {inject.target!r} first "
                    "(its incident does not exist yet)"
                )
            state = self.store.incident(incident_id)
            visibility = Visibility(state.visibility) if state else Visibility.JOINT
            author = self._author_for(visibility, inject.agency, inject.team)
            on_behalf_of = self._partner_name(inject)
            outcome = IncidentService(self.store, author).add_log(
                incident_id, inject.log_text(), on_behalf_of=on_behalf_of
            )
            events, ref = outcome.events, outcome.incident.ref
        elif inject.kind is InjectKind.MESSAGE:
            events = (
                self._record(
                    Kind.EXERCISE_MESSAGE, reading=elapsed, text=inject.text, inject=inject.number
                ),
            )
        incident_id = next((e.incident_id for e in events if e.incident_id), None)
        self._record(
            Kind.EXERCISE_INJECT_RELEASED,
            reading=elapsed,
            visibility=visibility,
            refs=tuple(e.id for e in events),
            inject=inject.number,
            at=inject.at_label,
            inject_kind=inject.kind.value,
            title=_title(inject),
            early=early,
            incident_id=incident_id,
            incident_ref=ref,
        )
        released = Released(inject, elapsed, wall, events, ref, early)
        self.released[inject.number] = released
        if not self.pending():
            # Every inject is out; the exercise clock runs on (as every player's does) until
            # exercise control ends the exercise.
            self.state = RunState.FINISHED
        return released

    def run_headless(
        self,
        speed: float | None = None,
        sleep: Callable[[float], None] | None = None,
        on_release: Callable[[Released], None] | None = None,
    ) -> RunSummary:
        """Play every inject at its time to the end (command line and tests)."""
        nap = sleep or time.sleep
        if speed is not None:
            self.set_speed(speed)
        if self.state is RunState.READY:
            self.start()
        while self.state is RunState.RUNNING and self.pending():
            due = self.due()
            if not due:
                wait = (self.pending()[0].at - self.elapsed()) / self._speed
                nap(max(wait.total_seconds(), 1e-6))  # always move the clock on
                continue
            for inject in due:
                released = self.release(inject)
                if on_release is not None:
                    on_release(released)
        return self.summary()

    def summary(self) -> RunSummary:
        events = sum(len(r.events) for r in self.released.values())
        refs = tuple(
            r.incident_ref
            for r in self.released.values()
            if r.inject.kind is InjectKind.INCIDENT and r.incident_ref
        )
        return RunSummary(
            scenario=self.scenario.name,
            realm=self.scenario.realm,
            codeword=self.scenario.codeword,
            state=self.state,
            released=len(self.released),
            pending=len(self.pending()),
            events=events,
            incidents=refs,
            stop_reason=self.stop_reason,
        )

    # ---- helpers ---------------------------------------------------------------------------
    def _require(self, state: RunState, action: str) -> None:
        if self.state is not state:
            raise ExerciseError(f"cannot {action}: the exercise is {self.state.value}")

    def _author_for(
        self, visibility: Visibility, agency: Agency | None = None, team: str | None = None
    ) -> Author:
        """Exercise control writes as itself, always: every entry is signed by the planner who
        runs it, in their own organisation's name. The partner agency an inject speaks for
        is said in the entry (``on_behalf_of``), never by borrowing another's name; an inject
        restricted to one organisation needs a planner of that organisation."""
        if not can_see(Agency(self.author.agency), visibility):
            raise ExerciseError(
                f"this inject is {visibility.value}-only: exercise control must be run by a "
                f"{visibility.value} planner to release it"
            )
        return self.author

    def _partner_name(self, inject: Inject) -> str | None:
        if inject.agency is None:
            return None
        return self._partner_name_of(inject.agency, inject.team)

    def _partner_name_of(self, agency: Agency, team: str | None) -> str:
        known = self.store.reference.team(team) if team else None
        return known.name if known else agency.label


def _title(inject: Inject) -> str:
    """One line naming an inject, for the after-action's marks."""
    if inject.incident is not None:
        text = inject.incident.summary
    elif inject.methane is not None:
        text = f"METHANE update: {inject.methane.major_incident}"
    else:
        text = inject.text.splitlines()[0] if inject.text else inject.kind.value
    return text if len(text) <= 200 else text[:199] + "…"


def _positive(speed: float) -> float:
    value = float(speed)
    if not value > 0:
        raise ExerciseError(f"speed must be more than 0, not {speed}")
    return value


# ---- what every console reads ---------------------------------------------------------------


def _has_ended(slug: str, reason: str | None) -> ExerciseError:
    return ExerciseError(
        f"exercise {slug} has ended ({reason}); play the scenario again under a new slug"
    )


def status_of(store: Store) -> ExerciseStatus:
    """The exercise held in ``store`` as every player sees it (live: never an exercise)."""
    if not store.realm.startswith("exercise:"):
        raise ExerciseError(f"{store.path} is the {store.realm} store, not an exercise's")
    return exercise_status(store.realm, exercise_events(store.conn))


def codeword_of(store: Store) -> str | None:
    """The codeword to stamp on every exported page, or None for live records."""
    if not store.realm.startswith("exercise:"):
        return None
    return status_of(store).codeword


def after_action_of(store: Store, viewer: Agency) -> AfterActionTimeline:
    """The after-action timeline of the exercise in ``store``, as ``viewer`` may see it.

    Built from the events alone (no scenario file needed): the inject marks are the
    ``exercise.inject_released`` events. A live store is refused: there is no exercise in it.
    """
    if not store.realm.startswith("exercise:"):
        raise ExerciseError(
            f"{store.path} is the {store.realm} store: an after-action report is only ever "
            "made from an exercise's own store"
        )
    return after_action_timeline(store.realm, store.iter_events(), viewer, store.reference)


def exercise_store_path(directory: Path, realm: str | None) -> tuple[Path, str]:
    """The store file of an exercise that exists here, or an ExerciseError saying why not
    (no realm, the live realm, or no such exercise: an empty store is never created)."""
    if not realm or not realm.startswith("exercise:") or not REALM_PATTERN.match(realm):
        raise ExerciseError(
            f"--realm must name an exercise (exercise:<slug>), not {realm or 'nothing'}: "
            "an after-action report is only ever made from an exercise's own store"
        )
    path = store_path(directory, realm)
    if not path.exists():
        raise ExerciseError(f"no store for {realm} in {directory} (looked for {path.name})")
    return path, realm


def check_codeword_free(directory: Path, scenario: Scenario) -> None:
    """Refuse, before anything starts, a codeword that another exercise held in this data
    folder is still using: two exercises under one codeword cannot be told apart on a
    screen or on paper. (An ended exercise's codeword may be used again.)"""
    wanted = " ".join(scenario.codeword.split()).casefold()
    for info in list_exercises(directory):
        status = info.status
        if info.realm == scenario.realm or status is None:
            continue
        if status.phase in (Phase.NOT_STARTED, Phase.ENDED):
            continue
        if " ".join(status.codeword.split()).casefold() == wanted:
            raise scenario.codeword_error(
                f"{scenario.codeword!r} is already the codeword of {info.realm}, which is "
                f"{status.phase.value}; give this exercise another"
            )


@dataclass(frozen=True, slots=True)
class ExerciseInfo:
    """An exercise store found in the data folder, for File → Join exercise…"""

    realm: str
    path: str
    status: ExerciseStatus | None
    problem: str | None = None


def list_exercises(directory: Path) -> list[ExerciseInfo]:
    """Every ``exercise-<slug>.db`` in the data folder with its status; a file that cannot
    be read is listed with the reason, so the planner sees why it cannot be joined."""
    found: list[ExerciseInfo] = []
    for path in sorted(directory.glob("exercise-*.db")):
        realm = f"exercise:{path.stem.removeprefix('exercise-')}"
        try:
            with Store.open(path, realm) as store:
                found.append(ExerciseInfo(realm, str(path), status_of(store)))
        except (DomainError, StoreError, sqlite3.Error) as exc:
            found.append(ExerciseInfo(realm, str(path), None, str(exc)))
    return found
