"""Search with filters opens the incident at the matching entry; linking incidents from the
console makes a major-incident group whose timeline merges them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.services.incidents import IncidentService
from osc_console.ui.dialogs.link import LinkDialog
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from tests.conftest import knife_incident
from tests.ui.conftest import wait_idle

Qt = QtCore.Qt


@pytest.fixture
def desk(session: ConsoleSession) -> IncidentService:
    return IncidentService(session.store, session.author)


@pytest.fixture
def window(qtbot: QtBot, session: ConsoleSession, tmp_path: Path) -> Iterator[MainWindow]:
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.Format.IniFormat)
    made = MainWindow(session, settings=settings)
    qtbot.addWidget(made)
    with qtbot.waitSignal(made.detail_ready, timeout=5000):
        made.show()
    yield made
    made.close()


def test_a_search_result_opens_the_incident_at_the_matching_entry(
    qtbot: QtBot, window: MainWindow, desk: IncidentService
) -> None:
    first = desk.open_incident(knife_incident()).incident
    desk.add_log(first.id, "Caller saw a red holdall left by the bench")
    wanted = desk.add_log(first.id, "Second caller: the holdall is ticking").events[0]
    desk.add_log(first.id, "Cordon at 100 metres")
    other = desk.open_incident(knife_incident(summary="Noise from a bar")).incident
    desk.close(other.id, "CL-NOCRIME", "Quiet on arrival")  # not in the open queue
    window.workspace.show_search()
    panel = window.workspace.search
    assert window.workspace_tabs.currentWidget() is window.workspace.search_tab
    qtbot.keyClicks(panel.text, '"ticking" (*')  # FTS syntax typed: plain words
    with qtbot.waitSignal(panel.searched, timeout=5000) as searched:
        qtbot.keyClick(panel.text, Qt.Key.Key_Return)
    assert searched.args == [1]
    assert panel.model.results[0].event_id == wanted.id
    index = panel.model.index(0, 0)
    panel.table.setCurrentIndex(index)
    with qtbot.waitSignal(window.detail.loaded, timeout=5000):  # type: ignore[union-attr]
        panel.table.activated.emit(index)
    assert window.workspace_tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: window.detail.current_event_id() == wanted.id, timeout=5000)  # type: ignore[union-attr]


def test_filters_reach_the_store_and_a_closed_incident_still_opens(
    qtbot: QtBot, window: MainWindow, desk: IncidentService
) -> None:
    desk.open_incident(knife_incident(summary="Bins blocking the pavement"))
    closed = desk.open_incident(
        knife_incident(
            summary="Bins on fire",
            category="CS-CLEANSE",
            lead_agency=Agency.CORPORATION,
            grade=None,
            council_priority="urgent",
        )
    ).incident
    desk.close(closed.id, "CL-NOCRIME", "Put out by the crew")
    window.workspace.show_search()
    panel = window.workspace.search
    panel.text.setText("bins")
    panel.grade.setCurrentIndex(panel.grade.findData("urgent"))
    with qtbot.waitSignal(panel.searched, timeout=5000) as searched:
        panel.search()
    assert searched.args == [1]
    assert panel.model.results[0].incident_id == closed.id
    with qtbot.waitSignal(window.detail.loaded, timeout=5000):  # type: ignore[union-attr]
        panel.table.activated.emit(panel.model.index(0, 0))
    assert window.detail.state.id == closed.id  # type: ignore[union-attr]


def test_linking_from_the_console_merges_the_timelines(
    qtbot: QtBot, window: MainWindow, session: ConsoleSession, desk: IncidentService
) -> None:
    first = desk.open_incident(knife_incident()).incident
    second = desk.open_incident(knife_incident(summary="Same fight, second caller")).incident
    desk.add_log(second.id, "Caller 2: three men involved")
    detail = window.detail
    assert detail is not None
    with qtbot.waitSignal(detail.loaded, timeout=5000):
        window.show_incident(first.id)
    window.link_incident()
    dialog = window._dialog
    assert isinstance(dialog, LinkDialog)
    qtbot.keyClicks(dialog.other, second.ref)
    with qtbot.waitSignal(detail.loaded, timeout=5000):
        dialog.submit()
    wait_idle(qtbot, session)
    assert detail.state is not None
    assert set(detail.state.links.values()) == {second.id}
    shown = [str(detail.model.index(r).data()) for r in range(detail.model.rowCount())]
    assert shown[-1] == f"Linked to {second.ref}"
    tab = detail.chart_tab
    with qtbot.waitSignal(tab.drawn, timeout=5000):
        detail.tabs.setCurrentWidget(tab)
    assert tab.merge.isEnabled()
    chart = tab.chart
    assert chart is not None
    assert chart.data is not None
    assert chart.data.refs == (first.ref,)
    with qtbot.waitSignal(tab.drawn, timeout=5000):
        tab.merge.setChecked(True)
    assert chart.data.refs == (first.ref, second.ref)
    texts = {m.event.payload.get("text") for m in chart.data.markers}
    assert "Caller 2: three men involved" in texts
    assert "Timeline · " + first.ref in chart.title.text()


def test_the_dashboard_tab_is_built_when_first_shown(qtbot: QtBot, window: MainWindow) -> None:
    assert window.workspace.dashboard_tab._content is None
    window.workspace.show_dashboard()
    dashboard = window.workspace.dashboard
    qtbot.waitUntil(lambda: dashboard.figures is not None, timeout=10_000)
    assert isinstance(dashboard, QtWidgets.QWidget)
    assert dashboard.isVisible()


def test_a_marker_of_a_linked_incident_opens_that_incident_at_the_entry(
    qtbot: QtBot, window: MainWindow, session: ConsoleSession, desk: IncidentService
) -> None:
    first = desk.open_incident(knife_incident()).incident
    second = desk.open_incident(knife_incident(summary="Second caller")).incident
    theirs = desk.add_log(second.id, "Caller 2: the man ran towards Bank").events[0]
    desk.link(second.id, first.id)  # recorded on the second: the first still has a group
    detail = window.detail
    assert detail is not None
    with qtbot.waitSignal(detail.loaded, timeout=5000):
        window.show_incident(first.id)
    tab = detail.chart_tab
    with qtbot.waitSignal(tab.drawn, timeout=5000):
        detail.tabs.setCurrentWidget(tab)
    assert tab.merge.isEnabled()
    with qtbot.waitSignal(tab.drawn, timeout=5000):
        tab.merge.setChecked(True)
    chart = tab.chart
    assert chart is not None
    assert chart.data is not None
    assert chart.data.refs == (first.ref, second.ref)
    with qtbot.waitSignal(detail.loaded, timeout=5000):
        chart.entry_clicked.emit(theirs.id)  # what a click on that marker sends
    assert detail.state is not None
    assert detail.state.id == second.id
    qtbot.waitUntil(lambda: detail.current_event_id() == theirs.id, timeout=5000)
    assert detail.tabs.currentWidget() is tab  # the chart stays in view
    # The same group, read again from the other end, this incident first.
    qtbot.waitUntil(
        lambda: chart.data is not None and chart.data.refs == (second.ref, first.ref),
        timeout=5000,
    )


def test_the_search_results_model_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: object, session: ConsoleSession, desk: IncidentService
) -> None:
    from osc_console.ui.search.panel import SearchPanel, SearchTableModel

    opened = desk.open_incident(knife_incident()).incident
    desk.add_log(opened.id, "Knife recovered from a bin")
    panel = SearchPanel(session)
    qtbot.addWidget(panel)
    panel.text.setText("knife")
    with qtbot.waitSignal(panel.searched, timeout=5000) as searched:
        panel.search()
    assert searched.args == [2]  # the summary and the log entry
    assert {bool(r.event_id) for r in panel.model.results} == {True, False}
    # A model of its own (the panel's goes with the panel, before the tester lets go).
    model = SearchTableModel(session.store.reference)
    model.set_results(panel.model.results)
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]


def test_the_chart_library_is_imported_off_the_ui_thread() -> None:
    """In a fresh process (this one has pyqtgraph already): imported by another thread."""
    import subprocess
    import sys

    code = (
        "import sys, threading\n"
        "from osc_console.ui.qt import QtWidgets\n"
        "app = QtWidgets.QApplication([])\n"
        "from osc_console.ui.workspace import warm_chart_library\n"
        "assert 'pyqtgraph' not in sys.modules\n"
        "thread = warm_chart_library()\n"
        "assert thread is not None and thread is not threading.main_thread()\n"
        "thread.join(60)\n"
        "assert 'pyqtgraph' in sys.modules\n"
        "assert warm_chart_library() is None\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
