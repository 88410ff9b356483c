"""The shift log window as a duty manager uses it: review, filter, hand over, sign off, export.

A real store in a temporary folder with a fixed wall clock (the store's and the window's), the
real database worker; each step is checked on the widgets the manager reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency, Visibility
from osc_console.models.events import Author
from osc_console.models.shifts import DEFAULT_PATTERNS
from osc_console.models.users import Role, User
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.shift import (
    AcknowledgeDialog,
    HandoverDialog,
    ShiftRecordDialog,
    SignOffDialog,
)
from osc_console.ui.main_window import SHORTCUTS, MainWindow
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.shifts import ShiftLogWindow
from tests.conftest import knife_incident
from tests.signing import signed
from tests.ui.conftest import make_session, wait_idle

DAY = date(2026, 11, 22)  # GMT: London time is UTC
MANAGER = User("A. Patel", Agency.POLICE, Role.DUTY_MANAGER)
COUNCIL_MANAGER = User("S. Okafor", Agency.CORPORATION, Role.DUTY_MANAGER)
DISPATCHER = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)


class Wall:
    """A settable 'now' shared by the store and the window."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, hour: int, minute: int = 0) -> None:
        self.now = datetime(2026, 11, 22, hour, minute, tzinfo=UTC)


@dataclass
class Scene:
    store: Store
    wall: Wall
    police: IncidentService
    council: IncidentService
    a: str
    b: str


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    """The late shift of 22 Nov 2026: seven entries from two organisations, one police-only."""
    wall = Wall()
    store = Store.open(tmp_path / "shift.db", wall=wall)
    # The police desk records a decision too, so it writes in a duty manager's role.
    police_desk = Author("PC Jane Smith", Agency.POLICE, "CR1")
    police = IncidentService(store, signed(store, police_desk, role="duty_manager"))
    council_desk = Author("Sam Okafor", Agency.CORPORATION, "CC1")
    council = IncidentService(store, signed(store, council_desk, role="dispatcher"))
    wall.at(14, 30)  # the early shift: not in the late shift's log
    a = police.open_incident(knife_incident()).incident
    wall.at(15, 30)
    b = council.open_incident(
        NewIncident(
            summary="Overflowing litter bins",
            category="ADM-INFO",
            source="phone",
            location=Location("Leadenhall Street"),
            lead_agency=Agency.CORPORATION,
            council_priority="routine",
        )
    ).incident
    wall.at(15, 40)
    police.assign(a.ref, "POL-RESP-A")
    wall.at(16, 0)
    entry = police.add_log(a.ref, "Suspect seen heading east").events[-1]
    wall.at(16, 30)
    police.open_incident(
        knife_incident(summary="Police-only intelligence", visibility=Visibility.POLICE)
    )
    wall.at(17, 0)
    council.close(b.ref, "CL-NOCRIME", "Bins emptied")
    wall.at(18, 0)
    police.record_decision(a.ref, "Keep the cordon", "Crowd still present")
    wall.at(18, 30)
    police.amend_log(a.ref, entry.id, "Suspect seen heading west", "misheard")
    wall.at(19, 45)
    yield Scene(store, wall, police, council, a.ref, b.ref)
    store.close()


@pytest.fixture
def sessions() -> Iterator[list[ConsoleSession]]:
    made: list[ConsoleSession] = []
    yield made
    for session in made:
        session.worker.shutdown()


@pytest.fixture
def open_log(
    qtbot: QtBot, scene: Scene, sessions: list[ConsoleSession]
) -> Callable[[User], ShiftLogWindow]:
    def build(user: User) -> ShiftLogWindow:
        session = make_session(scene.store, user)
        sessions.append(session)
        window = ShiftLogWindow(session, patterns=DEFAULT_PATTERNS, clock=scene.wall)
        qtbot.addWidget(window)
        assert window.message.text() == "Loading…"  # nothing has come back from the worker
        with qtbot.waitSignal(window.loaded, timeout=5000):
            window.show()
        return window

    return build


def rows(tree: QtWidgets.QTreeWidget) -> list[list[str]]:
    out = []
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        assert item is not None
        out.append([item.text(c) for c in range(tree.columnCount())])
    return out


