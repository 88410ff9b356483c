"""Colours, glyphs and the two themes. Grade is always colour *and* shape/letter together.

Dark is the default for the control room (low glare on night shifts); light for offices and
printing. Agency colours come from the domain so they are the same on every screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from osc_console.models.agencies import Agency
from osc_console.ui.qt import QtCore, QtGui, QtWidgets

# What applying a theme sends a widget (apply_theme sets the palette and the style sheet).
THEME_EVENTS = frozenset(
    {
        QtCore.QEvent.Type.PaletteChange,
        QtCore.QEvent.Type.ApplicationPaletteChange,
        QtCore.QEvent.Type.StyleChange,
    }
)


def after_theme_change(
    widget: QtCore.QObject, event: QtCore.QEvent, follow: Callable[[], None]
) -> None:
    """From a widget's ``changeEvent``: call ``follow`` once a theme has been applied.

    Later, not now: apply_theme names the theme only after setting the palette and style
    sheet that send these events. The call is owned by ``widget``, so it never reaches one
    that is gone.
    """
    if event.type() in THEME_EVENTS:
        QtCore.QTimer.singleShot(0, widget, follow)


@dataclass(frozen=True, slots=True)
class Badge:
    glyph: str
    letter: str
    label: str
    colour: str


GRADE_BADGES = {
    "immediate": Badge("■", "I", "Immediate", "#E5484D"),
    "priority": Badge("▲", "P", "Priority", "#F5A524"),
    "scheduled": Badge("●", "S", "Scheduled", "#3E8EED"),
    "rwd": Badge("◆", "R", "Resolution without deployment", "#8B8D98"),
}
PRIORITY_BADGES = {
    "urgent": Badge("■", "U", "Council: urgent", "#E5484D"),
    "high": Badge("▲", "H", "Council: high", "#F5A524"),
    "routine": Badge("●", "N", "Council: routine", "#3E8EED"),
    "low": Badge("◆", "L", "Council: low", "#8B8D98"),
}
NO_BADGE = Badge("·", "-", "Not graded", "#8B8D98")


def badge(grade: str | None, priority: str | None) -> Badge:
    if grade:
        return GRADE_BADGES.get(grade, NO_BADGE)
    if priority:
        return PRIORITY_BADGES.get(priority, NO_BADGE)
    return NO_BADGE


def agency_colour(agency: str | None) -> str:
    try:
        return Agency(agency or "").colour
    except ValueError:
        return "#8B8D98"


@dataclass(frozen=True, slots=True)
class Palette:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    warning: str
    danger: str
    ok: str
    border: str


DARK = Palette(
    "dark",
    "#15171C",
    "#1C1F26",
    "#22262E",
    "#E8EAED",
    "#9AA0AA",
    "#5B9DFF",
    "#F5A524",
    "#E5484D",
    "#3DBE7A",
    "#323743",
)
LIGHT = Palette(
    "light",
    "#F4F5F7",
    "#FFFFFF",
    "#F0F2F5",
    "#1B1E24",
    "#5A606B",
    "#1F6FEB",
    "#B26B00",
    "#C62828",
    "#1E7F4F",
    "#D0D4DB",
)
THEMES = {"dark": DARK, "light": LIGHT}


def stylesheet(p: Palette) -> str:
    return f"""
    QWidget {{ background: {p.window}; color: {p.text}; font-size: 10.5pt; }}
    QAbstractItemView, QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QSpinBox,
    QDateTimeEdit {{
        background: {p.base}; alternate-background-color: {p.alt_base};
        border: 1px solid {p.border}; border-radius: 3px;
        selection-background-color: {p.accent}; selection-color: #FFFFFF;
    }}
    QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus {{ border: 1px solid {p.accent}; }}
    QHeaderView::section {{
        background: {p.alt_base}; color: {p.muted}; border: none;
        border-bottom: 1px solid {p.border}; padding: 4px 6px; font-weight: 600;
    }}
    QPushButton {{
        background: {p.alt_base}; border: 1px solid {p.border}; border-radius: 3px;
        padding: 4px 12px;
    }}
    QPushButton:hover {{ border-color: {p.accent}; }}
    QPushButton:default {{ border-color: {p.accent}; }}
    QPushButton:disabled {{ color: {p.muted}; }}
    QToolBar {{ background: {p.base}; border-bottom: 1px solid {p.border}; spacing: 4px; }}
    QStatusBar {{ background: {p.base}; border-top: 1px solid {p.border}; }}
    QTabBar::tab {{ background: {p.alt_base}; padding: 5px 12px; border: 1px solid {p.border}; }}
    QTabBar::tab:selected {{ background: {p.base}; border-bottom-color: {p.accent}; }}
    QCheckBox::indicator, QRadioButton::indicator {{
        width: 14px; height: 14px; border: 1px solid {p.muted}; background: {p.base};
    }}
    QCheckBox::indicator {{ border-radius: 2px; }}
    QRadioButton::indicator {{ border-radius: 7px; }}
    QCheckBox::indicator:checked, QRadioButton::indicator:checked {{
        background: {p.accent}; border-color: {p.accent};
    }}
    QCheckBox::indicator:focus, QRadioButton::indicator:focus {{ border-color: {p.accent}; }}
    QLabel[role="muted"] {{ color: {p.muted}; }}
    QLabel[role="error"] {{ color: {p.danger}; }}
    QLabel[role="title"] {{ font-size: 13pt; font-weight: 700; }}
    QFrame[role="card"] {{
        background: {p.base}; border: 1px solid {p.border}; border-radius: 4px;
    }}
    QFrame[role="banner"] {{ background: #B00020; }}
    QFrame[role="banner"] QLabel {{ background: transparent; color: #FFFFFF; font-weight: 800; }}
    """


def apply_theme(app: QtWidgets.QApplication, name: str) -> Palette:
    palette = THEMES.get(name, DARK)
    app.setStyle("Fusion")
    qt_palette = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    qt_palette.setColor(roles.Window, QtGui.QColor(palette.window))
    qt_palette.setColor(roles.Base, QtGui.QColor(palette.base))
    qt_palette.setColor(roles.AlternateBase, QtGui.QColor(palette.alt_base))
    qt_palette.setColor(roles.Text, QtGui.QColor(palette.text))
    qt_palette.setColor(roles.WindowText, QtGui.QColor(palette.text))
    qt_palette.setColor(roles.ButtonText, QtGui.QColor(palette.text))
    qt_palette.setColor(roles.Button, QtGui.QColor(palette.alt_base))
    qt_palette.setColor(roles.Highlight, QtGui.QColor(palette.accent))
    qt_palette.setColor(roles.HighlightedText, QtGui.QColor("#FFFFFF"))
    qt_palette.setColor(roles.PlaceholderText, QtGui.QColor(palette.muted))
    qt_palette.setColor(roles.ToolTipBase, QtGui.QColor(palette.base))
    qt_palette.setColor(roles.ToolTipText, QtGui.QColor(palette.text))
    app.setPalette(qt_palette)
    app.setStyleSheet(stylesheet(palette))
    app.setProperty("osc_theme", palette.name)
    return palette


def current_palette() -> Palette:
    app = QtWidgets.QApplication.instance()
    name = app.property("osc_theme") if app is not None else None
    return THEMES.get(str(name or "dark"), DARK)
