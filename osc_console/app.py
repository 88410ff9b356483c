"""Composition root: builds settings, store, worker and session, then the windows.

Nothing global: every object is made here and handed to what needs it.
"""

from __future__ import annotations

import argparse
import sys

from osc_console.config import parse_realm, workstation_code
from osc_console.models.errors import ValidationError
from osc_console.models.users import Role, make_user
from osc_console.paths import data_dir, store_path, window_settings_path
from osc_console.runtime import settle_after_start_up
from osc_console.store.event_store import Store


def run_console(args: argparse.Namespace) -> int:
    realm = parse_realm(args.realm)
    directory = data_dir(args.data_dir)
    workstation = workstation_code(directory, args.workstation)
    store = Store.open(store_path(directory, realm), realm)
    ended = store.exercise_ended()  # joining a finished exercise says so
    if ended is not None:
        print(
            f"osc-console: {realm} has ended ({ended.payload.get('reason')}): opened for "
            "review; nothing more can be recorded in it",
            file=sys.stderr,
        )
    if args.demo and store.event_count() == 0:
        from osc_console.services.demo import DemoSpec, seed_store

        seed_store(store, DemoSpec(realm=realm))

    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("OSC Console")
    app.setOrganizationName("OSC")

    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.sync_status import SyncLink, connect_sync
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    settings = QtCore.QSettings(str(window_settings_path()), QtCore.QSettings.Format.IniFormat)
    apply_theme(app, str(settings.value("theme", "dark")))
    worker = DbWorker()
    session = ConsoleSession(store, worker, AppSignals(), workstation)
    sync: SyncLink | None = None
    try:
        if not _sign_in(session, args):
            return 0
        server = getattr(args, "server", None)
        if server:
            sync = connect_sync(session, server)
            # Stopped before the store closes; a long-poll is cut short, so quitting is quick.
            app.aboutToQuit.connect(sync.stop)
        from osc_console.ui.exercise.switch import RealmSwitcher

        window = MainWindow(session, settings=settings, sync=sync)
        # File → Join exercise… opens another realm's store, sync and window in its place.
        switcher = RealmSwitcher(settings, server=server)
        switcher.adopt(window)
        window.show()
        # Once the operator has the console: garbage collections rare and short from then on
        # (the chart library is loaded ahead by the workspace, ui/workspace.py).
        QtCore.QTimer.singleShot(2000, window, settle_after_start_up)
        if sync is not None:
            # After the first paint: the operator sees the queue before any network work.
            QtCore.QTimer.singleShot(0, window, sync.start)
        code = int(app.exec())
        switcher.shutdown()
        return code
    finally:
        if sync is not None:
            sync.stop()
        worker.shutdown()
        store.close()


def _sign_in(session: object, args: argparse.Namespace) -> bool:
    """Sign in from --user (with --agency and --role for a new user), else ask."""
    from osc_console.ui.session import ConsoleSession

    assert isinstance(session, ConsoleSession)
    store = session.store
    if args.user:
        known = {u.name.lower(): u for u in store.users()}
        user = known.get(args.user.strip().lower())
        if user is None and args.agency:
            try:
                user = make_user(
                    args.user, args.agency, getattr(args, "role", None) or Role.DISPATCHER
                )
            except ValidationError as exc:
                print(f"osc-console: error: {exc}", file=sys.stderr)
                return False
            store.add_user(user)
        if user is not None:
            session.sign_in(user)
            store.signed_in(user)
            return True
    from osc_console.ui.dialogs.sign_in import SignInDialog

    dialog = SignInDialog(session)
    accepted = dialog.exec() == dialog.DialogCode.Accepted
    return accepted and session.user is not None
