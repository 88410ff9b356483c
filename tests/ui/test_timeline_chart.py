"""The multi-agency timeline chart on demo data: lanes, markers, and selection both ways."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.payloads import Kind
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.ui.detail.panel import IncidentDetailPanel
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession
from osc_console.ui.timeline.layout import MarkerKind

END = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


@pytest.fixture
def demo_incident(session: ConsoleSession) -> str:
    """A joint incident that several agencies' teams worked on, from the demo generator."""
    seed_store(session.store, DemoSpec(incidents=150, days=2, seed=5, end=END))
    row = session.store.conn.execute(
        "SELECT i.id FROM incidents i WHERE i.visibility = 'joint' "
        "AND (SELECT count(DISTINCT agency) FROM assignments a WHERE a.incident_id = i.id) >= 2 "
        "ORDER BY i.log_count DESC LIMIT 1"
    ).fetchone()
    assert row is not None, "the demo data has multi-agency incidents"
    return str(row[0])


@pytest.fixture
def panel(qtbot: QtBot, session: ConsoleSession, demo_incident: str) -> IncidentDetailPanel:
    widget = IncidentDetailPanel(session)
    qtbot.addWidget(widget)
    widget.resize(1200, 900)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.show_incident(demo_incident)
    with qtbot.waitSignal(widget.chart_tab.drawn, timeout=10_000):
        widget.tabs.setCurrentWidget(widget.chart_tab)
    return widget


def test_the_chart_draws_a_lane_per_agency_and_per_assigned_team(
    panel: IncidentDetailPanel,
) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    state = panel.state
    assert state is not None
    lanes = chart.data.lanes
    teams = {lane.team for lane in lanes if lane.team is not None}
    assert teams == {a.team for a in state.assignments.values()}
    agencies = {lane.agency for lane in lanes if lane.team is None}
    assert {a.agency for a in state.assignments.values()} <= agencies
    assert len(agencies) >= 2
    # Every event the log shows is a marker, and every assignment phase a bar.
    assert {m.event.id for m in chart.data.markers} == {e.id for e in panel.model.events}
    phases = sum(
        len([p for p in ("assigned", "acknowledged", "en_route", "on_scene") if p in a.times])
        for a in state.assignments.values()
    )
    assert len(chart.data.spans) == phases
    kinds = {m.kind for m in chart.data.markers}
    assert {MarkerKind.LIFECYCLE, MarkerKind.ASSIGNMENT, MarkerKind.LOG} <= kinds