def figures(window: ShiftLogWindow) -> dict[str, str]:
    return {caption: label.text() for caption, label in window.count_figures.items()}


def reload(qtbot: QtBot, window: ShiftLogWindow) -> None:
    with qtbot.waitSignal(window.loaded, timeout=5000):
        window.reload()


def write_record(
    qtbot: QtBot, window: ShiftLogWindow, button: QtWidgets.QPushButton, note: str
) -> ShiftRecordDialog:
    """Click a shift-record button, type a note, save; the dialog is returned either way."""
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)
    dialog = window.active_dialog
    assert dialog is not None
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.note, note)
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, QtCore.Qt.MouseButton.LeftButton)
    return dialog


# ---- reading a shift -------------------------------------------------------------------------
def test_current_shift_counts_and_timeline_match_the_events(
    open_log: Callable[[User], ShiftLogWindow], scene: Scene
) -> None:
    window = open_log(MANAGER)
    assert window.selected_day() == DAY
    assert window.selected_shift() == "late"
    assert window.date_edit.maximumDate() == QtCore.QDate(2026, 11, 22)
    assert window.title.text() == "The late shift of 22 Nov 2026 · 15:00–23:00 GMT"
    assert not window.message.isVisible()
    assert figures(window) == {
        "Opened": "2",
        "Closed": "1",
        "Still open at end": "2",
        "Assignments outstanding": "1",
        "Decisions recorded": "1",
        "Amendments made": "1",
    }
    timeline = rows(window.timeline)
    assert [(r[0], r[1], r[3]) for r in timeline] == [
        ("15:30 GMT", "Corporation", "Sam Okafor"),
        ("15:40 GMT", "Police", "PC Jane Smith"),
        ("16:00 GMT", "Police", "PC Jane Smith"),
        ("16:30 GMT", "Police", "PC Jane Smith"),
        ("17:00 GMT", "Corporation", "Sam Okafor"),
        ("18:00 GMT", "Police", "PC Jane Smith"),
        ("18:30 GMT", "Police", "PC Jane Smith"),
    ]
    texts = [r[4] for r in timeline]
    assert texts[0].startswith("Opened: Overflowing litter bins")
    assert texts[2] == "Log: Suspect seen heading east"
    assert texts[5].startswith("Decision: Keep the cordon")
    assert texts[6] == "Amendment: Suspect seen heading west (reason: misheard)"
    assert window.log is not None
    assert {r[2] for r in timeline} == {i.ref for i in window.log.incidents}
    assert not any("AFTER SIGN-OFF" in t for t in texts)
    assert window.sign_off_line.text() == "Not signed off"
    assert window.handover_note.text() == "No handover note has been written for this shift."
    assert not window.withheld_line.isVisible()  # police see everything in this shift
    # The handover: the two incidents still open at 23:00, with what is outstanding.
    handover = rows(window.handover_list)
    assert len(handover) == 2
    assert [(r[0], r[2], r[3]) for r in handover] == [
        (scene.a, "assigned", "Response Team A (assigned)"),
        (handover[1][0], "open", "none"),
    ]
    first = window.handover_list.topLevelItem(0)
    assert first is not None
    assert first.child(0).text(0) == (
        "Last update 18:30 GMT Amendment: Suspect seen heading west (reason: misheard)"
    )


def test_filter_by_agency_narrows_both_views(
    qtbot: QtBot, open_log: Callable[[User], ShiftLogWindow], scene: Scene
) -> None:
    window = open_log(MANAGER)
    window.set_filter("agency", "corporation")
    timeline = rows(window.timeline)
    assert [r[1] for r in timeline] == ["Corporation", "Corporation"]
    assert [r[4].split(":")[0] for r in timeline] == ["Opened", "Closed"]
    assert window.shown_label.text() == "2 of 7 entries"
    assert [r[0] for r in rows(window.by_incident)] == [scene.b]
    assert figures(window)["Opened"] == "2"  # the counts are the shift's, not the filter's
    window.clear_filters()
    assert window.timeline.topLevelItemCount() == 7


