"""The console's main window. For now: who, where, realm and the store's state at a glance.

The queue, detail and timeline panels arrive with the console issue; this window already
answers two of the operator's questions (where am I, is my data here).
"""

from __future__ import annotations

import sys

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.store.event_store import Store
from osc_console.store.queries import QueueFilter, StatusFilter, queue_count
from osc_console.ui.qt import QtCore, QtWidgets


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, store: Store, author: Author) -> None:
        super().__init__()
        self.store = store
        self.author = author
        self.setWindowTitle(f"OSC Console · {author.actor} · {author.workstation} · {store.realm}")
        self.resize(1280, 800)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        header = QtWidgets.QLabel(
            f"<b>OSC Console</b> · {author.actor} ({Agency(author.agency).label}) · "
            f"{author.workstation} · realm <b>{store.realm}</b>"
        )
        header.setAccessibleName("Signed-in user, workstation and realm")
        layout.addWidget(header)
        self.summary = QtWidgets.QLabel()
        self.summary.setAccessibleName("Store summary")
        self.summary.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.summary, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage("offline: local only")
        self.refresh()

    def refresh(self) -> None:
        open_count = queue_count(
            self.store.conn, QueueFilter(viewer=self.author.agency, status=StatusFilter.OPEN)
        )
        self.summary.setText(
            f"{open_count} open incidents · {self.store.event_count()} events in {self.store.path}"
        )


def run(store: Store, author: Author) -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    window = MainWindow(store, author)
    window.show()
    return int(app.exec())
