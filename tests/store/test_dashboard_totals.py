"""The dashboard's kept totals (migration 6) follow every change to an incident: a regrade,
a new category or lead agency, a close and a reopen. Each figure is checked against values
worked out here from the events, and `osc-console check` names a total that has drifted."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.models.events import Author, Event, event_hash
from osc_console.models.projection import IncidentState, fold
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.services.incidents import IncidentService, Location
from osc_console.store import dashboard as dash
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from tests.conftest import knife_incident
from tests.signing import register, sign
from tests.store.test_dashboard import _drawn_per_hour, _in, _open_at, _opened_per_hour, _visible

NOW = datetime.now(UTC)
END = NOW.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def _states(store: Store) -> list[IncidentState]:
    events: dict[str, list[Event]] = defaultdict(list)
    for event in store.iter_events():
        if event.incident_id is not None:
            events[event.incident_id].append(event)
    folded = (fold(e, store.reference) for e in events.values())
    return [s for s in folded if s is not None and s.opened]


def _edit(store: Store, desk: IncidentService) -> None:
    """What a day at the desk does to incidents the demo opened."""
    states = _states(store)
    graded_open = [s for s in states if s.value("grade") and not s.is_closed]
    closed = [s for s in states if s.is_closed and s.value("grade")]
    assert len(graded_open) > 21
    assert len(closed) > 5
    for s in graded_open[:8]:
        desk.change_grade(s.id, "scheduled" if s.value("grade") != "scheduled" else "immediate")
    categories = sorted({s.value("category") for s in states} - {None})
    for s in graded_open[8:12]:
        other = next(c for c in categories if c != s.value("category"))
        desk.update(s.id, {"category": other})
    for s in graded_open[12:15]:
        lead = "corporation" if s.value("lead_agency") != "corporation" else "police"
        desk.update(s.id, {"lead_agency": lead})
    for s in graded_open[15:21]:
        desk.close(s.id, "CL-NOCRIME", "Nothing further")
    for s in closed[:5]:
        desk.reopen(s.id, "Caller rang back")


def test_totals_follow_regrades_new_categories_closes_and_reopens(
    store: Store, police_desk: IncidentService
) -> None:
    seed_store(store, DemoSpec(incidents=300, days=2, seed=8, end=END))
    _edit(store, police_desk)
    states = _states(store)
    conn = store.conn
    later = NOW + timedelta(hours=2)
    for start, end in (
        (END - timedelta(days=2), later),
        (END - timedelta(days=1, minutes=47), NOW + timedelta(minutes=3)),
    ):
        visible = _visible(states, Agency.POLICE)
        period = [s for s in visible if _in(s, start, end)]
        per_hour = dash.opened_per_hour(conn, start, end, Agency.POLICE)
        assert _drawn_per_hour(per_hour) == _opened_per_hour(period)

        top = dash.busiest_categories(conn, start, end, Agency.POLICE, limit=1000)
        assert {r.name: r.count for r in top} == Counter(s.value("category") for s in period)

        open_now = dash.open_by_grade(conn, start, end, Agency.POLICE)
        for grade in {s.value("grade") for s in visible}:
            assert open_now.of(grade) == _open_at(visible, grade, open_now.hours), grade
    assert check_store(store).ok
    # A total that came to 0 is removed, so stores holding the same incidents hold the same
    # totals, whatever order the events reached them in (tests/models/test_fold_properties).
    assert store.execute_read("SELECT count(*) FROM dashboard_totals WHERE n = 0") == [(0,)]


def test_check_names_a_total_that_no_longer_matches_the_incidents(
    store: Store, police_desk: IncidentService
) -> None:
    seed_store(store, DemoSpec(incidents=60, days=1, seed=3, end=END))
    assert check_store(store).ok
    with store.conn:
        changed = store.conn.execute(
            "UPDATE dashboard_totals SET n = n + 1 "
            "WHERE (figure, span, bucket, visibility, lead_agency, key) = (SELECT figure, "
            "span, bucket, visibility, lead_agency, key FROM dashboard_totals "
            "WHERE figure = 'opened' LIMIT 1)"
        ).rowcount
    assert changed == 1
    problems = [str(p) for p in check_store(store).problems]
    assert len(problems) == 1
    assert problems[0].startswith("projection: dashboard opened total, hour ")
    assert "the incidents give" in problems[0]


def test_an_opening_finer_than_a_millisecond_on_the_hour_is_counted_once(
    tmp_path: Path, police: Author, police_desk: IncidentService
) -> None:
    """A remote workstation may stamp an opening to a tenth of a millisecond; the totals
    round it to the millisecond, and the part-hours at a period's ends must agree."""
    opened = police_desk.open_incident(knife_incident(occurred_at="2026-03-10T01:59:59.999Z"))
    fine = replace(opened.events[0], occurred_at="2026-03-10T01:59:59.9996Z", content_hash="")
    fine = sign(replace(fine, content_hash=event_hash(fine)))  # as that workstation signs it
    with Store.open(tmp_path / "other.db") as other:
        register(other, police)
        assert other.apply_remote([fine]).rejected == ()
        start, end = datetime(2026, 3, 10, 1, 30, tzinfo=UTC), datetime(2026, 3, 10, 3, tzinfo=UTC)
        per_hour = dash.opened_per_hour(other.conn, start, end, Agency.POLICE)
        assert per_hour.total == 1
        top = dash.busiest_categories(other.conn, start, end, Agency.POLICE)
        assert [(r.name, r.count) for r in top] == [("VAP-WEAPON", 1)]
        inside = dash.opened_per_hour(
            other.conn, start, start + timedelta(minutes=20), Agency.POLICE
        )
        assert inside.total == 0  # by the millisecond it was opened at 02:00:00.000


def test_a_write_between_the_statements_of_a_figure_is_wholly_in_or_out(
    store: Store, police_desk: IncidentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync writes through its own connection while the dashboard reads: a place counted
    must still have its details, whatever was committed in between."""
    once = police_desk.open_incident(knife_incident(location=Location("Only Once Lane")))
    police_desk.open_incident(knife_incident(location=Location("Leadenhall Street")))
    reader = store.read_connections(2)[1]
    count_places = dash._places

    def count_then_someone_edits(*args: object, **kwargs: object) -> object:
        counted = count_places(*args, **kwargs)  # type: ignore[arg-type]
        police_desk.update(once.incident.id, {"location": {"text": "Somewhere Else"}})
        return counted

    monkeypatch.setattr(dash, "_places", count_then_someone_edits)
    now = datetime.now(UTC)
    spots = dash.hotspots(reader, now - timedelta(hours=1), now + timedelta(hours=1), Agency.POLICE)
    assert sorted(s.name or "" for s in spots) == ["Leadenhall Street", "Only Once Lane"]
