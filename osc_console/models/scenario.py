"""Exercise scenarios: a planner's TOML file of timed injects, read with the standard library.

A scenario names its exercise (``slug`` gives the realm ``exercise:<slug>``), the codeword
shown on every screen, the exercise clock's start, its duration, and an ordered list of
``[[inject]]`` tables, each released at ``at = "T+mm:ss"`` (or ``"T+h:mm:ss"``):

- ``incident``: a new incident arrives (summary, category, grade or council_priority,
  location, source, lead_agency, visibility, classification);
- ``log``: a log entry from a partner agency on an incident an earlier inject created
  (``incident = "<that inject's id>"``, ``text``, ``agency`` or ``team``);
- ``message``: text to the players;
- ``methane``: a METHANE update on an earlier incident, stored as a log entry.

Every mistake is reported before anything starts, as one line naming the file, the line,
the inject and the field: ``thames.toml, line 14, inject 3 (at T+04:00), category: unknown
category 'XYZ'``. tomllib gives no line numbers for values, so the line reported for an
inject is the line of its ``[[inject]]`` header, found by scanning the text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Any

from osc_console.models.agencies import Agency, Classification, Visibility, can_see
from osc_console.models.clock import from_iso
from osc_console.models.errors import DomainError
from osc_console.models.incident import REALM_PATTERN, CouncilPriority, Grade, Source
from osc_console.models.reference import ReferenceData, reference_data

SCENARIO_PACKAGE = "osc_console.resources"
SCENARIO_FOLDER = "scenarios"

_TIME = re.compile(r"^T\+(?:(\d+):([0-5]\d)|(\d+):([0-5]\d):([0-5]\d))$")
_HEADER = re.compile(r"^\s*\[\[\s*inject\s*\]\]\s*(#.*)?$")
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_TEXT = 10_000


class ScenarioError(DomainError):
    """A scenario file that cannot be played; the message names the line and the field."""


class InjectKind(StrEnum):
    INCIDENT = "incident"
    LOG = "log"
    MESSAGE = "message"
    METHANE = "methane"


@dataclass(frozen=True, slots=True)
class IncidentInject:
    summary: str
    category: str
    source: str
    location: str
    lead_agency: Agency
    grade: str | None = None
    council_priority: str | None = None
    visibility: Visibility = Visibility.JOINT
    classification: Classification = Classification.OFFICIAL


@dataclass(frozen=True, slots=True)
class Methane:
    """The METHANE mnemonic, as a bronze/silver commander passes it to the control room."""

    major_incident: str
    exact_location: str
    type: str
    hazards: str
    access: str
    casualties: str
    emergency_services: str

    def lines(self) -> list[str]:
        return [
            f"M - Major incident: {self.major_incident}",
            f"E - Exact location: {self.exact_location}",
            f"T - Type of incident: {self.type}",
            f"H - Hazards: {self.hazards}",
            f"A - Access: {self.access}",
            f"N - Number of casualties: {self.casualties}",
            f"E - Emergency services: {self.emergency_services}",
        ]


@dataclass(frozen=True, slots=True)
class Inject:
    number: int  # 1-based position in the file
    line: int | None  # the line of its [[inject]] header
    at: timedelta  # exercise time from T+0
    kind: InjectKind
    id: str | None = None
    incident: IncidentInject | None = None  # kind incident
    target: str | None = None  # kind log/methane: the id of the incident inject
    text: str = ""  # log and message text
    agency: Agency | None = None  # log/methane: who it comes from
    team: str | None = None  # log/methane: the partner team, when named
    methane: Methane | None = None

    @property
    def at_label(self) -> str:
        return format_offset(self.at)

    @property
    def label(self) -> str:
        return f"inject {self.number} (at {self.at_label})"

    def log_text(self) -> str:
        """The text stored for a log or METHANE inject."""
        if self.methane is not None:
            return "\n".join(["METHANE", *self.methane.lines()])
        return self.text


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    slug: str
    codeword: str
    start: datetime  # UTC: the exercise clock's reading at T+0
    duration: timedelta
    injects: tuple[Inject, ...] = field(default_factory=tuple)
    source_name: str = "scenario"
    codeword_line: int | None = None  # for messages about the codeword found elsewhere

    @property
    def realm(self) -> str:
        return f"exercise:{self.slug}"

    def codeword_error(self, message: str) -> ScenarioError:
        """An error about the codeword, named by file, line and field like every other."""
        return _Where(self.source_name, self.codeword_line, None).error("codeword", message)

    def inject(self, inject_id: str) -> Inject:
        for inject in self.injects:
            if inject.id == inject_id:
                return inject
        raise ScenarioError(f"{self.source_name}: no inject with id {inject_id!r}")


def parse_offset(text: str) -> timedelta:
    """``T+mm:ss`` or ``T+h:mm:ss`` as a time from the start. Raises ValueError."""
    match = _TIME.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a time like T+04:30 or T+1:04:30")
    if match.group(1) is not None:
        return timedelta(minutes=int(match.group(1)), seconds=int(match.group(2)))
    hours, minutes, seconds = (int(match.group(i)) for i in (3, 4, 5))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_offset(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"T+{hours}:{minutes:02d}:{seconds:02d}"
    return f"T+{minutes:02d}:{seconds:02d}"


class _Where:
    """Builds error messages: ``file, line N, inject K (at T+..), field: message``."""

    def __init__(self, source_name: str, line: int | None, label: str | None) -> None:
        self.source_name = source_name
        self.line = line
        self.label = label

    def error(self, name: str, message: str) -> ScenarioError:
        parts = [self.source_name]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.label:
            parts.append(self.label)
        return ScenarioError(f"{', '.join(parts)}, {name}: {message}")


def _top_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if _HEADER.match(line) or line.lstrip().startswith("["):
            return None
        if pattern.match(line):
            return number
    return None


def _header_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if _HEADER.match(line)]


def _string(data: Mapping[str, Any], name: str, where: _Where, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise where.error(name, "is required")
        return ""
    if not isinstance(value, str):
        raise where.error(name, "must be text in quotes")
    if required and not value.strip():
        raise where.error(name, "must not be empty")
    if len(value) > MAX_TEXT:
        raise where.error(name, f"is {len(value)} characters; the limit is {MAX_TEXT}")
    return value.strip()


def _choice(
    data: Mapping[str, Any],
    name: str,
    enum: type[StrEnum],
    where: _Where,
) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise where.error(name, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _duration(data: Mapping[str, Any], where: _Where) -> timedelta:
    value = data.get("duration")
    if value is None:
        raise where.error("duration", "is required")
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise where.error("duration", "must be a positive number of minutes")
        return timedelta(minutes=value)
    if isinstance(value, str):
        text = value.strip()
        try:
            duration = parse_offset(text if text.startswith("T+") else f"T+{text}")
        except ValueError:
            raise where.error(
                "duration", f"{value!r} is not minutes or a time like 45:00 or 1:30:00"
            ) from None
        if duration <= timedelta(0):
            raise where.error("duration", "must be longer than nothing")
        return duration
    raise where.error("duration", 'must be minutes (45) or a time like "45:00"')


def _start(data: Mapping[str, Any], where: _Where) -> datetime:
    value = data.get("start")
    if value is None:
        raise where.error("start", "is required")
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        raise where.error("start", "must be an ISO date and time, e.g. 2026-11-24T10:00:00")
    try:
        return from_iso(text)
    except ValueError:
        raise where.error(
            "start", f"{text!r} is not an ISO date and time, e.g. 2026-11-24T10:00:00"
        ) from None


def _partner(
    data: Mapping[str, Any], where: _Where, ref: ReferenceData
) -> tuple[Agency | None, str | None]:
    team = data.get("team")
    agency_text = _choice(data, "agency", Agency, where)
    agency = Agency(agency_text) if agency_text is not None else None
    if team is None:
        return agency, None
    known = ref.team(team) if isinstance(team, str) else None
    if known is None:
        raise where.error("team", f"unknown team {team!r}")
    if agency is not None and agency is not known.agency:
        raise where.error("team", f"{team} belongs to {known.agency.value}, not {agency.value}")
    return known.agency, known.code


def _incident(data: Mapping[str, Any], where: _Where, ref: ReferenceData) -> IncidentInject:
    summary = _string(data, "summary", where)
    category = _string(data, "category", where)
    known = ref.categories.get(category)
    if known is None:
        raise where.error("category", f"unknown category {category!r}")
    if not known.opening:
        raise where.error("category", f"{category!r} is a closing category")
    grade = _choice(data, "grade", Grade, where)
    priority = _choice(data, "council_priority", CouncilPriority, where)
    if grade is None and priority is None:
        raise where.error("grade", "give a police grade or a council_priority")
    location = _string(data, "location", where)
    source = _choice(data, "source", Source, where)
    if source is None:
        raise where.error("source", "is required")
    lead = _choice(data, "lead_agency", Agency, where)
    if lead is None:
        raise where.error("lead_agency", "is required")
    visibility = _choice(data, "visibility", Visibility, where) or Visibility.JOINT.value
    classification = (
        _choice(data, "classification", Classification, where) or Classification.OFFICIAL.value
    )
    return IncidentInject(
        summary=summary,
        category=category,
        source=str(source),
        location=location,
        lead_agency=Agency(lead),
        grade=grade,
        council_priority=priority,
        visibility=Visibility(visibility),
        classification=Classification(classification),
    )


def _methane(data: Mapping[str, Any], where: _Where) -> Methane:
    declared = data.get("major_incident")
    if declared is None:
        raise where.error("major_incident", "is required (true, false or text)")
    if isinstance(declared, bool):
        major = "DECLARED" if declared else "not declared"
    elif isinstance(declared, str) and declared.strip():
        major = declared.strip()
    else:
        raise where.error("major_incident", "must be true, false or text")
    casualties = data.get("casualties")
    if casualties is None:
        raise where.error("casualties", "is required")
    if isinstance(casualties, bool) or not isinstance(casualties, int | str):
        raise where.error("casualties", "must be a number or text")
    if isinstance(casualties, int) and casualties < 0:
        raise where.error("casualties", "must not be negative")
    return Methane(
        major_incident=major,
        exact_location=_string(data, "exact_location", where),
        type=_string(data, "type", where),
        hazards=_string(data, "hazards", where),
        access=_string(data, "access", where),
        casualties=str(casualties).strip(),
        emergency_services=_string(data, "emergency_services", where),
    )


_KNOWN_FIELDS: dict[InjectKind, frozenset[str]] = {
    InjectKind.INCIDENT: frozenset(
        {
            "summary",
            "category",
            "grade",
            "council_priority",
            "location",
            "source",
            "lead_agency",
            "visibility",
            "classification",
        }
    ),
    InjectKind.LOG: frozenset({"incident", "text", "agency", "team"}),
    InjectKind.MESSAGE: frozenset({"text"}),
    InjectKind.METHANE: frozenset(
        {
            "incident",
            "agency",
            "team",
            "major_incident",
            "exact_location",
            "type",
            "hazards",
            "access",
            "casualties",
            "emergency_services",
        }
    ),
}


def parse_scenario(
    text: str, source_name: str = "scenario", *, reference: ReferenceData | None = None
) -> Scenario:
    """Read and check a whole scenario. Raises ScenarioError naming the line and the field."""
    ref = reference or reference_data()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_WHERE.search(message)
        if found:
            detail = message[: found.start()]
            raise ScenarioError(
                f"{source_name}, line {found.group(1)}, column {found.group(2)}: "
                f"syntax error: {detail}"
            ) from None
        raise ScenarioError(f"{source_name}: syntax error: {message}") from None

    def top(key: str) -> _Where:
        return _Where(source_name, _top_line(text, key), None)

    name = _string(data, "name", top("name"))
    slug = _string(data, "slug", top("slug"))
    if not REALM_PATTERN.match(f"exercise:{slug}"):
        raise top("slug").error(
            "slug", f"{slug!r} must be lower-case letters, digits and hyphens (up to 40)"
        )
    codeword = _string(data, "codeword", top("codeword"))
    start = _start(data, top("start"))
    duration = _duration(data, top("duration"))

    raw = data.get("inject")
    if raw is None:
        raise top("inject").error("inject", "the scenario has no [[inject]] tables")
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise top("inject").error("inject", "must be [[inject]] tables")
    headers = _header_lines(text)
    lines: list[int | None] = list(headers) if len(headers) == len(raw) else [None] * len(raw)

    injects: list[Inject] = []
    kinds_by_id: dict[str, Inject] = {}
    previous = timedelta(0)
    for index, item in enumerate(raw):
        number = index + 1
        line = lines[index]
        at_text = item.get("at")
        where = _Where(source_name, line, f"inject {number}")
        if at_text is None:
            raise where.error("at", 'is required (e.g. at = "T+04:00")')
        try:
            at = parse_offset(at_text)
        except ValueError as exc:
            raise where.error("at", str(exc)) from None
        where = _Where(source_name, line, f"inject {number} (at {format_offset(at)})")
        if at < previous:
            raise where.error(
                "at",
                f"{format_offset(at)} is before the previous inject's {format_offset(previous)}",
            )
        if at > duration:
            raise where.error(
                "at",
                f"{format_offset(at)} is after the end of the exercise ({format_offset(duration)})",
            )
        previous = at
        kind_text = item.get("kind")
        if kind_text is None:
            raise where.error("kind", "is required: incident, log, message or methane")
        try:
            kind = InjectKind(kind_text)
        except ValueError:
            raise where.error(
                "kind", f"{kind_text!r} is not one of incident, log, message, methane"
            ) from None
        unknown = sorted(set(item) - _KNOWN_FIELDS[kind] - {"at", "kind", "id"})
        if unknown:
            raise where.error(unknown[0], f"is not a field of a {kind.value} inject")
        inject_id = item.get("id")
        if inject_id is not None:
            if not isinstance(inject_id, str) or not _ID.match(inject_id):
                raise where.error("id", "must be a short name of letters, digits, - or _")
            if inject_id in kinds_by_id:
                first = kinds_by_id[inject_id]
                raise where.error(
                    "id", f"duplicate id {inject_id!r} (already used by {first.label})"
                )

        built: Inject
        if kind is InjectKind.INCIDENT:
            built = Inject(number, line, at, kind, inject_id, incident=_incident(item, where, ref))
        elif kind is InjectKind.MESSAGE:
            built = Inject(number, line, at, kind, inject_id, text=_string(item, "text", where))
        else:
            target = _string(item, "incident", where)
            opened = kinds_by_id.get(target)
            if opened is None:
                raise where.error(
                    "incident", f"unknown inject id {target!r} (give the id of an earlier inject)"
                )
            if opened.incident is None:
                raise where.error(
                    "incident", f"inject {target!r} is a {opened.kind.value}, not an incident"
                )
            agency, team = _partner(item, where, ref)
            visibility = opened.incident.visibility
            if agency is not None and not can_see(agency, visibility):
                raise where.error(
                    "agency",
                    f"{agency.value} cannot write to {target!r}, which is {visibility.value}-only",
                )
            if kind is InjectKind.LOG:
                built = Inject(
                    number,
                    line,
                    at,
                    kind,
                    inject_id,
                    target=target,
                    text=_string(item, "text", where),
                    agency=agency,
                    team=team,
                )
            else:
                built = Inject(
                    number,
                    line,
                    at,
                    kind,
                    inject_id,
                    target=target,
                    agency=agency,
                    team=team,
                    methane=_methane(item, where),
                )
        if inject_id is not None:
            kinds_by_id[inject_id] = built
        injects.append(built)

    return Scenario(
        name=name,
        slug=slug,
        codeword=codeword,
        start=start,
        duration=duration,
        injects=tuple(injects),
        source_name=source_name,
        codeword_line=_top_line(text, "codeword"),
    )


def shipped_scenarios() -> list[str]:
    """Names of the scenarios that ship with the console (``city-flood``, …)."""
    folder = resources.files(SCENARIO_PACKAGE).joinpath(SCENARIO_FOLDER)
    if not folder.is_dir():
        return []
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def shipped_scenario_text(name: str) -> str:
    if name not in shipped_scenarios():
        raise ScenarioError(f"no shipped scenario named {name!r}")
    folder = resources.files(SCENARIO_PACKAGE).joinpath(SCENARIO_FOLDER)
    return folder.joinpath(f"{name}.toml").read_text(encoding="utf-8")


def load_shipped(name: str) -> Scenario:
    return parse_scenario(shipped_scenario_text(name), f"{name}.toml")
