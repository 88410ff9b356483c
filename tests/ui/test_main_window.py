"""The main window as an operator uses it, on a real store in a temporary folder.

Shortcuts go to the window, dialogs are the ones the window's own actions open, and every step
is checked twice: in the store, and on the widgets the operator reads.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.events import Author
from osc_console.models.payloads import Kind
from osc_console.models.projection import IncidentState
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService
from osc_console.store.errors import StoreWriteError
from osc_console.store.event_store import Store
from osc_console.store.integrity import check_store
from osc_console.ui.detail.timeline_model import TimelineListModel
from osc_console.ui.dialogs.amend import AmendDialog
from osc_console.ui.dialogs.assign import AssignDialog
from osc_console.ui.dialogs.close import CloseDialog, ReopenDialog
from osc_console.ui.dialogs.grade import GradeDialog
from osc_console.ui.dialogs.new_incident import NewIncidentDialog
from osc_console.ui.dialogs.shortcuts import ShortcutsDialog
from osc_console.ui.main_window import SHORTCUTS, MainWindow
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.queue.format import short_ref
from osc_console.ui.queue.table_model import QueueColumn
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import DARK, LIGHT, apply_theme
from tests.conftest import knife_incident
from tests.signing import signed
from tests.ui.conftest import make_session, sign_in_as, wait_idle

T = TypeVar("T")
Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
NONE = Mod.NoModifier
CTRL = Mod.ControlModifier
CTRL_SHIFT = Mod.ControlModifier | Mod.ShiftModifier
M = TimelineListModel

MANAGER = User("Insp. Ray Ellis", Agency.POLICE, Role.DUTY_MANAGER)
DISPATCHER = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)
HANDLER = User("Ann Handler", Agency.POLICE, Role.CALL_HANDLER)
READ_ONLY = "not saved: the file is read-only (x). Nothing was written; what you typed is kept."


# ---- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def sessions() -> Iterator[list[ConsoleSession]]:
    """Every session a test makes: its worker stops and its store closes afterwards."""
    made: list[ConsoleSession] = []
    yield made
    for session in made:
        session.worker.shutdown()
        session.store.close()


@pytest.fixture
def new_session(tmp_path: Path, sessions: list[ConsoleSession]) -> Callable[..., ConsoleSession]:
    def build(user: User | None, realm: str = "live", name: str = "live.db") -> ConsoleSession:
        session = make_session(Store.open(tmp_path / name, realm), user)
        sessions.append(session)
        return session

    return build


@pytest.fixture
def keep_theme(qapp: QtWidgets.QApplication) -> Iterator[None]:
    """The theme is the application's: put it back so later tests see what they expect."""
    style, sheet = qapp.style().name(), qapp.styleSheet()
    palette, name = QtGui.QPalette(qapp.palette()), qapp.property("osc_theme")
    yield
    qapp.setStyle(style)
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setProperty("osc_theme", name)


# ---- helpers ---------------------------------------------------------------------------------
def open_window(qtbot: QtBot, session: ConsoleSession, ini: Path) -> MainWindow:
    settings = QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.detail_ready, timeout=5000):
        window.show()
    assert window.detail is not None
    activate(qtbot, window)
    qtbot.waitUntil(lambda: not window.queue.model.is_loading, timeout=5000)
    return window


def activate(qtbot: QtBot, window: QtWidgets.QWidget) -> None:
    if not window.isActiveWindow():
        window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def shortcut(qtbot: QtBot, window: MainWindow, key: Key, modifier: Any = NONE) -> None:
    """The operator's keys, sent to the main window (its window-wide shortcuts)."""
    activate(qtbot, window)
    qtbot.keyClick(window, key, modifier)


def focused() -> QtWidgets.QWidget:
    widget = QtWidgets.QApplication.focusWidget()
    assert widget is not None
    return widget


def press(qtbot: QtBot, key: Key, modifier: Any = NONE) -> None:
    """A key to whatever has focus (or the open popup), as the keyboard sends it."""
    popup = QtWidgets.QApplication.activePopupWidget()
    qtbot.keyClick(popup or focused(), key, modifier)


