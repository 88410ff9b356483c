"""Switching the console to another realm (File → Join exercise…, Return to live).

A console's window, session, worker, store and sync engine belong to one realm, so joining
another opens that realm's store, a new worker and session for the same person at the same
workstation, its own sync engine when a server is set (an exercise realm syncs as its own
realm), and a new window, then closes the old ones: nothing of one realm stays open in the
other.
"""

from __future__ import annotations

from collections.abc import Callable

from osc_console.models.errors import DomainError
from osc_console.paths import store_path
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession
from osc_console.ui.signals import AppSignals
from osc_console.ui.sync_status import SyncLink, connect_sync
from osc_console.ui.tasks import DbWorker


class RealmSwitcher(QtCore.QObject):
    """Owns the console's current window and replaces it when the operator joins a realm."""

    switched = QtCore.Signal(object)  # the new MainWindow

    def __init__(
        self,
        settings: QtCore.QSettings,
        make_window: Callable[[ConsoleSession, QtCore.QSettings], MainWindow] | None = None,
        *,
        server: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.server = server
        self.window: MainWindow | None = None
        self._make = make_window or self._window_for

    def _window_for(self, session: ConsoleSession, settings: QtCore.QSettings) -> MainWindow:
        """The new realm's window, with its own sync engine when the console has a server."""
        sync: SyncLink | None = None
        if self.server:
            sync = connect_sync(session, self.server)
            app = QtCore.QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(sync.stop)
        window = MainWindow(session, settings=settings, sync=sync)
        if sync is not None:
            QtCore.QTimer.singleShot(0, sync.start)
        return window

    def adopt(self, window: MainWindow) -> None:
        self.window = window
        window.exercise_mode.join_requested.connect(self.switch)

    def switch(self, realm: str) -> None:
        old = self.window
        if old is None or realm == old.session.realm:
            return
        session = old.session
        path = store_path(session.store.path.parent, realm)
        try:
            store = Store.open(path, realm)
            if session.user is not None and session.user.name not in {
                u.name for u in store.users()
            }:
                store.add_user(session.user)
        except (StoreError, DomainError) as exc:
            old.statusBar().showMessage(f"Cannot open {realm}: {exc}", 15_000)
            return
        new_session = ConsoleSession(store, DbWorker(), AppSignals(), session.workstation)
        if session.user is not None:
            new_session.sign_in(session.user)
        window = self._make(new_session, self.settings)
        self.adopt(window)
        window.show()
        old_sync = old.sync
        if old_sync is not None:
            old_sync.stop()  # the old realm's engine stops before its store closes
        old.close()
        # The old worker stops and its store closes once the old window (and every timer of
        # its panels that might still ask the worker for something) is gone.
        old.destroyed.connect(lambda *_: _close(session))
        old.deleteLater()
        self.switched.emit(window)

    def shutdown(self) -> None:
        """Stop the current window's worker and close its store (at exit)."""
        if self.window is not None:
            if self.window.sync is not None:
                self.window.sync.stop()
            _close(self.window.session)


def _close(session: ConsoleSession) -> None:
    session.worker.shutdown()
    session.store.close()
