"""Shift patterns and their windows: local-time rosters turned into exact UTC intervals.

A shift is named by the London date it *starts* on and its pattern name: the night shift of
Saturday 24 October 2026 starts at 23:00 BST that Saturday and ends at 07:00 GMT on the
Sunday, so it lasts 9 hours; the night shift of Saturday 28 March 2026 lasts 7. Windows are
half-open, ``start_utc <= t < end_utc``, so consecutive shifts never share an instant.

Patterns come from ``shifts.toml`` in the configuration folder when one exists (see
:func:`load_patterns`; functions given no patterns use the defaults)::

    [[shift]]
    name = "early"
    start = "07:00"
    end = "15:00"

and otherwise from :data:`DEFAULT_PATTERNS`. Names are lower case, a letter first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from osc_console.models.clock import LONDON
from osc_console.models.errors import ValidationError
from osc_console.models.settings_file import read_settings

SHIFTS_FILE = "shifts.toml"
SHIFT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    """A named shift in London local time; ``end <= start`` means it ends the next day."""

    name: str
    start: time
    end: time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def label(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"


DEFAULT_PATTERNS: tuple[ShiftPattern, ...] = (
    ShiftPattern("early", time(7), time(15)),
    ShiftPattern("late", time(15), time(23)),
    ShiftPattern("night", time(23), time(7)),
)


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    """One worked shift: its pattern name, the London date it starts on, and its UTC bounds."""

    name: str
    day: date
    start_utc: datetime
    end_utc: datetime

    @property
    def duration(self) -> timedelta:
        return self.end_utc - self.start_utc

    @property
    def start_local(self) -> datetime:
        return self.start_utc.astimezone(LONDON)

    @property
    def end_local(self) -> datetime:
        return self.end_utc.astimezone(LONDON)

    def contains(self, moment: datetime) -> bool:
        return self.start_utc <= moment < self.end_utc

    @property
    def title(self) -> str:
        """'the late shift of 2026-11-22', as messages name it."""
        return f"the {self.name} shift of {self.day.isoformat()}"

    @property
    def local_label(self) -> str:
        """'Sat 24 Oct 2026 23:00 BST – Sun 25 Oct 2026 07:00 GMT' (zone on both ends)."""
        start, end = self.start_local, self.end_local
        return (
            f"{start:%a %d %b %Y %H:%M} {start.tzname()} – {end:%a %d %b %Y %H:%M} {end.tzname()}"
        )


def _local(day: date, at: time) -> datetime:
    """London wall time to UTC. A time in the spring gap or the autumn repeat is resolved
    by ``fold=0`` (the earlier reading), which never happens for whole-hour patterns
    outside 01:00–02:00; patterns in that hour still get a definite instant."""
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def parse_shift_name(text: str, patterns: Sequence[ShiftPattern] | None = None) -> ShiftPattern:
    """The pattern a typed name means (any case, spaces ignored), or a clear ValidationError:
    "unknown shift 'brunch' (early, late, night)"."""
    known = tuple(patterns or DEFAULT_PATTERNS)
    wanted = text.strip().lower()
    for pattern in known:
        if pattern.name == wanted:
            return pattern
    names = ", ".join(p.name for p in known)
    raise ValidationError("shift", f"unknown shift {text.strip()!r} ({names})")


def parse_shift_date(text: str) -> date:
    """A 'YYYY-MM-DD' date, or a ValidationError saying what was expected."""
    clean = text.strip()
    try:
        if not _ISO_DATE.match(clean):
            raise ValueError
        return date.fromisoformat(clean)
    except ValueError:
        raise ValidationError("date", f"{text.strip()!r} is not a date like 2026-11-22") from None


def shift_window(
    day: date, name: str, patterns: Sequence[ShiftPattern] | None = None
) -> ShiftWindow:
    """The UTC window of shift ``name`` starting on London date ``day``."""
    pattern = parse_shift_name(name, patterns)
    end_day = day + timedelta(days=1) if pattern.crosses_midnight else day
    return ShiftWindow(pattern.name, day, _local(day, pattern.start), _local(end_day, pattern.end))


def current_shift(now: datetime, patterns: Sequence[ShiftPattern] | None = None) -> ShiftWindow:
    """The shift under way at ``now`` (an aware datetime). A pattern set with a gap in the
    day gives the next shift to start instead, so a manager always has one to look at."""
    if now.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a time zone")
    known = tuple(patterns or DEFAULT_PATTERNS)
    moment = now.astimezone(UTC)
    today = moment.astimezone(LONDON).date()
    candidates = [
        shift_window(today + timedelta(days=offset), p.name, known)
        for offset in (-1, 0, 1)
        for p in known
    ]
    for window in candidates:
        if window.contains(moment):
            return window
    return min((w for w in candidates if w.start_utc > moment), key=lambda w: w.start_utc)


def previous_shift(
    window: ShiftWindow, patterns: Sequence[ShiftPattern] | None = None
) -> ShiftWindow:
    """The shift that ended when ``window`` began (or the latest to end before it)."""
    return current_shift(window.start_utc - timedelta(milliseconds=1), patterns)


# ---- configuration -------------------------------------------------------------------------


def load_patterns(config_dir: Path) -> tuple[ShiftPattern, ...]:
    """The patterns of ``config_dir/shifts.toml``, else :data:`DEFAULT_PATTERNS`.

    The caller passes the folder (``osc_console.paths.config_dir()``; the domain does not
    look up paths itself). A file that exists but is wrong raises a ValidationError naming
    the file and the fault rather than falling back: a wrong roster would mislabel reports.
    """
    path = config_dir / SHIFTS_FILE
    data = read_settings(path, "shifts")
    return DEFAULT_PATTERNS if data is None else parse_patterns(data, str(path))


def parse_patterns(data: object, source: str = SHIFTS_FILE) -> tuple[ShiftPattern, ...]:
    """Patterns from a parsed ``shifts.toml``: ``[[shift]]`` tables of name, start, end."""
    shifts = data.get("shift") if isinstance(data, dict) else None
    if not isinstance(shifts, list) or not shifts:
        raise ValidationError(
            "shifts", f"{source}: give at least one [[shift]] with name, start, end"
        )
    patterns: list[ShiftPattern] = []
    for number, item in enumerate(shifts, start=1):
        where = f"{source}: shift {number}"
        if not isinstance(item, dict):
            raise ValidationError("shifts", f"{where} must be a table with name, start, end")
        name = item.get("name")
        if not isinstance(name, str) or not SHIFT_NAME.match(name):
            raise ValidationError(
                "shifts", f"{where}: name must be lower-case letters, digits, - or _ (got {name!r})"
            )
        if any(p.name == name for p in patterns):
            raise ValidationError("shifts", f"{where}: the name {name!r} is used twice")
        bounds = [_clock_time(item.get(key), f"{where}: {key}") for key in ("start", "end")]
        if bounds[0] == bounds[1]:
            raise ValidationError("shifts", f"{where}: start and end are the same time")
        patterns.append(ShiftPattern(name, bounds[0], bounds[1]))
    return tuple(patterns)


def _clock_time(value: object, where: str) -> time:
    if isinstance(value, time) and value.second == 0 and value.tzinfo is None:
        return value  # TOML local time (start = 07:00)
    if isinstance(value, str) and (match := _CLOCK_TIME.match(value.strip())):
        return time(int(match.group(1)), int(match.group(2)))
    raise ValidationError("shifts", f'{where} must be a time like "07:00" (got {value!r})')