def type_text(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def pick_suggestion(qtbot: QtBot, dialog: QtWidgets.QDialog, box: QtWidgets.QWidget) -> None:
    """Wait for the suggestions under a field, take the first with Down and Enter."""
    popup = box.completer().popup()  # type: ignore[attr-defined]
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    press(qtbot, Key.Key_Down)
    press(qtbot, Key.Key_Return)
    assert not popup.isVisible()
    # The offscreen platform delivers the popup's activation late, after it has closed, and
    # leaves the hidden popup as the active window; a real window manager gives it back.
    QtWidgets.QApplication.processEvents()
    activate(qtbot, dialog)


def opened_dialog(qtbot: QtBot, window: MainWindow, kind: type[T]) -> T:
    """The dialog the window's action opened: window-modal, visible, with focus inside it."""
    qtbot.waitUntil(
        lambda: isinstance(window._dialog, kind) and window._dialog.isVisible(), timeout=5000
    )
    dialog = window._dialog
    assert isinstance(dialog, kind)
    assert dialog.windowModality() == QtCore.Qt.WindowModality.WindowModal
    assert QtWidgets.QApplication.activeModalWidget() is dialog

    def focus_inside() -> bool:
        widget = QtWidgets.QApplication.focusWidget()
        return widget is not None and dialog.isAncestorOf(widget)

    qtbot.waitUntil(focus_inside, timeout=3000)
    return dialog


def save(qtbot: QtBot, dialog: QtWidgets.QDialog, key: Key = Key.Key_Return, mod: Any = NONE):
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        press(qtbot, key, mod)


def no_dialog(window: MainWindow) -> bool:
    return window._dialog is None and QtWidgets.QApplication.activeModalWidget() is None


def plain(label: QtWidgets.QLabel) -> str:
    """A label's text as read on screen (rich text without its tags)."""
    doc = QtGui.QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def on_worker(session: ConsoleSession, work: Callable[[Store], T]) -> T:
    """Read the store on its own worker thread, so the test never races the window's reads."""
    box: list[T] = []
    session.worker.submit(lambda: box.append(work(session.store))).result(timeout=10)
    return box[0]


def timeline(window: MainWindow) -> list[str]:
    assert window.detail is not None
    model = window.detail.model
    return [str(model.index(row).data()) for row in range(model.rowCount())]


def queue_text(window: MainWindow, incident_id: str, column: QueueColumn) -> str | None:
    """What the queue shows for an incident (asking for the row, as a view does)."""
    model = window.queue.model
    row = model.row_of(incident_id)
    if row is None:
        return None
    return str(model.index(row, column).data())


def shown(window: MainWindow) -> IncidentState | None:
    return window.detail.state if window.detail is not None else None


def wait_shown(
    qtbot: QtBot,
    window: MainWindow,
    incident_id: str,
    also: Callable[[IncidentState], bool] = lambda _s: True,
) -> IncidentState:
    def ready() -> bool:
        state = shown(window)
        return state is not None and state.id == incident_id and also(state)

    qtbot.waitUntil(ready, timeout=5000)
    state = shown(window)
    assert state is not None
    return state


def click_row(qtbot: QtBot, window: MainWindow, incident_id: str) -> None:
    """Click an incident in the queue, as the operator picks it."""
    model, table = window.queue.model, window.queue.table
    qtbot.waitUntil(lambda: model.row_of(incident_id) is not None, timeout=5000)
    row = model.row_of(incident_id)
    assert row is not None
    rect = table.visualRect(model.index(row, QueueColumn.LOCATION))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())


def choose_status_filter(qtbot: QtBot, window: MainWindow, label: str) -> None:
    combo = window.queue.status_combo
    target = combo.findText(label)
    combo.setFocus()
    key = Key.Key_Down if target > combo.currentIndex() else Key.Key_Up
    for _ in range(combo.count()):
        if combo.currentIndex() == target:
            break
        qtbot.keyClick(combo, key)
    assert combo.currentText() == label
    qtbot.waitUntil(lambda: not window.queue.model.is_loading, timeout=5000)


def seed(session: ConsoleSession, **overrides: object) -> IncidentState:
    """An incident already in the store when the window opens (another desk's call)."""
    desk = IncidentService(session.store, session.author)
    return desk.open_incident(knife_incident(**overrides)).incident


def fill_new_incident(qtbot: QtBot, dialog: NewIncidentDialog, summary: str) -> None:
    """The call, typed the way it comes in: keys only, Tab from field to field."""
    assert focused() is dialog.source
    press(qtbot, Key.Key_Tab)
    type_text(qtbot, "weapon")
    pick_suggestion(qtbot, dialog, dialog.category)
    assert dialog.category.currentText() == "Person with a weapon (VAP-WEAPON)"
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.grade
    type_text(qtbot, "i")
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.priority
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.location
    type_text(qtbot, "leadenhall st")
    pick_suggestion(qtbot, dialog, dialog.location)
    assert dialog.location.text() == "Leadenhall Street"
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.camera
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.summary
    type_text(qtbot, summary)
    press(qtbot, Key.Key_Tab)
    assert focused() is dialog.caller_name
    type_text(qtbot, "Ann Caller")


