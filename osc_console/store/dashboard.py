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

Counts come from ``dashboard_totals`` (migration 6), which the store keeps up to date in the
transaction that writes the incidents: opened per hour, categories per hour and per day, and
the steps of the open count at each hour boundary. A period's whole hours (and whole days)
are added up from those totals; the parts of an hour at either end of a period that does not
start or end on the hour are counted from the incidents themselves, so any period gives
exact figures. Response times and places cannot be kept as totals (every duration and every
address differs), so they are grouped from the incidents of the period, one index range per
grade for the response times.

Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value
at rank ``ceil(p / 100 * n)`` (1-based), so it is always an observed value; the median is the
50th percentile this way (the lower middle value when n is even). An empty set has none.
"""

from __future__ import annotations

import bisect
import functools
import math
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

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


@contextmanager
def _one_snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Every read inside from one snapshot of the file (a WAL read transaction).

    A figure takes several statements (totals, then the part-hours; the places, then the
    details of the few shown), and the sync writes through its own connection meanwhile:
    without one snapshot an incident changed between two statements could be counted twice,
    not at all, or be missing its details. Inside a transaction already, that one serves.
    """
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")  # nothing was written: this only ends the snapshot


P = ParamSpec("P")
R = TypeVar("R")


def _snapshot(
    figure: Callable[Concatenate[sqlite3.Connection, P], R],
) -> Callable[Concatenate[sqlite3.Connection, P], R]:
    """Run a figure's reads from one snapshot (see _one_snapshot)."""

    @functools.wraps(figure)
    def consistent(conn: sqlite3.Connection, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with _one_snapshot(conn):
            return figure(conn, *args, **kwargs)

    return consistent


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


def _ceil_hour(moment: datetime) -> int:
    floor = _epoch_hour(moment)
    return floor if floor * _HOUR_S == moment.timestamp() else floor + 1


@dataclass(frozen=True, slots=True)
class _Edge:
    """Part of a period counted from the incidents themselves: opened in ``[start, end)``
    (stored-time text) and, as the totals bucket them, in an epoch hour from ``first_hour``
    to ``last_hour``. The second condition matters only for an opening time finer than a
    millisecond (a remote workstation may send one): the totals round it to the
    millisecond, and so must the edges, or an incident on an hour's last instant would be
    counted in both that hour's edge and the next hour's total."""

    start: str
    end: str
    first_hour: int
    last_hour: int

    def sql(self) -> str:
        return "opened_at >= ? AND opened_at < ? AND open_from_h BETWEEN ? AND ?"

    def params(self) -> list[Any]:
        # open_from_h is the first boundary after the opening: its hour is one less.
        return [self.start, self.end, self.first_hour + 1, self.last_hour + 1]


@dataclass(frozen=True, slots=True)
class _Split:
    """A period cut where the totals can answer: ``hours`` are the whole epoch hours
    ``[first, stop)`` inside it (none when first >= stop), ``edges`` the parts of an hour at
    either end, counted from the incidents themselves."""

    hours: tuple[int, int]
    edges: tuple[_Edge, ...]

    @property
    def has_hours(self) -> bool:
        return self.hours[0] < self.hours[1]

    def hour_runs(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """The whole hours as (hours before the first whole day, the whole days, hours
        after): day ``d`` is the epoch hours ``[24 d, 24 d + 24)``. Empty runs have
        start >= stop."""
        first, stop = self.hours
        day_first, day_stop = -(-first // 24), stop // 24
        if day_first >= day_stop:
            return (first, stop), (0, 0), (stop, stop)
        return (first, day_first * 24), (day_first, day_stop), (day_stop * 24, stop)


def _split(start: datetime, end: datetime) -> _Split:
    s, e = _utc(start), _utc(end)
    first, stop = _ceil_hour(s), _epoch_hour(e)
    if first >= stop:
        return _Split((0, 0), (_Edge(to_iso(s), to_iso(e), _epoch_hour(s), _ceil_hour(e) - 1),))
    edges = []
    if first * _HOUR_S > s.timestamp():
        boundary = to_iso(datetime.fromtimestamp(first * _HOUR_S, UTC))
        edges.append(_Edge(to_iso(s), boundary, first - 1, first - 1))
    if stop * _HOUR_S < e.timestamp():
        boundary = to_iso(datetime.fromtimestamp(stop * _HOUR_S, UTC))
        edges.append(_Edge(boundary, to_iso(e), stop, stop))
    return _Split((first, stop), tuple(edges))


def _totals(
    conn: sqlite3.Connection,
    figure: str,
    span: str,
    buckets: tuple[int, int],
    scope: tuple[str, list[Any]],
    *,
    by_bucket: bool,
) -> list[tuple[Any, ...]]:
    """Sums of ``dashboard_totals`` over buckets ``[first, stop)``, by key (and bucket):
    rows ``(key or None, [bucket,] n)``, zero sums left out."""
    first, stop = buckets
    if first >= stop:
        return []
    where, params = scope
    group = "key, bucket" if by_bucket else "key"
    return conn.execute(
        f"SELECT nullif(key, ''), {'bucket, ' if by_bucket else ''}sum(n) "
        "FROM dashboard_totals WHERE figure = ? AND span = ? AND bucket >= ? AND bucket < ? "
        f"AND {where} GROUP BY {group} HAVING sum(n) != 0",
        [figure, span, first, stop, *params],
    ).fetchall()


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


@_snapshot
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
    split = _split(period_start_utc, period_end_utc)
    rows: list[tuple[Any, ...]] = []
    if split.has_hours:
        rows += conn.execute(
            "SELECT nullif(lead_agency, ''), bucket, sum(n) FROM dashboard_totals "
            "WHERE figure = 'opened' AND span = 'h' AND bucket >= ? AND bucket < ? "
            f"AND {where} GROUP BY lead_agency, bucket",
            [*split.hours, *params],
        ).fetchall()
    for edge in split.edges:
        # open_from_h is the first hour boundary after the opening: its hour is one less.
        rows += conn.execute(
            "SELECT lead_agency, open_from_h - 1, count(*) "
            f"FROM incidents WHERE {edge.sql()} AND {where} "
            "GROUP BY lead_agency, open_from_h",
            [*edge.params(), *params],
        ).fetchall()
    size = last - first + 1
    counts: dict[str | None, list[int]] = {}
    for agency, hour, n in rows:
        if n:
            counts.setdefault(agency, [0] * size)[hour - first] += int(n)
    order = {a.value: i for i, a in enumerate(Agency)}
    keys = sorted(counts, key=lambda k: (order.get(k, 98) if k is not None else 99, k or ""))
    return HourlySeries(
        tuple(_local_hour(h) for h in range(first, last + 1)),
        tuple(Series(k, tuple(counts[k])) for k in keys),
    )


# ---- (b) open incidents by grade at each hour boundary -----------------------------------------


@_snapshot
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
    scope = _scope(viewer, lead_agency)
    # The 'open' totals hold, per boundary, how many incidents became open there less how
    # many stopped being open. The count at the first boundary is every step up to it (the
    # whole days before its day from the daily totals, then its day's boundaries); each
    # later boundary adds its own step.
    day_start = first // 24 * 24
    level: dict[str | None, int] = {}
    for grade, n in _totals(conn, "open", "d", (0, first // 24), scope, by_bucket=False):
        level[grade] = level.get(grade, 0) + int(n)
    size = last - first + 1
    steps: dict[str | None, list[int]] = {}
    for grade, hour, n in _totals(conn, "open", "h", (day_start, last + 1), scope, by_bucket=True):
        if hour <= first:
            level[grade] = level.get(grade, 0) + int(n)
        else:
            steps.setdefault(grade, [0] * size)[hour - first] += int(n)
    series = []
    for grade in sorted(set(level) | set(steps), key=_grade_order):
        running = level.get(grade, 0)
        counts = [running]
        for step in steps.get(grade, [0] * size)[1:]:
            running += step
            counts.append(running)
        if any(counts):
            series.append(Series(grade, tuple(counts)))
    return HourlySeries(tuple(_local_hour(h) for h in range(first, last + 1)), tuple(series))


# ---- (c) time to assign and time to attend by grade --------------------------------------------


@_snapshot
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
    where, params = _scope(viewer, lead_agency)
    # Percentiles need every duration, so they cannot be running totals. Each grade's
    # incidents of the period are one range of the incidents_response index (no sort of the
    # whole period to group it), and each comes back as one list of numbers, not a row per
    # incident; sorting and counting against a target are done on whole lists (C speed).
    assign: list[ResponseStats] = []
    attend: list[ResponseStats] = []
    for grade in sorted(_grades(conn), key=_grade_order):
        match = "grade IS NULL" if grade is None else "grade = ?"
        total, assigned, attended = conn.execute(
            "SELECT count(*), group_concat(assign_ms), group_concat(attend_ms) "
            f"FROM incidents WHERE {match} AND opened_at >= ? AND opened_at < ? AND {where}",
            [*([] if grade is None else [grade]), *period, *params],
        ).fetchone()
        if not total:
            continue
        for measure, values, into in (("assign", assigned, assign), ("attend", attended, attend)):
            durations = sorted(map(int, values.split(","))) if values else []
            into.append(_stats(measure, grade, durations, total, targets))
    return ResponseTimes(tuple(assign), tuple(attend))


def _grades(conn: sqlite3.Connection) -> list[str | None]:
    """Every grade held, by stepping through the incidents_response index (a few look-ups,
    however many incidents), and None when some incident has no grade."""
    found: list[str | None] = [
        r[0]
        for r in conn.execute(
            "WITH RECURSIVE g(grade) AS (SELECT min(grade) FROM incidents UNION ALL "
            "SELECT (SELECT min(grade) FROM incidents WHERE grade > g.grade) FROM g "
            "WHERE g.grade IS NOT NULL) SELECT grade FROM g WHERE grade IS NOT NULL"
        )
    ]
    if conn.execute("SELECT 1 FROM incidents WHERE grade IS NULL LIMIT 1").fetchone():
        found.append(None)
    return found


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


@_snapshot
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
    scope = _scope(viewer, lead_agency)
    where, params = scope
    split = _split(period_start_utc, period_end_utc)
    rows: list[tuple[Any, ...]] = []
    if split.has_hours:
        before, days, after = split.hour_runs()
        rows += _totals(conn, "category", "h", before, scope, by_bucket=False)
        rows += _totals(conn, "category", "d", days, scope, by_bucket=False)
        rows += _totals(conn, "category", "h", after, scope, by_bucket=False)
    for edge in split.edges:
        rows += conn.execute(
            f"SELECT category, count(*) FROM incidents WHERE {edge.sql()} AND {where} "
            "GROUP BY category",
            [*edge.params(), *params],
        ).fetchall()
    counts: dict[str | None, int] = {}
    for category, n in rows:
        counts[category] = counts.get(category, 0) + int(n)
    ranked = sorted((c for c in counts.items() if c[1] > 0), key=lambda c: (-c[1], c[0] or ""))
    return tuple(Ranked(name, n) for name, n in ranked[: max(0, limit)])


# SQLite's NOCASE folds ASCII letters only; the merge below must compare the same way.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(name: str) -> str:
    return name.translate(_ASCII_LOWER)


def _places(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None,
) -> list[tuple[str, int]]:
    """Every location (compared without case) with incidents opened in the period, most
    first, as (name, count). One GROUP BY serves hotspots and repeat locations.

    SQL groups by the exact text, counting only (a cheap walk of the covering index), and
    Python folds the spellings that differ only in ASCII case together, as ``COLLATE NOCASE``
    would: grouping without case in SQL needs a sort of every incident of the period, twice
    as slow. The shown name is the first spelling in code order.
    """
    period = _period(period_start_utc, period_end_utc)
    if period is None:
        return []
    where, params = _scope(viewer, lead_agency)
    merged: dict[str, list[Any]] = {}
    for name, n in conn.execute(
        f"SELECT location, count(*) FROM incidents WHERE opened_at >= ? AND opened_at < ? "
        f"AND {where} GROUP BY location",
        [*period, *params],
    ):
        key = _fold(name)
        held = merged.get(key)
        if held is None:
            merged[key] = [name, n]
        else:
            held[0] = min(held[0], name)
            held[1] += n
    places = [(name, int(n)) for name, n in merged.values()]
    places.sort(key=lambda r: (-r[1], r[0]))
    return places


@dataclass(frozen=True, slots=True)
class _PlaceDetail:
    lat: float | None
    lon: float | None
    first_opened_at: str
    last_opened_at: str


def _place_details(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None,
    *,
    names: Sequence[str],
) -> dict[str, _PlaceDetail]:
    """Mean coordinates and first and last opening in the period of the few places shown
    (by folded name), read through the incidents_location index rather than worked out for
    every place of the period."""
    period = _period(period_start_utc, period_end_utc)
    folded = sorted({_fold(n) for n in names})
    if period is None or not folded:
        return {}
    where, params = _scope(viewer, lead_agency)
    sums: dict[str, list[Any]] = {}
    for start in range(0, len(folded), 500):
        chunk = folded[start : start + 500]
        for name, lat_sum, lat_n, lon_sum, first, last in conn.execute(
            "SELECT location, sum(lat), count(lat), sum(lon), min(opened_at), max(opened_at) "
            f"FROM incidents WHERE location COLLATE NOCASE IN ({', '.join('?' for _ in chunk)}) "
            f"AND opened_at >= ? AND opened_at < ? AND {where} GROUP BY location",
            [*chunk, *period, *params],
        ):
            key = _fold(name)
            held = sums.get(key)
            if held is None:
                sums[key] = [lat_sum or 0.0, lat_n, lon_sum or 0.0, first, last]
                continue
            held[0] += lat_sum or 0.0
            held[1] += lat_n
            held[2] += lon_sum or 0.0
            held[3] = min(held[3], first)
            held[4] = max(held[4], last)
    return {
        key: _PlaceDetail(
            lat_sum / lat_n if lat_n else None,
            lon_sum / lat_n if lat_n else None,
            first,
            last,
        )
        for key, (lat_sum, lat_n, lon_sum, first, last) in sums.items()
    }


def _ranked_places(
    conn: sqlite3.Connection,
    period_start_utc: datetime,
    period_end_utc: datetime,
    viewer: Agency,
    lead_agency: Agency | None,
    *,
    hotspot_limit: int = 10,
    repeat_min: int = 3,
    repeat_limit: int = 50,
) -> tuple[tuple[Ranked, ...], tuple[RepeatLocation, ...]]:
    """Hotspots and repeat locations from one count of the period's places."""
    args = (period_start_utc, period_end_utc, viewer, lead_agency)
    places = _places(conn, *args)
    hot = places[: max(0, hotspot_limit)]
    repeats = [p for p in places if p[1] >= max(1, repeat_min)][: max(0, repeat_limit)]
    details = _place_details(conn, *args, names=[p[0] for p in (*hot, *repeats)])
    return (
        tuple(
            Ranked(name, n, details[_fold(name)].lat, details[_fold(name)].lon) for name, n in hot
        ),
        tuple(
            RepeatLocation(
                name,
                n,
                details[_fold(name)].first_opened_at,
                details[_fold(name)].last_opened_at,
            )
            for name, n in repeats
        ),
    )


@_snapshot
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
    return _ranked_places(
        conn,
        period_start_utc,
        period_end_utc,
        viewer,
        lead_agency,
        hotspot_limit=limit,
        repeat_limit=0,
    )[0]


@_snapshot
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
    return _ranked_places(
        conn,
        period_start_utc,
        period_end_utc,
        viewer,
        lead_agency,
        hotspot_limit=0,
        repeat_min=min_incidents,
        repeat_limit=limit,
    )[1]


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
    return dashboard_concurrently(
        [conn],
        period_start_utc,
        period_end_utc,
        viewer,
        lead_agency,
        targets=targets,
        repeat_min=repeat_min,
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

        SQLite runs a query without holding Python's lock, so the two heavy groups (response
        times; the places) and the light one (everything added up from the running totals) go
        on separate threads, each with its own connection to the same file (WAL readers do not
        block one another or the writer). Each connection is used by one thread at a time. With
        two connections the light group follows the response times; with one, all run in turn on
    the calling thread (which is all :func:`dashboard` does).
    """
    if not connections:
        raise ValueError("give at least one connection")
    args = (period_start_utc, period_end_utc, viewer, lead_agency)

    def totals(conn: sqlite3.Connection) -> tuple[Any, ...]:
        return (
            opened_per_hour(conn, *args),
            open_by_grade(conn, *args),
            busiest_categories(conn, *args),
        )

    groups: list[Callable[[sqlite3.Connection], Any]] = [
        lambda conn: response_times(conn, *args, targets=targets),
        lambda conn: _ranked_places(conn, *args, repeat_min=repeat_min),
        totals,
    ]
    lanes = min(len(connections), len(groups))

    def run_lane(lane: int) -> list[tuple[int, Any]]:
        conn = connections[lane]
        with _one_snapshot(conn):
            return [(g, groups[g](conn)) for g in range(lane, len(groups), lanes)]

    results: dict[int, Any] = {}
    if lanes == 1:
        results.update(run_lane(0))  # one connection: no thread to hand it to
    else:
        with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="osc-dashboard") as pool:
            for done in pool.map(run_lane, range(lanes)):
                results.update(done)
    per_hour, open_now, categories = results[2]
    top_places, repeats = results[1]
    return Dashboard(
        start=period_start_utc,
        end=period_end_utc,
        opened_per_hour=per_hour,
        open_by_grade=open_now,
        response=results[0],
        categories=categories,
        hotspots=top_places,
        repeats=repeats,
    )
