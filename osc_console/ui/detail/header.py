"""The top of the incident detail: what am I looking at, how urgent, how old, how marked.

The protective marking sits on the header in a fixed place, and a concurrent edit is spelt
out (both values, who set them, when) so a duty manager can decide between them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from html import escape

from osc_console.models.agencies import Classification
from osc_console.models.clock import Stamp, from_iso, ms_to_iso, now_utc
from osc_console.models.events import Event
from osc_console.models.projection import IncidentState, Stamped
from osc_console.models.reference import ReferenceData
from osc_console.models.users import Action
from osc_console.ui.detail.timeline_model import (
    FIELD_LABELS,
    agency_name,
    category_name,
    field_value,
    local_time,
    utc_time,
)
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import Badge, agency_colour, badge, current_palette

AGE_REFRESH_MS = 15_000

VISIBILITY_LABELS = {
    "joint": "Joint (Police and Corporation)",
    "police": "Police only",
    "corporation": "Corporation only",
}


def duration_label(delta: timedelta) -> str:
    """'27 min', '2 h 05 min', '3 days': an age read at a glance."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


def readable_on(colour: str) -> str:
    """Black or white text, whichever reads better on ``colour`` (#RRGGBB)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    return "#000000" if luminance > 150 else "#FFFFFF"


def badge_style(b: Badge) -> str:
    return (
        f"QLabel {{ background: {b.colour}; color: {readable_on(b.colour)}; "
        "border-radius: 3px; padding: 1px 6px; font-weight: 700; }"
    )


def _chip(colour: str, text: str) -> str:
    return f'<span style="color:{colour}">■</span> {escape(text)}'


def _label(name: str, *, role: str | None = None, selectable: bool = False) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel()
    label.setAccessibleName(name)
    if role:
        label.setProperty("role", role)
    if selectable:
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ConflictBanner(QtWidgets.QFrame):
    """'Concurrent edit': each field's competing values, and Resolve… for those who may."""

    resolve_conflict_requested = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictBanner")
        self.setAccessibleName("Concurrent edit warning")
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 6)
        self.field_rows: dict[str, tuple[QtWidgets.QLabel, QtWidgets.QPushButton | None]] = {}

    def set_conflicts(
        self,
        conflicts: Mapping[str, list[Stamped]],
        ref: ReferenceData,
        events: Mapping[str, Event],
        may_resolve: bool,
    ) -> None:
        palette = current_palette()
        self.setStyleSheet(
            f"QFrame#conflictBanner {{ border: 2px solid {palette.warning}; border-radius: 4px; }}"
        )
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.field_rows = {}
        for name, candidates in sorted(conflicts.items()):
            if not candidates:
                continue
            row = QtWidgets.QHBoxLayout()
            label = _label(f"Concurrent edit of {FIELD_LABELS.get(name, name)}", selectable=True)
            label.setWordWrap(True)
            label.setText(self._describe(name, candidates, ref, events))
            label.setToolTip(
                "Two people changed this without seeing each other's change. The newest by "
                "the clock is shown now; both stay in the log until someone resolves it."
            )
            row.addWidget(label, 1)
            button = None
            if may_resolve:
                button = QtWidgets.QPushButton("Resolve…")
                button.setAccessibleName(
                    f"Resolve concurrent edit of {FIELD_LABELS.get(name, name)}"
                )
                button.clicked.connect(
                    lambda _=False, n=name: self.resolve_conflict_requested.emit(n)
                )
                row.addWidget(button, 0, QtCore.Qt.AlignmentFlag.AlignTop)
            holder = QtWidgets.QWidget()
            holder.setLayout(row)
            row.setContentsMargins(0, 0, 0, 0)
            self._layout.addWidget(holder)
            self.field_rows[name] = (label, button)
        self.setVisible(bool(self.field_rows))

    @staticmethod
    def _describe(
        name: str, candidates: list[Stamped], ref: ReferenceData, events: Mapping[str, Event]
    ) -> str:
        warning = current_palette().warning
        values = []
        for c in candidates:
            event = events.get(c.event_id)
            when = event.recorded_at if event is not None else _stamp_time(c.hlc)
            values.append(
                f"<b>{escape(field_value(name, c.value, ref))}</b> — set by {escape(c.actor)} "
                f"at {escape(c.workstation)}, {escape(local_time(when))}"
            )
        title = FIELD_LABELS.get(name, name)
        return (
            f'<span style="color:{warning}"><b>⚠ Concurrent edit of {escape(title)}:</b></span> '
            + " · or · ".join(values)
        )

    def text(self) -> str:
        return "\n".join(label.text() for label, _ in self.field_rows.values())


def _stamp_time(hlc: str) -> str:
    try:
        return ms_to_iso(Stamp.parse(hlc).ms)
    except ValueError:
        return ""


