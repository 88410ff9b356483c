"""Paints one timeline entry: agency bar, a muted meta line, then the wrapped text."""

from __future__ import annotations

from osc_console.ui.detail.timeline_model import (
    AgencyColourRole,
    AmendsRole,
    MetaRole,
    TagsRole,
)
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.theme import current_palette

Qt = QtCore.Qt


class TimelineDelegate(QtWidgets.QStyledItemDelegate):
    """Paints an entry: agency bar, a muted meta line, then the wrapped text.

    Every size comes from the font's metrics, so it stays right at any DPI or font size.
    """

    def _metrics(self, option: QtWidgets.QStyleOptionViewItem) -> tuple[int, int, int, int]:
        fm = QtGui.QFontMetrics(option.font)
        margin = max(2, fm.height() // 4)
        bar = max(3, fm.height() // 5)
        indent = fm.horizontalAdvance("MM")
        return margin, bar, indent, fm.height()

    @staticmethod
    def _meta_font(font: QtGui.QFont) -> QtGui.QFont:
        meta = QtGui.QFont(font)
        if meta.pointSizeF() > 0:
            meta.setPointSizeF(meta.pointSizeF() * 0.9)
        return meta

    def _width(self, option: QtWidgets.QStyleOptionViewItem) -> int:
        view = self.parent()
        if isinstance(view, QtWidgets.QAbstractItemView):
            return max(100, view.viewport().width())
        return max(100, option.rect.width() or 400)

    @staticmethod
    def _text_layout(text: str, font: QtGui.QFont, width: int) -> tuple[QtGui.QTextLayout, int]:
        layout = QtGui.QTextLayout(text.replace("\n", "\u2028"), font)
        option = QtGui.QTextOption()
        option.setWrapMode(QtGui.QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        height = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(max(10, width))
            line.setPosition(QtCore.QPointF(0, height))
            height += line.height()
        layout.endLayout()
        return layout, int(height + 0.999)

    def _geometry(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex, width: int
    ) -> tuple[int, int, int, int]:
        """(left of the bar, left of the text, text width, meta line height)."""
        margin, bar, indent, _ = self._metrics(option)
        left = margin + (indent if index.data(AmendsRole) else 0)
        text_left = left + bar + margin * 2
        meta_height = QtGui.QFontMetrics(self._meta_font(option.font)).height()
        return left, text_left, max(10, width - text_left - margin), meta_height

    def sizeHint(
        self,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> QtCore.QSize:
        width = self._width(option)
        margin, *_ = self._metrics(option)
        _, _, text_width, meta_height = self._geometry(option, index, width)  # type: ignore[arg-type]
        _, text_height = self._text_layout(str(index.data() or ""), option.font, text_width)
        return QtCore.QSize(width, margin * 3 + meta_height + text_height)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        opt = QtWidgets.QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        palette = current_palette()
        painter.save()
        try:
            opt.text = ""
            style.drawPrimitive(
                QtWidgets.QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget
            )
            rect = opt.rect
            margin, bar, _, _ = self._metrics(opt)
            left, text_left, text_width, meta_height = self._geometry(opt, index, rect.width())  # type: ignore[arg-type]
            selected = bool(opt.state & QtWidgets.QStyle.StateFlag.State_Selected)
            text_colour = (
                opt.palette.color(QtGui.QPalette.ColorRole.HighlightedText)
                if selected
                else QtGui.QColor(palette.text)
            )
            muted = text_colour if selected else QtGui.QColor(palette.muted)
            # The agency's colour, as everywhere else in the console.
            painter.fillRect(
                QtCore.QRect(
                    rect.left() + left, rect.top() + margin, bar, rect.height() - 2 * margin
                ),
                QtGui.QColor(str(index.data(AgencyColourRole))),
            )
            # Meta line, then its tags (the concurrent-edit flag in the warning colour).
            meta_font = self._meta_font(opt.font)
            painter.setFont(meta_font)
            fm = QtGui.QFontMetrics(meta_font)
            x = rect.left() + text_left
            baseline = rect.top() + margin + fm.ascent()
            right = rect.left() + text_left + text_width
            meta = str(index.data(MetaRole) or "")
            painter.setPen(muted)
            meta = fm.elidedText(meta, Qt.TextElideMode.ElideRight, max(0, right - x))
            painter.drawText(QtCore.QPoint(x, baseline), meta)
            x += fm.horizontalAdvance(meta)
            for tag in index.data(TagsRole) or []:
                piece = f"  {tag}"
                if x + fm.horizontalAdvance(piece) > right:
                    break
                warn = tag.startswith(("⚠", "OFFICIAL")) or tag.endswith("only")
                colour = QtGui.QColor(palette.warning) if warn and not selected else muted
                painter.setPen(colour)
                bold = QtGui.QFont(meta_font)
                bold.setBold(warn)
                painter.setFont(bold)
                painter.drawText(QtCore.QPoint(x, baseline), piece)
                x += QtGui.QFontMetrics(bold).horizontalAdvance(piece)
            # A hairline between entries, so each reads as one record.
            painter.setPen(QtGui.QColor(palette.border))
            painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
            # The text itself, wrapped.
            layout, _ = self._text_layout(str(index.data() or ""), opt.font, text_width)
            painter.setPen(text_colour)
            layout.draw(
                painter,
                QtCore.QPointF(rect.left() + text_left, rect.top() + margin * 2 + meta_height),
            )
        finally:
            painter.restore()
