"""The dashboard's figures over a period, answered by GROUP BY queries (never event by event).

Every function takes ``(conn, period_start_utc, period_end_utc, viewer, lead_agency=None)``:
the period is half-open, ``[start, end)``, in aware datetimes (any zone; compared in UTC);
``viewer`` limits the figures to incidents that organisation may see (``visibilities_for``)
and ``lead_agency``, when given, to incidents that agency leads. An incident belongs to the
period when it was opened in it (``incidents.opened_at``), except for the open-incident
series, which counts everything open at each hour boundary whenever it was opened.

Hours are Europe/London local hours. London's offset from UTC is always a whole number of
hours, so every local hour is exactly one UTC hour: SQL counts per UTC hour and Python labels
each one with its local start (an aware datetime). On the night the clocks go back, local
01:00 occurs twice (BST, then GMT) and both hours are kept, distinct by their offset; on the
night they go forward, local 01:00 does not exist and so never appears.

Durations are in seconds. Clocks skewed between workstations can put an assignment before the
opening it answers: such a duration counts as 0, never as negative.

Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value
at rank ``ceil(p / 100 * n)`` (1-based), so it is always an observed value; the median is the
50th percentile this way (the lower middle value when n is even). An empty set has none.
"""

from __future__ import annotations

import bisect
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from osc_console.models.agencies import Agency, visibilities_for
from osc_console.models.clock import LONDON, to_iso
from osc_console.models.incident import Grade

HOUR = timedelta(hours=1)
_HOUR_S = 3600


# ---- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """One line or stack of a chart: a key (an agency, a grade) and a value per hour."""

    key: str | None
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class HourlySeries:
    """Values per hour: ``hours`` are London-local aware datetimes, one per value."""

    hours: tuple[datetime, ...]
    series: tuple[Series, ...]

    def of(self, key: str | None) -> tuple[int, ...]:
        for s in self.series:
            if s.key == key:
                return s.counts
        return tuple(0 for _ in self.hours)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.series)


@dataclass(frozen=True, slots=True)
class ResponseTarget:
    """Minutes within which an incident of a grade should be assigned and attended."""

    assign_minutes: float | None = None
    attend_minutes: float | None = None


# Configurable: pass another mapping to response_times. Grades absent here have no target.
DEFAULT_TARGETS: Mapping[str, ResponseTarget] = {
    Grade.IMMEDIATE.value: ResponseTarget(assign_minutes=5, attend_minutes=15),
    Grade.PRIORITY.value: ResponseTarget(attend_minutes=60),
}


@dataclass(frozen=True, slots=True)
class ResponseStats:
    """Time to assign or to attend for one grade. Times are seconds; None when no sample."""

    grade: str | None
    measure: str  # "assign" or "attend"
    count: int  # incidents with a time
    without: int  # incidents of the grade opened in the period with no time (yet)
    median_s: float | None
    p90_s: float | None
    target_s: float | None
    met: int  # incidents within the target (<=); 0 without a target

    @property
    def share_met(self) -> float | None:
        """The share meeting the target, 0..1; None without a target or without samples."""
        if self.target_s is None or self.count == 0:
            return None
        return self.met / self.count


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    assign: tuple[ResponseStats, ...]
    attend: tuple[ResponseStats, ...]

    def for_grade(self, measure: str, grade: str | None) -> ResponseStats | None:
        for s in self.assign if measure == "assign" else self.attend:
            if s.grade == grade:
                return s
        return None


@dataclass(frozen=True, slots=True)
class Ranked:
    """A category or a location and how many incidents it had in the period."""

    name: str | None
    count: int
    lat: float | None = None  # locations only: the mean of the recorded coordinates
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class RepeatLocation:
    location: str
    count: int
    first_opened_at: str
    last_opened_at: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    start: datetime
    end: datetime
    opened_per_hour: HourlySeries
    open_by_grade: HourlySeries
    response: ResponseTimes
    categories: tuple[Ranked, ...]
    hotspots: tuple[Ranked, ...]
    repeats: tuple[RepeatLocation, ...]


# ---- helpers ---------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; give a time zone")
    return moment.astimezone(UTC)


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _epoch_hour(moment: datetime) -> int:
    return int(moment.timestamp()) // _HOUR_S


def _local_hour(epoch_hour: int) -> datetime:
    return datetime.fromtimestamp(epoch_hour * _HOUR_S, UTC).astimezone(LONDON)


def _scope(viewer: Agency, lead_agency: Agency | None, alias: str = "") -> tuple[str, list[Any]]:
    """The visibility (and lead agency) condition every dashboard query starts from."""
    visible = [v.value for v in visibilities_for(Agency(viewer))]
    sql = f"{alias}visibility IN ({', '.join('?' for _ in visible)})"
    params: list[Any] = list(visible)
    if lead_agency is not None:
        sql += f" AND {alias}lead_agency = ?"
        params.append(Agency(lead_agency).value)
    return sql, params


