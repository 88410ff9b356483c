"""Who is at this desk, kept honest while the console runs: lock after a period idle, unlock,
switch operator without a restart, and an audit entry for each.

The guard watches the keyboard and mouse of the whole application; after the set period
without either it locks the console (the lock screen shows nothing of the log). Unlocking
needs the password of whoever locked it (it opens their key here, so it works offline);
anyone else signs in through "Switch operator", which signs the previous operator out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from osc_console.models.clock import local_label
from osc_console.models.payloads import LockReason, SignOutReason
from osc_console.services import audit
from osc_console.services.identity import Operator, SignInError, register_operator
from osc_console.services.workstation import WorkstationDoor
from osc_console.store.event_store import Store
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.tasks import DbWorker

if TYPE_CHECKING:
    from osc_console.ui.main_window import MainWindow

DEFAULT_LOCK_MINUTES = 10
_INPUT = frozenset(
    {
        QtCore.QEvent.Type.KeyPress,
        QtCore.QEvent.Type.MouseButtonPress,
        QtCore.QEvent.Type.MouseMove,
        QtCore.QEvent.Type.Wheel,
        QtCore.QEvent.Type.TouchBegin,
    }
)


class DeskGuard(QtCore.QObject):
    """Locks, unlocks and switches the operator of the current window."""

    locked_changed = QtCore.Signal(bool)
    operator_switched = QtCore.Signal(object)  # the new Operator

    def __init__(
        self,
        door: WorkstationDoor,
        worker: DbWorker,
        *,
        lock_minutes: float = DEFAULT_LOCK_MINUTES,
        ask_sign_in: Callable[[QtWidgets.QWidget, str], Operator | None] | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        # Owned by the application (whose events it watches), so it goes with it at exit.
        super().__init__(parent or QtCore.QCoreApplication.instance())
        self.door = door
        self.worker = worker  # identity work (unsealing keys) off the UI thread
        self.window: MainWindow | None = None
        self.locked = False
        self._locked_at: datetime | None = None
        self._ask_sign_in = ask_sign_in
        self.lock_minutes = lock_minutes
        self._idle = QtCore.QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(lambda: self.lock(LockReason.IDLE))
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._restart_idle()

    # ---- the window ----------------------------------------------------------------------------
    def attach(self, window: MainWindow) -> None:
        self.window = window
        window.guard = self
        window.lock_screen.unlock_requested.connect(self._unlock)
        window.lock_screen.switch_requested.connect(self.switch_operator)
        if self.locked:
            self._show_lock()

    @property
    def operator(self) -> Operator | None:
        return self.window.session.operator if self.window is not None else None

    # ---- idle ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() in _INPUT and not self.locked:
            self._restart_idle()
        return False

    def _restart_idle(self) -> None:
        if self.lock_minutes > 0:
            self._idle.start(int(self.lock_minutes * 60_000))

    def set_lock_minutes(self, minutes: float) -> None:
        self.lock_minutes = minutes
        if minutes > 0:
            self._restart_idle()
        else:
            self._idle.stop()

    # ---- lock and unlock ------------------------------------------------------------------------
    def lock(self, reason: LockReason = LockReason.MANUAL) -> None:
        window, operator = self.window, self.operator
        if self.locked or window is None or operator is None:
            return
        self.locked = True
        self._locked_at = datetime.now(UTC)
        self._idle.stop()
        self._show_lock()
        minutes = int(self.lock_minutes) if reason is LockReason.IDLE else None
        window.session.run(lambda store: audit.locked(store, operator, reason, minutes))
        self.locked_changed.emit(True)

    def _show_lock(self) -> None:
        window, operator = self.window, self.operator
        if window is None or operator is None:
            return
        since = local_label(self._locked_at or datetime.now(UTC))
        window.show_locked(operator.label, since)

    def _unlock(self, password: str) -> None:
        window, operator = self.window, self.operator
        if window is None or operator is None:
            return
        identity = self.door.identity

        def failed(error: BaseException) -> None:
            if self.window is None:
                return
            text = str(error) if isinstance(error, SignInError) else f"unexpected error: {error}"
            self.window.lock_screen.show_problem(text)
            self._record_failure(operator.user, text)

        self.worker.submit(lambda: identity.unlock(operator, password), self._unlocked, failed)

    def _unlocked(self, _: object) -> None:
        window, operator = self.window, self.operator
        if window is None or operator is None:
            return
        self.locked = False
        window.show_unlocked()
        window.session.run(lambda store: audit.unlocked(store, operator))
        self._restart_idle()
        self.locked_changed.emit(False)

    def _record_failure(self, user: str, reason: str) -> None:
        if self.window is None or ("not recognised" not in reason and "locked" not in reason):
            return
        identity = self.door.identity
        self.window.session.run(lambda store: audit.sign_in_failed(store, identity, user, reason))

    # ---- switch operator -------------------------------------------------------------------------
    def switch_operator(self) -> None:
        window, old = self.window, self.operator
        if window is None or self._ask_sign_in is None:
            return
        new = self._ask_sign_in(window, "Switch operator")
        if new is None:
            return
        self.take_over(window, old, new)

    def take_over(self, window: MainWindow, old: Operator | None, new: Operator) -> None:
        """``new`` now has the desk: the audit trail says who handed it to whom."""
        session = window.session
        identity = self.door.identity
        replaced = old.user if old is not None else None

        def change(store: Store) -> None:
            if old is not None:
                audit.signed_out(store, old, SignOutReason.SWITCHED)
            register_operator(store, new, identity)
            audit.signed_in(store, new, replaces=replaced)

        session.run(change)
        session.sign_in(new)
        sync = window.sync
        if sync is not None:
            reply = self.door.gatekeeper.last_reply
            if new.token is not None and reply is not None and reply.session.token == new.token:
                sync.adopt(reply)
            else:
                sync.sign_out()
        self.locked = False
        window.show_unlocked()
        self._restart_idle()
        self.locked_changed.emit(False)
        self.operator_switched.emit(new)

    def change_password(self) -> None:
        """The operator chooses a new password; they stay signed in, with it from now."""
        from osc_console.ui.dialogs.password import ChangePasswordDialog

        window, operator = self.window, self.operator
        if window is None or operator is None:
            return
        dialog = ChangePasswordDialog(
            self.door.gatekeeper, operator.user, window.session.realm, self.worker, window
        )
        window.password_dialog = dialog
        if dialog.exec() != dialog.DialogCode.Accepted or dialog.operator is None:
            return
        renewed = dialog.operator
        identity = self.door.identity
        window.session.run(lambda store: register_operator(store, renewed, identity))
        window.session.sign_in(renewed)
        sync = window.sync
        reply = self.door.gatekeeper.last_reply
        if sync is not None and reply is not None and reply.session.token == renewed.token:
            sync.adopt(reply)  # the old token ended with the change

    def closing(self) -> None:
        """The console is closing: the operator is signed out (recorded before the store
        closes: the worker finishes queued work first)."""
        window, operator = self.window, self.operator
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._idle.stop()
        if window is None or operator is None or window.session.worker.closed:
            return
        window.session.run(lambda store: audit.signed_out(store, operator, SignOutReason.CLOSED))
        token = operator.token
        if token is not None:
            gate = self.door.gatekeeper
            self.worker.submit(lambda: gate.sign_out(operator))
