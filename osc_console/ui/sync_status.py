"""Is the server reachable, and is what I typed shared yet: the sync status in the status bar.

The engine runs on its own threads and calls back there; Qt widgets may only be touched on
the UI thread. :class:`SyncLink` is the one crossing: the engine's callbacks become queued
signals, so every state and every pulled ChangeSet arrives on the UI thread, where pulled
changes go out on the same ``changes_applied`` signal as local writes (each screen already
knows how to redraw from it).

:class:`SyncStatusIndicator` shows the state as a coloured mark and words (never colour
alone), counts down to the next retry, shows the first sync's progress bar, opens
:class:`SyncDetailsPopup` when clicked, and asks for the server password when the server wants
a sign-in. A console started without a server says so rather than hiding the fact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from osc_console.models.changes import ChangeSet
from osc_console.sync.engine import SyncEngine, SyncState, SyncStatus
from osc_console.sync.protocol import LoginReply
from osc_console.ui.dialogs.fields import alive
from osc_console.ui.dialogs.server_sign_in import ServerSignInDialog
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.sync_details import SyncDetailsPopup
from osc_console.ui.theme import Palette, after_theme_change, current_palette

NO_SERVER = "Working offline — no server set"


class SyncLink(QtCore.QObject):
    """The sync engine as the UI thread sees it.

    Built before the engine (whose callbacks are this object's ``post_…`` methods), then
    given the engine with :meth:`attach`. A local write that was saved kicks the engine, so an
    entry goes to the server at once rather than at the next timer.
    """

    state_changed = QtCore.Signal(object)  # SyncState, on the UI thread
    _state_posted = QtCore.Signal(object)
    _changes_posted = QtCore.Signal(object)

    def __init__(
        self, session: ConsoleSession, server: str, parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.server = server
        self.engine: SyncEngine | None = None
        self.state: SyncState | None = None  # the last state delivered on the UI thread
        self.last_user: str | None = None
        self._closed = False
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._state_posted.connect(self._deliver_state, queued)
        self._changes_posted.connect(self._deliver_changes, queued)
        session.signals.save_state.connect(self._saved_locally)

    def attach(self, engine: SyncEngine) -> None:
        self.engine = engine

    # ---- called on engine threads ----------------------------------------------------------
    def post_state(self, state: SyncState) -> None:
        if not self._closed:
            self._state_posted.emit(state)

    def post_changes(self, changes: ChangeSet) -> None:
        if not self._closed:
            self._changes_posted.emit(changes)

    # ---- UI thread -------------------------------------------------------------------------
    def _deliver_state(self, state: SyncState) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _deliver_changes(self, changes: ChangeSet) -> None:
        self.session.announce(changes)

    def _saved_locally(self, state: str, _message: str) -> None:
        if state == "saved":
            self.kick()

    def _engine(self) -> SyncEngine:
        if self.engine is None:
            raise RuntimeError("SyncLink.attach was not called")
        return self.engine

    def start(self) -> None:
        self._engine().start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the engine's threads without holding up the quit for long.

        A pull waiting on the server's long-poll may not notice at once; its thread is a
        daemon that ends with the process, and whatever it reports after this is dropped.
        Nothing is lost by not waiting: a page is applied in one transaction or not at all.
        """
        if self.engine is not None and not self._closed:
            self.engine.stop(timeout)
        self._closed = True

    def kick(self) -> None:
        if self.engine is not None and not self._closed:
            self.engine.kick()

    def sign_in(self, user: str, password: str) -> None:
        self.last_user = user
        self._engine().sign_in(user, password)

    def adopt(self, reply: LoginReply) -> None:
        """Sync as the operator who has just signed in online (no second sign-in)."""
        self.last_user = reply.session.user
        self._engine().adopt(reply)

    def sign_out(self) -> None:
        """The operator changed and signed in offline: nobody syncs until someone signs in
        to the server (the indicator asks)."""
        if self.engine is not None and not self._closed:
            self.engine.sign_out()


class SignIn(StrEnum):
    """Where the indicator is in a sign-in the server asked for."""

    ASKING = "asking"  # the server wants a password; none given yet
    SIGNING_IN = "signing_in"  # one was given; no answer yet
    ACCEPTED = "accepted"  # the server took it; the engine's first round is under way


# ---- words and colours ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Look:
    """What the indicator shows: words, a colour, a shape (colour is never the only sign)."""

    text: str
    colour: str
    shape: str  # "dot", "ring" or "triangle"
    tooltip: str


def waiting_words(count: int) -> str:
    return f"{count} waiting"


def describe(
    state: SyncState | None,
    *,
    server: str | None,
    pending: int,
    retry_left: float | None,
    episode: SignIn | None,
    palette: Palette,
) -> Look:
    """The indicator's words for a state. ``server`` None: no server was configured.

    ``episode`` is the sign-in the indicator is in the middle of, if any (:class:`SignIn`).
    """
    if server is None:
        return Look(
            NO_SERVER,
            palette.muted,
            "ring",
            f"No server is set (start with --server URL): entries are kept on this workstation "
            f"only. {pending} not yet shared.",
        )
    if state is None:
        return Look("Connecting…", palette.accent, "ring", f"Connecting to {server}")
    waiting = waiting_words(pending)
    status = state.status
    busy = status in (SyncStatus.OFFLINE, SyncStatus.ERROR)
    if status is SyncStatus.STOPPED:
        look = Look("Sync stopped", palette.muted, "ring", "Sync is stopped")
    elif state.progress is not None:
        # Whatever the last status said, pages are coming in now.
        look = Look(
            f"Syncing {percent(state.progress)}%",
            palette.accent,
            "dot",
            f"Receiving the room's history from {server}",
        )
    elif episode is SignIn.SIGNING_IN and not busy:
        look = Look(f"Signing in… · {waiting}", palette.accent, "ring", f"Signing in to {server}")
    elif episode is SignIn.ACCEPTED and status is SyncStatus.SIGN_IN_NEEDED:
        # Signed in; the engine's state still carries the request from before.
        look = Look(f"Syncing · {waiting}", palette.accent, "dot", f"Signed in to {server}")
    elif episode is SignIn.ASKING or status is SyncStatus.SIGN_IN_NEEDED:
        look = Look(
            f"Sign-in needed · {waiting}",
            palette.warning,
            "triangle",
            "The server needs you to sign in; entries are kept here until then.",
        )
    elif status is SyncStatus.OFFLINE and not state.message and state.retry_in is None:
        # The engine's first state, before it has tried anything.
        look = Look(f"Connecting… · {waiting}", palette.accent, "ring", f"Connecting to {server}")
    elif status is SyncStatus.OFFLINE:
        retry = ""
        if retry_left is not None:
            retry = f" · retrying in {round(retry_left)} s" if retry_left >= 0.5 else " · retrying"
        look = Look(
            f"Offline · {waiting}{retry}",
            palette.warning,
            "ring",
            f"The server cannot be reached; entries are kept here and sent when it is back. "
            f"{state.message}",
        )
    elif status is SyncStatus.SYNCING:
        look = Look(
            f"Syncing · {waiting}", palette.accent, "dot", f"Exchanging entries with {server}"
        )
    elif status is SyncStatus.ONLINE:
        look = Look(f"Online · {waiting}", palette.ok, "dot", f"Connected to {server}")
    else:
        look = Look(
            f"Sync error · {waiting}", palette.danger, "triangle", state.message or "Sync error"
        )
    extra: list[str] = []
    if state.refused:
        extra.append(f"{state.refused} refused")
    if state.skew_warning:
        extra.append("check clock")
    if extra:
        text = f"{look.text} · {' · '.join(extra)}"
        colour = look.colour if status is not SyncStatus.ONLINE else palette.warning
        return Look(text, colour, look.shape, f"{look.tooltip}\nClick for details.")
    return Look(look.text, look.colour, look.shape, f"{look.tooltip}\nClick for details.")


def percent(progress: tuple[int, int]) -> int:
    """How far a long sync has come: the engine reports (done, total) in server seqs."""
    done, total = progress
    return max(0, min(100, int(done * 100 / total))) if total > 0 else 0


def mark_icon(colour: str, shape: str, size: int = 12, ratio: float = 1.0) -> QtGui.QIcon:
    """The status mark, painted at the screen's pixel ratio so it stays sharp on high-DPI."""
    pixels = max(1, round(size * ratio))
    pixmap = QtGui.QPixmap(pixels, pixels)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    colour_ = QtGui.QColor(colour)
    area = QtCore.QRectF(1.5, 1.5, size - 3, size - 3)
    if shape == "ring":
        painter.setPen(QtGui.QPen(colour_, 2.0))
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawEllipse(area)
    elif shape == "triangle":
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(colour_)
        painter.drawPolygon(
            QtGui.QPolygonF(
                [
                    QtCore.QPointF(size / 2, 1.0),
                    QtCore.QPointF(size - 1.0, size - 1.5),
                    QtCore.QPointF(1.0, size - 1.5),
                ]
            )
        )
    else:
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(colour_)
        painter.drawEllipse(area)
    painter.end()
    return QtGui.QIcon(pixmap)


# ---- the indicator -------------------------------------------------------------------------
class SyncStatusIndicator(QtWidgets.QToolButton):
    """The status-bar mark and words; a click opens the details."""

    # (colour, text, tooltip): the header repeats the state in its corner.
    summary_changed = QtCore.Signal(str, str, str)

    def __init__(
        self,
        session: ConsoleSession,
        link: SyncLink | None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.link = link
        self.state: SyncState | None = None
        self.pending = 0
        self.look: Look | None = None
        self.popup: SyncDetailsPopup | None = None
        self.sign_in_dialog: ServerSignInDialog | None = None
        self._retry_at: float | None = None
        self.episode: SignIn | None = None  # the sign-in under way, if any
        self._user_before: str | None = None  # the state's user when a password was given
        # The engine counts failed sign-ins; one more than when the password was given means
        # the server refused it (a repeated refusal in the same words is still counted).
        self._attempts_before: int | None = None
        self.setObjectName("syncStatus")
        self.setAccessibleName("Sync status")
        self.setAutoRaise(True)
        self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setIconSize(QtCore.QSize(12, 12))
        self.clicked.connect(self.show_details)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setObjectName("syncProgress")
        self.progress.setAccessibleName("First sync progress")
        self.progress.setFixedWidth(180)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(True)
        self.progress.hide()

        self._palette_name = ""
        self.restyle()

        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

        session.signals.save_state.connect(self._saved_locally)
        if link is not None:
            link.state_changed.connect(self.apply_state)
            if link.state is not None:
                self.apply_state(link.state)
        self._count_pending()
        self.refresh_look()

    def restyle(self) -> None:
        """Follow the theme: flat in the status bar, the bar's colours on the progress bar."""
        palette = current_palette()
        if palette.name == self._palette_name:
            return
        self._palette_name = palette.name
        self.setStyleSheet(
            # The window colour, like the save-state label beside it (the theme paints every
            # widget so), so the status bar reads as one strip.
            f"QToolButton#syncStatus {{ background: {palette.window};"
            f" border: 1px solid transparent;"
            f" border-radius: 3px; padding: 1px 8px; color: {palette.text}; }}"
            f"QToolButton#syncStatus:hover {{ background: {palette.alt_base};"
            f" border-color: {palette.border}; }}"
            f"QToolButton#syncStatus:focus {{ border-color: {palette.accent}; }}"
        )
        self.progress.setStyleSheet(
            f"QProgressBar#syncProgress {{ background: {palette.alt_base};"
            f" border: 1px solid {palette.border}; border-radius: 3px; color: {palette.text};"
            f" text-align: center; font-size: 9pt; }}"
            f"QProgressBar#syncProgress::chunk {{ background: {palette.accent}; }}"
        )
        self.look = None  # the mark's colour changes with the theme

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        after_theme_change(self, event, self._follow_theme)

    def _follow_theme(self) -> None:
        if alive(self) and current_palette().name != self._palette_name:
            self.restyle()
            self.refresh_look()

    # ---- state -----------------------------------------------------------------------------
    @property
    def server(self) -> str | None:
        return self.link.server if self.link is not None else None

    def apply_state(self, state: SyncState) -> None:
        """Show a new state; ask for the password once per sign-in the server wants.

        The engine's pusher reports "online" after a round with nothing to send even while
        the puller is waiting for a password, and "syncing" whenever it tries: so once the
        server has asked for a sign-in, only an answer to the password given here ends the
        question, and the indicator says "Sign-in needed" until then.
        """
        self.state = state
        self.pending = state.pending
        self._retry_at = time.monotonic() + state.retry_in if state.retry_in is not None else None
        status = state.status
        if status is SyncStatus.SIGN_IN_NEEDED:
            if self._refused(state):
                self._attempts_before = None
                self.episode = SignIn.ASKING
                self.ask_sign_in(problem=refusal_words(state.message))
            elif self.episode is None:
                self.episode = SignIn.ASKING
                self.ask_sign_in(note=state.message)
        elif status is SyncStatus.ONLINE and self.episode in (SignIn.SIGNING_IN, SignIn.ACCEPTED):
            self.episode = None
            self._attempts_before = None  # answered: a later sign-in request is a new one
        if self.episode is SignIn.SIGNING_IN and state.user and state.user != self._user_before:
            self.episode = SignIn.ACCEPTED  # the engine names whoever the server signed in
        self.refresh_look()

    def _refused(self, state: SyncState) -> bool:
        """The password just given was refused: the engine counted another failed sign-in."""
        return self._attempts_before is not None and state.sign_in_attempts > self._attempts_before

    def _saved_locally(self, state: str, _message: str) -> None:
        # While the engine is pushing it reports its own count at once; otherwise (offline,
        # waiting out a back-off, no server) count here so "N waiting" never lags a save.
        pushing = (
            self.episode is None
            and self.state is not None
            and self.state.status in (SyncStatus.ONLINE, SyncStatus.SYNCING)
        )
        if state == "saved" and not pushing:
            self._count_pending()

    def _count_pending(self) -> None:
        def got(count: int) -> None:
            if alive(self):
                self.pending = count
                self.refresh_look()

        self.session.read(lambda store: store.pending_count(), got)

    def _tick(self) -> None:
        if self._retry_at is not None:
            self.refresh_look()
        if self.popup is not None and self.popup.isVisible():
            self.popup.refresh_times()

    def retry_left(self) -> float | None:
        if self._retry_at is None:
            return None
        return max(0.0, self._retry_at - time.monotonic())

    def refresh_look(self) -> None:
        look = describe(
            self.state,
            server=self.server,
            pending=self.pending,
            retry_left=self.retry_left(),
            episode=self.episode,
            palette=current_palette(),
        )
        if look != self.look:
            self.look = look
            self.setText(look.text)
            self.setToolTip(look.tooltip)
            self.setAccessibleDescription(look.text)
            self.setIcon(mark_icon(look.colour, look.shape, ratio=self.devicePixelRatioF()))
            self.summary_changed.emit(look.colour, look.text, look.tooltip)
        self._show_progress()
        needs_timer = self._retry_at is not None or (
            self.popup is not None and self.popup.isVisible()
        )
        if needs_timer and not self._timer.isActive():
            self._timer.start()
        elif not needs_timer and self._timer.isActive():
            self._timer.stop()
        if self.popup is not None and self.popup.isVisible():
            self.popup.show_state()

    def _show_progress(self) -> None:
        """Up only while a long history comes in (the engine decides what is long)."""
        progress = self.state.progress if self.state is not None else None
        if progress is None:
            self.progress.hide()
            return
        done, total = progress
        self.progress.setRange(0, 100)
        self.progress.setValue(percent(progress))
        self.progress.setFormat("First sync %p%")
        self.progress.setToolTip(
            f"Receiving the room's history: {done:,} of {total:,} entries' places so far"
        )
        self.progress.show()

    # ---- actions ---------------------------------------------------------------------------
    def sync_now(self) -> None:
        if self.link is not None:
            self.link.kick()

    def show_details(self) -> None:
        if self.popup is None:
            self.popup = SyncDetailsPopup(self)
        self.popup.open_at(self)
        self.refresh_look()

    def ask_sign_in(self, *, note: str = "", problem: str = "") -> None:
        """The non-modal password prompt; raised (not duplicated) when already open."""
        if self.link is None:
            return
        dialog = self.sign_in_dialog
        if dialog is not None and alive(dialog) and dialog.isVisible():
            if problem:
                dialog.show_problem(problem)
            elif note:
                dialog.set_note(note)
            dialog.raise_()
            dialog.activateWindow()
            return
        user = (self.state.user if self.state else None) or self.link.last_user
        if not user and self.session.user is not None:
            user = self.session.user.name
        dialog = ServerSignInDialog(
            self.session,
            self.link.server,
            user or "",
            self._submit_sign_in,
            note=note,
            problem=problem,
            parent=self.window(),
        )
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.sign_in_dialog = dialog
        dialog.show()
        dialog.raise_()

    def _submit_sign_in(self, user: str, password: str) -> None:
        if self.link is None:
            return
        self.episode = SignIn.SIGNING_IN
        self._user_before = self.state.user if self.state is not None else None
        self._attempts_before = self.state.sign_in_attempts if self.state is not None else 0
        self.link.sign_in(user, password)
        self.refresh_look()


def refusal_words(message: str) -> str:
    if not message:
        return "The server did not accept the sign-in."
    return f"The server did not accept the sign-in: {message}"