def _period(start: datetime, end: datetime) -> tuple[str, str] | None:
    """The period as stored-time text, or None when it is empty."""
    s, e = _utc(start), _utc(end)
    if s >= e:
        return None
    return to_iso(s), to_iso(e)


def _grade_order(grade: str | None) -> tuple[int, str]:
    try:
        return (Grade(grade).rank, "") if grade is not None else (99, "")
    except ValueError:
        return (50, grade or "")


def nearest_rank(sorted_values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile of already sorted values; None for no values."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(pct / 100 * n))
    return sorted_values[min(rank, n) - 1]


# ---- (a) incidents opened per hour by lead agency ----------------------------------------------


def opened_per_hour(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
) -> HourlySeries:
    """Incidents opened in each local hour of the period, one series per lead agency."""
    period = _period(period_start_utc, period_end_utc)
    if period is None:
        return HourlySeries((), ())
    first = _epoch_hour(_floor_hour(_utc(period_start_utc)))
    last = _epoch_hour(_utc(period_end_utc) - timedelta(milliseconds=1))
    where, params = _scope(viewer, lead_agency)
    # open_from_h (a projection column in the covering index) is the first hour boundary
    # after the opening, so the opening's UTC hour is one less: grouping on that integer is
    # cheaper than on a substring of the time's text.
    rows = conn.execute(
        "SELECT lead_agency, open_from_h, count(*) "
        f"FROM incidents WHERE opened_at >= ? AND opened_at < ? AND {where} "
        "GROUP BY lead_agency, open_from_h",
        [*period, *params],
    ).fetchall()
    size = last - first + 1
    counts: dict[str | None, list[int]] = {}
    for agency, from_h, n in rows:
        counts.setdefault(agency, [0] * size)[from_h - 1 - first] += int(n)
    order = {a.value: i for i, a in enumerate(Agency)}
    keys = sorted(counts, key=lambda k: (order.get(k, 98) if k is not None else 99, k or ""))
    return HourlySeries(
        tuple(_local_hour(h) for h in range(first, last + 1)),
        tuple(Series(k, tuple(counts[k])) for k in keys),
    )


# ---- (b) open incidents by grade at each hour boundary -----------------------------------------


def open_by_grade(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
) -> HourlySeries:
    """Incidents open at each hour boundary in ``[start, end]``, one series per grade.

    Open at a boundary ``b``: opened before ``b`` and not closed at or before ``b``. The
    store keeps an incident's latest close only, so one reopened and still open counts as
    open since it was first opened.
    """
    s, e = _utc(period_start_utc), _utc(period_end_utc)
    if s >= e:
        return HourlySeries((), ())
    first_b = _floor_hour(s) + (HOUR if _floor_hour(s) != s else timedelta(0))
    if first_b > e:
        return HourlySeries((), ())
    first, last = _epoch_hour(first_b), _epoch_hour(_floor_hour(e))
    where, params = _scope(viewer, lead_agency)
    # An incident counts at boundary b (an epoch hour) when open_from_h <= b < open_until_h
    # (projection columns, migration 5: the first boundary after the opening, the first at
    # or after the close). One +1 at its first boundary in the period and one -1 where it
    # stops, summed per grade and hour in SQL over the covering index; Python adds them up.
    # Only incidents open across at least one boundary take part (until > from).
    rows = conn.execute(
        "SELECT grade, open_from_h, open_until_h, count(*) FROM incidents "
        f"WHERE opened_at < ? AND (open_until_h IS NULL OR open_until_h > ?) AND {where} "
        "AND (open_until_h IS NULL OR open_until_h > open_from_h) "
        "GROUP BY grade, open_from_h, open_until_h",
        [to_iso(_local_hour(last)), first, *params],
    ).fetchall()
    size = last - first + 1
    deltas: dict[str | None, list[int]] = {}
    for grade, start_h, until_h, n in rows:
        counts = deltas.get(grade)
        if counts is None:
            counts = deltas[grade] = [0] * (size + 1)
        counts[max(start_h, first) - first] += n
        if until_h is not None and until_h <= last:
            counts[until_h - first] -= n
    series = []
    for grade in sorted(deltas, key=_grade_order):
        running, counts = 0, []
        for step in deltas[grade][:size]:
            running += step
            counts.append(running)
        series.append(Series(grade, tuple(counts)))
    return HourlySeries(tuple(_local_hour(h) for h in range(first, last + 1)), tuple(series))


# ---- (c) time to assign and time to attend by grade --------------------------------------------


def response_times(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    targets: Mapping[str, ResponseTarget] = DEFAULT_TARGETS,
) -> ResponseTimes:
    """Median and 90th percentile of time to assign and to attend, per grade.

    Time to assign: the first assignment's ``assigned_at`` less the incident's ``opened_at``.
    Time to attend: the first ``on_scene`` time of any of its assignments less ``opened_at``.
    Both are projection columns (``assign_ms``, ``attend_ms``). Incidents opened in the
    period only.
    """
    period = _period(period_start_utc, period_end_utc)
    if period is None:
        return ResponseTimes((), ())
    where, params = _scope(viewer, lead_agency, "i.")
    # Milliseconds to the first assignment and the first arrival are projection columns
    # (migration 5) held in the covering dashboard index: one index range scan, no table
    # rows, no JSON, no date arithmetic per incident. One pass groups by grade (and counts
    # the incidents without a time); sorting and counting against a target are done on
    # whole lists (C speed), never value by value in Python.
    by_grade: dict[str | None, list[tuple[Any, ...]]] = {}
    for row in conn.execute(
        "SELECT i.grade, i.assign_ms, i.attend_ms FROM incidents i "
        f"WHERE i.opened_at >= ? AND i.opened_at < ? AND {where}",
        [*period, *params],
    ):
        group = by_grade.get(row[0])
        if group is None:
            group = by_grade[row[0]] = []
        group.append(row)
    assign: list[ResponseStats] = []
    attend: list[ResponseStats] = []
    for grade in sorted(by_grade, key=_grade_order):
        group = by_grade[grade]
        for measure, column, into in (("assign", 1, assign), ("attend", 2, attend)):
            values = sorted(r[column] for r in group if r[column] is not None)
            into.append(_stats(measure, grade, values, len(group), targets))
    return ResponseTimes(tuple(assign), tuple(attend))


def _stats(
    measure: str,
    grade: str | None,
    values_ms: list[int],
    total: int,
    targets: Mapping[str, ResponseTarget],
) -> ResponseStats:
    """One grade's figures from its sorted durations in milliseconds (converted to seconds
    only for the few figures shown, not value by value)."""
    target = targets.get(grade) if grade is not None else None
    minutes = None
    if target is not None:
        minutes = target.assign_minutes if measure == "assign" else target.attend_minutes
    target_s = None if minutes is None else float(minutes) * 60
    median_ms = nearest_rank(values_ms, 50)
    p90_ms = nearest_rank(values_ms, 90)
    return ResponseStats(
        grade=grade,
        measure=measure,
        count=len(values_ms),
        without=max(0, total - len(values_ms)),
        median_s=None if median_ms is None else median_ms / 1000,
        p90_s=None if p90_ms is None else p90_ms / 1000,
        target_s=target_s,
        # A duration meets the target when it is at most the target: the same count in
        # milliseconds as in seconds, since durations are whole milliseconds.
        met=0 if target_s is None else bisect.bisect_right(values_ms, target_s * 1000),
    )


# ---- (d) busiest categories and locations; (e) repeat locations ---------------------------------


def busiest_categories(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    limit: int = 10,
) -> tuple[Ranked, ...]:
    """Opening categories by incidents opened in the period, busiest first."""
    period = _period(period_start_utc, period_end_utc)
    if period is None:
        return ()
    where, params = _scope(viewer, lead_agency)
    return tuple(
        Ranked(r[0], int(r[1]))
        for r in conn.execute(
            "SELECT category, count(*) AS n FROM incidents "
            f"WHERE opened_at >= ? AND opened_at < ? AND {where} "
            "GROUP BY category ORDER BY n DESC, category LIMIT ?",
            [*period, *params, limit],
        )
    )


# SQLite's NOCASE folds ASCII letters only; the merge below must compare the same way.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _places(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None,
) -> list[tuple[Any, ...]]:
    """Every location (compared without case) with incidents opened in the period, most first:
    (name, count, mean lat, mean lon, first opened_at, last opened_at). One GROUP BY serves
    hotspots and repeat locations; the distinct places are a few hundred.

    SQL groups by the exact text (a cheap walk of the covering index) and Python folds the
    spellings that differ only in ASCII case together, as ``COLLATE NOCASE`` would: grouping
    without case in SQL needs a sort of every incident of the period, twice as slow.
    """
    period = _period(period_start_utc, period_end_utc)
    if period is None:
        return []
    where, params = _scope(viewer, lead_agency)
    merged: dict[str, list[Any]] = {}
    for name, n, lat_sum, lat_n, lon_sum, first, last in conn.execute(
        "SELECT location, count(*), sum(lat), count(lat), sum(lon), min(opened_at), "
        f"max(opened_at) FROM incidents WHERE opened_at >= ? AND opened_at < ? AND {where} "
        "GROUP BY location",
        [*period, *params],
    ):
        key = name.translate(_ASCII_LOWER) if isinstance(name, str) else name
        held = merged.get(key)
        if held is None:
            merged[key] = [name, n, lat_sum or 0.0, lat_n, lon_sum or 0.0, first, last]
            continue
        held[0] = min(held[0], name)
        held[1] += n
        held[2] += lat_sum or 0.0
        held[3] += lat_n
        held[4] += lon_sum or 0.0
        held[5] = min(held[5], first)
        held[6] = max(held[6], last)
    places = [
        (
            name,
            n,
            lat_sum / lat_n if lat_n else None,
            lon_sum / lat_n if lat_n else None,
            first,
            last,
        )
        for name, n, lat_sum, lat_n, lon_sum, first, last in merged.values()
    ]
    places.sort(key=lambda r: (-r[1], r[0]))
    return places