# ---- 1. the whole journey --------------------------------------------------------------------
def test_a_duty_managers_whole_journey_through_one_incident(
    qtbot: QtBot, tmp_path: Path, new_session: Callable[..., ConsoleSession]
) -> None:
    session = new_session(None)

    # Signed in as the duty manager (the sign-in screen itself: tests/ui/test_sign_in.py).
    sign_in_as(session, MANAGER)
    wait_idle(qtbot, session)

    window = open_window(qtbot, session, tmp_path / "w.ini")
    assert plain(window.header.identity).endswith(
        "Insp. Ray Ellis (Police · duty manager) · CR1 · live"
    )
    actions = window.actions_by_name
    # A duty manager may do everything at the desk; managing accounts is an administrator's.
    assert all(action.isVisible() for name, action in actions.items() if name != "administration")
    assert not actions["administration"].isVisible()
    assert not actions["assign"].isEnabled()  # nothing selected yet
    detail = window.detail
    assert detail is not None

    # Ctrl+N: the call, typed by keyboard only; Enter opens the incident.
    shortcut(qtbot, window, Key.Key_N, CTRL)
    new = opened_dialog(qtbot, window, NewIncidentDialog)
    fill_new_incident(qtbot, new, "Man seen with a knife outside a bar")
    save(qtbot, new)
    qtbot.waitUntil(lambda: window._dialog is None)

    qtbot.waitUntil(lambda: window.queue.current_incident_id() is not None, timeout=5000)
    iid = window.queue.current_incident_id() or "?"
    wait_shown(qtbot, window, iid)
    stored = on_worker(session, lambda s: s.incident(iid))
    assert stored is not None
    assert stored.value("summary") == "Man seen with a knife outside a bar"
    assert stored.value("category") == "VAP-WEAPON"
    assert stored.value("grade") == "immediate"
    assert stored.value("location")["text"] == "Leadenhall Street"
    assert stored.value("caller") == {"name": "Ann Caller"}
    assert stored.status == "open"
    assert [e.kind for e in on_worker(session, lambda s: s.events_of(iid))] == [
        Kind.INCIDENT_OPENED
    ]
    # On screen: listed and selected in the queue, and shown in the detail.
    model, table = window.queue.model, window.queue.table
    qtbot.waitUntil(lambda: queue_text(window, iid, QueueColumn.GRADE) == "I Immediate")
    assert queue_text(window, iid, QueueColumn.REF) == short_ref(stored.ref)
    assert queue_text(window, iid, QueueColumn.CATEGORY) == "Person with a weapon"
    assert queue_text(window, iid, QueueColumn.LOCATION) == "Leadenhall Street"
    assert queue_text(window, iid, QueueColumn.STATUS) == "Open"
    assert table.currentIndex().row() == model.row_of(iid)
    assert detail.header.ref_label.text() == stored.ref
    assert detail.header.grade_label.text() == "■ I Immediate"
    assert plain(detail.header.status_label) == "Status: open"
    assert timeline(window)[0].startswith("Opened: Man seen with a knife outside a bar")
    assert plain(window.save_label).startswith("✓ Saved ")
    assert actions["assign"].isEnabled()
    assert not actions["reopen"].isEnabled()

    # Ctrl+Shift+A twice: a Police team, then a Corporation team.
    shortcut(qtbot, window, Key.Key_A, CTRL_SHIFT)
    assign = opened_dialog(qtbot, window, AssignDialog)
    qtbot.waitUntil(lambda: assign.workload is not None)
    assert focused() is assign.filter
    type_text(qtbot, "response team a")
    assert assign.team() == "POL-RESP-A"
    save(qtbot, assign)
    qtbot.waitUntil(lambda: len(detail.assignments.rows()) == 1, timeout=5000)

    shortcut(qtbot, window, Key.Key_A, CTRL_SHIFT)
    assign = opened_dialog(qtbot, window, AssignDialog)
    type_text(qtbot, "cleansing")
    press(qtbot, Key.Key_Down)
    assert assign.team() == "COL-CLEANSE"
    save(qtbot, assign)
    qtbot.waitUntil(lambda: len(detail.assignments.rows()) == 2, timeout=5000)

    stored = on_worker(session, lambda s: s.incident(iid))
    assert stored is not None
    assert sorted(a.team for a in stored.active_assignments()) == ["COL-CLEANSE", "POL-RESP-A"]
    rows = [row.text() for row in detail.assignments.rows()]
    assert rows[0].startswith("■ Response Team A Police · assigned · assigned ")
    assert rows[1].startswith("■ Street Cleansing Corporation · assigned · assigned ")
    assert not detail.assignments.empty_label.isVisible()
    assert "Assigned Response Team A" in timeline(window)
    assert "Assigned Street Cleansing" in timeline(window)
    qtbot.waitUntil(
        lambda: (
            sorted((queue_text(window, iid, QueueColumn.TEAMS) or "").split(", "))
            == ["Response Team A", "Street Cleansing"]
        )
    )
    assert queue_text(window, iid, QueueColumn.STATUS) == "Assigned"
    assert stored.status == "assigned"

    # Ctrl+L, then three log entries: each shown at once, saved, and the line cleared.
    shortcut(qtbot, window, Key.Key_L, CTRL)
    line = detail.quick_entry.line
    assert focused() is line
    typed = ["Caller still on the line", "Suspect heading to Lime Street", "Officers on scene"]
    for text in typed:
        qtbot.keyClicks(line, text)
        with qtbot.waitSignal(detail.quick_entry.saved, timeout=5000):
            qtbot.keyClick(line, Key.Key_Return)
        assert timeline(window)[-1] == text  # at once, before the reload
        assert line.text() == ""
        assert detail.quick_entry.state_text.startswith("✓ Saved ")
        assert plain(window.save_label).startswith("✓ Saved ")
        last = on_worker(session, lambda s: s.events_of(iid))[-1]
        assert (last.kind, last.payload["text"]) == (Kind.LOG_ADDED, text)
    wait_idle(qtbot, session)
    logged = [e for e in on_worker(session, lambda s: s.events_of(iid)) if e.kind == Kind.LOG_ADDED]
    assert [e.payload["text"] for e in logged] == typed
    assert timeline(window)[-3:] == typed  # the reload did not repeat them

    # Amend the first entry from the log's right-click menu.
    original = logged[0]
    entry_row = detail.model.row_of(original.id)
    viewport = detail.timeline.viewport()
    where = detail.timeline.visualRect(detail.model.index(entry_row)).center()
    offered: list[list[str]] = []

    def pick_amend() -> None:
        menu = QtWidgets.QApplication.activePopupWidget()
        if not isinstance(menu, QtWidgets.QMenu):
            QtCore.QTimer.singleShot(10, pick_amend)
            return
        offered.append([a.text() for a in menu.actions()])
        menu.setActiveAction(next(a for a in menu.actions() if a.text() == "Amend…"))
        qtbot.keyClick(menu, Key.Key_Return)

    QtCore.QTimer.singleShot(0, pick_amend)
    QtWidgets.QApplication.sendEvent(
        viewport,
        QtGui.QContextMenuEvent(
            QtGui.QContextMenuEvent.Reason.Mouse, where, viewport.mapToGlobal(where)
        ),
    )
    assert offered == [["Amend…", "Copy entry"]]
    amend = opened_dialog(qtbot, window, AmendDialog)
    assert amend.original_view.toPlainText() == "Caller still on the line"
    assert focused() is amend.text
    type_text(qtbot, "Caller still on the line, now hiding in the bar")
    press(qtbot, Key.Key_Tab)
    assert focused() is amend.reason
    type_text(qtbot, "caller added where she is")
    save(qtbot, amend, Key.Key_Return, CTRL)
    amendment = (
        "Amendment: Caller still on the line, now hiding in the bar"
        " — reason: caller added where she is"
    )
    qtbot.waitUntil(lambda: amendment in timeline(window), timeout=5000)
    rows = timeline(window)
    at = rows.index("Caller still on the line")
    assert rows[at + 1] == amendment
    assert rows[at + 2] == "Suspect heading to Lime Street"
    assert detail.model.index(at).data(M.IsAmendedRole) is True
    assert detail.model.index(at + 1).data(M.AmendsRole) == original.id
    events = on_worker(session, lambda s: s.events_of(iid))
    assert events[-1].kind == Kind.LOG_AMENDED
    assert events[-1].payload == {
        "amends": original.id,
        "text": "Caller still on the line, now hiding in the bar",
        "reason": "caller added where she is",
    }
    kept = on_worker(session, lambda s: s.event(original.id))
    assert kept is not None
    assert kept.payload["text"] == "Caller still on the line"

    # Ctrl+G: Immediate becomes Priority.
    shortcut(qtbot, window, Key.Key_G, CTRL)
    grade = opened_dialog(qtbot, window, GradeDialog)
    assert focused() is grade.grade
    type_text(qtbot, "p")
    save(qtbot, grade)
    qtbot.waitUntil(lambda: detail.header.grade_label.text() == "▲ P Priority", timeout=5000)
    assert "Changed grade to Priority (was Immediate)" in timeline(window)
    stored = on_worker(session, lambda s: s.incident(iid))
    assert stored is not None
    assert stored.value("grade") == "priority"
    last = on_worker(session, lambda s: s.events_of(iid))[-1]
    assert (last.kind, last.payload) == (Kind.INCIDENT_UPDATED, {"changes": {"grade": "priority"}})
    qtbot.waitUntil(lambda: queue_text(window, iid, QueueColumn.GRADE) == "P Priority")

    # Ctrl+Shift+C: closed as an arrest; it leaves the open queue.
    shortcut(qtbot, window, Key.Key_C, CTRL_SHIFT)
    close = opened_dialog(qtbot, window, CloseDialog)
    assert close.intro.text().startswith("Still assigned: Response Team A, Street Cleansing.")
    assert focused() is close.category
    type_text(qtbot, "arrest")
    pick_suggestion(qtbot, close, close.category)
    press(qtbot, Key.Key_Tab)
    assert focused() is close.resolution
    type_text(qtbot, "Male arrested for possession of a bladed article")
    save(qtbot, close, Key.Key_Return, CTRL)
    stored = on_worker(session, lambda s: s.incident(iid))
    assert stored is not None
    assert (stored.status, stored.closing_category) == ("closed", "CL-ARREST")
    assert stored.resolution == "Male arrested for possession of a bladed article"
    qtbot.waitUntil(lambda: model.row_of(iid) is None, timeout=5000)  # Open filter
    assert window.queue.status_combo.currentText() == "Open"
    # It stays on screen though, so a close made in error can be reopened at once.
    wait_shown(qtbot, window, iid, lambda s: s.is_closed)
    assert detail.incident_id == iid
    assert actions["reopen"].isEnabled()

    choose_status_filter(qtbot, window, "Closed")
    qtbot.waitUntil(lambda: queue_text(window, iid, QueueColumn.STATUS) == "Closed")
    click_row(qtbot, window, iid)
    wait_shown(qtbot, window, iid, lambda s: s.is_closed)
    assert plain(detail.header.status_label) == "Status: closed"
    assert timeline(window)[-1] == (
        "Closed as Arrest made — Male arrested for possession of a bladed article"
    )
    assert actions["reopen"].isEnabled()
    assert not actions["close"].isEnabled()
    assert not actions["assign"].isEnabled()
    assert not detail.assignments.assign_button.isVisible()

    # Ctrl+Shift+R: reopened with a reason; back in the open queue.
    shortcut(qtbot, window, Key.Key_R, CTRL_SHIFT)
    reopen = opened_dialog(qtbot, window, ReopenDialog)
    assert "Arrest made" in reopen.intro.text()
    assert focused() is reopen.reason
    type_text(qtbot, "caller rang back: a second man returned")
    save(qtbot, reopen, Key.Key_Return, CTRL)
    stored = on_worker(session, lambda s: s.incident(iid))
    assert stored is not None
    assert stored.status in {"open", "assigned"}
    assert not stored.is_closed
    assert stored.reopen_count == 1
    last = on_worker(session, lambda s: s.events_of(iid))[-1]
    assert (last.kind, last.payload) == (
        Kind.INCIDENT_REOPENED,
        {"reason": "caller rang back: a second man returned"},
    )
    qtbot.waitUntil(lambda: model.row_of(iid) is None, timeout=5000)  # not closed any more
    choose_status_filter(qtbot, window, "Open")
    qtbot.waitUntil(lambda: queue_text(window, iid, QueueColumn.STATUS) is not None)
    click_row(qtbot, window, iid)
    wait_shown(qtbot, window, iid, lambda s: not s.is_closed)
    assert plain(detail.header.status_label) == f"Status: {stored.status}"
    status = stored.status.capitalize()
    qtbot.waitUntil(lambda: queue_text(window, iid, QueueColumn.STATUS) == status)
    assert timeline(window)[-1] == "Reopened — reason: caller rang back: a second man returned"
    assert actions["close"].isEnabled()
    assert not actions["reopen"].isEnabled()
    assert plain(window.save_label).startswith("✓ Saved ")

    wait_idle(qtbot, session)
    report = on_worker(session, check_store)
    assert report.ok, [str(p) for p in report.problems]
    assert report.events == len(on_worker(session, lambda s: s.events_of(iid)))
    pending = on_worker(session, lambda s: s.pending_count())
    assert pending == report.events  # every entry waits for a server: none is set
    qtbot.waitUntil(lambda: f"{pending} not yet shared" in window.sync_status.toolTip())


