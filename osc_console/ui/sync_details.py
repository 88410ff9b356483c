"""The sync details behind the status-bar indicator: what it knows, and what one can do.

Server, who is signed in, the state and the engine's message, what waits, what the server
refused and why (kept here, never dropped), when the last sync worked in London time, and the
clock check; "Sync now" and "Sign in…". Read-only except for those two buttons; the refused
entries are read on the database worker, never on the UI thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from osc_console.models.clock import LONDON, from_iso
from osc_console.models.shift_log import kind_label
from osc_console.store import outbox
from osc_console.store.event_store import RefusedRemote, Store
from osc_console.sync.engine import SyncStatus
from osc_console.ui.dialogs.fields import alive
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.theme import current_palette

if TYPE_CHECKING:
    from osc_console.ui.sync_status import SyncStatusIndicator

POPUP_WIDTH = 460

KIND_WORDS = {
    "incident.opened": "New incident",
    "incident.updated": "Incident change",
    "incident.status": "Status change",
    "incident.closed": "Closure",
    "incident.reopened": "Reopening",
    "log.added": "Log entry",
    "log.amended": "Amendment",
    "decision.recorded": "Decision",
    "assignment.made": "Assignment",
    "assignment.status": "Assignment update",
    "assignment.withdrawn": "Withdrawal",
    "conflict.resolved": "Conflict resolution",
    "shift.signed_off": "Shift sign-off",
    "shift.handover": "Handover",
    "shift.handover_acknowledged": "Handover acknowledged",
}


def last_sync_words(iso: str | None, now: datetime | None = None) -> str:
    """'14:32:05 GMT (3 min ago)' in London time; the date too when not today."""
    if not iso:
        return "never"
    try:
        moment = from_iso(iso)
    except ValueError:
        return iso
    now = now or datetime.now(UTC)
    local = moment.astimezone(LONDON)
    label = f"{local:%H:%M:%S} {local.tzname()}"
    if local.date() != now.astimezone(LONDON).date():
        label = f"{local:%d %b} {label}"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        ago = "just now"
    elif seconds < 3600:
        ago = f"{seconds // 60} min ago"
    else:
        ago = f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
    return f"{label} ({ago})"


# ---- the details -----------------------------------------------------------------------------
class SyncDetailsPopup(QtWidgets.QFrame):
    """Everything behind the indicator's words, and the two things one can do about it."""

    def __init__(self, indicator: SyncStatusIndicator) -> None:
        super().__init__(indicator, QtCore.Qt.WindowType.Popup)
        self.indicator = indicator
        self.setObjectName("syncDetails")
        self.setAccessibleName("Sync details")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setFixedWidth(POPUP_WIDTH)
        self._refused_count: int | None = None
        self._alarm_count: int | None = None
        self.refused: list[tuple[outbox.RefusedEntry, str]] = []
        # Entries received from the server that this workstation refused (a signature that
        # fails, a key it cannot trust): not applied, kept, and shown here.
        self.received_refused: list[RefusedRemote] = []

        column = QtWidgets.QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(8)
        self.title = QtWidgets.QLabel("Sync with the central server")
        self.title.setProperty("role", "title")
        column.addWidget(self.title)

        body = QtWidgets.QWidget()
        body.setObjectName("syncForm")
        form = QtWidgets.QFormLayout(body)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.values: dict[str, QtWidgets.QLabel] = {}
        for key, caption in (
            ("server", "Server"),
            ("user", "Signed in as"),
            ("status", "Status"),
            ("waiting", "Waiting to send"),
            ("last", "Last successful sync"),
            ("clock", "Clock"),
        ):
            value = QtWidgets.QLabel()
            value.setWordWrap(True)
            value.setAccessibleName(caption)
            value.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QtWidgets.QLabel(caption)
            label.setProperty("role", "muted")
            form.addRow(label, value)
            self.values[key] = value
        column.addWidget(body)

        self.refused_title = QtWidgets.QLabel()
        self.refused_title.setAccessibleName("Refused entries")
        self.refused_list = QtWidgets.QListWidget()
        self.refused_list.setAccessibleName("Entries the server refused, with its reasons")
        self.refused_list.setWordWrap(True)
        self.refused_list.setMaximumHeight(150)
        column.addWidget(self.refused_title)
        column.addWidget(self.refused_list)
        self.received_title = QtWidgets.QLabel()
        self.received_title.setAccessibleName("Received entries refused here")
        self.received_list = QtWidgets.QListWidget()
        self.received_list.setAccessibleName(
            "Entries received from the server and refused here, with why"
        )
        self.received_list.setWordWrap(True)
        self.received_list.setMaximumHeight(150)
        column.addWidget(self.received_title)
        column.addWidget(self.received_list)
        self.alarms = QtWidgets.QLabel()
        self.alarms.setWordWrap(True)
        self.alarms.setAccessibleName("Sync alarms")
        column.addWidget(self.alarms)

        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        self.sign_in_button = QtWidgets.QPushButton("Sign in…")
        self.sign_in_button.setAccessibleName("Sign in to the server")
        self.sync_now_button = QtWidgets.QPushButton("Sync now")
        self.sync_now_button.setAccessibleName("Sync now")
        self.sync_now_button.setToolTip("Send and receive now (F5)")
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.sync_now_button)
        column.addLayout(buttons)
        self.sign_in_button.clicked.connect(self._sign_in)
        self.sync_now_button.clicked.connect(self._sync_now)

    def restyle(self) -> None:
        palette = current_palette()
        self.setStyleSheet(
            f"QFrame#syncDetails {{ background: {palette.base};"
            f" border: 1px solid {palette.border}; border-radius: 4px; }}"
            "QFrame#syncDetails QLabel, QFrame#syncDetails QWidget#syncForm"
            " { background: transparent; }"
        )
        self.refused_title.setStyleSheet(f"color: {palette.danger}; font-weight: 600;")
        self.received_title.setStyleSheet(f"color: {palette.danger}; font-weight: 600;")
        self.alarms.setStyleSheet(f"color: {palette.warning};")

    def fit(self) -> None:
        """As tall as the wrapped text needs at the popup's width, and no taller."""
        layout = self.layout()
        if layout is not None:
            layout.activate()
            self.setFixedHeight(layout.totalHeightForWidth(POPUP_WIDTH))

    # ---- showing ---------------------------------------------------------------------------
    def open_at(self, anchor: QtWidgets.QWidget) -> None:
        """Above the indicator, right edges aligned, kept on the screen."""
        self._refused_count = None
        self._alarm_count = None
        self.restyle()
        self.show_state()
        self.fit()
        corner = anchor.mapToGlobal(QtCore.QPoint(anchor.width(), 0))
        top_left = corner - QtCore.QPoint(self.width(), self.height() + 4)
        screen = anchor.screen().availableGeometry() if anchor.screen() else None
        if screen is not None:
            top_left.setX(max(screen.left(), min(top_left.x(), screen.right() - self.width())))
            top_left.setY(max(screen.top(), top_left.y()))
        self.move(top_left)
        self.show()
        self.sync_now_button.setFocus(QtCore.Qt.FocusReason.PopupFocusReason)

    def show_state(self) -> None:
        indicator = self.indicator
        state, server = indicator.state, indicator.server
        values = self.values
        if server is None:
            values["server"].setText("none — the console was started without --server")
            values["user"].setText("—")
            values["status"].setText(
                "Working offline: entries are kept on this workstation only. Start the console "
                "with --server URL to share them with the room."
            )
        else:
            values["server"].setText(server)
            values["user"].setText((state.user if state else None) or "not signed in")
            look = indicator.look
            words = state.status.label if state is not None else "Connecting…"
            if look is not None and look.text.startswith("Signing in"):
                words = "Signing in…"
            message = state.message if state is not None else ""
            values["status"].setText(f"{words}{' — ' + message if message else ''}")
        values["waiting"].setText(
            f"{indicator.pending} entr{'y' if indicator.pending == 1 else 'ies'}"
            + (" not yet on the server" if server is not None else " not yet shared")
        )
        self.refresh_times()
        warning = state.skew_warning if state is not None else None
        if warning:
            values["clock"].setText(f"⚠ {warning}")
            values["clock"].setStyleSheet(f"color: {current_palette().warning};")
        else:
            skew = state.clock_skew_ms if state is not None else None
            if skew is None:
                words = "not yet compared with the server"
            elif abs(skew) < 1000:
                words = "in step with the server (< 1 s)"
            else:
                words = f"in step with the server ({skew / 1000:+.0f} s)"
            values["clock"].setText(words)
            values["clock"].setStyleSheet("")
        alarms = state.alarms if state is not None else ()
        self.alarms.setText("\n".join(f"⚠ {a}" for a in alarms))
        self.alarms.setVisible(bool(alarms))
        self.sign_in_button.setVisible(server is not None)
        self.sync_now_button.setVisible(server is not None)
        wants_sign_in = state is not None and state.status is SyncStatus.SIGN_IN_NEEDED
        self.sign_in_button.setDefault(wants_sign_in)
        self.sync_now_button.setDefault(not wants_sign_in)
        refused = state.refused if state is not None else 0
        if refused != self._refused_count or len(alarms) != self._alarm_count:
            self._refused_count = refused
            self._alarm_count = len(alarms)
            self._load_refused()
        self._show_refused()

    def refresh_times(self) -> None:
        state = self.indicator.state
        self.values["last"].setText(last_sync_words(state.last_success if state else None))

    def _load_refused(self) -> None:
        def got(found: tuple[list[tuple[outbox.RefusedEntry, str]], list[RefusedRemote]]) -> None:
            if alive(self):
                self.refused, self.received_refused = found
                self._show_refused()

        self.indicator.session.read(_refused_with_refs, got)

    def _show_refused(self) -> None:
        self.refused_list.clear()
        for entry, ref in self.refused:
            what = KIND_WORDS.get(entry.kind) or kind_label(entry.kind)
            when = last_sync_words(entry.recorded_at).split(" (")[0]
            where = f" on {ref}" if ref else ""
            item = QtWidgets.QListWidgetItem(f"{what}{where}, {when}\n{entry.reason}")
            item.setToolTip(f"{entry.event_id}\n{entry.reason}")
            self.refused_list.addItem(item)
        count = len(self.refused)
        self.refused_title.setText(
            f"Refused by the server ({count}): kept here, not shared" if count else ""
        )
        self.refused_title.setVisible(bool(count))
        self.refused_list.setVisible(bool(count))
        self.received_list.clear()
        for received in self.received_refused:
            what = KIND_WORDS.get(received.kind) or kind_label(received.kind)
            when = last_sync_words(received.recorded_at).split(" (")[0]
            item = QtWidgets.QListWidgetItem(
                f"{what} by {received.actor} at {received.workstation}, {when}\n{received.reason}"
            )
            item.setToolTip(f"{received.event_id}\n{received.reason}")
            self.received_list.addItem(item)
        held = len(self.received_refused)
        self.received_title.setText(
            f"Received from the server and refused here ({held}): not applied" if held else ""
        )
        self.received_title.setVisible(bool(held))
        self.received_list.setVisible(bool(held))
        if self.isVisible():
            self.fit()

    # ---- actions ---------------------------------------------------------------------------
    def _sync_now(self) -> None:
        self.indicator.sync_now()
        self.close()

    def _sign_in(self) -> None:
        self.close()
        self.indicator.ask_sign_in()


def _refused_with_refs(
    store: Store,
) -> tuple[list[tuple[outbox.RefusedEntry, str]], list[RefusedRemote]]:
    """Entries the server refused, with their incident's reference, and entries received
    and refused here; read on the database worker."""
    found = []
    for entry in outbox.refused(store):
        incident = store.incident(entry.incident_id) if entry.incident_id else None
        found.append((entry, incident.ref if incident is not None else ""))
    return found, store.refused_events()
