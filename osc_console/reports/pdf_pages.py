"""Paged PDFs through Qt's own writer: one frame for every report the console prints.

A report gives HTML for its body and says how to draw its header; this module lays the body
out once (``QTextDocument``), cuts it into pages and draws, on every page, the report's
header, the page's slice of the body, and the common footer (a rule, who the report is for,
"Page N of M", and a centred line such as the protective marking). Only QtGui is used, never
widgets, so a report can be made with no screen (see ``files.ensure_gui_application``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from osc_console.models.errors import DomainError

if TYPE_CHECKING:
    from PySide6.QtGui import QColor, QFont, QPainter, QPen

Progress = Callable[[int, int], None]


class ReportError(DomainError):
    """A report that could not be written (unwritable path, PDF writer failure)."""


@dataclass(frozen=True, slots=True)
class Page:
    """What a header or footer is drawn with: the painter, the page's size and number."""

    painter: QPainter
    width: float
    height: float
    mm: float  # device pixels per millimetre
    number: int  # from 0
    total: int
    rule: QPen
    base: QFont

    def font(self, size: float, *, bold: bool = False) -> QFont:
        from PySide6.QtGui import QFont

        made = QFont(self.base)
        made.setPointSizeF(size)
        made.setBold(bold)
        return made


@dataclass(frozen=True, slots=True)
class Layout:
    title: str  # the PDF's document title
    landscape: bool
    margins_mm: tuple[float, float, float, float]  # left, top, right, bottom
    header_mm: float
    footer_mm: float = 9.0


def render(
    html: str,
    layout: Layout,
    draw_header: Callable[[Page], None],
    footer: Callable[[Page], tuple[str, str, QColor | None]],
    progress: Progress | None = None,
) -> bytes:
    """The PDF as bytes. ``footer(page)`` gives (left text, centred text, centred colour)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
    from PySide6.QtGui import (
        QColor,
        QFont,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QPen,
        QTextDocument,
    )

    buffer_bytes = QByteArray()
    buffer = QBuffer(buffer_bytes)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    orientation = (
        QPageLayout.Orientation.Landscape if layout.landscape else QPageLayout.Orientation.Portrait
    )
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            orientation,
            QMarginsF(*layout.margins_mm),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(layout.title)
    writer.setCreator("OSC Console")

    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    width, height = float(rect.width()), float(rect.height())
    mm = writer.resolution() / 25.4
    header_h, footer_h = layout.header_mm * mm, layout.footer_mm * mm
    body = QRectF(0, header_h, width, height - header_h - footer_h)

    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    base = QFont("DejaVu Sans")
    base.setStyleHint(QFont.StyleHint.SansSerif)
    base.setPointSizeF(8.5)
    # No ligatures: "ff" drawn as one glyph reads back from the PDF as "ﬀ", and then a
    # search of the report for "sign-off" (or a copy into another document) misses it.
    base.setFeature(QFont.Tag("liga"), 0)
    doc.setDefaultFont(base)
    doc.setDocumentMargin(0)
    doc.setHtml(html)
    doc.setPageSize(QSizeF(body.width(), body.height()))
    total = doc.pageCount()
    if progress is not None:
        progress(0, total)

    painter = QPainter()
    if not painter.begin(writer):
        raise ReportError("the PDF writer could not start")
    try:
        rule = QPen(QColor("#1d3557"))
        rule.setWidthF(0.3 * mm)
        black = QColor("#000000")
        for number in range(total):
            if number:
                writer.newPage()
            page = Page(painter, width, height, mm, number, total, rule, base)
            painter.setPen(black)
            draw_header(page)
            # Body: this page's slice of the laid-out document.
            painter.save()
            painter.translate(0, header_h - number * body.height())
            doc.drawContents(painter, QRectF(0, number * body.height(), width, body.height()))
            painter.restore()
            # Footer: a rule, who it is for, the page number, and the centred line.
            left, centre, colour = footer(page)
            top = height - footer_h
            painter.setPen(rule)
            painter.drawLine(0, int(top + 2 * mm), int(width), int(top + 2 * mm))
            painter.setPen(black)
            painter.setFont(page.font(7.5))
            line = QRectF(0, top + 3 * mm, width, 5 * mm)
            painter.drawText(line, Qt.AlignmentFlag.AlignLeft, left)
            painter.drawText(line, Qt.AlignmentFlag.AlignRight, f"Page {number + 1} of {total}")
            painter.setPen(colour or black)
            painter.setFont(page.font(9.5, bold=True))
            painter.drawText(line, Qt.AlignmentFlag.AlignCenter, centre)
            if progress is not None:
                progress(number + 1, total)
    finally:
        painter.end()
    buffer.close()
    return bytes(buffer_bytes.data())