# ---- 2. roles --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "hidden", "offered"),
    [
        (HANDLER, {"assign", "status", "close", "reopen"}, {"new_incident", "grade"}),
        (DISPATCHER, {"reopen", "decision"}, {"new_incident", "assign", "grade", "close"}),
    ],
    ids=["call handler", "dispatcher"],
)
def test_a_role_is_offered_only_what_it_may_do(
    qtbot: QtBot,
    tmp_path: Path,
    new_session: Callable[..., ConsoleSession],
    *,
    user: User,
    hidden: set[str],
    offered: set[str],
) -> None:
    session = new_session(MANAGER)
    desk = IncidentService(session.store, session.author)
    live = seed(session)
    done = desk.close(seed(session, summary="Noise from a bar").id, "CL-UTL", "gone").incident
    sign_in_as(session, user)
    window = open_window(qtbot, session, tmp_path / "w.ini")
    actions = window.actions_by_name

    # On an open incident, the hidden actions' shortcuts do nothing; an offered one works.
    click_row(qtbot, window, live.id)
    wait_shown(qtbot, window, live.id)
    for name, key in (("assign", Key.Key_A), ("close", Key.Key_C), ("status", Key.Key_S)):
        if name in hidden:
            shortcut(qtbot, window, key, CTRL_SHIFT)
            assert no_dialog(window), name
    shortcut(qtbot, window, Key.Key_G, CTRL)
    grade = opened_dialog(qtbot, window, GradeDialog)
    press(qtbot, Key.Key_Escape)
    qtbot.waitUntil(lambda: no_dialog(window))
    assert not grade.isVisible()

    # On a closed incident, Reopen's shortcut does nothing for either role.
    choose_status_filter(qtbot, window, "Closed")
    click_row(qtbot, window, done.id)
    wait_shown(qtbot, window, done.id, lambda s: s.is_closed)
    shortcut(qtbot, window, Key.Key_R, CTRL_SHIFT)
    assert no_dialog(window)
    assert on_worker(session, lambda s: s.incident(done.id)).is_closed  # type: ignore[union-attr]

    # Not offered anywhere: not in the toolbar, not in the Incident menu.
    for name in hidden:
        assert not actions[name].isVisible(), name
        button = window.toolbar.widgetForAction(actions[name])
        assert button is None or not button.isVisibleTo(window.toolbar), name
    for name in offered:
        assert actions[name].isVisible(), name
        button = window.toolbar.widgetForAction(actions[name])
        assert button is not None, name
        assert button.isVisibleTo(window.toolbar), name
    incident_menu = next(
        m for m in window.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&Incident"
    )
    listed = {a.text() for a in incident_menu.actions() if a.isVisible()}
    assert not listed & {actions[name].text() for name in hidden}