def _hotspots(places: list[tuple[Any, ...]], limit: int) -> tuple[Ranked, ...]:
    return tuple(Ranked(r[0], int(r[1]), r[2], r[3]) for r in places[: max(0, limit)])


def _repeats(
    places: list[tuple[Any, ...]], min_incidents: int, limit: int
) -> tuple[RepeatLocation, ...]:
    found = [r for r in places if int(r[1]) >= max(1, min_incidents)]
    return tuple(RepeatLocation(r[0], int(r[1]), r[4], r[5]) for r in found[: max(0, limit)])


def hotspots(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    limit: int = 10,
) -> tuple[Ranked, ...]:
    """Locations (compared without case) by incidents opened in the period, busiest first."""
    places = _places(conn, period_start_utc, period_end_utc, viewer, lead_agency)
    return _hotspots(places, limit)


def repeat_locations(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    min_incidents: int = 3,
    limit: int = 50,
) -> tuple[RepeatLocation, ...]:
    """Places with at least ``min_incidents`` incidents opened in the period, most first."""
    places = _places(conn, period_start_utc, period_end_utc, viewer, lead_agency)
    return _repeats(places, min_incidents, limit)


def dashboard(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    targets: Mapping[str, ResponseTarget] = DEFAULT_TARGETS,
    repeat_min: int = 3,
) -> Dashboard:
    """Every figure of the dashboard tab for one period, viewer and lead agency."""
    args = (conn, period_start_utc, period_end_utc, viewer, lead_agency)
    places = _places(*args)
    return Dashboard(
        start=period_start_utc,
        end=period_end_utc,
        opened_per_hour=opened_per_hour(*args),
        open_by_grade=open_by_grade(*args),
        response=response_times(*args, targets=targets),
        categories=busiest_categories(*args),
        hotspots=_hotspots(places, 10),
        repeats=_repeats(places, repeat_min, 50),
    )