def test_clicking_a_marker_selects_that_entry_in_the_detail_list(
    qtbot: QtBot, panel: IncidentDetailPanel
) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    logs = [m for m in chart.data.markers if m.event.kind == Kind.LOG_ADDED]
    target = logs[len(logs) // 2]
    chart.plot.getPlotItem().getViewBox().setXRange(
        target.x - 120, target.x + 120, padding=0
    )  # zoomed in so no other marker shares the pixel
    qtbot.wait(50)
    point = chart.marker_position(target.event.id)
    assert point is not None
    with qtbot.waitSignal(chart.entry_clicked, timeout=3000) as clicked:
        qtbot.mouseClick(chart.plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point)
    assert clicked.args == [target.event.id]
    assert panel.current_event_id() == target.event.id
    assert panel.chart_tab.list_view.currentIndex().row() == panel.model.row_of(target.event.id)


def test_choosing_an_entry_in_the_list_rings_its_marker(panel: IncidentDetailPanel) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    row = panel.model.rowCount() - 1
    event_id = panel.model.event_at(row).id  # type: ignore[union-attr]
    panel.timeline.setCurrentIndex(panel.model.index(row))
    assert chart.selected == event_id
    ring_x, _ = chart._ring.getData()
    assert list(ring_x) == [chart.data.marker_of(event_id).x]  # type: ignore[union-attr]


def test_keyboard_zoom_and_pan_and_home_fits_everything(
    qtbot: QtBot, panel: IncidentDetailPanel
) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    box = chart.plot.getPlotItem().getViewBox()
    (x0, x1), _ = box.viewRange()
    chart.plot.setFocus()
    qtbot.keyClick(chart.plot, QtCore.Qt.Key.Key_Plus)
    (z0, z1), _ = box.viewRange()
    assert z1 - z0 < (x1 - x0) * 0.8
    qtbot.keyClick(chart.plot, QtCore.Qt.Key.Key_Right)
    (p0, _p1), _ = box.viewRange()
    assert p0 > z0
    qtbot.keyClick(chart.plot, QtCore.Qt.Key.Key_Home)
    (h0, h1), _ = box.viewRange()
    assert h0 <= chart.data.x_min
    assert h1 >= chart.data.x_max


def test_the_now_line_follows_the_clock(panel: IncidentDetailPanel) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    now = datetime.now(UTC).timestamp()
    assert abs(chart.now_line.value() - now) < 5
    assert chart._clock.isActive()


def test_a_tooltip_tells_the_entry_its_time_and_who(panel: IncidentDetailPanel) -> None:
    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    marker = next(m for m in chart.data.markers if m.event.kind == Kind.LOG_ADDED)
    tip = chart._tip(marker.x, marker.y, marker.event.id)
    assert str(marker.event.payload["text"])[:40] in tip
    assert marker.event.actor in tip
    assert marker.ref in tip


def test_export_png_and_csv(panel: IncidentDetailPanel, tmp_path: object) -> None:
    from pathlib import Path

    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    folder = Path(str(tmp_path))
    chart.export_png(folder / "t.png")
    chart.export_csv(folder / "t.csv")
    assert (folder / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = (folder / "t.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("row,incident,lane,kind")
    assert len(lines) == 1 + len(chart.data.markers) + len(chart.data.spans)


def test_empty_and_single_entry_timelines_draw_without_error(
    qtbot: QtBot, panel: IncidentDetailPanel
) -> None:
    from osc_console.ui.timeline.layout import build_timeline

    chart = panel.chart_tab.chart
    assert chart is not None
    chart.clear()  # no lanes, no markers, no bars
    assert chart.data is not None
    assert chart.data.is_empty
    (x0, x1), _ = chart.plot.getPlotItem().getViewBox().viewRange()
    assert x1 - x0 > 0
    opening = panel.model.events[:1]
    single = build_timeline([(panel.state, opening)], panel.session.store.reference, END)
    chart.set_data(single)
    (x0, x1), _ = chart.plot.getPlotItem().getViewBox().viewRange()
    assert x0 < single.markers[0].x < x1


def test_a_hidden_chart_redraws_when_shown_again_not_before(
    qtbot: QtBot, panel: IncidentDetailPanel
) -> None:
    from osc_console.services.incidents import IncidentService

    tab = panel.chart_tab
    chart = tab.chart
    assert chart is not None
    assert chart.data is not None
    before = len(chart.data.markers)
    panel.tabs.setCurrentWidget(panel.timeline)  # the operator goes back to the Log tab
    desk = IncidentService(panel.session.store, panel.session.author)
    assert panel.incident_id is not None
    with qtbot.waitSignal(panel.loaded, timeout=5000):
        panel.session.announce(desk.add_log(panel.incident_id, "New entry while hidden").changes)
    qtbot.wait(20)
    assert len(chart.data.markers) == before  # not redrawn while nobody could see it
    with qtbot.waitSignal(tab.drawn, timeout=5000):
        panel.tabs.setCurrentWidget(tab)
    assert len(chart.data.markers) == before + 1


def test_the_chart_follows_a_change_of_theme(
    qtbot: QtBot, qapp: object, panel: IncidentDetailPanel
) -> None:
    from osc_console.ui.qt import QtGui, QtWidgets
    from osc_console.ui.theme import LIGHT, apply_theme

    chart = panel.chart_tab.chart
    assert chart is not None
    assert chart.data is not None
    markers = len(chart.data.markers)
    assert isinstance(qapp, QtWidgets.QApplication)
    style, sheet = qapp.style().name(), qapp.styleSheet()
    palette, name = QtGui.QPalette(qapp.palette()), qapp.property("osc_theme")
    try:
        apply_theme(qapp, "light")
        qtbot.waitUntil(lambda: chart._theme == "light", timeout=3000)
        assert chart.plot.backgroundBrush().color().name() == LIGHT.base.lower()
        assert len(chart.data.markers) == markers  # redrawn, nothing lost
    finally:
        qapp.setStyle(style)
        qapp.setStyleSheet(sheet)
        qapp.setPalette(palette)
        qapp.setProperty("osc_theme", name)


def test_faint_grid_lines_are_drawn_solid_in_the_colour_they_would_show(qtbot: QtBot) -> None:
    """A translucent line is slow to draw; the solid one must look the same on screen."""
    import pyqtgraph as pg

    from osc_console.ui.qt import QtGui
    from osc_console.ui.timeline.chart import FlatGridAxis, paint_plot

    def grid_pixels(axis: pg.AxisItem) -> set[tuple[int, int, int]]:
        widget = pg.PlotWidget(axisItems={"left": axis})
        qtbot.addWidget(widget)
        paint_plot(widget)
        widget.resize(400, 300)
        widget.getPlotItem().showGrid(x=False, y=True, alpha=0.15)
        widget.getPlotItem().getViewBox().setYRange(0, 10, padding=0)
        widget.show()
        image = widget.grab().toImage()
        background = QtGui.QColor(widget.backgroundBrush().color()).rgb()
        column = image.width() - 40  # inside the view, clear of the axis
        return {
            QtGui.QColor(image.pixel(column, y)).getRgb()[:3]
            for y in range(image.height())
            if image.pixel(column, y) != background
        }

    faded = grid_pixels(pg.AxisItem("left"))
    solid = grid_pixels(FlatGridAxis("left"))
    assert faded, "the grid shows"

    def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
        return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 2

    # Every colour one draws, the other draws too (within 8-bit rounding of the blend).
    assert all(any(near(a, b) for b in solid) for a in faded)
    assert all(any(near(b, a) for a in faded) for b in solid)

    axis = FlatGridAxis("left")
    widget = pg.PlotWidget(axisItems={"left": axis})
    qtbot.addWidget(widget)
    widget.getPlotItem().showGrid(y=True, alpha=0.15)
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    _, ticks, _ = axis.generateDrawSpecs(painter)
    painter.end()
    assert ticks
    assert all(pen.color().alpha() == 255 for pen, _, _ in ticks)


def test_grid_lines_pass_beneath_the_data_never_across_it(qtbot: QtBot) -> None:
    import pyqtgraph as pg

    from osc_console.ui.qt import QtGui
    from osc_console.ui.timeline.chart import FlatGridAxis, paint_plot

    widget = pg.PlotWidget(axisItems={"left": FlatGridAxis("left")})
    qtbot.addWidget(widget)
    paint_plot(widget)
    widget.resize(400, 300)
    item = widget.getPlotItem()
    item.showGrid(x=False, y=True, alpha=0.15)
    item.addItem(pg.BarGraphItem(x=[5], height=[10], width=10, brush="#3DBE7A", pen=None))
    item.getViewBox().setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    widget.show()
    image = widget.grab().toImage()
    column = image.width() - 60  # inside the view, where the bar covers everything
    colours = {QtGui.QColor(image.pixel(column, y)).name() for y in range(40, image.height() - 60)}
    assert colours == {"#3dbe7a"}