# ---- 3. bad input ----------------------------------------------------------------------------
def test_a_refused_write_keeps_what_was_typed_and_says_why(
    qtbot: QtBot,
    tmp_path: Path,
    new_session: Callable[..., ConsoleSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = new_session(DISPATCHER)
    state = seed(session)
    window = open_window(qtbot, session, tmp_path / "w.ini")
    click_row(qtbot, window, state.id)
    wait_shown(qtbot, window, state.id)
    detail = window.detail
    assert detail is not None

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise StoreWriteError(READ_ONLY)

    monkeypatch.setattr(session.store, "append_many", refuse)
    shortcut(qtbot, window, Key.Key_L, CTRL)
    line = detail.quick_entry.line
    assert focused() is line
    typed = "Suspect detained by PC 123, knife recovered"
    qtbot.keyClicks(line, typed)
    with qtbot.waitSignal(detail.quick_entry.failed, timeout=5000):
        qtbot.keyClick(line, Key.Key_Return)
    assert line.text() == typed
    assert not line.isReadOnly()
    assert detail.quick_entry.is_error
    assert detail.quick_entry.state_text == (
        "Not saved: the file is read-only (x). Nothing was written; what you typed is kept."
    )
    assert detail.quick_entry.state_label.isVisible()
    assert detail.quick_entry.state_label.geometry().left() >= line.geometry().right()  # beside
    assert plain(window.save_label) == (
        "✗ Not saved: the file is read-only (x). Nothing was written; what you typed is kept."
    )
    assert typed not in timeline(window)

    # A new incident refused the same way: the dialog stays open with everything typed.
    shortcut(qtbot, window, Key.Key_N, CTRL)
    new = opened_dialog(qtbot, window, NewIncidentDialog)
    fill_new_incident(qtbot, new, "Group fighting outside the station")
    press(qtbot, Key.Key_Return)
    qtbot.waitUntil(lambda: bool(new.banner_text()), timeout=5000)
    assert new.banner_text() == READ_ONLY[:1].upper() + READ_ONLY[1:]
    assert new.isVisible()
    assert window._dialog is new
    assert new.category.currentText() == "Person with a weapon (VAP-WEAPON)"
    assert new.grade.currentData() == "immediate"
    assert new.location.text() == "Leadenhall Street"
    assert new.summary.toPlainText() == "Group fighting outside the station"
    assert new.caller_name.text() == "Ann Caller"
    assert new.save_button.isEnabled()
    assert plain(window.save_label).startswith("✗ Not saved: ")
    wait_idle(qtbot, session)
    assert on_worker(session, lambda s: s.event_count()) == 1
    press(qtbot, Key.Key_Escape)
    qtbot.waitUntil(lambda: no_dialog(window))


def test_a_store_file_that_is_read_only_to_sqlite_says_so_and_keeps_the_entry(
    qtbot: QtBot, tmp_path: Path, sessions: list[ConsoleSession]
) -> None:
    path = tmp_path / "live.db"
    with Store.open(path) as writable:
        author = signed(writable, Author(DISPATCHER.name, DISPATCHER.agency, "CR1"), "dispatcher")
        state = IncidentService(writable, author).open_incident(knife_incident()).incident
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )
    session = make_session(Store(conn, path, "live"), DISPATCHER)
    sessions.append(session)
    window = open_window(qtbot, session, tmp_path / "w.ini")
    click_row(qtbot, window, state.id)
    wait_shown(qtbot, window, state.id)
    detail = window.detail
    assert detail is not None

    shortcut(qtbot, window, Key.Key_L, CTRL)
    line = detail.quick_entry.line
    typed = "Second caller reports the same man"
    qtbot.keyClicks(line, typed)
    with qtbot.waitSignal(detail.quick_entry.failed, timeout=5000):
        qtbot.keyClick(line, Key.Key_Return)
    reason = (
        f"not saved: the file is read-only ({path}). Nothing was written; what you typed is kept."
    )
    assert detail.quick_entry.state_text == "N" + reason[1:]
    assert line.text() == typed
    assert line.hasFocus()
    assert plain(window.save_label) == "✗ N" + reason[1:]
    assert typed not in timeline(window)
    wait_idle(qtbot, session)
    assert on_worker(session, lambda s: s.event_count()) == 1


# ---- 4. layout memory and theme --------------------------------------------------------------
def test_splitter_and_window_size_are_remembered(
    qtbot: QtBot, tmp_path: Path, new_session: Callable[..., ConsoleSession]
) -> None:
    session = new_session(DISPATCHER)
    ini = tmp_path / "w.ini"
    window = open_window(qtbot, session, ini)
    assert window.size() == QtCore.QSize(1440, 900)  # the first-run size
    # Qt keeps a restored window on its screen: the offscreen one is 800 x 800, so the
    # smaller size chosen here is the window's least width (960) and a height that fits.
    window.resize(960, 700)
    qtbot.waitUntil(lambda: window.size() == QtCore.QSize(960, 700))
    before = window.splitter.sizes()

    handle = window.splitter.handle(1)
    start = handle.rect().center()
    end = start + QtCore.QPoint(100, 0)
    qtbot.mousePress(handle, QtCore.Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(handle, end)
    qtbot.mouseRelease(handle, QtCore.Qt.MouseButton.LeftButton, pos=end)
    dragged = window.splitter.sizes()
    assert dragged[0] > before[0] + 50  # the queue's filter bar sets its least width
    assert sum(dragged) == sum(before)

    window.close()  # closing saves the layout
    assert ini.exists()

    again = open_window(qtbot, session, ini)
    assert again is not window
    assert again.size() == QtCore.QSize(960, 700)
    assert again.splitter.sizes() == dragged


def test_ctrl_t_switches_dark_and_light_and_remembers_it(
    qtbot: QtBot,
    tmp_path: Path,
    new_session: Callable[..., ConsoleSession],
    qapp: QtWidgets.QApplication,
    keep_theme: None,
) -> None:
    apply_theme(qapp, "dark")  # as the console starts by default
    session = new_session(DISPATCHER)
    ini = tmp_path / "w.ini"
    window = open_window(qtbot, session, ini)
    window_colour = QtGui.QPalette.ColorRole.Window

    shortcut(qtbot, window, Key.Key_T, CTRL)
    assert qapp.property("osc_theme") == "light"
    assert qapp.palette().color(window_colour).name() == LIGHT.window.lower()
    assert window.settings.value("theme") == "light"
    window.close()
    assert QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat).value("theme") == "light"

    again = open_window(qtbot, session, ini)
    shortcut(qtbot, again, Key.Key_T, CTRL)
    assert qapp.property("osc_theme") == "dark"
    assert qapp.palette().color(window_colour).name() == DARK.window.lower()
    again.close()
    assert QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat).value("theme") == "dark"