def dashboard_concurrently(
    connections: Sequence[sqlite3.Connection],
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None = None,
    *,
    targets: Mapping[str, ResponseTarget] = DEFAULT_TARGETS,
    repeat_min: int = 3,
) -> Dashboard:
    """The same figures as :func:`dashboard`, its queries spread over several connections.

    SQLite runs a query without holding Python's lock, so the three heaviest groups (open
    incidents by grade; response times; the per-hour, category and place counts) go on
    separate threads, each with its own connection to the same file (WAL readers do not
    block one another or the writer). Each connection is used by one thread at a time.
    With fewer than three connections the groups share them in turn.
    """
    if not connections:
        raise ValueError("give at least one connection")
    args = (period_start_utc, period_end_utc, viewer, lead_agency)

    def counts(conn: sqlite3.Connection) -> tuple[Any, ...]:
        places = _places(conn, *args)
        return (
            opened_per_hour(conn, *args),
            busiest_categories(conn, *args),
            _hotspots(places, 10),
            _repeats(places, repeat_min, 50),
        )

    groups: list[Callable[[sqlite3.Connection], Any]] = [
        lambda conn: open_by_grade(conn, *args),
        lambda conn: response_times(conn, *args, targets=targets),
        counts,
    ]
    lanes = min(len(connections), len(groups))

    def run_lane(lane: int) -> list[tuple[int, Any]]:
        conn = connections[lane]
        return [(g, groups[g](conn)) for g in range(lane, len(groups), lanes)]

    results: dict[int, Any] = {}
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="osc-dashboard") as pool:
        for done in pool.map(run_lane, range(lanes)):
            results.update(done)
    per_hour, categories, top_places, repeats = results[2]
    return Dashboard(
        start=period_start_utc,
        end=period_end_utc,
        opened_per_hour=per_hour,
        open_by_grade=results[0],
        response=results[1],
        categories=categories,
        hotspots=top_places,
        repeats=repeats,
    )