class IncidentHeader(QtWidgets.QWidget):
    """Ref, grade, category, place, age, lead agency, status, marking, visibility."""

    resolve_conflict_requested = QtCore.Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        parent: QtWidgets.QWidget | None = None,
        *,
        now: Callable[[], datetime] = now_utc,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self._now = now
        self.state: IncidentState | None = None
        self.setAccessibleName("Incident header")

        self.ref_label = _label("Incident reference", role="title", selectable=True)
        self.grade_label = _label("Grade")
        self.category_label = _label("Category")
        self.marking_label = _label("Protective marking")
        self.marking_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.location_label = _label("Location", selectable=True)
        self.location_label.setWordWrap(True)
        self.opened_label = _label("Opened at and age", role="muted")
        self.lead_label = _label("Lead agency")
        self.status_label = _label("Status")
        self.visibility_label = _label("Visibility")
        self.banner = ConflictBanner()
        self.banner.resolve_conflict_requested.connect(self.resolve_conflict_requested)
        self.banner.hide()

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.ref_label)
        top.addWidget(self.grade_label)
        top.addWidget(self.category_label, 1)
        top.addWidget(self.marking_label)
        middle = QtWidgets.QHBoxLayout()
        middle.addWidget(self.location_label, 1)
        middle.addWidget(self.opened_label)
        bottom = QtWidgets.QHBoxLayout()
        for widget in (self.lead_label, self.status_label, self.visibility_label):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(middle)
        layout.addLayout(bottom)
        layout.addWidget(self.banner)

        self._age_timer = QtCore.QTimer(self)
        self._age_timer.setInterval(AGE_REFRESH_MS)
        self._age_timer.timeout.connect(self.refresh_age)

    def set_state(
        self, state: IncidentState | None, events: Mapping[str, Event] | None = None
    ) -> None:
        self.state = state
        if state is None:
            self._age_timer.stop()
            for label in (
                self.ref_label,
                self.grade_label,
                self.category_label,
                self.marking_label,
                self.location_label,
                self.opened_label,
                self.lead_label,
                self.status_label,
                self.visibility_label,
            ):
                label.clear()
            self.banner.hide()
            return
        ref = self.session.store.reference
        self.ref_label.setText(state.ref)
        b = badge(state.value("grade"), state.value("council_priority"))
        self.grade_label.setText(f"{b.glyph} {b.letter} {b.label}")
        self.grade_label.setStyleSheet(badge_style(b))
        self.grade_label.setAccessibleName(f"Grade: {b.label}")
        self.category_label.setText(category_name(state.value("category"), ref))
        self._set_marking(state.classification)
        location = state.value("location") or {}
        text = str(location.get("text") or "") if isinstance(location, dict) else str(location)
        camera = location.get("camera_id") if isinstance(location, dict) else None
        self.location_label.setText(f"{text} · camera {camera}" if camera else text)
        lead = state.value("lead_agency")
        self.lead_label.setText("Lead: " + _chip(agency_colour(lead), agency_name(lead)))
        self.lead_label.setAccessibleName(f"Lead agency: {agency_name(lead)}")
        status = state.status.replace("_", " ")
        self.status_label.setText(f"Status: <b>{escape(status)}</b>")
        self.status_label.setAccessibleName(f"Status: {status}")
        visibility = VISIBILITY_LABELS.get(state.visibility, state.visibility)
        self.visibility_label.setText(f"Visible to: {escape(visibility)}")
        self.visibility_label.setAccessibleName(f"Visibility: {visibility}")
        self.banner.set_conflicts(
            state.conflicts, ref, events or {}, self.session.may(Action.RESOLVE_CONFLICT)
        )
        self.refresh_age()
        if state.is_closed:
            self._age_timer.stop()
        else:
            self._age_timer.start()

    def _set_marking(self, classification: str) -> None:
        palette = current_palette()
        sensitive = classification == Classification.OFFICIAL_SENSITIVE.value
        colour = palette.danger if sensitive else palette.text
        background = palette.danger if sensitive else "transparent"
        text_colour = "#FFFFFF" if sensitive else palette.text
        self.marking_label.setText(classification)
        self.marking_label.setAccessibleName(f"Protective marking: {classification}")
        self.marking_label.setToolTip("Protective marking of this incident's most sensitive entry")
        self.marking_label.setStyleSheet(
            f"QLabel {{ border: 2px solid {colour}; background: {background}; "
            f"color: {text_colour}; font-weight: 800; padding: 2px 8px; letter-spacing: 1px; }}"
        )

    def refresh_age(self) -> None:
        """'opened 14:05 BST · 27 min': local time with zone, UTC on hover, a live age."""
        state = self.state
        if state is None or not state.opened_at:
            self.opened_label.clear()
            return
        opened = from_iso(state.opened_at)
        text = f"opened {local_time(state.opened_at)}"
        tip = f"Opened {utc_time(state.opened_at)}"
        if state.is_closed and state.closed_at:
            closed = from_iso(state.closed_at)
            text += (
                f" · closed {local_time(state.closed_at)} after {duration_label(closed - opened)}"
            )
            tip += f"\nClosed {utc_time(state.closed_at)}"
        else:
            text += f" · {duration_label(self._now() - opened)}"
        self.opened_label.setText(text)
        self.opened_label.setToolTip(tip)

    @property
    def age_timer(self) -> QtCore.QTimer:
        return self._age_timer