# ---- 5. help ---------------------------------------------------------------------------------
def test_f1_lists_every_shortcut(
    qtbot: QtBot, tmp_path: Path, new_session: Callable[..., ConsoleSession]
) -> None:
    window = open_window(qtbot, new_session(DISPATCHER), tmp_path / "w.ini")
    for keys, _text, name in SHORTCUTS:
        sequence = window.actions_by_name[name].shortcut()
        assert sequence.toString(QtGui.QKeySequence.SequenceFormat.PortableText) == keys

    shortcut(qtbot, window, Key.Key_F1)
    help_dialog = opened_dialog(qtbot, window, ShortcutsDialog)
    assert help_dialog.rows() == [(keys, text) for keys, text, _name in SHORTCUTS]
    assert len(help_dialog.rows()) == len(window.actions_by_name) == 25
    press(qtbot, Key.Key_Escape)
    qtbot.waitUntil(lambda: no_dialog(window))


# ---- 6. and 7. what the header and status bar say --------------------------------------------
def test_an_exercise_realm_shows_a_banner_that_cannot_be_hidden(
    qtbot: QtBot, tmp_path: Path, new_session: Callable[..., ConsoleSession]
) -> None:
    session = new_session(DISPATCHER, realm="exercise:thames-flood", name="exercise.db")
    window = open_window(qtbot, session, tmp_path / "w.ini")
    banner = window.banner
    assert banner is not None
    assert banner.isVisible()
    label = banner.codeword_label
    assert label.text() == "EXERCISE EXERCISE EXERCISE — thames-flood"
    assert label.isVisible()
    assert banner.width() == window.centralWidget().width()  # full width
    assert banner.geometry().bottom() < window.header.geometry().top()  # above everything
    # Nothing to hide it with: no button on it, no actions, no menu of its own or the window's.
    assert banner.findChildren(QtWidgets.QAbstractButton) == []
    assert banner.actions() == []
    assert banner.contextMenuPolicy() != QtCore.Qt.ContextMenuPolicy.ActionsContextMenu
    popup = window.createPopupMenu()
    toggles = [a.text() for a in popup.actions()] if popup is not None else []
    every = [a.text() for a in window.findChildren(QtGui.QAction)] + toggles
    # The exercise actions join, leave or run an exercise; none hides or toggles the banner.
    assert not [t for t in every if "anner" in t or "hide" in t.lower()]
    assert not [t for t in toggles if "xercise" in t]
    shortcut(qtbot, window, Key.Key_Escape)
    window.resize(window.minimumSize())
    qtbot.waitUntil(lambda: window.size() == window.minimumSize())
    assert banner.isVisible()
    assert label.isVisible()
    banner.hide()  # even code cannot hide it
    banner.setVisible(False)
    assert banner.isVisible()

    assert plain(window.header.identity).endswith("· CR1 · exercise:thames-flood")
    assert "exercise:thames-flood" in window.windowTitle()


