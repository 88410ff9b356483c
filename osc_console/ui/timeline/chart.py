"""The multi-agency timeline chart (pyqtgraph): swim-lanes, markers, assignment bars, "now".

Plot items are made once and updated with ``setData`` (STYLE.md): one scatter per marker
shape, one bar item per assignment phase, so an incident with thousands of entries redraws
in a few milliseconds. Mouse: drag to pan, wheel to zoom the time axis; keyboard: arrows pan,
+ and - zoom, Home fits everything. A click on a marker emits :attr:`entry_clicked` with the
entry's event id; :meth:`select` rings the marker of an entry chosen elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from osc_console.models.clock import LONDON
from osc_console.models.events import Event
from osc_console.ui.exporting import ask_and_write
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.theme import after_theme_change, agency_colour, current_palette
from osc_console.ui.timeline.layout import (
    PHASES,
    Marker,
    MarkerKind,
    TimelineData,
    timeline_csv,
)

import numpy as np  # isort: skip  (after PySide6, as pyqtgraph must be)
import pyqtgraph as pg  # isort: skip

Qt = QtCore.Qt

# Shapes by kind (colour says the agency; shape says what kind of entry it is).
SYMBOLS = {
    MarkerKind.LOG: "o",
    MarkerKind.ASSIGNMENT: "t1",
    MarkerKind.CHANGE: "s",
    MarkerKind.DECISION: "d",
    MarkerKind.LIFECYCLE: "star",
    MarkerKind.LINK: "h",
    MarkerKind.OTHER: "x",
}
LEGEND = (
    ("●", "log"),
    ("▲", "assignment"),
    ("■", "grade / status change"),
    ("◆", "decision"),
    ("★", "opened / closed"),
    ("⬢", "linked"),
)
# Later phases are drawn more solid: assigned is faint, on scene is full colour.
_PHASE_ALPHA = dict(zip(PHASES, (70, 120, 170, 235), strict=True))
_MARKER_SIZE = 11


def paint_plot(widget: pg.PlotWidget) -> None:
    """The plot's background and axes in the current theme's colours."""
    palette = current_palette()
    widget.setBackground(palette.base)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTextPen(pg.mkPen(palette.text))
        axis.setPen(pg.mkPen(palette.border))
        # Beneath the view and so beneath the data: the grid lines an axis draws across the
        # view must never cross a bar, a line or the legend (pyqtgraph puts axes above).
        axis.setZValue(-200)


class FlatGridAxis(pg.AxisItem):  # type: ignore[misc]
    """An axis whose faint ticks and grid lines are drawn in solid colours.

    pyqtgraph fades minor ticks and grid lines by their alpha; Qt's raster engine draws a
    long translucent line about 30 times slower than a solid one (54 grid lines across a
    dashboard chart took 20 ms against 0.7 ms). The same colour laid over the plot's flat
    background looks the same, so each faded pen is given that colour, fully opaque.
    """

    def generateDrawSpecs(self, p):  # pyqtgraph names and types it
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        background = QtGui.QColor(current_palette().base)
        return axis, [(_over(pen, background), a, b) for pen, a, b in ticks], texts


def _over(pen: QtGui.QPen, background: QtGui.QColor) -> QtGui.QPen:
    colour = pen.color()
    alpha = colour.alphaF()
    if alpha >= 1.0:
        return pen
    solid = QtGui.QPen(pen)
    solid.setColor(
        QtGui.QColor.fromRgbF(
            colour.redF() * alpha + background.redF() * (1 - alpha),
            colour.greenF() * alpha + background.greenF() * (1 - alpha),
            colour.blueF() * alpha + background.blueF() * (1 - alpha),
        )
    )
    return solid


class LondonTimeAxis(FlatGridAxis, pg.DateAxisItem):  # type: ignore[misc]
    """A date axis in Europe/London time (GMT or BST, whichever the shown range is in)."""

    def _follow_london(self, seconds: float) -> None:
        try:
            offset = datetime.fromtimestamp(seconds, UTC).astimezone(LONDON).utcoffset()
        except (OverflowError, OSError, ValueError):
            return
        # pyqtgraph counts the offset in seconds *west* of UTC, as time.timezone does.
        self.utcOffset = -int(offset.total_seconds()) if offset is not None else 0

    def tickValues(self, low, high, size):
        self._follow_london((low + high) / 2)
        return super().tickValues(low, high, size)

    def tickStrings(self, values, scale, spacing):
        if values:
            self._follow_london(values[len(values) // 2])
        return super().tickStrings(values, scale, spacing)


class TimelinePlot(pg.PlotWidget):  # type: ignore[misc]
    """The plot, with keyboard zoom and pan (the mouse ones are pyqtgraph's)."""

    fit_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, axisItems={"bottom": LondonTimeAxis(orientation="bottom")})
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Multi-agency timeline chart")

    def zoom(self, factor: float) -> None:
        box = self.getPlotItem().getViewBox()
        (x0, x1), _ = box.viewRange()
        middle, half = (x0 + x1) / 2, (x1 - x0) / 2 * factor
        box.setXRange(middle - half, middle + half, padding=0)

    def pan(self, share: float) -> None:
        box = self.getPlotItem().getViewBox()
        (x0, x1), _ = box.viewRange()
        step = (x1 - x0) * share
        box.setXRange(x0 + step, x1 + step, padding=0)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(0.7)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom(1 / 0.7)
        elif key == Qt.Key.Key_Left:
            self.pan(-0.15)
        elif key == Qt.Key.Key_Right:
            self.pan(0.15)
        elif key in (Qt.Key.Key_Home, Qt.Key.Key_0):
            self.fit_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