def test_by_incident_tree_groups_entries_with_status_at_end(
    open_log: Callable[[User], ShiftLogWindow], scene: Scene
) -> None:
    window = open_log(MANAGER)
    tree = window.by_incident
    tops = {r[0]: r for r in rows(tree)}
    assert set(tops) >= {scene.a, scene.b}
    assert tops[scene.a][2] == "I Immediate"
    assert tops[scene.a][3] == "assigned"
    assert tops[scene.b][1] == "Overflowing litter bins"
    assert tops[scene.b][3] == "closed"
    a_item = next(
        item
        for i in range(tree.topLevelItemCount())
        if (item := tree.topLevelItem(i)) is not None and item.text(0) == scene.a
    )
    children = [a_item.child(i).text(1).split(":")[0] for i in range(a_item.childCount())]
    assert children == ["Assigned", "Log", "Decision", "Amendment"]


def test_an_empty_shift_says_so(qtbot: QtBot, open_log: Callable[[User], ShiftLogWindow]) -> None:
    window = open_log(MANAGER)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        window.show_shift(date(2026, 11, 20), "early")
    assert window.message.text() == "No entries were recorded in this shift."
    assert window.timeline.topLevelItemCount() == 0
    assert figures(window)["Opened"] == "0"


def test_council_manager_is_told_what_was_withheld(
    open_log: Callable[[User], ShiftLogWindow],
) -> None:
    window = open_log(COUNCIL_MANAGER)
    assert window.withheld_line.isVisible()
    assert "police-only" in window.withheld_line.text()
    assert window.timeline.topLevelItemCount() < 7
    assert "Police-only intelligence" not in " ".join(r[4] for r in rows(window.timeline))