@pytest.mark.parametrize(
    ("user", "who"),
    [
        (DISPATCHER, "PC Jane Smith (Police · dispatcher)"),
        (
            User("Sam Okafor", Agency.CORPORATION, Role.CALL_HANDLER),
            "Sam Okafor (Corporation · call handler)",
        ),
    ],
    ids=["police dispatcher", "corporation call handler"],
)
def test_header_says_who_where_and_which_realm_and_status_bar_says_offline(
    qtbot: QtBot,
    tmp_path: Path,
    new_session: Callable[..., ConsoleSession],
    user: User,
    who: str,
) -> None:
    window = open_window(qtbot, new_session(user), tmp_path / "w.ini")
    header = window.header
    assert plain(header.identity) == f"OSC Console · {who} · CR1 · live"
    assert header.identity.isVisible()
    assert window.banner is None  # the live realm has no exercise banner
    assert plain(header.connection).endswith("Working offline — no server set")
    assert re.fullmatch(r"\d\d:\d\d:\d\d (GMT|BST) \(\d\d:\d\dZ\)", header.clock.text())
    indicator = window.sync_status
    assert indicator.text() == "Working offline — no server set"
    assert indicator.isVisible()
    assert window.statusBar().isAncestorOf(indicator)
    qtbot.waitUntil(lambda: "0 not yet shared" in indicator.toolTip())