class TimelineChart(QtWidgets.QWidget):
    """Swim-lanes per agency and team for one incident or several linked ones."""

    entry_clicked = QtCore.Signal(str)  # event id
    drawn = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Multi-agency timeline")
        self.data: TimelineData | None = None
        self._describe: Callable[[Event], str] = lambda e: e.kind
        self._texts: dict[str, str] = {}
        self._selected: str | None = None
        palette = current_palette()

        self.plot = TimelinePlot()
        paint_plot(self.plot)
        self._theme = palette.name
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=False, alpha=0.18)
        item.setMenuEnabled(False)
        item.hideButtons()
        box = item.getViewBox()
        box.invertY(True)
        box.setMouseEnabled(x=True, y=False)
        item.getAxis("left").setWidth(200)
        item.getAxis("bottom").setLabel("Europe/London time")

        self._bands: list[pg.LinearRegionItem] = []
        self._bars = {phase: pg.BarGraphItem(x0=[], x1=[], y=[], height=0.5) for phase in PHASES}
        for bar in self._bars.values():
            bar.setZValue(1)
            item.addItem(bar)
        # One scatter per (shape, agency): a single symbol and brush each, pyqtgraph's fast
        # path (per-point brushes cost more than drawing). Made when first needed.
        self._scatters: dict[tuple[str, str], pg.ScatterPlotItem] = {}
        self._ring = pg.ScatterPlotItem(
            size=22, symbol="o", brush=None, pen=pg.mkPen(palette.accent, width=3), pxMode=True
        )
        self._ring.setZValue(4)
        item.addItem(self._ring)
        self.now_line = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(palette.danger, width=2, style=Qt.PenStyle.DashLine),
            label="now",
            labelOpts={"position": 0.02, "color": palette.danger},
        )
        self.now_line.setZValue(5)
        item.addItem(self.now_line)

        self.title = QtWidgets.QLabel()
        self.title.setProperty("role", "title")
        self.title.setAccessibleName("Timeline title")
        self.summary = QtWidgets.QLabel()
        self.summary.setProperty("role", "muted")
        legend = QtWidgets.QLabel("   ".join(f"{glyph} {text}" for glyph, text in LEGEND))
        legend.setProperty("role", "muted")
        legend.setToolTip(
            "Colour is the agency. Bars are assignments: faint when assigned, "
            "stronger when acknowledged and en route, solid on scene."
        )
        self.fit_button = QtWidgets.QPushButton("Fit")
        self.fit_button.setToolTip("Show everything (Home)")
        self.fit_button.clicked.connect(self.fit)
        zoom_in = QtWidgets.QPushButton("+")
        zoom_in.setToolTip("Zoom in (+)")
        zoom_in.clicked.connect(lambda: self.plot.zoom(0.7))
        zoom_out = QtWidgets.QPushButton("−")
        zoom_out.setToolTip("Zoom out (-)")
        zoom_out.clicked.connect(lambda: self.plot.zoom(1 / 0.7))
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.png_button.clicked.connect(self._ask_png)
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self._ask_csv)
        self.plot.fit_requested.connect(self.fit)

        self.controls = QtWidgets.QHBoxLayout()
        self.controls.addWidget(self.title)
        self.controls.addStretch(1)
        for button in (self.fit_button, zoom_in, zoom_out, self.png_button, self.csv_button):
            self.controls.addWidget(button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.controls)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(legend)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)

        self._clock = QtCore.QTimer(self)
        self._clock.timeout.connect(self._move_now)
        self._clock.start(1000)
        self._move_now()

    # ---- data ----------------------------------------------------------------------------
    def set_data(self, data: TimelineData, describe: Callable[[Event], str] | None = None) -> None:
        """Draw this layout; keeps the visible time range unless the incidents changed."""
        same = self.data is not None and self.data.refs == data.refs
        self.data = data
        if describe is not None:
            self._describe = describe
        self._texts = {}
        item = self.plot.getPlotItem()
        for band in self._bands:
            item.removeItem(band)
        self._bands = []
        # Alternate agency bands behind the lanes, tinted with the agency's colour.
        start = 0
        for i, lane in enumerate(data.lanes):
            last = i + 1 == len(data.lanes) or data.lanes[i + 1].agency != lane.agency
            if last:
                colour = QtGui.QColor(agency_colour(lane.agency))
                colour.setAlpha(26)
                band = pg.LinearRegionItem(
                    (start - 0.5, i + 0.5),
                    orientation="horizontal",
                    movable=False,
                    brush=colour,
                    pen=pg.mkPen(current_palette().border),
                )
                band.setZValue(-10)
                item.addItem(band)
                self._bands.append(band)
                start = i + 1
        ticks = [
            (i, _lane_label(lane.label, lane.team is None)) for i, lane in enumerate(data.lanes)
        ]
        item.getAxis("left").setTicks([ticks, []])

        groups: dict[tuple[str, str], list[Marker]] = {}
        for marker in data.markers:
            groups.setdefault((marker.kind, marker.event.agency), []).append(marker)
        for key, scatter in self._scatters.items():
            if key not in groups:
                scatter.setData(x=[], y=[])
        outline = pg.mkPen(current_palette().base, width=1)
        for key, chosen in groups.items():
            self._scatter(key).setData(
                x=np.fromiter((m.x for m in chosen), float, len(chosen)),
                y=np.fromiter((m.y for m in chosen), float, len(chosen)),
                brush=pg.mkBrush(agency_colour(key[1])),
                pen=outline,
                data=[m.event.id for m in chosen],
            )
        for phase, bar in self._bars.items():
            chosen_spans = [s for s in data.spans if s.phase == phase]
            if not chosen_spans:
                # pyqtgraph cannot take empty per-bar pen and brush lists: no lists at all.
                bar.setOpts(x0=[], x1=[], y=[], height=0.5, brushes=None, pens=None)
                continue
            colours = []
            for s in chosen_spans:
                colour = QtGui.QColor(agency_colour(data.lanes[s.lane].agency))
                colour.setAlpha(_PHASE_ALPHA[phase])
                colours.append(pg.mkBrush(colour))
            bar.setOpts(
                x0=[s.x0 for s in chosen_spans],
                x1=[max(s.x1, s.x0 + 1) for s in chosen_spans],
                y=[s.lane for s in chosen_spans],
                height=0.5,
                brushes=colours,
                pens=[pg.mkPen(None)] * len(chosen_spans),
            )
        box = item.getViewBox()
        box.setYRange(-0.6, max(len(data.lanes), 1) - 0.4, padding=0)
        span = data.x_max - data.x_min
        box.setLimits(
            xMin=data.x_min - span * 2,
            xMax=data.x_max + span * 2,
            minXRange=10,
            maxXRange=span * 5,
        )
        if not same:
            self.fit()
        people = {m.event.actor for m in data.markers}
        agencies = {lane.agency for lane in data.lanes}
        incidents = ", ".join(data.refs) or "—"
        self.title.setText(f"Timeline · {incidents}")
        self.summary.setText(
            f"{len(data.markers):,} entries · {len(data.spans):,} assignment phases · "
            f"{len(agencies)} agencies · {len(data.lanes)} lanes · {len(people)} people"
        )
        self._show_ring()
        self.drawn.emit()

    def _scatter(self, key: tuple[str, str]) -> pg.ScatterPlotItem:
        scatter = self._scatters.get(key)
        if scatter is None:
            scatter = pg.ScatterPlotItem(
                symbol=SYMBOLS.get(key[0], "o"),
                # A star fills less of its square than a circle: drawn larger to read the same.
                size=_MARKER_SIZE + (6 if key[0] == MarkerKind.LIFECYCLE else 0),
                hoverable=True,
                tip=self._tip,
                pxMode=True,
            )
            scatter.setZValue(3)
            scatter.sigClicked.connect(self._clicked)
            self.plot.getPlotItem().addItem(scatter)
            self._scatters[key] = scatter
        return scatter

    def clear(self) -> None:
        empty = TimelineData((), (), (), (), 0.0, 60.0)
        self.set_data(empty)
        self.title.setText("Timeline")
        self.summary.setText("No entries to draw")

    def fit(self) -> None:
        if self.data is None:
            return
        span = self.data.x_max - self.data.x_min
        self.plot.getPlotItem().getViewBox().setXRange(
            self.data.x_min - span * 0.03, self.data.x_max + span * 0.03, padding=0
        )

    # ---- selection -----------------------------------------------------------------------
    def select(self, event_id: str | None) -> None:
        self._selected = event_id
        self._show_ring()

    @property
    def selected(self) -> str | None:
        return self._selected

    def _show_ring(self) -> None:
        marker = self.data.marker_of(self._selected) if self.data and self._selected else None
        if marker is None:
            self._ring.setData(x=[], y=[])
            return
        self._ring.setData(x=[marker.x], y=[marker.y])
        box = self.plot.getPlotItem().getViewBox()
        (x0, x1), _ = box.viewRange()
        if not x0 <= marker.x <= x1:  # bring it into view, keeping the zoom
            half = (x1 - x0) / 2
            box.setXRange(marker.x - half, marker.x + half, padding=0)

    def _clicked(self, _item: object, points: object, *_: object) -> None:
        spots = list(points) if points is not None else []  # type: ignore[call-overload]
        if not spots:
            return
        event_id = str(spots[0].data())
        self.select(event_id)
        self.entry_clicked.emit(event_id)

    def marker_position(self, event_id: str) -> QtCore.QPoint | None:
        """Where a marker is on screen (widget coordinates of the plot), for tests and tools."""
        marker = self.data.marker_of(event_id) if self.data else None
        if marker is None:
            return None
        box = self.plot.getPlotItem().getViewBox()
        scene = box.mapViewToScene(QtCore.QPointF(marker.x, marker.y))
        return self.plot.mapFromScene(scene)

    # ---- tooltips and the clock -------------------------------------------------------------
    def _tip(self, x: float, y: float, data: object) -> str:
        marker = self.data.marker_of(str(data)) if self.data else None
        if marker is None:
            return ""
        text = self._texts.get(marker.event.id)
        if text is None:
            text = self._describe(marker.event)
            self._texts[marker.event.id] = text
        when = datetime.fromtimestamp(marker.x, LONDON)
        lane = self.data.lanes[marker.lane].label if self.data else ""
        short = text if len(text) <= 300 else text[:299] + "…"
        return (
            f"{when:%d %b %H:%M:%S %Z} · {marker.ref} · {lane}\n"
            f"{marker.event.actor} ({marker.event.workstation})\n{short}"
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
        paint_plot(self.plot)
        self._ring.setPen(pg.mkPen(palette.accent, width=3))
        self.now_line.setPen(pg.mkPen(palette.danger, width=2, style=Qt.PenStyle.DashLine))
        if self.data is not None:
            self.set_data(self.data)  # bands and marker outlines take the new colours

    def _move_now(self) -> None:
        self.now_line.setValue(datetime.now(UTC).timestamp())

    # ---- export --------------------------------------------------------------------------
    def export_png(self, path: Path) -> None:
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def export_csv(self, path: Path) -> None:
        if self.data is None:
            raise ValueError("nothing drawn to export")
        texts = {m.event.id: self._describe(m.event) for m in self.data.markers}
        path.write_text(timeline_csv(self.data, texts), encoding="utf-8", newline="")

    def _ask_png(self) -> None:
        ask_and_write(
            self, "Export timeline as PNG", "timeline.png", "PNG image (*.png)", self.export_png
        )

    def _ask_csv(self) -> None:
        ask_and_write(
            self, "Export timeline figures as CSV", "timeline.csv", "CSV (*.csv)", self.export_csv
        )


def _lane_label(label: str, agency: bool) -> str:
    """Short enough for the axis (pyqtgraph drops a label that does not fit, silently)."""
    text = label if len(label) <= 26 else label[:25] + "…"
    return text if agency else f"  {text}"
