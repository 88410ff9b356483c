"""Shift windows: local-time rosters as exact UTC intervals, across both 2026 clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from osc_console.models.errors import ValidationError
from osc_console.models.shifts import (
    DEFAULT_PATTERNS,
    ShiftPattern,
    current_shift,
    load_patterns,
    parse_shift_date,
    parse_shift_name,
    shift_window,
)

HOURS = timedelta(hours=1)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "name", "start", "end"),
    [
        # Winter (GMT): London time is UTC.
        (date(2026, 11, 22), "early", utc(2026, 11, 22, 7), utc(2026, 11, 22, 15)),
        (date(2026, 11, 22), "late", utc(2026, 11, 22, 15), utc(2026, 11, 22, 23)),
        (date(2026, 11, 22), "night", utc(2026, 11, 22, 23), utc(2026, 11, 23, 7)),
        # Summer (BST = UTC+1).
        (date(2026, 7, 1), "early", utc(2026, 7, 1, 6), utc(2026, 7, 1, 14)),
        (date(2026, 7, 1), "night", utc(2026, 7, 1, 22), utc(2026, 7, 2, 6)),
        # Spring forward (Sun 29 Mar 2026 01:00 UTC): the Saturday night loses an hour.
        (date(2026, 3, 28), "night", utc(2026, 3, 28, 23), utc(2026, 3, 29, 6)),
        (date(2026, 3, 28), "late", utc(2026, 3, 28, 15), utc(2026, 3, 28, 23)),
        (date(2026, 3, 29), "early", utc(2026, 3, 29, 6), utc(2026, 3, 29, 14)),
        (date(2026, 3, 29), "late", utc(2026, 3, 29, 14), utc(2026, 3, 29, 22)),
        # Fall back (Sun 25 Oct 2026 01:00 UTC): the Saturday night gains an hour.
        (date(2026, 10, 24), "night", utc(2026, 10, 24, 22), utc(2026, 10, 25, 7)),
        (date(2026, 10, 24), "late", utc(2026, 10, 24, 14), utc(2026, 10, 24, 22)),
        (date(2026, 10, 25), "early", utc(2026, 10, 25, 7), utc(2026, 10, 25, 15)),
        (date(2026, 10, 25), "late", utc(2026, 10, 25, 15), utc(2026, 10, 25, 23)),
    ],
)
def test_windows(day: date, name: str, start: datetime, end: datetime) -> None:
    window = shift_window(day, name)
    assert (window.start_utc, window.end_utc) == (start, end)
    assert window.name == name
    assert window.day == day


def test_night_shift_on_clock_change_nights_lasts_7_or_9_hours() -> None:
    assert shift_window(date(2026, 3, 28), "night").duration == 7 * HOURS
    assert shift_window(date(2026, 10, 24), "night").duration == 9 * HOURS
    assert shift_window(date(2026, 3, 29), "night").duration == 8 * HOURS
    assert shift_window(date(2026, 10, 25), "night").duration == 8 * HOURS
    label = shift_window(date(2026, 10, 24), "night").local_label
    assert label == "Sat 24 Oct 2026 23:00 BST – Sun 25 Oct 2026 07:00 GMT"


def test_consecutive_shifts_meet_exactly_through_the_changes() -> None:
    day = date(2026, 3, 25)
    while day < date(2026, 11, 1):
        early, late, night = (shift_window(day, n) for n in ("early", "late", "night"))
        following = shift_window(day + timedelta(days=1), "early")
        assert early.end_utc == late.start_utc
        assert late.end_utc == night.start_utc
        assert night.end_utc == following.start_utc
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "name", "day"),
    [
        (utc(2026, 11, 22, 7, 0), "early", date(2026, 11, 22)),
        (utc(2026, 11, 22, 14, 59, 59), "early", date(2026, 11, 22)),
        (utc(2026, 11, 22, 15, 0), "late", date(2026, 11, 22)),
        (utc(2026, 11, 22, 23, 0), "night", date(2026, 11, 22)),
        (utc(2026, 11, 23, 6, 59, 59), "night", date(2026, 11, 22)),
        (utc(2026, 11, 23, 0, 30), "night", date(2026, 11, 22)),
        (utc(2026, 11, 23, 7, 0), "early", date(2026, 11, 23)),
        # BST: 06:00 UTC is 07:00 London.
        (utc(2026, 7, 1, 5, 59), "night", date(2026, 6, 30)),
        (utc(2026, 7, 1, 6, 0), "early", date(2026, 7, 1)),
        # Within the clock-change nights.
        (utc(2026, 3, 29, 5, 59), "night", date(2026, 3, 28)),
        (utc(2026, 3, 29, 6, 0), "early", date(2026, 3, 29)),
        (utc(2026, 10, 25, 6, 30), "night", date(2026, 10, 24)),
        (utc(2026, 10, 25, 7, 0), "early", date(2026, 10, 25)),
    ],
)
def test_current_shift_at_boundaries(now: datetime, name: str, day: date) -> None:
    window = current_shift(now)
    assert (window.name, window.day) == (name, day)
    assert window.contains(now)


def test_unknown_shift_name_is_refused_clearly() -> None:
    with pytest.raises(
        ValidationError, match=r"^shift: unknown shift 'brunch' \(early, late, night\)$"
    ):
        parse_shift_name("brunch")
    assert parse_shift_name(" Night ").name == "night"


def test_dates_must_be_iso() -> None:
    assert parse_shift_date("2026-11-22") == date(2026, 11, 22)
    for bad in ("22/11/2026", "2026-13-01", "2026-1-2", "tomorrow"):
        with pytest.raises(ValidationError, match="is not a date like 2026-11-22"):
            parse_shift_date(bad)


def test_patterns_from_shifts_toml(tmp_path: Path) -> None:
    assert load_patterns(tmp_path) == DEFAULT_PATTERNS
    (tmp_path / "shifts.toml").write_text(
        '[[shift]]\nname = "day"\nstart = "08:00"\nend = "20:00"\n'
        '[[shift]]\nname = "night"\nstart = 20:00:00\nend = 08:00:00\n',
        encoding="utf-8",
    )
    patterns = load_patterns(tmp_path)
    assert patterns == (
        ShiftPattern("day", time(8), time(20)),
        ShiftPattern("night", time(20), time(8)),
    )
    assert shift_window(date(2026, 10, 24), "night", patterns).duration == 13 * HOURS
    with pytest.raises(ValidationError, match=r"unknown shift 'early' \(day, night\)"):
        shift_window(date(2026, 10, 24), "early", patterns)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("[[shift]\n", "cannot be read"),
        ("title = 'x'\n", "give at least one [[shift]]"),
        ('[[shift]]\nname = "Early"\nstart = "07:00"\nend = "15:00"\n', "name must be lower-case"),
        (
            '[[shift]]\nname = "early"\nstart = "7am"\nend = "15:00"\n',
            'start must be a time like "07:00"',
        ),
        ('[[shift]]\nname = "a"\nstart = "07:00"\nend = "07:00"\n', "start and end are the same"),
        (
            '[[shift]]\nname = "a"\nstart = "07:00"\nend = "15:00"\n'
            '[[shift]]\nname = "a"\nstart = "15:00"\nend = "07:00"\n',
            "used twice",
        ),
    ],
)
def test_a_bad_shifts_file_is_named_with_its_fault(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "shifts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_patterns(tmp_path)
    assert str(path) in str(caught.value)
    assert fault in str(caught.value)
