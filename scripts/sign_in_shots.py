"""Render the sign-in screen and the lock screen offscreen, for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/sign_in_shots.py [--out docs/screenshots]

A standalone workstation with demo data and the demo accounts (as ``make run ARGS=--demo``):
the sign-in screen as a person who has signed in before finds it, and the console locked.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from osc_console.app import DEMO_PASSWORD, Console, SyncOptions, make_demo_accounts
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.services.identity import Operator
from osc_console.services.workstation import open_door
from osc_console.store.event_store import Store
from osc_console.ui.qt import QtCore, QtWidgets


def settle(app: QtWidgets.QApplication, ms: int = 300) -> None:
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication(sys.argv)
    from osc_console.ui.desk import DeskGuard
    from osc_console.ui.dialogs.sign_in import SignInDialog
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    apply_theme(app, "dark")
    folder = Path(tempfile.mkdtemp(prefix="osc-shots-"))
    os.environ["OSC_CONFIG_DIR"] = str(folder / "config")
    with Store.open(folder / "live.db") as store:
        end = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
        seed_store(store, DemoSpec(incidents=400, days=3, seed=7, end=end))
    door = open_door(folder, "CR1")
    worker = DbWorker()
    try:
        accounts = make_demo_accounts(door)
        signed = door.gatekeeper.sign_in("demo.dispatcher", DEMO_PASSWORD, "live")
        assert isinstance(signed, Operator)

        dialog = SignInDialog(
            door, "live", worker, demo_accounts=accounts, password_hint=DEMO_PASSWORD
        )
        dialog.resize(560, dialog.sizeHint().height())
        dialog.show()
        dialog.password.setText("x" * 18)
        settle(app)
        dialog.grab().save(str(args.out / "sign-in.png"))
        dialog.close()

        settings = QtCore.QSettings(str(folder / "w.ini"), QtCore.QSettings.Format.IniFormat)
        console = Console(door, folder, "CR1", settings, worker, SyncOptions())
        console.guard = DeskGuard(door, worker, lock_minutes=0)
        window = console.open_window("live", signed)
        window.resize(1280, 800)
        window.show()
        settle(app, 1500)
        console.guard.lock()
        settle(app)
        window.grab().save(str(args.out / "lock.png"))
        window.close()
        window.session.worker.shutdown()
        window.session.store.close()
        for made in (window, dialog):
            made.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    finally:
        worker.shutdown()
        door.close()
    print(f"wrote {args.out / 'sign-in.png'} and {args.out / 'lock.png'}")


if __name__ == "__main__":
    main()
