"""The main window's workspace tabs beside the incident view: Dashboard and Search.

Each tab is built the first time it is shown (the dashboard imports pyqtgraph and asks for a
month of figures: no reason to pay for that at start-up). Kept out of main_window.py so the
window only says where the tabs go.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession

log = logging.getLogger(__name__)
WARM_UP_AFTER_MS = 4000  # once the queue and the detail are on screen


def warm_chart_library() -> threading.Thread | None:
    """Import pyqtgraph (and numpy) on a background thread while the operator works.

    The import takes most of a second; done on the UI thread when the Dashboard or the
    Timeline chart is first opened, it would freeze the console that long. Importing builds
    no Qt object, so it is safe off the UI thread, which keeps running meanwhile. None when
    it is already imported.
    """
    if "pyqtgraph" in sys.modules:
        return None
    thread = threading.Thread(target=_import_charts, name="osc-warm-charts", daemon=True)
    thread.start()
    return thread


def _import_charts() -> None:
    try:
        import pyqtgraph  # noqa: F401
    except Exception:  # the tab will try again, and say what is wrong, when opened
        log.exception("pyqtgraph could not be imported in the background")


if TYPE_CHECKING:
    from osc_console.ui.dashboard.panel import DashboardPanel
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.search.panel import SearchPanel


class LazyTab(QtWidgets.QWidget):
    """A tab whose content is made on first show (or when :meth:`content` is asked for)."""

    def __init__(self, make: Callable[[], QtWidgets.QWidget], name: str) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self._make = make
        self._content: QtWidgets.QWidget | None = None
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def content(self) -> QtWidgets.QWidget:
        if self._content is None:
            self._content = self._make()
            self._layout.addWidget(self._content)
        return self._content

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.content()


class Workspace:
    """The tabs and the one thing they ask of the window: open an incident at an entry."""

    def __init__(self, window: MainWindow, tabs: QtWidgets.QTabWidget, session: ConsoleSession):
        self.window = window
        self.tabs = tabs
        self.session = session
        self.dashboard_tab = LazyTab(self._make_dashboard, "Dashboard")
        self.search_tab = LazyTab(self._make_search, "Search")
        tabs.addTab(self.dashboard_tab, "Dashboard")
        tabs.addTab(self.search_tab, "Search")
        QtCore.QTimer.singleShot(WARM_UP_AFTER_MS, window, warm_chart_library)

    def _make_dashboard(self) -> QtWidgets.QWidget:
        from osc_console.ui.dashboard.panel import DashboardPanel

        return DashboardPanel(self.session)

    def _make_search(self) -> QtWidgets.QWidget:
        from osc_console.ui.search.panel import SearchPanel

        panel = SearchPanel(self.session)
        panel.open_requested.connect(self.open_incident_at)
        return panel

    @property
    def dashboard(self) -> DashboardPanel:
        return self.dashboard_tab.content()  # type: ignore[return-value]

    @property
    def search(self) -> SearchPanel:
        return self.search_tab.content()  # type: ignore[return-value]

    def show_dashboard(self) -> None:
        self.tabs.setCurrentWidget(self.dashboard_tab)

    def show_search(self) -> None:
        self.tabs.setCurrentWidget(self.search_tab)
        self.search.focus_text()

    def open_incident_at(self, incident_id: str, event_id: str = "") -> None:
        """Back to the incident view, showing the incident with the matching entry selected.

        It need not be in the queue (closed, or filtered out): the detail shows it anyway.
        """
        window = self.window
        self.tabs.setCurrentIndex(0)
        window.queue.select_incident(incident_id)
        window.show_incident(incident_id)
        detail = window.detail
        if detail is not None and event_id:
            detail.select_event(event_id)
