"""One cold start of the console, for console_bench.py: exits once the queue is painted.

python bench/console_start.py STORE   (or:  python bench/console_start.py --bare)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def bare() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication([])
    window = QMainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    window.grab()


def console(path: str) -> None:
    import tempfile
    from pathlib import Path

    os.environ["OSC_CONFIG_DIR"] = tempfile.mkdtemp()
    from synthetic import STAFF

    from osc_console.models.agencies import Agency
    from osc_console.models.users import Role, User
    from osc_console.store.event_store import Store
    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication([])
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    apply_theme(app, "dark")
    store = Store.open(Path(path))
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    session.sign_in(STAFF.operator(store, User("Bench", Agency.POLICE, Role.DISPATCHER), "CR1"))
    window = MainWindow(session)
    window.resize(1400, 900)
    window.show()
    model = window.queue.model
    loop = QtCore.QEventLoop()
    # Painted queue: ids loaded and the first screenful of rows fetched and drawn.
    while model.is_loading or model.rowCount() == 0 or model.data(model.index(0, 0)) == "…":
        QtCore.QTimer.singleShot(1, loop.quit)
        loop.exec()
    window.grab()
    if "pyqtgraph" in sys.modules:
        raise SystemExit("pyqtgraph was imported at start-up")
    os._exit(0)  # the measurement ends at first paint, not at teardown


if __name__ == "__main__":
    if sys.argv[1] == "--bare":
        bare()
        os._exit(0)
    console(sys.argv[1])