# ---- handover, acknowledgement, sign-off ---------------------------------------------------
def test_handover_acknowledge_sign_off_and_after_sign_off(
    qtbot: QtBot, open_log: Callable[[User], ShiftLogWindow], scene: Scene
) -> None:
    window = open_log(MANAGER)
    assert all(b.isVisibleTo(window) for b in window.manager_buttons)

    # The handover note is required: Save stays disabled until something is written.
    qtbot.mouseClick(window.handover_button, QtCore.Qt.MouseButton.LeftButton)
    dialog = window.active_dialog
    assert isinstance(dialog, HandoverDialog)
    assert not dialog.save_button.isEnabled()
    dialog.reject()

    scene.wall.at(22, 50)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        write_record(qtbot, window, window.handover_button, "Cordon stays on A")
    assert (
        window.handover_note.text() == "Handover note by A. Patel at 22:50 GMT:\nCordon stays on A"
    )
    assert window.acknowledgement.text() == "Not yet acknowledged."

    scene.wall.at(22, 55)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        ack = write_record(qtbot, window, window.acknowledge_button, "Read it")
    assert isinstance(ack, AcknowledgeDialog)
    assert window.acknowledgement.text() == "Acknowledged by A. Patel at 22:55 GMT:\nRead it"

    scene.wall.at(23, 4)
    qtbot.mouseClick(window.sign_off_button, QtCore.Qt.MouseButton.LeftButton)
    sign = window.active_dialog
    assert isinstance(sign, SignOffDialog)
    assert "after sign-off" in sign.intro.text()
    assert sign.save_button.isEnabled()  # the note is optional
    with qtbot.waitSignal(window.loaded, timeout=5000):
        qtbot.mouseClick(sign.save_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.sign_off_line.text() == "Signed off by A. Patel at 23:04 GMT"
    assert [r[4].split(":")[0] for r in rows(window.timeline)][-3:] == [
        "Handover",
        "Handover acknowledged",
        "Signed off",
    ]

    # Recorded at 23:20 about 22:30: part of the late shift, after its sign-off.
    scene.wall.at(23, 20)
    scene.council.add_log(scene.b, "Resident thanked the crew", occurred_at="2026-11-22T22:30:00Z")
    reload(qtbot, window)
    late = [r for r in rows(window.timeline) if "Resident thanked" in r[4]]
    assert len(late) == 1
    assert late[0][4].startswith("⚑ AFTER SIGN-OFF · Log:")
    assert late[0][0] == "22:30 GMT"
    others = [r for r in rows(window.timeline) if "Resident thanked" not in r[4]]
    assert not any("AFTER SIGN-OFF" in r[4] for r in others)
    assert "1 entry recorded after sign-off" in window.sign_off_line.text()

    # A second sign-off is refused with who signed off and when; the typed note stays.
    scene.wall.at(23, 30)
    again = write_record(qtbot, window, window.sign_off_button, "Signing again")
    qtbot.waitUntil(lambda: bool(again.banner_text()), timeout=5000)
    assert "was signed off by A. Patel at 23:04 GMT" in again.banner_text()
    assert again.isVisible()
    assert again.note.toPlainText() == "Signing again"
    again.reject()


def test_dispatcher_sees_no_shift_record_buttons(
    open_log: Callable[[User], ShiftLogWindow],
) -> None:
    window = open_log(DISPATCHER)
    assert window.log is not None
    assert not any(b.isVisibleTo(window) for b in window.manager_buttons)
    assert window.pdf_button.isVisibleTo(window)
    assert window.csv_button.isVisibleTo(window)


# ---- exports -------------------------------------------------------------------------------
def test_export_pdf_with_progress(
    qapp: QtWidgets.QApplication,
    qtbot: QtBot,
    open_log: Callable[[User], ShiftLogWindow],
    tmp_path: Path,
) -> None:
    window = open_log(MANAGER)
    steps: list[tuple[int, int]] = []
    window.export_progress.connect(lambda done, total: steps.append((done, total)))
    target = tmp_path / "late.pdf"
    with qtbot.waitSignal(window.export_finished, timeout=10000) as blocker:
        window.export_to("pdf", target)
        assert window.exporting
        assert not window.pdf_button.isEnabled()
    assert blocker.args == [f"Saved {target}"]
    assert target.read_bytes().startswith(b"%PDF")
    assert steps
    assert steps[0][0] == 0
    done, total = steps[-1]
    assert total >= 1
    assert done == total
    assert window.progress.maximum() == total
    assert window.progress.value() == total
    assert window.export_status.text() == f"Saved {target}"
    assert window.pdf_button.isEnabled()


def test_export_csv_through_the_file_dialog(
    qtbot: QtBot, open_log: Callable[[User], ShiftLogWindow], tmp_path: Path
) -> None:
    window = open_log(MANAGER)
    window.export("csv")
    dialog = window.file_dialog
    assert dialog is not None
    target = tmp_path / "late.csv"
    dialog.selectFile(str(target))
    with qtbot.waitSignal(window.export_finished, timeout=5000):
        dialog.accept()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 7
    assert window.export_status.text() == f"Saved {target}"


def test_export_to_an_unwritable_path_says_why(
    qtbot: QtBot, open_log: Callable[[User], ShiftLogWindow], tmp_path: Path
) -> None:
    window = open_log(MANAGER)
    target = tmp_path / "no-such-folder" / "late.pdf"
    with qtbot.waitSignal(window.export_finished, timeout=5000):
        window.export_to("pdf", target)
    assert window.export_status.text() == (
        f"{target}: cannot be written (the folder {target.parent} does not exist)"
    )
    assert window.export_status.property("role") == "error"
    assert not window.progress.isVisible()
    assert not target.exists()


# ---- from the main window ------------------------------------------------------------------
def test_main_window_ctrl_shift_l_opens_the_shift_log(
    qtbot: QtBot, scene: Scene, sessions: list[ConsoleSession], tmp_path: Path
) -> None:
    assert ("Ctrl+Shift+L", "Shift log", "shift_log") in SHORTCUTS
    session = make_session(scene.store, MANAGER)
    sessions.append(session)
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.Format.IniFormat)
    main = MainWindow(session, settings=settings)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitUntil(main.isActiveWindow, timeout=3000)
    assert main.shift_log_window is None
    qtbot.keyClick(main, QtCore.Qt.Key.Key_L, CTRL_SHIFT)
    shift = main.shift_log_window
    assert shift is not None
    assert shift.isVisible()
    assert shift.isWindow()
    assert not shift.isModal()
    qtbot.waitUntil(lambda: shift.log is not None, timeout=5000)
    menus = [a.text() for a in main.menuBar().actions()]
    assert "&Shift" in menus
    wait_idle(qtbot, session)


CTRL_SHIFT = QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier
