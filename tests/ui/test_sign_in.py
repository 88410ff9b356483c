"""Signing in at the console, as the people at a desk do it: a password, online or offline;
a new workstation saying what it needs; enrolment by an administrator at the desk; the
break-glass account; lockout; the lock screen; switching operator.

Workstations sign in to a real server on 127.0.0.1 (or to their own authority when
standalone); every outcome is checked as the person sees it (the screen's words) and as the
audit trail records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from osc_console.app import Console, SyncOptions
from osc_console.models.errors import DomainError
from osc_console.models.payloads import Kind, SignInMethod
from osc_console.models.users import Action
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.services import audit
from osc_console.services.identity import Operator, SignInError
from osc_console.services.workstation import WorkstationDoor, open_door
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.sign_in import BREAK_GLASS, ENROL, FIRST_ADMIN, SIGN_IN, SignInDialog
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.tasks import DbWorker
from tests.conftest import knife_incident
from tests.sync.harness import ServerThread, make_service
from tests.ui.conftest import wait_idle

Key = QtCore.Qt.Key
PASSWORD = "a long enough password"


@dataclass
class Room:
    """A server on 127.0.0.1 with an administrator (root) and two dispatchers."""

    service: SyncService
    server: ServerThread
    backend: SqliteBackend

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    backend = SqliteBackend(tmp_path / "server.db")
    service = make_service(backend)
    admin = service.admin
    admin.add_user("set-up", "root", "police", "admin", PASSWORD, must_change=False)
    admin.add_user("set-up", "alice", "police", "dispatcher", PASSWORD, must_change=False)
    admin.add_user("set-up", "bob", "corporation", "dispatcher", PASSWORD, must_change=False)
    server = ServerThread(service).start()
    yield Room(service, server, backend)
    server.stop()
    backend.close()


@pytest.fixture
def worker() -> Iterator[DbWorker]:
    made = DbWorker()
    yield made
    made.shutdown()


def door_at(folder: Path, server: str | None, code: str = "CR1") -> WorkstationDoor:
    return open_door(folder, code, server, kdf_cost=TEST_COST, timeout=3.0)


def enrol(room: Room, door: WorkstationDoor, agency: str = "police") -> None:
    room.service.admin.enrol_workstation(
        "test set-up", door.identity.code, door.identity.device_key.public_key, agency
    )


def show(qtbot: QtBot, dialog: SignInDialog) -> SignInDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    return dialog


def type_into(qtbot: QtBot, widget: QtWidgets.QWidget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def sign_in(qtbot: QtBot, dialog: SignInDialog, user: str, password: str) -> None:
    """Type a user name and password on the sign-in page and press Enter."""
    assert dialog.pages.currentIndex() == SIGN_IN
    dialog.user.setEditText("")
    type_into(qtbot, dialog.user, user)
    dialog.password.clear()
    type_into(qtbot, dialog.password, password)
    qtbot.keyClick(dialog.password, Key.Key_Return)


def answered(qtbot: QtBot, dialog: SignInDialog) -> None:
    """Wait for the background check to come back (accepted, or a problem shown)."""
    qtbot.waitUntil(lambda: not dialog._busy, timeout=10_000)


def problem(dialog: SignInDialog) -> str:
    return dialog.banner.text() if dialog.banner.isVisible() else ""


# ---- a new workstation ------------------------------------------------------------------------
def test_a_new_standalone_workstation_asks_for_its_administrator_first(
    qtbot: QtBot, tmp_path: Path, worker: DbWorker
) -> None:
    door = door_at(tmp_path / "ws", None)
    try:
        dialog = show(qtbot, SignInDialog(door, "live", worker))
        assert dialog.pages.currentIndex() == FIRST_ADMIN
        assert dialog.where.text() == (
            "Standalone: no server is set, this workstation is its own authority."
        )
        qtbot.waitUntil(dialog.admin_name.hasFocus)
        qtbot.keyClicks(dialog.admin_name, "j.smith")
        qtbot.keyClick(dialog.admin_name, Key.Key_Tab)
        qtbot.keyClicks(dialog.admin_display, "Jane Smith")
        dialog.admin_password.setFocus()
        qtbot.keyClicks(dialog.admin_password, "short")
        qtbot.keyClick(dialog.admin_password, Key.Key_Tab)
        qtbot.keyClicks(dialog.admin_repeat, "short")
        qtbot.keyClick(dialog.admin_repeat, Key.Key_Return)
        assert problem(dialog).startswith(
            "password: must be at least 15 characters long"
        ) or "at least 15 characters" in problem(dialog)
        assert door.local is not None
        assert not door.local.has_accounts  # nothing made

        for field in (dialog.admin_password, dialog.admin_repeat):
            field.clear()
            type_into(qtbot, field, PASSWORD)
        qtbot.keyClick(dialog.admin_repeat, Key.Key_Return)
        answered(qtbot, dialog)
        assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
        operator = dialog.operator
        assert operator is not None
        assert (operator.user, operator.role.value, operator.method) == (
            "j.smith",
            "admin",
            SignInMethod.STANDALONE,
        )
        accounts = door.local.service.accounts().all()
        assert [(a.name, a.role, a.must_change) for a in accounts] == [("j.smith", "admin", False)]
    finally:
        door.close()


def test_a_new_workstation_whose_server_cannot_be_reached_says_what_it_needs(
    qtbot: QtBot, tmp_path: Path, worker: DbWorker
) -> None:
    door = door_at(tmp_path / "ws", "http://127.0.0.1:9")
    try:
        dialog = show(qtbot, SignInDialog(door, "live", worker))
        qtbot.waitUntil(lambda: "cannot be reached" in dialog.where.text(), timeout=10_000)
        assert dialog.where.text().startswith("Server http://127.0.0.1:9 cannot be reached (")
        assert dialog.enrol_button.isVisible()
        assert dialog.break_glass_button.isVisible()
        sign_in(qtbot, dialog, "alice", PASSWORD)
        answered(qtbot, dialog)
        assert problem(dialog) == (
            "Alice has never signed in at this workstation, and the server cannot be reached: "
            "sign in where you have before, or use the room's break-glass account"
        )
        assert dialog.operator is None
    finally:
        door.close()


def test_a_workstation_the_server_does_not_know_is_enrolled_by_an_administrator_at_the_desk(
    qtbot: QtBot, tmp_path: Path, room: Room, worker: DbWorker
) -> None:
    door = door_at(tmp_path / "ws", room.url)
    try:
        dialog = show(qtbot, SignInDialog(door, "live", worker))
        qtbot.waitUntil(lambda: "can be reached" in dialog.where.text(), timeout=10_000)
        sign_in(qtbot, dialog, "alice", PASSWORD)
        answered(qtbot, dialog)
        assert problem(dialog) == (
            "Workstation CR1 is not enrolled with this server: an administrator must enrol it "
            "(at this desk, or with 'osc-console workstation enrol')"
        )
        qtbot.mouseClick(dialog.enrol_button, QtCore.Qt.MouseButton.LeftButton)
        assert dialog.pages.currentIndex() == ENROL
        type_into(qtbot, dialog.enrol_admin, "alice")  # not an administrator
        type_into(qtbot, dialog.enrol_password, PASSWORD)
        qtbot.keyClick(dialog.enrol_password, Key.Key_Return)
        answered(qtbot, dialog)
        # Not an administrator: the same answer as a wrong password (no oracle at this door).
        assert problem(dialog) == "User name or password not recognised as an administrator's"
        dialog.enrol_admin.clear()
        type_into(qtbot, dialog.enrol_admin, "root")
        type_into(qtbot, dialog.enrol_password, PASSWORD)
        qtbot.keyClick(dialog.enrol_password, Key.Key_Return)
        answered(qtbot, dialog)
        assert dialog.pages.currentIndex() == SIGN_IN
        assert dialog.message.text() == "Workstation CR1 is enrolled with the server. Sign in."
        (station,) = room.service.admin.workstations()
        assert (station["code"], station["enrolled_by"]) == ("CR1", "root")

        sign_in(qtbot, dialog, "alice", PASSWORD)
        answered(qtbot, dialog)
        operator = dialog.operator
        assert operator is not None
        assert (operator.user, operator.role.value, operator.method) == (
            "alice",
            "dispatcher",
            SignInMethod.ONLINE,
        )
    finally:
        door.close()


# ---- online, then offline ----------------------------------------------------------------------
def test_sign_in_online_then_offline_when_the_server_is_down_and_a_stranger_is_refused(
    qtbot: QtBot, tmp_path: Path, room: Room, worker: DbWorker
) -> None:
    door = door_at(tmp_path / "ws", room.url)
    enrol(room, door)
    try:
        first = show(qtbot, SignInDialog(door, "live", worker))
        sign_in(qtbot, first, "alice", PASSWORD)
        answered(qtbot, first)
        assert first.operator is not None
        assert first.operator.method is SignInMethod.ONLINE
        assert first.operator.grant is not None
    finally:
        door.close()

    room.server.stop()  # the server goes down
    door = door_at(tmp_path / "ws", room.url)
    try:
        again = show(qtbot, SignInDialog(door, "live", worker))
        assert again.user.currentText() == "alice"  # the last person here, first
        sign_in(qtbot, again, "alice", "not her password at all")
        answered(qtbot, again)
        assert problem(again) == "User name or password not recognised"
        sign_in(qtbot, again, "alice", PASSWORD)
        answered(qtbot, again)
        operator = again.operator
        assert operator is not None
        assert (operator.user, operator.role.value, operator.method) == (
            "alice",
            "dispatcher",
            SignInMethod.OFFLINE,
        )
        stranger = show(qtbot, SignInDialog(door, "live", worker))
        sign_in(qtbot, stranger, "bob", PASSWORD)
        answered(qtbot, stranger)
        assert problem(stranger).startswith("Bob has never signed in at this workstation")
        assert stranger.operator is None
    finally:
        door.close()


def test_five_failures_lock_the_account_and_an_administrators_unlock_lets_them_in(
    qtbot: QtBot, tmp_path: Path, room: Room, worker: DbWorker
) -> None:
    door = door_at(tmp_path / "ws", room.url)
    enrol(room, door)
    failures: list[tuple[str, str]] = []
    try:
        dialog = show(
            qtbot,
            SignInDialog(door, "live", worker, record_failure=lambda u, r: failures.append((u, r))),
        )
        for attempt in range(1, 6):
            sign_in(qtbot, dialog, "alice", f"wrong password number {attempt}")
            answered(qtbot, dialog)
        assert problem(dialog) == (
            "User name or password not recognised; after 5 failures in a row the account is "
            "locked for 15 min"
        )
        sign_in(qtbot, dialog, "alice", PASSWORD)  # the right one, too late
        answered(qtbot, dialog)
        assert problem(dialog).startswith("This account is locked after 5 failed sign-ins until ")
        assert problem(dialog).endswith("an administrator can unlock it")
        assert dialog.operator is None
        assert [u for u, _ in failures] == ["alice"] * 6  # each recorded for the audit trail

        room.service.admin.unlock("root", "alice")  # as the Administration window does
        sign_in(qtbot, dialog, "alice", PASSWORD)
        answered(qtbot, dialog)
        assert dialog.operator is not None
        history = [(e.action, e.subject) for e in room.service.admin.audit()]
        assert history.count(("sign-in failed", "alice")) == 5
        assert ("account unlocked", "alice") in history
    finally:
        door.close()


# ---- break glass ---------------------------------------------------------------------------------
def test_the_break_glass_account_signs_in_offline_and_its_use_is_recorded(
    qtbot: QtBot, tmp_path: Path, room: Room, worker: DbWorker
) -> None:
    room.service.admin.add_user(
        "set-up",
        "room.emergency",
        "police",
        "dispatcher",
        "the glass in the red box",
        break_glass=True,
        must_change=False,
    )
    door = door_at(tmp_path / "ws", room.url)
    enrol(room, door)
    try:
        first = show(qtbot, SignInDialog(door, "live", worker))
        sign_in(qtbot, first, "alice", PASSWORD)  # the desk learns the room's account
        answered(qtbot, first)
        assert first.operator is not None
    finally:
        door.close()
    room.server.stop()

    door = door_at(tmp_path / "ws", room.url)
    try:
        dialog = show(qtbot, SignInDialog(door, "live", worker))
        qtbot.mouseClick(dialog.break_glass_button, QtCore.Qt.MouseButton.LeftButton)
        assert dialog.pages.currentIndex() == BREAK_GLASS
        assert dialog.glass_account.currentText() == "room.emergency (dispatcher)"
        type_into(qtbot, dialog.glass_password, "the glass in the red box")
        qtbot.keyClick(dialog.glass_password, Key.Key_Return)
        assert problem(dialog) == "Say who you are and why you need the break-glass account."
        assert dialog.glass_password.text() == "the glass in the red box"  # kept: fix the rest
        type_into(qtbot, dialog.glass_name, "PC Tom Reid 4471")
        type_into(qtbot, dialog.glass_reason, "Server down; my account is on another desk")
        qtbot.keyClick(dialog.glass_reason, Key.Key_Return)
        answered(qtbot, dialog)
        operator = dialog.operator
        assert operator is not None
        assert operator.method is SignInMethod.BREAK_GLASS
        assert operator.label == (
            "PC Tom Reid 4471 (break-glass room.emergency) (Police · dispatcher)"
        )
        with Store.open(tmp_path / "ws" / "live.db") as store:
            from osc_console.services.identity import register_operator

            register_operator(store, operator, door.identity)
            audit.signed_in(store, operator)
            (entry,) = audit.audit_trail(store)
        assert audit.is_break_glass(entry.event)
        assert entry.what == (
            "BREAK-GLASS sign-in as dispatcher by PC Tom Reid 4471: Server down; my account "
            "is on another desk"
        )
        assert entry.event.actor == "room.emergency"
        assert entry.event.sig is not None
    finally:
        door.close()


# ---- the running console: idle lock, unlock, switch operator -------------------------------------
@pytest.fixture
def console(tmp_path: Path, qtbot: QtBot) -> Iterator[tuple[Console, Operator]]:
    """A standalone console signed in as its administrator, with a dispatcher account."""
    folder = tmp_path / "desk"
    door = door_at(folder, None)
    assert door.local is not None
    door.local.create_first_administrator("j.smith", "police", PASSWORD)
    door.local.service.admin.add_user(
        "set-up", "sam", "corporation", "dispatcher", PASSWORD, must_change=False
    )
    worker = DbWorker()
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.Format.IniFormat)
    made = Console(door, folder, "CR1", settings, worker, SyncOptions())
    operator = door.gatekeeper.sign_in("j.smith", PASSWORD, "live")
    assert isinstance(operator, Operator)
    yield made, operator
    worker.shutdown()
    door.close()


def open_console(qtbot: QtBot, console: Console, operator: Operator, **guard: object) -> MainWindow:
    from osc_console.ui.desk import DeskGuard

    console.guard = DeskGuard(console.door, console.identity_worker, **guard)  # type: ignore[arg-type]
    window = console.open_window("live", operator)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.detail_ready, timeout=5000):
        window.show()
    return window


def trail(qtbot: QtBot, window: MainWindow) -> list[tuple[str, str]]:
    """The audit trail, oldest first: (who, what)."""
    wait_idle(qtbot, window.session)
    records = audit.audit_trail(window.session.store)
    return [(r.event.actor, r.what) for r in reversed(records)]


def test_idle_lock_shows_nothing_of_the_log_and_only_its_operators_password_unlocks(
    qtbot: QtBot, console: tuple[Console, Operator]
) -> None:
    made, operator = console
    window = open_console(qtbot, made, operator, lock_minutes=0.005)  # 0.3 s
    window.show_shift_log()  # other windows of the console, open when it locks
    window.show_administration()
    shift_log, admin = window.shift_log_window, window.admin_window
    assert shift_log is not None
    assert admin is not None
    assert admin.isVisible()
    qtbot.waitUntil(lambda: window.is_locked, timeout=5000)
    assert not shift_log.isVisible()
    assert not admin.isVisible()
    with pytest.raises(DomainError, match="the console is locked: unlock it first"):
        _ = window.session.author  # nothing is written in anyone's name behind the lock
    assert not window.queue.isVisible()
    assert not window.menuBar().isVisible()
    assert not window.workspace_tabs.isVisible()
    assert window.lock_screen.who.text().startswith("Locked by <b>j.smith (Police · admin)</b> at ")
    assert not any(a.isEnabled() for a in window.actions_by_name.values())

    screen = window.lock_screen
    qtbot.keyClicks(screen.password, "not the password of j.smith")
    qtbot.keyClick(screen.password, Key.Key_Return)
    qtbot.waitUntil(screen.problem.isVisible, timeout=5000)
    assert screen.problem.text() == "User name or password not recognised"
    assert window.is_locked

    qtbot.keyClicks(screen.password, PASSWORD)
    qtbot.keyClick(screen.password, Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_locked, timeout=5000)
    assert window.queue.isVisible()
    assert shift_log.isVisible()  # back as it was
    assert admin.isVisible()
    made.guard.set_lock_minutes(0)  # type: ignore[union-attr]
    assert trail(qtbot, window) == [
        ("j.smith", "signed in as admin"),
        ("j.smith", "console locked after 0 min idle"),
        ("@CR1", "failed sign-in as j.smith: user name or password not recognised (1 in a row)"),
        ("j.smith", "console unlocked"),
    ]


def test_switch_operator_hands_the_desk_over_without_a_restart(
    qtbot: QtBot, console: tuple[Console, Operator]
) -> None:
    made, operator = console
    door = made.door

    def ask(_parent: object, title: str) -> Operator:
        assert title == "Switch operator"
        result = door.gatekeeper.sign_in("sam", PASSWORD, "live")
        assert isinstance(result, Operator)
        return result

    window = open_console(qtbot, made, operator, lock_minutes=0, ask_sign_in=ask)
    assert "j.smith (Police · admin)" in window.header.identity.text()
    assert window.actions_by_name["administration"].isVisible()
    window.actions_by_name["lock"].trigger()
    assert window.is_locked
    qtbot.mouseClick(window.lock_screen.switch_button, QtCore.Qt.MouseButton.LeftButton)
    assert not window.is_locked
    assert window.session.user is not None
    assert window.session.user.name == "sam"
    assert "sam (Corporation · dispatcher)" in window.header.identity.text()
    assert not window.actions_by_name["administration"].isVisible()  # sam is no administrator
    assert trail(qtbot, window) == [
        ("j.smith", "signed in as admin"),
        ("j.smith", "console locked"),
        ("j.smith", "signed out: another operator took the desk"),
        ("sam", "signed in as dispatcher, taking over the desk from j.smith"),
    ]
    # What sam writes is signed by sam.
    window.session.perform(lambda desk: desk.open_incident(knife_incident()))
    wait_idle(qtbot, window.session)
    opened = [e for e in window.session.store.iter_events() if e.kind == Kind.INCIDENT_OPENED]
    assert [(e.actor, e.agency, e.sig is not None) for e in opened] == [
        ("sam", "corporation", True)
    ]


# ---- a role granted in the Administration window ---------------------------------------------
def test_a_role_granted_in_the_administration_window_applies_at_the_other_consoles_next_sign_in(
    qtbot: QtBot, tmp_path: Path, room: Room, worker: DbWorker
) -> None:
    from osc_console.ui.admin.dialogs import ChangeRoleDialog
    from osc_console.ui.admin.models import AccountColumn
    from osc_console.ui.admin.window import AdministrationWindow

    admin_desk = door_at(tmp_path / "cr1", room.url, "CR1")
    other_desk = door_at(tmp_path / "cr2", room.url, "CR2")
    enrol(room, admin_desk)
    enrol(room, other_desk)
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.Format.IniFormat)
    try:
        alice = other_desk.gatekeeper.sign_in("alice", PASSWORD, "live")
        assert isinstance(alice, Operator)
        assert alice.role.value == "dispatcher"

        root = admin_desk.gatekeeper.sign_in("root", PASSWORD, "live")
        assert isinstance(root, Operator)
        console = Console(admin_desk, tmp_path / "cr1", "CR1", settings, worker, SyncOptions())
        with Store.open(tmp_path / "cr1" / "live.db") as store:
            session = console.session_for(store, root)
            assert session.administration() is not None  # online: the server's accounts
            window = AdministrationWindow(session)
            qtbot.addWidget(window)
            window.show()
            qtbot.waitUntil(lambda: window.account_view.model().rowCount() == 3, timeout=10_000)
            window.select_account("alice")
            qtbot.mouseClick(window.role_button, QtCore.Qt.MouseButton.LeftButton)
            dialog = window.active_dialog
            assert isinstance(dialog, ChangeRoleDialog)
            qtbot.waitUntil(dialog.isVisible)
            dialog.role.setCurrentIndex(dialog.role.findData("duty_manager"))
            with qtbot.waitSignal(window.loaded, timeout=10_000):
                qtbot.keyClick(dialog, Key.Key_Return)
            assert window.message_text() == (
                "✓ Role of alice changed to duty manager: it applies from their next sign-in."
            )
            proxy = window.account_view.model()
            roles = {
                proxy.index(r, AccountColumn.NAME).data(): proxy.index(r, AccountColumn.ROLE).data()
                for r in range(proxy.rowCount())
            }
            assert roles["alice"] == "Duty manager"
            # And in the log, signed by the administrator who made it: every console's audit
            # trail shows it.
            wait_idle(qtbot, session)
            (change,) = [
                r for r in audit.audit_trail(store) if r.event.kind == Kind.ACCOUNT_CHANGED
            ]
            assert (change.event.actor, change.what) == (
                "root",
                "account change: Role of alice changed to duty manager: it applies from their "
                "next sign-in.",
            )
            window.close()
            session.worker.shutdown()

        # Alice's console still holds the grant it was given: dispatcher, until she signs in.
        assert alice.grant is not None
        assert alice.grant.role == "dispatcher"
        again = other_desk.gatekeeper.sign_in("alice", PASSWORD, "live")
        assert isinstance(again, Operator)
        assert again.role.value == "duty_manager"
        assert again.person.may(Action.DECIDE)
        history = [(e.actor, e.action, e.subject) for e in room.service.admin.audit()]
        assert ("root", "role changed", "alice") in history
    finally:
        admin_desk.close()
        other_desk.close()


# ---- changing one's own password ---------------------------------------------------------------
def test_a_person_changes_their_own_password_and_signs_in_with_it_from_then_on(
    qtbot: QtBot, console: tuple[Console, Operator], worker: DbWorker
) -> None:
    from osc_console.ui.dialogs.password import ChangePasswordDialog

    made, _ = console
    gate = made.door.gatekeeper
    dialog = ChangePasswordDialog(gate, "sam", "live", worker)
    qtbot.addWidget(dialog)
    dialog.show()
    type_into(qtbot, dialog.current, PASSWORD)
    type_into(qtbot, dialog.new, "river walks at dawn")
    type_into(qtbot, dialog.repeat, "river walks at dusk")
    qtbot.keyClick(dialog.repeat, Key.Key_Return)
    assert dialog.problem.text() == "The two new passwords differ: type the same one twice."
    dialog.repeat.clear()
    type_into(qtbot, dialog.repeat, "river walks at dawn")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.repeat, Key.Key_Return)
    assert dialog.operator is not None
    assert dialog.operator.user == "sam"
    with pytest.raises(SignInError, match="not recognised"):
        gate.sign_in("sam", PASSWORD, "live")
    again = gate.sign_in("sam", "river walks at dawn", "live")
    assert isinstance(again, Operator)
    history = [(e.action, e.subject) for e in made.door.local.service.admin.audit()]  # type: ignore[union-attr]
    assert ("password changed", "sam") in history
