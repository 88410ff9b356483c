"""How a queue row reads and looks: short texts, ageing targets, grade icons.

Kept apart from the table model so the model holds only the mechanics of ids, pages and
change messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.clock import from_iso, london_date, now_utc
from osc_console.models.incident import ageing_target_minutes, urgency
from osc_console.store.queries import QueueRow
from osc_console.ui import theme
from osc_console.ui.qt import QtCore, QtGui

Qt = QtCore.Qt


LEAD_SHORT = {
    Agency.POLICE.value: "Police",
    Agency.CORPORATION.value: "Corp.",
    Agency.FIRE.value: "LFB",
    Agency.AMBULANCE.value: "LAS",
    Agency.TRANSPORT.value: "Transport",
}
_GRADE_SHORT = {"rwd": "RWD"}
_PRIORITY_SHORT = {"urgent": "Urgent", "high": "High", "routine": "Routine", "low": "Low"}


def short_ref(ref: str, today: str | None = None) -> str:
    """Today's '20261124-CR1-0042' reads 'CR1-0042'; another day's keeps its day and month
    ('22/11 CR1-0042'), so two incidents never look alike in the queue."""
    date, sep, rest = ref.partition("-")
    if not (sep and len(date) == 8 and date.isdigit()):
        return ref
    if today is None:
        today = london_date(now_utc()).strftime("%Y%m%d")
    return rest if date == today else f"{date[6:8]}/{date[4:6]} {rest}"


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def grade_text(row: QueueRow) -> str:
    """Letter beside the word: 'I Immediate', 'U Urgent', never colour alone."""
    b = theme.badge(row.grade, row.council_priority)
    if row.grade:
        word = _GRADE_SHORT.get(row.grade, b.label)
    elif row.council_priority:
        word = _PRIORITY_SHORT.get(row.council_priority, b.label)
    else:
        return "–"
    return f"{b.letter} {word}"


@lru_cache(maxsize=16384)
def _parse_time(text: str) -> datetime | None:
    try:
        return from_iso(text)
    except ValueError:
        return None


def ageing_target(row: QueueRow) -> timedelta:
    """The same targets as queries.queue_counts, so tinted rows and the footer agree."""
    return timedelta(minutes=ageing_target_minutes(urgency(row.grade, row.council_priority)))


def is_ageing(row: QueueRow, now: datetime) -> bool:
    """Open past the grade's target: Immediate 15 min, Priority 1 h, anything else 24 h."""
    if row.status == "closed":
        return False
    opened = _parse_time(row.opened_at)
    return opened is not None and now - opened > ageing_target(row)


def _target_text(row: QueueRow) -> str:
    minutes = int(ageing_target(row).total_seconds() // 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def _sort_key(row: QueueRow) -> tuple[Any, ...]:
    """Everything that decides whether a row is in the list and where it sits."""
    return (
        row.status,
        row.grade,
        row.council_priority,
        row.category,
        row.location,
        row.lead_agency,
        row.assigned_teams,
        row.opened_at,
        row.ref,
        row.visibility,
    )


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as contiguous (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


# ---- icons: shape AND colour, so grade survives colour blindness and greyscale printing ------
_ICONS: dict[tuple[str, str, float], QtGui.QIcon] = {}
ICON_SIZE = 12


def _shape_icon(glyph: str, colour: str) -> QtGui.QIcon:
    app = QtGui.QGuiApplication.instance()
    dpr = float(app.devicePixelRatio()) if isinstance(app, QtGui.QGuiApplication) else 1.0
    key = (glyph, colour, dpr)
    icon = _ICONS.get(key)
    if icon is not None:
        return icon
    size = ICON_SIZE
    pixmap = QtGui.QPixmap(round(size * dpr), round(size * dpr))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    fill = QtGui.QColor(colour)
    painter.setPen(QtGui.QPen(fill.darker(150), 1.0))
    painter.setBrush(fill)
    m = 1.5
    rect = QtCore.QRectF(m, m, size - 2 * m, size - 2 * m)
    if glyph == "■":
        painter.drawRect(rect)
    elif glyph == "▲":
        painter.drawPolygon(
            QtGui.QPolygonF(
                [
                    QtCore.QPointF(rect.center().x(), rect.top()),
                    QtCore.QPointF(rect.right(), rect.bottom()),
                    QtCore.QPointF(rect.left(), rect.bottom()),
                ]
            )
        )
    elif glyph == "●":
        painter.drawEllipse(rect)
    elif glyph == "◆":
        c = rect.center()
        painter.drawPolygon(
            QtGui.QPolygonF(
                [
                    QtCore.QPointF(c.x(), rect.top()),
                    QtCore.QPointF(rect.right(), c.y()),
                    QtCore.QPointF(c.x(), rect.bottom()),
                    QtCore.QPointF(rect.left(), c.y()),
                ]
            )
        )
    elif glyph == "⚠":
        painter.drawPolygon(
            QtGui.QPolygonF(
                [
                    QtCore.QPointF(rect.center().x(), rect.top()),
                    QtCore.QPointF(rect.right(), rect.bottom()),
                    QtCore.QPointF(rect.left(), rect.bottom()),
                ]
            )
        )
        painter.setPen(QtGui.QPen(QtGui.QColor("#000000"), 1.4))
        x = rect.center().x()
        painter.drawLine(QtCore.QPointF(x, rect.top() + 3.5), QtCore.QPointF(x, rect.bottom() - 3))
        painter.drawPoint(QtCore.QPointF(x, rect.bottom() - 1.2))
    else:  # not graded: a hollow ring, distinct from every grade's shape
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QtGui.QPen(fill, 1.5))
        painter.drawEllipse(rect.adjusted(1, 1, -1, -1))
    painter.end()
    icon = QtGui.QIcon(pixmap)
    # The same pixmap when selected: the style's tinted version loses the grade's colour.
    icon.addPixmap(pixmap, QtGui.QIcon.Mode.Selected)
    _ICONS[key] = icon
    return icon


def grade_icon(row: QueueRow) -> QtGui.QIcon:
    b = theme.badge(row.grade, row.council_priority)
    return _shape_icon(b.glyph, b.colour)


def conflict_icon() -> QtGui.QIcon:
    return _shape_icon("⚠", "#F5A524")
