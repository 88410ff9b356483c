"""The break-glass notice in the console's header, for the duty manager.

A break-glass sign-in lets someone never seen at a desk work when the server is down, on
the room's shared account: the duty manager must know it happened, without having to go and
look. The notice says how many in the last seven days and the latest one's workstation and
time, and opens the audit trail when clicked (or Enter/Space when it has focus). Hidden when
there is nothing to say, and from anyone who may not review the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from osc_console.models.changes import ChangeSet
from osc_console.models.clock import LONDON, from_iso, now_utc, to_iso
from osc_console.models.payloads import Kind
from osc_console.models.users import Action
from osc_console.services.audit import audit_trail, is_break_glass
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.fields import alive
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import after_theme_change, current_palette

WINDOW = timedelta(days=7)
SCAN_LIMIT = 5000  # audit entries looked through, newest first
RECHECK_MS = 10 * 60 * 1000  # old uses leave the seven days even when nothing is written


@dataclass(frozen=True, slots=True)
class BreakGlassUse:
    at: str
    workstation: str
    account: str
    declared_name: str
    reason: str


def recent_break_glass(store: Store, since: str) -> list[BreakGlassUse]:
    """Break-glass sign-ins recorded at or after ``since``, newest first (on the worker)."""
    found = []
    for record in audit_trail(store, SCAN_LIMIT):
        event = record.event
        if event.recorded_at < since:
            break
        if is_break_glass(event):
            p = event.payload
            found.append(
                BreakGlassUse(
                    event.recorded_at,
                    event.workstation,
                    event.actor,
                    str(p.get("declared_name") or ""),
                    str(p.get("reason") or ""),
                )
            )
    return found


def when(at: str, now: datetime) -> str:
    """'14:05' today (London time), 'Mon 14:05' on another day."""
    moment = from_iso(at).astimezone(LONDON)
    if moment.date() == now.astimezone(LONDON).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%a %H:%M")


def notice_text(uses: list[BreakGlassUse], now: datetime) -> str:
    if not uses:
        return ""
    latest = uses[0]
    place = f"{latest.workstation}, {when(latest.at, now)}"
    days = WINDOW.days
    if len(uses) == 1:
        return f"⚠ Break-glass used: 1 in the last {days} days ({place})"
    return f"⚠ Break-glass used: {len(uses)} in the last {days} days (latest {place})"


class BreakGlassNotice(QtWidgets.QLabel):
    """A header label; ``clicked`` asks for the audit trail."""

    clicked = QtCore.Signal()
    updated = QtCore.Signal()  # after each read (tests wait on it)

    def __init__(
        self,
        session: ConsoleSession,
        parent: QtWidgets.QWidget | None = None,
        *,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.clock = clock
        self.uses: list[BreakGlassUse] = []
        self._in_flight = False
        self._dirty = False
        self.setAccessibleName("Break-glass notice")
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.TabFocus)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self._colour = ""
        self._style()
        self.hide()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(RECHECK_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        session.signals.changes_applied.connect(self._changes_applied)
        session.signals.operator_changed.connect(self._operator_changed)
        self.refresh()

    def _style(self) -> None:
        colour = current_palette().warning
        if colour == self._colour:
            return  # restyling sends a style change, which would bring us back here
        self._colour = colour
        self.setStyleSheet(
            f"QLabel {{ color: {colour}; font-weight: 700; padding: 2px 8px; "
            f"border: 1px solid {colour}; border-radius: 3px; background: transparent; }}"
            f"QLabel:focus {{ border-width: 2px; }}"
        )

    # ---- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self.session.may(Action.REVIEW_AUDIT):
            self.uses = []
            self._show()
            return
        if self._in_flight:
            self._dirty = True
            return
        self._in_flight = True
        self._dirty = False
        since = to_iso(self.clock() - WINDOW)
        try:
            self.session.read(
                lambda store: recent_break_glass(store, since), self._arrived, self._failed
            )
        except RuntimeError:  # the worker has shut down: the console is closing
            self._in_flight = False

    def _arrived(self, uses: list[BreakGlassUse]) -> None:
        if not alive(self):
            return
        self._in_flight = False
        # Whoever signed in meanwhile decides what is shown, not who asked.
        self.uses = uses if self.session.may(Action.REVIEW_AUDIT) else []
        self._show()
        if self._dirty:
            self.refresh()

    def _failed(self, _message: str) -> None:
        if not alive(self):
            return
        self._in_flight = False
        self.updated.emit()

    def _show(self) -> None:
        text = notice_text(self.uses, self.clock())
        self.setText(text)
        self.setAccessibleDescription(text)
        self.setToolTip(self._tooltip())
        self.setVisible(bool(text))
        self.updated.emit()

    def _tooltip(self) -> str:
        if not self.uses:
            return ""
        lines = []
        for use in self.uses[:5]:
            who = use.declared_name or "someone"
            lines.append(
                f"{when(use.at, self.clock())} at {use.workstation}: {who} on {use.account}"
                + (f" ({use.reason})" if use.reason else "")
            )
        if len(self.uses) > 5:
            lines.append(f"… and {len(self.uses) - 5} more")
        lines.append("Click to open the audit trail.")
        return "\n".join(lines)

    def _operator_changed(self, _operator: object) -> None:
        self.refresh()

    def _changes_applied(self, changes: ChangeSet) -> None:
        if Kind.SESSION_SIGNED_IN in changes.kinds:
            self.refresh()

    # ---- clicking ------------------------------------------------------------------------
    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.button() == QtCore.Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (
            QtCore.Qt.Key.Key_Return,
            QtCore.Qt.Key.Key_Enter,
            QtCore.Qt.Key.Key_Space,
        ):
            self.clicked.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        after_theme_change(self, event, self._style)
