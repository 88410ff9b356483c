"""Switching the console to another realm (File → Join exercise…, Return to live).

A console's window, session, worker, store and sync engine belong to one realm, so joining
another asks the composition root for that realm's window (built the same way as the
first: its own store, worker, session for the same person at the same workstation, and its
own sync engine when a server is set), then closes the old one: nothing of one realm stays
open in the other.
"""

from __future__ import annotations

from collections.abc import Callable

from osc_console.models.errors import DomainError
from osc_console.store.errors import StoreError
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession

OpenWindow = Callable[[str], MainWindow]


class RealmSwitcher(QtCore.QObject):
    """Owns the console's current window and replaces it when the operator joins a realm."""

    switched = QtCore.Signal(object)  # the new MainWindow

    def __init__(self, open_window: OpenWindow) -> None:
        super().__init__()
        self._open = open_window
        self.window: MainWindow | None = None

    def adopt(self, window: MainWindow) -> None:
        self.window = window
        window.exercise_mode.join_requested.connect(self.switch)

    def switch(self, realm: str) -> None:
        old = self.window
        if old is None or realm == old.session.realm:
            return
        try:
            window = self._open(realm)
        except (StoreError, DomainError) as exc:
            old.statusBar().showMessage(f"Cannot open {realm}: {exc}", 15_000)
            return
        self.adopt(window)
        window.show()
        session = old.session
        old_sync = old.sync
        if old_sync is not None:
            old_sync.stop()  # the old realm's engine stops before its store closes
        old.close()
        # The old worker stops and its store closes once the old window (and every timer of
        # its panels that might still ask the worker for something) is gone.
        old.destroyed.connect(lambda *_: close_session(session))
        old.deleteLater()
        self.switched.emit(window)

    def shutdown(self) -> None:
        """Stop the current window's worker and close its store (at exit)."""
        if self.window is not None:
            if self.window.sync is not None:
                self.window.sync.stop()
            close_session(self.window.session)


def close_session(session: ConsoleSession) -> None:
    session.worker.shutdown()
    session.store.close()
