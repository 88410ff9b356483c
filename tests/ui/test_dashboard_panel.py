"""The dashboard tab on demo data: change the period (and the agency) and check what is drawn
against figures worked out here straight from the events, not from the projection tables."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency, Visibility, can_see
from osc_console.models.clock import from_iso
from osc_console.models.events import Event
from osc_console.models.payloads import Kind
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.ui.dashboard.panel import DashboardPanel
from osc_console.ui.session import ConsoleSession

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class Truth:
    """One incident as its events tell it (fields are last-writer-wins in clock order)."""

    opened_at: datetime
    visibility: str
    lead_agency: str
    grade: str | None
    first_assigned: datetime | None


def from_events(events: list[Event]) -> dict[str, Truth]:
    by_incident: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.incident_id is not None:
            by_incident[event.incident_id].append(event)
    truths = {}
    for incident_id, group in by_incident.items():
        opening = next((e for e in group if e.kind == Kind.INCIDENT_OPENED), None)
        if opening is None:
            continue
        fields = {
            "lead_agency": opening.payload["lead_agency"],
            "grade": opening.payload.get("grade"),
        }
        assigned: list[datetime] = []
        for event in sorted(group, key=lambda e: (e.hlc, e.workstation, e.id)):
            if event.visibility != opening.visibility:
                continue  # a restricted note on a joint incident changes nothing shared
            if event.kind == Kind.INCIDENT_UPDATED:
                for name in ("lead_agency", "grade"):
                    if name in event.payload["changes"]:
                        fields[name] = event.payload["changes"][name]
            elif event.kind == Kind.ASSIGNMENT_MADE:
                assigned.append(from_iso(event.occurred_at))
        truths[incident_id] = Truth(
            from_iso(opening.occurred_at),
            opening.visibility,
            fields["lead_agency"],
            fields["grade"],
            min(assigned) if assigned else None,
        )
    return truths


def nearest_rank_median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) / 2)) - 1]


@pytest.fixture
def truths(session: ConsoleSession) -> dict[str, Truth]:
    seed_store(session.store, DemoSpec(incidents=400, days=6, seed=9, end=END))
    return from_events(list(session.store.iter_events()))


@pytest.fixture
def panel(qtbot: QtBot, session: ConsoleSession, truths: dict[str, Truth]) -> DashboardPanel:
    widget = DashboardPanel(session)
    qtbot.addWidget(widget)
    widget.resize(1500, 950)
    widget.show()
    qtbot.waitUntil(lambda: widget.figures is not None, timeout=10_000)
    return widget


def show_period(qtbot: QtBot, panel: DashboardPanel, start: datetime, end: datetime) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.set_period(start, end)


def drawn_per_agency(panel: DashboardPanel) -> dict[str, int]:
    return {
        key: int(sum(bar.opts["height"]))
        for key, bar in panel.opened_bars.items()
        if len(bar.opts["height"]) and sum(bar.opts["height"])
    }


def expected(
    truths: dict[str, Truth],
    start: datetime,
    end: datetime,
    viewer: Agency,
    lead: str | None = None,
) -> list[Truth]:
    return [
        t
        for t in truths.values()
        if start <= t.opened_at < end
        and can_see(viewer, Visibility(t.visibility))
        and (lead is None or t.lead_agency == lead)
    ]


@pytest.mark.parametrize("days", [(0, 6), (2, 3), (5, 6)])
def test_changing_the_period_redraws_the_figures_the_events_give(
    qtbot: QtBot, panel: DashboardPanel, truths: dict[str, Truth], days: tuple[int, int]
) -> None:
    start = END - timedelta(days=6) + timedelta(days=days[0])
    end = END - timedelta(days=6) + timedelta(days=days[1])
    show_period(qtbot, panel, start, end)
    mine = expected(truths, start, end, panel.session.agency)
    assert mine, "the demo data has incidents in every period tested"
    assert drawn_per_agency(panel) == dict(Counter(t.lead_agency for t in mine))
    assert panel.tiles["opened"].text() == f"{len(mine):,}"
    # Time to assign, Immediate: the bar drawn is the median worked out here, in minutes.
    waits = [
        max(0.0, (t.first_assigned - t.opened_at).total_seconds())
        for t in mine
        if t.grade == "immediate" and t.first_assigned is not None
    ]
    bar = panel.response_bars["assign", "median"]
    immediate_x = [x for x in bar.opts["x"] if abs(x - (-0.3)) < 1e-9]
    assert immediate_x, "Immediate is the first grade on the chart"
    drawn = bar.opts["height"][list(bar.opts["x"]).index(immediate_x[0])]
    assert drawn == pytest.approx(nearest_rank_median(waits) / 60, abs=1e-6)


def test_the_lead_agency_filter_keeps_only_that_agency(
    qtbot: QtBot, panel: DashboardPanel, truths: dict[str, Truth]
) -> None:
    start, end = END - timedelta(days=6), END
    show_period(qtbot, panel, start, end)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.set_lead_agency(Agency.CORPORATION)
    mine = expected(truths, start, end, panel.session.agency, "corporation")
    assert drawn_per_agency(panel) == {"corporation": len(mine)}


def test_an_empty_period_draws_empty_charts_without_error(
    qtbot: QtBot, panel: DashboardPanel
) -> None:
    far = END + timedelta(days=400)
    show_period(qtbot, panel, far, far + timedelta(hours=3))
    assert drawn_per_agency(panel) == {}
    assert panel.tiles["opened"].text() == "0"
    assert panel.tiles["assign"].text() == "—"
    show_period(qtbot, panel, far, far)  # a period of no length at all
    assert panel.figures is not None
    assert panel.figures.opened_per_hour.hours == ()


def test_export_png_and_csv(qtbot: QtBot, panel: DashboardPanel, tmp_path: Path) -> None:
    show_period(qtbot, panel, END - timedelta(days=6), END)
    panel.export_png(tmp_path / "d.png")
    panel.export_csv(tmp_path / "d.csv")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
    text = (tmp_path / "d.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "section,key,hour_local,hour_utc,measure,value"
    opened = sum(
        int(line.rsplit(",", 1)[1]) for line in lines if line.startswith("opened_per_hour,")
    )
    assert opened == panel.figures.opened_per_hour.total  # type: ignore[union-attr]


def test_the_figures_are_worked_out_off_the_ui_thread(
    qtbot: QtBot, panel: DashboardPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from osc_console.store import dashboard as dash

    threads: list[str] = []
    original = dash.open_by_grade

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(dash, "open_by_grade", spy)
    show_period(qtbot, panel, END - timedelta(days=1), END)
    assert threads
    assert all(name != threading.main_thread().name for name in threads)


def test_targets_come_from_the_config_folder_and_are_drawn(
    qtbot: QtBot, session: ConsoleSession, truths: dict[str, Truth], tmp_path: Path
) -> None:
    import os

    folder = Path(os.environ["OSC_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "targets.toml").write_text("[immediate]\nattend = 9\n", encoding="utf-8")
    widget = DashboardPanel(session)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.figures is not None, timeout=10_000)
    show_period(qtbot, widget, END - timedelta(days=6), END)
    attend = widget.figures.response.for_grade("attend", "immediate")  # type: ignore[union-attr]
    assert attend is not None
    assert attend.target_s == 9 * 60
    assert widget.response_bars["assign", "median"].opts["x"]  # drawn
    xs, ys = widget.target_marks.getData()
    assert list(ys[:2]) == [9.0, 9.0]  # the only target: Immediate, attend, 9 minutes
    assert len(xs) == 2


def test_a_wrong_targets_file_is_said_and_the_defaults_used(
    qtbot: QtBot, session: ConsoleSession, truths: dict[str, Truth]
) -> None:
    import os

    folder = Path(os.environ["OSC_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "targets.toml").write_text("[urgent]\nattend = 9\n", encoding="utf-8")
    widget = DashboardPanel(session)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.figures is not None, timeout=10_000)
    assert "[urgent] is not a grade" in widget.status.text()
    assert "using the default targets" in widget.status.text()
    from osc_console.store.dashboard import DEFAULT_TARGETS

    assert widget.targets is DEFAULT_TARGETS


def test_queries_are_spread_over_as_many_connections_as_the_cores_allow() -> None:
    from osc_console.ui.dashboard.panel import query_lanes

    assert query_lanes(1) == 1
    assert query_lanes(2) == 2
    assert query_lanes(4) == 3
    assert query_lanes(16) == 3


def test_the_charts_follow_a_change_of_theme(
    qtbot: QtBot, qapp: object, panel: DashboardPanel
) -> None:
    from osc_console.ui.qt import QtGui, QtWidgets
    from osc_console.ui.theme import DARK, LIGHT, apply_theme

    assert isinstance(qapp, QtWidgets.QApplication)
    style, sheet = qapp.style().name(), qapp.styleSheet()
    palette, name = QtGui.QPalette(qapp.palette()), qapp.property("osc_theme")
    try:
        apply_theme(qapp, "light")
        qtbot.waitUntil(lambda: panel._theme == "light", timeout=3000)
        for plot in panel.plots():
            assert plot.backgroundBrush().color().name() == LIGHT.base.lower()
        apply_theme(qapp, "dark")
        qtbot.waitUntil(lambda: panel._theme == "dark", timeout=3000)
        assert panel.opened_plot.backgroundBrush().color().name() == DARK.base.lower()
    finally:
        qapp.setStyle(style)
        qapp.setStyleSheet(sheet)
        qapp.setPalette(palette)
        qapp.setProperty("osc_theme", name)


def test_newer_figures_take_over_a_redraw_still_in_progress(
    qtbot: QtBot, panel: DashboardPanel, truths: dict[str, Truth]
) -> None:
    from osc_console.store import dashboard as dash

    conn = panel.session.store.conn
    day = dash.dashboard(conn, END - timedelta(days=1), END, Agency.POLICE)
    week = dash.dashboard(conn, END - timedelta(days=6), END, Agency.POLICE)
    assert day.opened_per_hour.total != week.opened_per_hour.total
    shown: list[int] = []
    panel.loaded.connect(lambda: shown.append(panel.figures.opened_per_hour.total))  # type: ignore[union-attr]
    panel.show_figures(day)  # draws its first chart, then yields to the event loop
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.show_figures(week)
    qtbot.wait(50)  # the day's remaining steps would have run by now
    assert shown == [week.opened_per_hour.total]
    assert panel.figures is week
    assert sum(drawn_per_agency(panel).values()) == week.opened_per_hour.total
    assert panel.tiles["opened"].text() == f"{week.opened_per_hour.total:,}"


def test_asking_for_another_period_stops_a_redraw_in_progress(
    qtbot: QtBot, panel: DashboardPanel, truths: dict[str, Truth]
) -> None:
    from osc_console.store import dashboard as dash

    day = dash.dashboard(panel.session.store.conn, END - timedelta(days=1), END, Agency.POLICE)
    before = panel.figures
    announced: list[object] = []
    panel.loaded.connect(lambda: announced.append(panel.figures))
    panel.show_figures(day)  # first chart drawn; the rest wait for the event loop
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.set_period(END - timedelta(days=3), END)
    qtbot.wait(50)
    assert len(announced) == 1  # only the period asked for last was announced
    assert announced[0] is panel.figures
    assert panel.figures is not day
    assert panel.figures is not before


def test_a_chart_that_cannot_be_drawn_is_said_in_the_status_line(
    qtbot: QtBot, panel: DashboardPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise ValueError("no room for the bars")

    monkeypatch.setattr(panel, "_draw_response", broken)
    panel.reload()
    qtbot.waitUntil(lambda: "Could not draw" in panel.status.text(), timeout=10_000)
    assert panel.status.text() == "Could not draw the figures: no room for the bars"


def test_a_custom_period_that_ends_before_it_starts_is_said_and_nothing_redrawn(
    qtbot: QtBot, panel: DashboardPanel
) -> None:
    from osc_console.ui.qt import QtCore

    shown = panel.figures
    panel.period.setCurrentIndex(panel.period.count() - 1)  # Custom…
    panel.period.activated.emit(panel.period.count() - 1)
    assert panel.apply_button.isEnabled()
    later = QtCore.QDateTime(QtCore.QDate(2026, 11, 20), QtCore.QTime(12, 0))
    panel.from_edit.setDateTime(later)
    panel.to_edit.setDateTime(later.addSecs(-3600))
    qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.wait(100)
    assert panel.status.text() == "The period ends before it starts: nothing to show"
    assert panel.figures is shown


def test_a_custom_period_is_drawn_from_the_from_and_to_times(
    qtbot: QtBot, panel: DashboardPanel, truths: dict[str, Truth]
) -> None:
    from osc_console.ui.qt import QtCore

    panel.period.setCurrentIndex(panel.period.count() - 1)
    panel.period.activated.emit(panel.period.count() - 1)
    panel.from_edit.setDateTime(QtCore.QDateTime(QtCore.QDate(2026, 11, 18), QtCore.QTime(12, 0)))
    panel.to_edit.setDateTime(QtCore.QDateTime(QtCore.QDate(2026, 11, 20), QtCore.QTime(12, 0)))
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        qtbot.mouseClick(panel.apply_button, QtCore.Qt.MouseButton.LeftButton)
    start = datetime(2026, 11, 18, 12, tzinfo=UTC)  # London is on GMT in November
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert panel.figures is not None
    assert panel.figures.opened_per_hour.total == len(expected(truths, start, end, Agency.POLICE))
