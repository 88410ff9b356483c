"""The dashboard's figures, each checked against values worked out here from the events.

The store's queries read the projection tables; the expected values below fold every
incident's events afresh (models.projection.fold) and count in plain Python, so a mistake in
either the projection or a query shows up as a difference.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.clock import LONDON, from_iso
from osc_console.models.events import Event
from osc_console.models.projection import IncidentState, fold
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.store import dashboard as dash
from osc_console.store.event_store import Store

# Seven days ending just after the clocks go back (25 Oct 2026, 01:00 UTC).
END = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
START = END - timedelta(days=7)


@dataclass
class Seeded:
    store: Store
    states: list[IncidentState]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    path: Path = tmp_path_factory.mktemp("dashboard") / "live.db"
    with Store.open(path) as store:
        seed_store(store, DemoSpec(incidents=600, days=7, seed=5, end=END))
        events: dict[str, list[Event]] = defaultdict(list)
        for event in store.iter_events():
            if event.incident_id is not None:
                events[event.incident_id].append(event)
        states = [s for s in (fold(e, store.reference) for e in events.values()) if s]
        yield Seeded(store, [s for s in states if s.opened])


def _visible(states: list[IncidentState], viewer: Agency) -> list[IncidentState]:
    return [s for s in states if can_see(viewer, Visibility(s.visibility))]


def _in(s: IncidentState, start: datetime, end: datetime) -> bool:
    return start <= from_iso(s.opened_at) < end


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _drawn_per_hour(result: dash.HourlySeries) -> Counter[tuple[datetime, str | None]]:
    """The figures as (UTC hour, series key) -> count, hours with none left out."""
    got: Counter[tuple[datetime, str | None]] = Counter()
    for series in result.series:
        for hour, n in zip(result.hours, series.counts, strict=True):
            if n:
                got[(hour.astimezone(UTC), series.key)] = n
    return got


def _opened_per_hour(period: list[IncidentState]) -> Counter[tuple[datetime, str | None]]:
    return Counter((_hour(from_iso(s.opened_at)), s.value("lead_agency")) for s in period)


def _open_at(
    visible: list[IncidentState], grade: str | None, boundaries: Iterable[datetime]
) -> tuple[int, ...]:
    """Incidents of a grade open at each boundary: opened before it, not closed by it."""
    return tuple(
        sum(
            1
            for s in visible
            if s.value("grade") == grade
            and from_iso(s.opened_at) < b
            and not (s.closed_at is not None and from_iso(s.closed_at) <= b)
        )
        for b in boundaries
    )


def _nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


@pytest.mark.parametrize("viewer", [Agency.POLICE, Agency.CORPORATION])
def test_opened_per_hour_by_lead_agency(seeded: Seeded, viewer: Agency) -> None:
    result = dash.opened_per_hour(seeded.store.conn, START, END, viewer)
    expected = _opened_per_hour([s for s in _visible(seeded.states, viewer) if _in(s, START, END)])
    assert _drawn_per_hour(result) == expected
    assert result.total == sum(expected.values()) > 100
    assert len(result.hours) == 7 * 24  # one bucket per real hour, the repeated one included


def test_dst_change_gives_local_01_00_twice(seeded: Seeded) -> None:
    night_start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    night_end = datetime(2026, 10, 25, 4, tzinfo=UTC)
    result = dash.opened_per_hour(seeded.store.conn, night_start, night_end, Agency.POLICE)
    labels = [h.strftime("%H:%M %Z") for h in result.hours]
    assert labels == ["23:00 BST", "00:00 BST", "01:00 BST", "01:00 GMT", "02:00 GMT", "03:00 GMT"]
    assert all(h.tzinfo is LONDON for h in result.hours)
    expected = sum(
        1 for s in _visible(seeded.states, Agency.POLICE) if _in(s, night_start, night_end)
    )
    assert result.total == expected


def test_open_by_grade_at_each_hour_boundary(seeded: Seeded) -> None:
    start = END - timedelta(days=2, minutes=30)  # not on the hour: the first boundary is after
    result = dash.open_by_grade(seeded.store.conn, start, END, Agency.POLICE)
    boundaries = [h.astimezone(UTC) for h in result.hours]
    assert boundaries[0] == _hour(start) + timedelta(hours=1)
    assert boundaries[-1] == END
    visible = _visible(seeded.states, Agency.POLICE)
    grades = {s.value("grade") for s in visible}
    for grade in grades:
        assert result.of(grade) == _open_at(visible, grade, boundaries), grade
    assert max(result.of("immediate")) > 0


@pytest.mark.parametrize("viewer", [Agency.POLICE, Agency.CORPORATION])
def test_response_times_by_grade(seeded: Seeded, viewer: Agency) -> None:
    result = dash.response_times(seeded.store.conn, START, END, viewer)
    assign: dict[str | None, list[float]] = defaultdict(list)
    attend: dict[str | None, list[float]] = defaultdict(list)
    for s in _visible(seeded.states, viewer):
        if not _in(s, START, END):
            continue
        opened = from_iso(s.opened_at)
        made = [from_iso(a.times["assigned"]) for a in s.assignments.values()]
        scene = [
            from_iso(a.times["on_scene"]) for a in s.assignments.values() if "on_scene" in a.times
        ]
        if made:
            assign[s.value("grade")].append(max(0.0, (min(made) - opened).total_seconds()))
        if scene:
            attend[s.value("grade")].append(max(0.0, (min(scene) - opened).total_seconds()))
    for measure, expected in (("assign", assign), ("attend", attend)):
        for grade, values in expected.items():
            stats = result.for_grade(measure, grade)
            assert stats is not None
            assert stats.count == len(values)
            assert stats.median_s == pytest.approx(_nearest_rank(values, 50), abs=0.01)
            assert stats.p90_s == pytest.approx(_nearest_rank(values, 90), abs=0.01)
            if stats.target_s is not None:
                met = sum(1 for v in values if v <= stats.target_s)
                assert stats.met == met
                assert stats.share_met == pytest.approx(met / len(values))
    immediate = result.for_grade("attend", "immediate")
    if viewer is Agency.POLICE:
        assert immediate is not None
        assert immediate.count > 10
        assert immediate.target_s == 15 * 60


def test_custom_targets(seeded: Seeded) -> None:
    targets = {"immediate": dash.ResponseTarget(assign_minutes=0.0001, attend_minutes=10_000)}
    result = dash.response_times(seeded.store.conn, START, END, Agency.POLICE, targets=targets)
    stats = result.for_grade("attend", "immediate")
    assert stats is not None
    assert stats.share_met == 1.0
    priority = result.for_grade("attend", "priority")
    assert priority is not None
    assert priority.target_s is None
    assert priority.share_met is None


@pytest.mark.parametrize("viewer", [Agency.POLICE, Agency.CORPORATION])
def test_categories_hotspots_and_repeats(seeded: Seeded, viewer: Agency) -> None:
    conn = seeded.store.conn
    period = [s for s in _visible(seeded.states, viewer) if _in(s, START, END)]
    categories = Counter(s.value("category") for s in period)
    places = Counter((s.value("location") or {}).get("text", "").lower() for s in period)

    top = dash.busiest_categories(conn, START, END, viewer, limit=5)
    assert [r.count for r in top] == sorted(categories.values(), reverse=True)[:5]
    assert all(categories[r.name] == r.count for r in top)

    spots = dash.hotspots(conn, START, END, viewer, limit=5)
    assert [r.count for r in spots] == sorted(places.values(), reverse=True)[:5]
    assert all(places[(r.name or "").lower()] == r.count for r in spots)

    repeats = dash.repeat_locations(conn, START, END, viewer, min_incidents=4, limit=1000)
    assert {r.location.lower(): r.count for r in repeats} == {
        p: n for p, n in places.items() if n >= 4
    }
    assert repeats
    assert all(r.first_opened_at <= r.last_opened_at for r in repeats)


def test_corporation_viewer_never_counts_police_only_incidents(seeded: Seeded) -> None:
    conn = seeded.store.conn
    police_only = [
        s for s in seeded.states if s.visibility == Visibility.POLICE.value and _in(s, START, END)
    ]
    assert police_only, "the demo data should hold police-only incidents"
    police = dash.dashboard(conn, START, END, Agency.POLICE)
    council = dash.dashboard(conn, START, END, Agency.CORPORATION)
    seen_by_council = sum(
        1 for s in _visible(seeded.states, Agency.CORPORATION) if _in(s, START, END)
    )
    assert council.opened_per_hour.total == seen_by_council
    council_only = [
        s
        for s in seeded.states
        if s.visibility == Visibility.CORPORATION.value and _in(s, START, END)
    ]
    # Exactly the police-only incidents are missing from the Corporation's figures.
    assert police.opened_per_hour.total == council.opened_per_hour.total - len(council_only) + len(
        police_only
    )
    council_assign = sum(s.count + s.without for s in council.response.assign)
    assert council_assign == seen_by_council
    assert sum(r.count for r in council.repeats) <= seen_by_council


def test_lead_agency_filter(seeded: Seeded) -> None:
    result = dash.opened_per_hour(
        seeded.store.conn, START, END, Agency.POLICE, lead_agency=Agency.CORPORATION
    )
    expected = sum(
        1
        for s in _visible(seeded.states, Agency.POLICE)
        if _in(s, START, END) and s.value("lead_agency") == "corporation"
    )
    assert [s.key for s in result.series] in ([], ["corporation"])
    assert result.total == expected


def test_empty_periods(seeded: Seeded) -> None:
    conn = seeded.store.conn
    empty = dash.dashboard(conn, END, END, Agency.POLICE)
    assert empty.opened_per_hour.hours == ()
    assert empty.open_by_grade.hours == ()
    assert empty.response == dash.ResponseTimes((), ())
    assert empty.categories == empty.hotspots == empty.repeats == ()
    backwards = dash.dashboard(conn, END, START, Agency.POLICE)
    assert backwards.opened_per_hour.total == 0
    assert backwards.response.assign == ()

    before = datetime(2020, 1, 1, tzinfo=UTC)
    quiet = dash.dashboard(conn, before, before + timedelta(days=1), Agency.POLICE)
    assert len(quiet.opened_per_hour.hours) == 24
    assert quiet.opened_per_hour.total == 0
    assert quiet.open_by_grade.total == 0
    assert quiet.response.assign == ()
    assert quiet.response.attend == ()
    assert quiet.categories == ()
    assert quiet.repeats == ()

    # A few minutes inside one hour: no hour boundary to count open incidents at.
    minute = datetime(2026, 10, 20, 10, 5, tzinfo=UTC)
    short = dash.open_by_grade(conn, minute, minute + timedelta(minutes=5), Agency.POLICE)
    assert short.hours == ()
    with pytest.raises(ValueError, match="naive"):
        dash.opened_per_hour(conn, datetime(2026, 1, 1), END, Agency.POLICE)


def test_nearest_rank() -> None:
    assert dash.nearest_rank([], 50) is None
    assert dash.nearest_rank([7.0], 90) == 7.0
    values = [float(v) for v in range(1, 11)]
    assert dash.nearest_rank(values, 50) == 5.0
    assert dash.nearest_rank(values, 90) == 9.0
    assert dash.nearest_rank(values, 100) == 10.0


# Periods that do not start or end on the hour: the whole hours and days come from the kept
# totals and the part-hours at either end from the incidents; the sum must be exact.
ODD_PERIODS = [
    (START + timedelta(minutes=17, seconds=23.5), END - timedelta(minutes=41)),  # days + edges
    (START + timedelta(hours=5, minutes=3), START + timedelta(hours=27, minutes=59)),
    (START + timedelta(hours=30, minutes=10), START + timedelta(hours=30, minutes=50)),  # 1 hour
    (START + timedelta(hours=30, minutes=50), START + timedelta(hours=31, minutes=20)),  # across
]


@pytest.mark.parametrize(("start", "end"), ODD_PERIODS)
@pytest.mark.parametrize("viewer", [Agency.POLICE, Agency.CORPORATION])
def test_periods_off_the_hour_count_exactly(
    seeded: Seeded, viewer: Agency, start: datetime, end: datetime
) -> None:
    conn = seeded.store.conn
    period = [s for s in _visible(seeded.states, viewer) if _in(s, start, end)]

    per_hour = dash.opened_per_hour(conn, start, end, viewer)
    assert _drawn_per_hour(per_hour) == _opened_per_hour(period)
    assert per_hour.hours[0].astimezone(UTC) == _hour(start)

    categories = Counter(s.value("category") for s in period)
    top = dash.busiest_categories(conn, start, end, viewer, limit=1000)
    assert {r.name: r.count for r in top} == dict(categories)
    assert [r.count for r in top] == sorted(categories.values(), reverse=True)

    open_now = dash.open_by_grade(conn, start, end, viewer)
    visible = _visible(seeded.states, viewer)
    for grade in {s.value("grade") for s in visible}:
        assert open_now.of(grade) == _open_at(visible, grade, open_now.hours), grade

    places = Counter((s.value("location") or {}).get("text", "").lower() for s in period)
    repeats = dash.repeat_locations(conn, start, end, viewer, min_incidents=2, limit=10_000)
    assert {r.location.lower(): r.count for r in repeats} == {
        p: n for p, n in places.items() if n >= 2
    }
    for r in repeats:
        opened = sorted(
            s.opened_at
            for s in period
            if (s.value("location") or {}).get("text", "").lower() == r.location.lower()
        )
        assert (r.first_opened_at, r.last_opened_at) == (opened[0], opened[-1])


def test_hotspots_carry_the_mean_of_the_recorded_coordinates(seeded: Seeded) -> None:
    period = [s for s in _visible(seeded.states, Agency.POLICE) if _in(s, START, END)]
    spots = dash.hotspots(seeded.store.conn, START, END, Agency.POLICE, limit=5)
    assert any(spot.lat is not None for spot in spots), "the demo records coordinates"
    for spot in spots:
        located = [
            loc
            for s in period
            if (loc := s.value("location") or {}).get("text", "").lower()
            == (spot.name or "").lower()
            and loc.get("lat") is not None
        ]
        if not located:
            assert spot.lat is None
            assert spot.lon is None
            continue
        assert spot.lat == pytest.approx(sum(x["lat"] for x in located) / len(located))
        assert spot.lon == pytest.approx(sum(x["lon"] for x in located) / len(located))
