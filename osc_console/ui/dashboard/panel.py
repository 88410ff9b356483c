"""The control-room dashboard tab: the room's figures over a chosen period and lead agency.

Every figure comes from ``store.dashboard`` (GROUP BY queries, never event by event), run on
the database worker; the UI thread only draws. Charts are built once and updated with
``setData``/``setOpts`` when the period or agency changes (STYLE.md), so a redraw is a few
tens of milliseconds however many incidents the period holds. An answer that arrives after
the operator has already asked for another period is dropped.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import shiboken6

from osc_console.models.agencies import Agency
from osc_console.models.clock import LONDON
from osc_console.models.errors import ValidationError
from osc_console.models.incident import Grade
from osc_console.reports.dashboard_csv import dashboard_csv
from osc_console.services.targets import configured_targets
from osc_console.store import dashboard as dash
from osc_console.ui.exporting import ask_and_write
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import GRADE_BADGES, after_theme_change, agency_colour, current_palette
from osc_console.ui.timeline.chart import FlatGridAxis, LondonTimeAxis, paint_plot

import pyqtgraph as pg  # isort: skip  (after PySide6)

Qt = QtCore.Qt
log = logging.getLogger(__name__)

PERIODS = (
    ("Last 24 hours", timedelta(hours=24)),
    ("Last 7 days", timedelta(days=7)),
    ("Last 30 days", timedelta(days=30)),
)
_NOT_GRADED = "#8B8D98"
_COUNCIL = "#B07CFF"  # council-priority incidents: not one of the police grades' colours


def grade_colour(grade: str | None) -> str:
    if grade is None:
        return _COUNCIL
    badge = GRADE_BADGES.get(grade)
    return badge.colour if badge else _NOT_GRADED


def grade_name(grade: str | None) -> str:
    if grade is None:
        return "Council priority"  # council incidents carry a priority, not a police grade
    try:
        return Grade(grade).label
    except ValueError:
        return grade


def agency_name(agency: str | None) -> str:
    short = {"police": "Police", "corporation": "Corporation", "fire": "Fire"}
    return short.get(agency or "", (agency or "unknown").title())


@dataclass(frozen=True, slots=True)
class Timing:
    """How long the last refresh took: on the worker, and on the UI thread to draw."""

    compute_ms: float
    draw_ms: float


class ChartCard(QtWidgets.QFrame):
    """A titled card around one plot."""

    def __init__(self, title: str, plot: QtWidgets.QWidget, note: str = "") -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.setStyleSheet("QLabel { background: transparent; }")  # the card's colour shows
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        heading = QtWidgets.QLabel(f"<b>{title}</b>")
        heading.setAccessibleName(title)
        layout.addWidget(heading)
        if note:
            caption = QtWidgets.QLabel(note)
            caption.setProperty("role", "muted")
            caption.setWordWrap(True)
            layout.addWidget(caption)
        layout.addWidget(plot, 1)


def _plot(*, date_axis: bool = False) -> pg.PlotWidget:
    bottom = LondonTimeAxis if date_axis else FlatGridAxis
    axes = {"left": FlatGridAxis(orientation="left"), "bottom": bottom(orientation="bottom")}
    widget = pg.PlotWidget(axisItems=axes)
    paint_plot(widget)
    item = widget.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    item.showGrid(x=False, y=True, alpha=0.15)
    widget.setMinimumHeight(140)
    return widget


class DashboardPanel(QtWidgets.QWidget):
    # The figures of a refresh reached the screen (all charts drawn).
    loaded = QtCore.Signal()

    def __init__(
        self,
        session: ConsoleSession,
        parent: QtWidgets.QWidget | None = None,
        *,
        targets: Mapping[str, dash.ResponseTarget] | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.setAccessibleName("Dashboard")
        self.targets_problem = ""
        if targets is None:
            try:
                targets = configured_targets()
            except ValidationError as exc:  # a wrong targets.toml: say so, use the defaults
                self.targets_problem = f"{exc} — using the default targets."
                targets = dash.DEFAULT_TARGETS
        self.targets = targets
        self.figures: dash.Dashboard | None = None
        self._draw_token = 0
        self.timing: Timing | None = None
        self.start, self.end = self._default_period()
        self.lead_agency: Agency | None = None
        self._token = 0
        self._theme = current_palette().name
        self._build_controls()
        self._build_charts()
        self.reload()

    # ---- construction --------------------------------------------------------------------
    @staticmethod
    def _default_period() -> tuple[datetime, datetime]:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return end - timedelta(days=7), end

    def _build_controls(self) -> None:
        self.period = QtWidgets.QComboBox()
        self.period.setAccessibleName("Period")
        for label, length in PERIODS:
            self.period.addItem(label, length)
        self.period.addItem("Custom…", None)
        self.period.setCurrentIndex(1)
        self.period.activated.connect(self._period_chosen)
        self.from_edit = QtWidgets.QDateTimeEdit()
        self.to_edit = QtWidgets.QDateTimeEdit()
        for edit, name in ((self.from_edit, "From"), (self.to_edit, "To")):
            edit.setAccessibleName(f"{name} (London time)")
            edit.setDisplayFormat("dd MMM yyyy HH:mm")
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._apply_custom)
        self.agency = QtWidgets.QComboBox()
        self.agency.setAccessibleName("Lead agency")
        self.agency.addItem("All agencies", None)
        for agency in Agency:
            self.agency.addItem(agency.label, agency.value)
        self.agency.activated.connect(self._agency_chosen)
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.png_button.clicked.connect(
            lambda: ask_and_write(
                self, "Export dashboard as PNG", "dashboard.png", "PNG (*.png)", self.export_png
            )
        )
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.csv_button.clicked.connect(
            lambda: ask_and_write(
                self, "Export dashboard figures", "dashboard.csv", "CSV (*.csv)", self.export_csv
            )
        )
        self.status = QtWidgets.QLabel()
        self.status.setProperty("role", "muted")
        self.status.setAccessibleName("Dashboard status")

        bar = QtWidgets.QHBoxLayout()
        for label, widget in (
            ("Period", self.period),
            ("From", self.from_edit),
            ("to", self.to_edit),
        ):
            caption = QtWidgets.QLabel(label)
            caption.setProperty("role", "muted")
            bar.addWidget(caption)
            bar.addWidget(widget)
        bar.addWidget(self.apply_button)
        bar.addSpacing(12)
        caption = QtWidgets.QLabel("Lead agency")
        caption.setProperty("role", "muted")
        bar.addWidget(caption)
        bar.addWidget(self.agency)
        bar.addStretch(1)
        bar.addWidget(self.status)
        for button in (self.refresh_button, self.png_button, self.csv_button):
            bar.addWidget(button)
        self._controls = bar

        self.tiles: dict[str, QtWidgets.QLabel] = {}
        tiles = QtWidgets.QHBoxLayout()
        for key, title in (
            ("opened", "Incidents opened"),
            ("open", "Open at the end"),
            ("assign", "Immediate: median to assign"),
            ("attend", "Immediate: attended in target"),
            ("repeat", "Repeat locations"),
        ):
            card = QtWidgets.QFrame()
            card.setProperty("role", "card")
            card.setStyleSheet("QLabel { background: transparent; }")
            inner = QtWidgets.QVBoxLayout(card)
            inner.setContentsMargins(12, 6, 12, 6)
            value = QtWidgets.QLabel("—")
            value.setStyleSheet("font-size: 20pt; font-weight: 700; background: transparent;")
            value.setAccessibleName(title)
            caption = QtWidgets.QLabel(title)
            caption.setProperty("role", "muted")
            inner.addWidget(value)
            inner.addWidget(caption)
            tiles.addWidget(card)
            self.tiles[key] = value
        self._tiles = tiles

    def _build_charts(self) -> None:
        self.opened_plot = _plot(date_axis=True)
        self.opened_bars: dict[str, pg.BarGraphItem] = {}
        self.opened_plot.getPlotItem().addLegend(**_legend())
        self.open_plot = _plot(date_axis=True)
        self.open_lines: dict[str, pg.PlotDataItem] = {}
        self.open_plot.getPlotItem().addLegend(**_legend())
        self.response_plot = _plot()
        self.response_bars = {
            (measure, stat): pg.BarGraphItem(x=[], height=[], width=0.18)
            for measure in ("assign", "attend")
            for stat in ("median", "p90")
        }
        response_item = self.response_plot.getPlotItem()
        response_item.addLegend(**_legend(columns=5))
        shades = {
            ("assign", "median"): "#5B9DFF",
            ("assign", "p90"): "#A9C8FF",
            ("attend", "median"): "#3DBE7A",
            ("attend", "p90"): "#9FE0BC",
        }
        for key, bar in self.response_bars.items():
            bar.setOpts(brush=pg.mkBrush(shades[key]), pen=pg.mkPen(None))
            response_item.addItem(bar)
            response_item.legend.addItem(bar, f"{key[1]} to {key[0]}".replace("p90", "90th pct"))
        self.target_marks = pg.PlotDataItem(
            [], [], connect="pairs", pen=pg.mkPen(current_palette().danger, width=3)
        )
        response_item.addItem(self.target_marks)
        response_item.legend.addItem(self.target_marks, "target")
        response_item.setLabel("left", "minutes", color=current_palette().muted)
        self.category_plot = _plot()
        self.category_bars = pg.BarGraphItem(x0=[], width=[], y=[], height=0.7)
        self.category_plot.getPlotItem().addItem(self.category_bars)
        self.category_plot.getPlotItem().getViewBox().invertY(True)
        self.hotspot_plot = _plot()
        self.hotspot_bars = pg.BarGraphItem(x0=[], width=[], y=[], height=0.7)
        self.hotspot_plot.getPlotItem().addItem(self.hotspot_bars)
        self.hotspot_plot.getPlotItem().getViewBox().invertY(True)
        for plot in (self.category_plot, self.hotspot_plot):
            plot.getPlotItem().getAxis("left").setWidth(190)
            plot.getPlotItem().showGrid(x=True, y=False, alpha=0.15)
        self.repeat_table = QtWidgets.QTableWidget(0, 4)
        self.repeat_table.setAccessibleName("Repeat locations")
        self.repeat_table.setHorizontalHeaderLabels(["Location", "Incidents", "First", "Last"])
        self.repeat_table.verticalHeader().setVisible(False)
        self.repeat_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        # Not ResizeToContents: that measures every row again at each cell set (quadratic);
        # the columns are fitted once per refresh instead.
        header = self.repeat_table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)

        grid = QtWidgets.QGridLayout()
        grid.setSpacing(8)
        grid.addWidget(
            ChartCard("Incidents opened per hour, by lead agency", self.opened_plot), 0, 0, 1, 2
        )
        grid.addWidget(
            ChartCard("Open incidents by grade (at each hour)", self.open_plot), 0, 2, 1, 2
        )
        grid.addWidget(
            ChartCard(
                "Time to assign and to attend by grade",
                self.response_plot,
                "Median and 90th percentile; red marks are the targets",
            ),
            1,
            0,
            1,
            2,
        )
        grid.addWidget(ChartCard("Busiest categories", self.category_plot), 1, 2)
        grid.addWidget(ChartCard("Hotspots", self.hotspot_plot), 1, 3)
        grid.addWidget(ChartCard("Repeat locations (3 or more)", self.repeat_table), 2, 0, 1, 4)
        for column in range(4):
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 5)
        grid.setRowStretch(1, 6)
        grid.setRowStretch(2, 3)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(self._controls)
        layout.addLayout(self._tiles)
        layout.addLayout(grid, 1)

    def plots(self) -> tuple[pg.PlotWidget, ...]:
        return (
            self.opened_plot,
            self.open_plot,
            self.response_plot,
            self.category_plot,
            self.hotspot_plot,
        )

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        after_theme_change(self, event, self.follow_theme)

    def follow_theme(self) -> None:
        """Redraw in the theme now in use (dark in the control room, light for printing)."""
        palette = current_palette()
        if palette.name == self._theme:
            return
        self._theme = palette.name
        for plot in self.plots():
            paint_plot(plot)
            legend = plot.getPlotItem().legend
            if legend is not None:
                style = _legend()
                legend.setLabelTextColor(style["labelTextColor"])
                legend.setBrush(style["brush"])
        self.target_marks.setPen(pg.mkPen(palette.danger, width=3))

    # ---- choosing the period and agency -----------------------------------------------------
    def set_period(self, start: datetime, end: datetime) -> None:
        """Show another period (aware datetimes, any zone); the figures follow off-thread."""
        self.start, self.end = start, end
        self.period.setCurrentIndex(self.period.count() - 1)
        self._show_period_in_edits()
        self.reload()

    def set_lead_agency(self, agency: Agency | None) -> None:
        self.lead_agency = agency
        self.agency.setCurrentIndex(self.agency.findData(agency.value if agency else None))
        self.reload()

    def _period_chosen(self, index: int) -> None:
        length = self.period.itemData(index)
        custom = length is None
        for widget in (self.from_edit, self.to_edit, self.apply_button):
            widget.setEnabled(custom)
        if custom:
            self._show_period_in_edits()
            return
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        self.start, self.end = end - length, end
        self.reload()

    def _show_period_in_edits(self) -> None:
        for edit, moment in ((self.from_edit, self.start), (self.to_edit, self.end)):
            local = moment.astimezone(LONDON)
            edit.setDateTime(
                QtCore.QDateTime(
                    QtCore.QDate(local.year, local.month, local.day),
                    QtCore.QTime(local.hour, local.minute),
                )
            )

    def _apply_custom(self) -> None:
        def read(edit: QtWidgets.QDateTimeEdit) -> datetime:
            value = edit.dateTime()
            d, t = value.date(), value.time()
            return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=LONDON)

        start, end = read(self.from_edit), read(self.to_edit)
        if end <= start:  # the figures on screen stay those of the period before
            self.status.setText("The period ends before it starts: nothing to show")
            return
        self.start, self.end = start, end
        self.reload()

    def _agency_chosen(self, index: int) -> None:
        value = self.agency.itemData(index)
        self.lead_agency = Agency(value) if value else None
        self.reload()

    # ---- figures -------------------------------------------------------------------------
    def reload(self) -> None:
        self._token += 1
        token = self._token
        self._draw_token += 1  # a redraw still in progress stops: its figures are stale
        start, end, viewer, lead = self.start, self.end, self.session.agency, self.lead_agency
        targets = self.targets
        lanes = query_lanes()
        self.status.setText("Working out the figures…")
        asked = time.perf_counter()

        def work(store):  # on the database worker (and two helper threads): nothing drawn
            return dash.dashboard_concurrently(
                store.read_connections(lanes), start, end, viewer, lead, targets=targets
            )

        def done(figures: dash.Dashboard) -> None:
            if not shiboken6.isValid(self) or token != self._token:
                return  # the operator has asked for another period since
            computed = (time.perf_counter() - asked) * 1000
            self.show_figures(figures, compute_ms=computed)

        def failed(message: str) -> None:
            if shiboken6.isValid(self) and token == self._token:
                self.status.setText(f"Could not work out the figures: {message}")

        self.session.read(work, done, failed)

    def show_figures(self, figures: dash.Dashboard, *, compute_ms: float = 0.0) -> None:
        """Draw the figures one chart per pass of the event loop, then say ``loaded``.

        Each chart is updated, and so painted, in its own pass: the UI thread is never held
        for the whole redraw (painting all five charts at once kept it 54-76 ms; bench/
        dashboard_ui_bench.py). Figures that arrive while older ones are still being drawn
        take over at once, and asking for another period stops a redraw in progress: the
        older ones stop where they are. A step that fails says so in the status line.
        """
        self._draw_token += 1
        drawing = self._draw_token
        categories = self.session.store.reference.categories

        def last() -> None:
            self._draw_repeats(figures.repeats)
            self._draw_tiles(figures)

        steps: list[Callable[[], None]] = [
            lambda: self._draw_opened(figures.opened_per_hour),
            lambda: self._draw_open(figures.open_by_grade),
            lambda: self._draw_response(figures.response),
            lambda: self._draw_ranked(
                self.category_plot,
                self.category_bars,
                figures.categories,
                "#5B9DFF",
                lambda code: categories[code].name if code in categories else code,
            ),
            lambda: self._draw_ranked(
                self.hotspot_plot, self.hotspot_bars, figures.hotspots, "#E5484D", lambda n: n
            ),
            last,
        ]
        spent = 0.0

        def step(index: int) -> None:
            nonlocal spent
            if not shiboken6.isValid(self) or self._draw_token != drawing:
                return  # newer figures are being drawn, or asked for, instead
            started = time.perf_counter()
            try:
                steps[index]()
            except Exception as exc:  # an exception escaping a Qt timer is lost: say it
                log.exception("the dashboard could not draw its figures")
                self.status.setText(f"Could not draw the figures: {exc}")
                return
            spent += time.perf_counter() - started
            if index + 1 < len(steps):
                QtCore.QTimer.singleShot(0, self, lambda: step(index + 1))
            else:
                self._drawn(figures, compute_ms, spent * 1000)

        step(0)

    def _drawn(self, figures: dash.Dashboard, compute_ms: float, draw_ms: float) -> None:
        self.figures = figures  # the figures on screen (and what Export CSV writes)
        self.timing = Timing(compute_ms, draw_ms)
        start = figures.start.astimezone(LONDON)
        end = figures.end.astimezone(LONDON)
        self.status.setText(
            f"{start:%d %b %Y %H:%M} – {end:%d %b %Y %H:%M %Z}"
            + (f" · {self.targets_problem}" if self.targets_problem else "")
        )
        self.status.setToolTip(
            f"Figures worked out in {compute_ms:.0f} ms, drawn in {draw_ms:.0f} ms"
        )
        self.loaded.emit()

    def _draw_opened(self, hourly: dash.HourlySeries) -> None:
        item = self.opened_plot.getPlotItem()
        xs = [h.timestamp() for h in hourly.hours]
        base = [0] * len(xs)
        keys = set()
        for series in hourly.series:
            key = series.key or "unknown"
            keys.add(key)
            bar = self.opened_bars.get(key)
            if bar is None:
                bar = pg.BarGraphItem(x0=[], width=[], y0=[], height=[])
                bar.setOpts(brush=pg.mkBrush(agency_colour(key)), pen=pg.mkPen(None))
                item.addItem(bar)
                item.legend.addItem(bar, agency_name(key))
                self.opened_bars[key] = bar
            bar.setOpts(
                x0=xs, width=[3600 * 0.85] * len(xs), y0=list(base), height=list(series.counts)
            )
            base = [b + c for b, c in zip(base, series.counts, strict=True)]
        for key, bar in self.opened_bars.items():
            if key not in keys:
                bar.setOpts(x0=[], width=[], y0=[], height=[])
        self._fit_time(item, xs, max(base, default=0))

    def _draw_open(self, hourly: dash.HourlySeries) -> None:
        item = self.open_plot.getPlotItem()
        xs = [h.timestamp() for h in hourly.hours]
        keys = set()
        top = 0
        for series in hourly.series:
            key = series.key or "none"
            keys.add(key)
            line = self.open_lines.get(key)
            if line is None:
                line = pg.PlotDataItem([], [], pen=pg.mkPen(grade_colour(series.key), width=2))
                item.addItem(line)
                item.legend.addItem(line, grade_name(series.key))
                self.open_lines[key] = line
            line.setData(xs, list(series.counts))
            top = max(top, max(series.counts, default=0))
        for key, line in self.open_lines.items():
            if key not in keys:
                line.setData([], [])
        self._fit_time(item, xs, top)

    @staticmethod
    def _fit_time(item: pg.PlotItem, xs: list[float], top: float) -> None:
        # An empty period still shows a sensible, finite frame: never a zero-width range.
        if xs:
            item.getViewBox().setXRange(xs[0], xs[-1] + 3600, padding=0.01)
        item.getViewBox().setYRange(0, max(top, 1) * 1.1, padding=0)

    def _draw_response(self, response: dash.ResponseTimes) -> None:
        grades = sorted(
            {s.grade for s in (*response.assign, *response.attend)},
            key=lambda g: (Grade(g).rank if g in {x.value for x in Grade} else 99, g or ""),
        )
        offsets = {
            ("assign", "median"): -0.3,
            ("assign", "p90"): -0.1,
            ("attend", "median"): 0.1,
            ("attend", "p90"): 0.3,
        }
        top = 1.0
        for (measure, stat), bar in self.response_bars.items():
            xs, heights = [], []
            for i, grade in enumerate(grades):
                found = response.for_grade(measure, grade)
                value = (found.median_s if stat == "median" else found.p90_s) if found else None
                if value is not None:
                    xs.append(i + offsets[measure, stat])
                    heights.append(value / 60)
            bar.setOpts(x=xs, height=heights, width=0.18)
            top = max(top, *heights) if heights else top
        marks_x, marks_y = [], []
        for i, grade in enumerate(grades):
            for measure, centre in (("assign", -0.2), ("attend", 0.2)):
                found = response.for_grade(measure, grade)
                if found is not None and found.target_s is not None:
                    marks_x += [i + centre - 0.2, i + centre + 0.2]
                    marks_y += [found.target_s / 60] * 2
                    top = max(top, found.target_s / 60)
        self.target_marks.setData(marks_x, marks_y)
        item = self.response_plot.getPlotItem()
        short = {Grade.RESOLUTION_WITHOUT_DEPLOYMENT.value: "No deployment"}  # fits the axis
        item.getAxis("bottom").setTicks(
            [[(i, short.get(g or "", grade_name(g))) for i, g in enumerate(grades)], []]
        )
        item.getViewBox().setXRange(-0.6, max(len(grades), 1) - 0.4, padding=0)
        item.getViewBox().setYRange(0, top * 1.1, padding=0)

    @staticmethod
    def _draw_ranked(
        plot: pg.PlotWidget,
        bars: pg.BarGraphItem,
        ranked: tuple[dash.Ranked, ...],
        colour: str,
        label: Callable[[str], str],
    ) -> None:
        item = plot.getPlotItem()
        counts = [r.count for r in ranked]
        bars.setOpts(
            x0=[0] * len(ranked),
            width=counts,
            y=list(range(len(ranked))),
            height=0.7,
            brush=pg.mkBrush(colour),
            pen=pg.mkPen(None),
        )
        labels = []
        for i, r in enumerate(ranked):
            name = label(r.name) if r.name else "not recorded"
            labels.append((i, name if len(name) <= 24 else name[:23] + "…"))
        item.getAxis("left").setTicks([labels, []])
        item.getViewBox().setYRange(-0.6, max(len(ranked), 1) - 0.4, padding=0)
        item.getViewBox().setXRange(0, max(counts, default=1) * 1.08, padding=0)

    def _draw_repeats(self, repeats: tuple[dash.RepeatLocation, ...]) -> None:
        table = self.repeat_table
        table.setUpdatesEnabled(False)
        table.setRowCount(len(repeats))
        for row, repeat in enumerate(repeats):
            values = (
                repeat.location,
                str(repeat.count),
                _local(repeat.first_opened_at),
                _local(repeat.last_opened_at),
            )
            for column, value in enumerate(values):
                cell = QtWidgets.QTableWidgetItem(value)
                if column == 1:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, column, cell)
        for column in range(1, table.columnCount()):
            table.resizeColumnToContents(column)
        table.setUpdatesEnabled(True)

    def _draw_tiles(self, figures: dash.Dashboard) -> None:
        opened = figures.opened_per_hour.total
        open_now = sum(s.counts[-1] for s in figures.open_by_grade.series if s.counts)
        assign = figures.response.for_grade("assign", Grade.IMMEDIATE.value)
        attend = figures.response.for_grade("attend", Grade.IMMEDIATE.value)
        share = attend.share_met if attend is not None else None
        self.tiles["opened"].setText(f"{opened:,}")
        self.tiles["open"].setText(f"{open_now:,}")
        self.tiles["assign"].setText(
            _duration(assign.median_s) if assign and assign.median_s is not None else "—"
        )
        self.tiles["attend"].setText("—" if share is None else f"{share:.0%}")
        self.tiles["repeat"].setText(f"{len(figures.repeats):,}")

    # ---- export --------------------------------------------------------------------------
    def export_png(self, path: Path) -> None:
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def export_csv(self, path: Path) -> None:
        if self.figures is None:
            raise ValueError("the figures are not ready yet")
        path.write_text(dashboard_csv(self.figures), encoding="utf-8", newline="")


def query_lanes(cores: int | None = None) -> int:
    """How many connections the dashboard's queries are spread over.

    Three (response times, places, running totals) when the workstation has the cores for
    them beside the UI thread; two on a two-core machine, where measured (bench/
    dashboard_ui_bench.py, 100,000 incidents) the two heavy groups side by side drew every
    chart in 257-324 ms against 280-421 ms in turn, with no longer UI-thread stalls.
    """
    count = cores if cores is not None else (os.cpu_count() or 1)
    return 3 if count >= 4 else 2 if count >= 2 else 1


def _legend(columns: int = 6) -> dict[str, object]:
    """A legend in one row along the top, on a backing so it never hides the bars under it."""
    palette = current_palette()
    backing = QtGui.QColor(palette.base)
    backing.setAlpha(215)
    return {
        "offset": (8, 2),
        "colCount": columns,
        "labelTextColor": palette.text,
        "brush": pg.mkBrush(backing),
    }


def _local(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(LONDON)
    except ValueError:
        return iso
    return moment.strftime("%d %b %H:%M")


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1:
        return f"{seconds:.0f} s"
    if minutes < 90:
        return f"{minutes:.1f} min"
    return f"{minutes / 60:.1f} h"
