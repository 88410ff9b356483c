"""The pieces quick dialogs are built from: combos that filter as you type, text boxes where
Tab moves on, radio choices, colour swatches that always come with a shape or words, times."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import shiboken6

from osc_console.models.agencies import Agency
from osc_console.models.clock import Stamp, from_iso, local_label
from osc_console.models.incident import CouncilPriority, Grade
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.theme import GRADE_BADGES, PRIORITY_BADGES, current_palette


def alive(widget: QtCore.QObject) -> bool:
    """False once Qt has deleted the widget (a late worker reply must not touch it)."""
    return shiboken6.isValid(widget)


def local_time(iso: str) -> str:
    """'14:32 BST' from a stored UTC time; the date too when it is not today."""
    moment = from_iso(iso)
    label = local_label(moment)
    if moment.date() != datetime.now(UTC).date():
        label = moment.strftime("%d %b ") + label
    return label


def stamp_time(hlc: str) -> str:
    """The wall-clock part of a clock stamp, as a local time (good enough to tell edits apart)."""
    try:
        ms = Stamp.parse(hlc).ms
    except ValueError:
        return "unknown time"
    return local_time(datetime.fromtimestamp(ms / 1000, UTC).isoformat())


def swatch(colour: str, glyph: str = "●", size: int = 14) -> QtGui.QIcon:
    """A small coloured shape: grade and agency colours always come with a shape or words."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtGui.QColor(colour))
    font = painter.font()
    font.setPixelSize(size - 2)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, glyph)
    painter.end()
    return QtGui.QIcon(pixmap)


def agency_icon(agency: Agency) -> QtGui.QIcon:
    return swatch(agency.colour, "■")


def make_combo(
    name: str, items: Iterable[tuple[str, Any]], icons: dict[Any, QtGui.QIcon] | None = None
) -> QtWidgets.QComboBox:
    """A plain choice list; each item's data is its value (None for a blank choice)."""
    combo = QtWidgets.QComboBox()
    combo.setAccessibleName(name)
    view = combo.view()
    if view is not None:
        view.setAccessibleName(f"{name} choices")
    for label, value in items:
        icon = (icons or {}).get(value)
        if icon is None:
            combo.addItem(label, value)
        else:
            combo.addItem(icon, label, value)
    return combo


def select_data(combo: QtWidgets.QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)


def contains_completer(
    source: QtCore.QAbstractItemModel | Sequence[str], parent: QtCore.QObject
) -> QtWidgets.QCompleter:
    """A completer that filters as you type: case-insensitive, matching anywhere in the text."""
    if isinstance(source, QtCore.QAbstractItemModel):
        completer = QtWidgets.QCompleter(source, parent)
    else:
        completer = QtWidgets.QCompleter(list(source), parent)
    completer.setCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(QtCore.Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
    completer.setMaxVisibleItems(10)
    popup = completer.popup()
    if popup is not None:
        popup.setAccessibleName("Suggestions")
    return completer


def search_combo(
    name: str, items: Iterable[tuple[str, str]], placeholder: str
) -> QtWidgets.QComboBox:
    """An editable combo whose completer filters by any part of the text ("Name (CODE)")."""
    combo = QtWidgets.QComboBox()
    combo.setAccessibleName(name)
    view = combo.view()
    if view is not None:
        view.setAccessibleName(f"{name} choices")
    combo.setEditable(True)
    combo.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
    for label, value in items:
        combo.addItem(label, value)
    combo.setCurrentIndex(-1)
    line = combo.lineEdit()
    assert line is not None  # editable combos have one
    line.setPlaceholderText(placeholder)
    line.setAccessibleName(name)
    combo.setCompleter(contains_completer(combo.model(), combo))
    return combo


def combo_choice(combo: QtWidgets.QComboBox) -> str | None:
    """The value of an editable combo's text: an item's label, its code, or its bare name."""
    text = combo.currentText().strip()
    if not text:
        return None
    folded = text.casefold()
    for row in range(combo.count()):
        label = combo.itemText(row)
        value = combo.itemData(row)
        name = label.rsplit(" (", 1)[0]
        if folded in (label.casefold(), str(value).casefold(), name.casefold()):
            return str(value)
    return None


def multi_line(name: str, placeholder: str = "", lines: int = 3) -> QtWidgets.QPlainTextEdit:
    """A text box where Tab moves on (not a tab character) and Ctrl+Enter saves."""
    edit = QtWidgets.QPlainTextEdit()
    edit.setAccessibleName(name)
    edit.setTabChangesFocus(True)
    edit.setPlaceholderText(placeholder)
    line = edit.fontMetrics().lineSpacing()
    edit.setFixedHeight(line * lines + 14)
    return edit


def one_line(name: str, placeholder: str = "", max_length: int = 200) -> QtWidgets.QLineEdit:
    edit = QtWidgets.QLineEdit()
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    edit.setClearButtonEnabled(True)
    for button in edit.findChildren(QtWidgets.QToolButton):
        button.setAccessibleName(f"Clear {name.lower()}")
    return edit


def set_role(widget: QtWidgets.QWidget, role: str) -> None:
    """Change the theme role of a widget that is already styled."""
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def muted(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setProperty("role", "muted")
    label.setWordWrap(True)
    label.setAccessibleName(text or "Note")
    return label


class ChoiceGroup(QtWidgets.QWidget):
    """Radio buttons for one choice: Tab lands on the chosen one, the arrow keys move."""

    changed = QtCore.Signal()

    def __init__(self, name: str, choices: Sequence[tuple[str, Any]]) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self._values: list[Any] = []
        self.group = QtWidgets.QButtonGroup(self)
        self.group.setExclusive(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for index, (label, value) in enumerate(choices):
            button = QtWidgets.QRadioButton(label)
            button.setAccessibleName(label)
            self.group.addButton(button, index)
            layout.addWidget(button)
            self._values.append(value)
        self.group.idToggled.connect(self._toggled)

    def _toggled(self, _id: int, on: bool) -> None:
        if on:
            self.changed.emit()

    def buttons(self) -> list[QtWidgets.QAbstractButton]:
        return self.group.buttons()

    def index(self) -> int:
        return self.group.checkedId()

    def value(self) -> Any:
        index = self.group.checkedId()
        return self._values[index] if index >= 0 else None

    def set_index(self, index: int) -> None:
        button = self.group.button(index)
        if button is not None:
            button.setChecked(True)

    def values(self) -> list[Any]:
        return list(self._values)

    def focus_target(self) -> QtWidgets.QWidget:
        checked = self.group.checkedButton()
        if checked is not None:
            return checked
        buttons = self.group.buttons()
        return buttons[0] if buttons else self


def warning_label() -> QtWidgets.QLabel:
    """A hint that deserves attention without being an error (repeat locations)."""
    label = QtWidgets.QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {current_palette().warning};")
    return label


def grade_items() -> list[tuple[str, str | None]]:
    return [("(none)", None)] + [(f"{g.label} ({g.letter})", g.value) for g in Grade]


def priority_items() -> list[tuple[str, str | None]]:
    return [("(none)", None)] + [(p.value.capitalize(), p.value) for p in CouncilPriority]


def grade_icons() -> dict[str, QtGui.QIcon]:
    return {k: swatch(b.colour, b.glyph) for k, b in GRADE_BADGES.items()}


def priority_icons() -> dict[str, QtGui.QIcon]:
    return {k: swatch(b.colour, b.glyph) for k, b in PRIORITY_BADGES.items()}