# ---- 8. start-up weight ----------------------------------------------------------------------
REPO = Path(__file__).resolve().parents[2]
BUILD_WINDOW = textwrap.dedent(
    """
    import importlib.util
    import sys
    from pathlib import Path

    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication([])
    from osc_console.models.agencies import Agency
    from osc_console.models.authority import Role
    from osc_console.models.events import Author
    from osc_console.models.payloads import SignInMethod
    from osc_console.services.identity import Operator
    from osc_console.services.incidents import IncidentService, Location, NewIncident
    from osc_console.store.event_store import Store
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker

    folder = Path(sys.argv[1])
    sys.path.insert(0, sys.argv[2])  # the repository, for the tests' signing authority
    from tests.signing import certificate, key_of, register

    store = Store.open(folder / "live.db")
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    register(store, Author("PC Jane Smith", Agency.POLICE, "CR1"))
    key = key_of("PC Jane Smith", "police", "CR1")
    session.sign_in(
        Operator(
            "PC Jane Smith",
            "",
            Agency.POLICE,
            Role.DISPATCHER,
            "CR1",
            key,
            certificate("PC Jane Smith", "police", "CR1"),
            SignInMethod.STANDALONE,
        )
    )
    call = NewIncident(
        summary="Man seen with a knife outside a bar",
        category="VAP-WEAPON",
        source="999",
        location=Location("Leadenhall Street"),
        lead_agency=Agency.POLICE,
        grade="immediate",
    )
    incident = IncidentService(store, session.author).open_incident(call).incident
    ini = QtCore.QSettings(str(folder / "w.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(session, settings=ini)
    window.show()
    deadline = QtCore.QDeadlineTimer(10000)
    asked = False
    while not deadline.hasExpired():
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if not asked and not window.queue.model.is_loading:
            asked = window.queue.select_incident(incident.id)
        if window.detail is not None and window.detail.state is not None:
            break
    print("shown", window.detail is not None and window.detail.state is not None)
    print("available", importlib.util.find_spec("pyqtgraph") is not None)
    print("imported", "pyqtgraph" in sys.modules)
    window.close()
    session.worker.shutdown()
    store.close()
    """
)


def test_building_and_showing_the_window_does_not_import_pyqtgraph(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
        "OSC_DATA_DIR": str(tmp_path / "data"),
        "OSC_CONFIG_DIR": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "-c", BUILD_WINDOW, str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert said["shown"] == "True"  # the detail panel was built and showed an incident
    assert said["available"] == "True"  # so the check below means something
    assert said["imported"] == "False"
