"""The Administration window as an administrator uses it, over a real standalone authority.

The authority is a standalone workstation's own (its accounts file in a temporary folder,
the very code a server runs), reached through ``LocalAdministration`` as the signed-in
administrator; every request goes to it on the window's background thread and each step is
checked on the widgets the administrator reads and, where it matters, in the authority.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.users import Role, User
from osc_console.services.administration import LocalAdministration
from osc_console.services.identity import WorkstationIdentity
from osc_console.services.local_authority import LocalAuthority
from osc_console.signing.keys import SigningKey, fingerprint
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring
from osc_console.ui.admin import AdministrationWindow
from osc_console.ui.admin.dialogs import (
    AddAccountDialog,
    ChangeRoleDialog,
    EnrolDialog,
    ResetPasswordDialog,
)
from osc_console.ui.admin.models import AccountColumn, RecordColumn, WorkstationColumn
from osc_console.ui.admin.window import NO_AUTHORITY
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from tests.ui.conftest import make_session

ADMIN = User("Admin One", Agency.POLICE, Role.ADMIN)
DISPATCHER = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)
PASSWORD = "a long enough password"
ALICE_PASSWORD = "tulips beside the canal"
Key = QtCore.Qt.Key


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    keyring = Keyring.open(tmp_path)
    identity = WorkstationIdentity(keyring, "CR1", kdf_cost=TEST_COST)
    local = LocalAuthority(tmp_path, identity)
    local.create_first_administrator("Admin One", "police", PASSWORD)
    yield local
    local.close()
    keyring.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "live.db")
    yield opened
    opened.close()


@pytest.fixture
def sessions() -> Iterator[list[ConsoleSession]]:
    made: list[ConsoleSession] = []
    yield made
    for session in made:
        session.worker.shutdown()


@pytest.fixture
def admin_session(
    store: Store, authority: LocalAuthority, sessions: list[ConsoleSession]
) -> ConsoleSession:
    session = make_session(store, ADMIN)
    session.administration = lambda: LocalAdministration(authority.service, "Admin One")
    sessions.append(session)
    return session


@pytest.fixture
def open_window(qtbot: QtBot) -> Callable[[ConsoleSession], AdministrationWindow]:
    def build(session: ConsoleSession) -> AdministrationWindow:
        window = AdministrationWindow(session)
        qtbot.addWidget(window)
        if window.administration is None:
            window.show()
            return window
        with qtbot.waitSignal(window.loaded, timeout=5000):
            window.show()
        return window

    return build


def add_alice(authority: LocalAuthority, *, must_change: bool = False) -> None:
    authority.service.admin.add_user(
        "Admin One",
        "alice",
        "police",
        "dispatcher",
        ALICE_PASSWORD,
        display_name="Alice Archer",
        must_change=must_change,
    )


def names(authority: LocalAuthority) -> list[str]:
    return sorted(a.name for a in authority.service.admin.users())


def cell(window: AdministrationWindow, name: str, column: AccountColumn) -> str:
    view = window.account_view
    proxy = view.model()
    for row in range(proxy.rowCount()):
        if proxy.index(row, AccountColumn.NAME).data() == name:
            return str(proxy.index(row, column).data())
    raise AssertionError(f"{name} is not listed")


def listed(window: AdministrationWindow) -> list[str]:
    proxy = window.account_view.model()
    return [proxy.index(r, AccountColumn.NAME).data() for r in range(proxy.rowCount())]


def click(qtbot: QtBot, button: QtWidgets.QAbstractButton) -> None:
    assert button.isEnabled(), f"{button.text()} is not enabled"
    qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)


def act(qtbot: QtBot, window: AdministrationWindow, button: QtWidgets.QAbstractButton) -> None:
    """Click a button that asks the authority and wait until the tables are read again."""
    with qtbot.waitSignal(window.loaded, timeout=5000):
        click(qtbot, button)
    assert not window.working


def submit(qtbot: QtBot, window: AdministrationWindow, dialog: Any) -> None:
    """Press Enter in a dialog and wait for the authority's answer and the tables."""
    with qtbot.waitSignal(window.loaded, timeout=5000):
        qtbot.keyClick(dialog, Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


# ---- reading -----------------------------------------------------------------------------------
def test_accounts_are_listed_with_their_state(
    qtbot: QtBot,
    qtmodeltester: Any,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    authority.service.admin.add_user(
        "Admin One", "Control Room", "corporation", "dispatcher", ALICE_PASSWORD, break_glass=True
    )
    window = open_window(admin_session)
    assert window.title.text() == "Administration · this workstation (standalone)"
    assert listed(window) == ["Admin One", "alice", "Control Room"]
    assert cell(window, "alice", AccountColumn.DISPLAY_NAME) == "Alice Archer"
    assert cell(window, "alice", AccountColumn.ORGANISATION) == "Police"
    assert cell(window, "alice", AccountColumn.ROLE) == "Dispatcher"
    assert cell(window, "alice", AccountColumn.STATE) == "active"
    assert cell(window, "alice", AccountColumn.FAILURES) == "0"
    assert cell(window, "Control Room", AccountColumn.STATE) == (
        "active, must change password, break-glass"
    )
    assert cell(window, "Admin One", AccountColumn.CHANGED).endswith(("GMT", "BST"))
    assert window.account_count.text() == "3 accounts · 1 break-glass"
    qtmodeltester.check(window.account_model, force_py=True)
    qtmodeltester.check(window.workstation_model, force_py=True)
    qtmodeltester.check(window.record_model, force_py=True)
    # Sortable: the header sorts by role, descending.
    window.account_view.sortByColumn(AccountColumn.ROLE, QtCore.Qt.SortOrder.DescendingOrder)
    assert listed(window)[-1] == "Admin One"
    # Nothing asked of the authority ran on the UI thread: the window answered through signals.
    assert window.message_text() == ""


def test_the_record_tab_shows_the_authoritys_record_newest_first(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    window = open_window(admin_session)
    model = window.record_model
    whats = [model.index(r, RecordColumn.WHAT).data() for r in range(model.rowCount())]
    assert whats[0] == "account created"
    assert model.index(0, RecordColumn.WHO).data() == "Admin One"
    assert model.index(0, RecordColumn.SUBJECT).data() == "alice"
    assert "workstation enrolled" in whats
    when = model.index(0, RecordColumn.WHEN)
    assert when.data().endswith(("GMT", "BST"))
    assert when.data(QtCore.Qt.ItemDataRole.ToolTipRole).endswith(f"UTC · entry {len(whats)}")
    # Reading again asks only for what is new, and puts it at the top.
    window.select_account("alice")
    act(qtbot, window, window.disable_button)
    assert model.index(0, RecordColumn.WHAT).data() == "account disabled"
    assert model.rowCount() == len(whats) + 1


# ---- adding ------------------------------------------------------------------------------------
def open_add(qtbot: QtBot, window: AdministrationWindow) -> AddAccountDialog:
    click(qtbot, window.add_button)
    dialog = window.active_dialog
    assert isinstance(dialog, AddAccountDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.focusWidget() is dialog.name  # the first field has focus
    return dialog


def test_a_short_password_is_refused_inline_and_nothing_is_added(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    window = open_window(admin_session)
    dialog = open_add(qtbot, window)
    qtbot.keyClicks(dialog.name, "bob")
    qtbot.keyClicks(dialog.password, "too short")
    qtbot.keyClicks(dialog.repeat, "too short")
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.repeat, Key.Key_Return)  # Enter tries, and says why not
    error = dialog.row("password").error
    assert error.isVisible()
    assert error.text().startswith("Must be at least 15 characters long")
    assert dialog.isVisible()
    assert dialog.request_sent is None  # nothing was asked of the authority
    assert not window.working
    assert names(authority) == ["Admin One"]
    # A mismatched repeat is refused too; Esc then cancels, and still nothing is added.
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, ALICE_PASSWORD)
    qtbot.keyClick(dialog.repeat, Key.Key_Return)
    assert dialog.row("repeat").error.text() == "Does not match the password above"
    qtbot.keyClick(dialog, Key.Key_Escape)
    assert not dialog.isVisible()
    assert names(authority) == ["Admin One"]
    assert listed(window) == ["Admin One"]


def test_adding_an_account_shows_it_and_says_so(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    window = open_window(admin_session)
    dialog = open_add(qtbot, window)
    qtbot.keyClicks(dialog.name, "alice")
    qtbot.keyClicks(dialog.display_name, "Alice Archer")
    dialog.role.setCurrentIndex(dialog.role.findData("dispatcher"))
    qtbot.keyClicks(dialog.password, ALICE_PASSWORD)
    qtbot.keyClicks(dialog.repeat, ALICE_PASSWORD)
    assert dialog.save_button.isEnabled()
    submit(qtbot, window, dialog)
    assert listed(window) == ["Admin One", "alice"]
    assert cell(window, "alice", AccountColumn.STATE) == "active, must change password"
    assert window.selected_account() is not None
    assert window.selected_account().name == "alice"  # type: ignore[union-attr]
    assert window.message_text() == (
        "✓ Account alice added (dispatcher, City of London Police): they choose their own "
        "password at their first sign-in."
    )
    assert names(authority) == ["Admin One", "alice"]


def test_a_break_glass_account_is_added_with_a_warning(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    window = open_window(admin_session)
    dialog = open_add(qtbot, window)
    assert "every use is recorded" in dialog.break_glass_warning.text()
    qtbot.keyClicks(dialog.name, "Control Room")
    qtbot.keyClicks(dialog.password, ALICE_PASSWORD)
    qtbot.keyClicks(dialog.repeat, ALICE_PASSWORD)
    dialog.break_glass.setChecked(True)
    submit(qtbot, window, dialog)
    assert "break-glass" in cell(window, "Control Room", AccountColumn.STATE)
    assert window.message_text().startswith("✓ Break-glass account Control Room added")
    (made,) = [a for a in authority.service.admin.users() if a.name == "Control Room"]
    assert made.break_glass


def test_the_authoritys_refusal_shows_in_the_dialog_and_the_window(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    window = open_window(admin_session)
    dialog = open_add(qtbot, window)
    qtbot.keyClicks(dialog.name, "alice")  # already taken: only the authority knows
    qtbot.keyClicks(dialog.password, ALICE_PASSWORD + " again")
    qtbot.keyClicks(dialog.repeat, ALICE_PASSWORD + " again")
    with qtbot.waitSignal(window.finished, timeout=5000) as said:
        qtbot.keyClick(dialog, Key.Key_Return)
    assert said.args == ["✕ Not done: A user called 'alice' already exists"]
    assert dialog.isVisible()  # everything typed is still there, ready to change
    assert dialog.banner_text() == "A user called 'alice' already exists"
    assert dialog.name.text() == "alice"
    assert window.banner.isVisible()
    assert listed(window) == ["Admin One", "alice"]


# ---- changing --------------------------------------------------------------------------------
def test_changing_a_role_says_it_applies_from_the_next_sign_in(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    window = open_window(admin_session)
    assert not window.role_button.isEnabled()  # nothing selected yet
    window.select_account("alice")
    click(qtbot, window.role_button)
    dialog = window.active_dialog
    assert isinstance(dialog, ChangeRoleDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert "applies from their next sign-in" in dialog.intro.text()
    assert dialog.focusWidget() is dialog.role
    dialog.role.setCurrentIndex(dialog.role.findData("dispatcher"))
    assert not dialog.save_button.isEnabled()  # the role they already have
    dialog.role.setCurrentIndex(dialog.role.findData("duty_manager"))
    submit(qtbot, window, dialog)
    assert cell(window, "alice", AccountColumn.ROLE) == "Duty manager"
    assert window.message_text() == (
        "✓ Role of alice changed to duty manager: it applies from their next sign-in."
    )
    (alice,) = [a for a in authority.service.admin.users() if a.name == "alice"]
    assert alice.role == "duty_manager"


def test_disabling_and_enabling(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    window = open_window(admin_session)
    window.select_account("alice")
    assert not window.enable_button.isEnabled()
    with qtbot.waitSignal(window.loaded, timeout=5000):
        click(qtbot, window.disable_button)
        # Until the authority answers (on its own thread), the window says so and waits.
        assert window.working_label.isVisible()
        assert not window.add_button.isEnabled()
    assert cell(window, "alice", AccountColumn.STATE) == "disabled"
    assert window.message_text().startswith("✓ alice disabled")
    assert window.account_count.text() == "2 accounts · 1 disabled"
    assert not window.disable_button.isEnabled()
    act(qtbot, window, window.enable_button)
    assert cell(window, "alice", AccountColumn.STATE) == "active"
    assert window.message_text() == "✓ alice enabled: they can sign in again."


def test_the_last_administrator_cannot_be_disabled_and_the_table_stays(
    qtbot: QtBot,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    window = open_window(admin_session)
    window.select_account("Admin One")
    with qtbot.waitSignal(window.finished, timeout=5000):
        click(qtbot, window.disable_button)
    assert window.banner.isVisible()
    assert window.message_text() == (
        "✕ Not done: Cannot disable Admin One: they are the last active administrator"
    )
    assert cell(window, "Admin One", AccountColumn.STATE) == "active"
    assert window.disable_button.isEnabled()


def test_resetting_a_password_makes_them_choose_a_new_one(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    window = open_window(admin_session)
    assert cell(window, "alice", AccountColumn.STATE) == "active"
    window.select_account("alice")
    click(qtbot, window.reset_button)
    dialog = window.active_dialog
    assert isinstance(dialog, ResetPasswordDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.focusWidget() is dialog.password
    qtbot.keyClicks(dialog.password, "alice")  # too short, and her own name
    qtbot.keyClick(dialog.password, Key.Key_Return)
    assert dialog.row("password").error.isVisible()
    dialog.password.clear()
    qtbot.keyClicks(dialog.password, "a brand new one for today")
    qtbot.keyClicks(dialog.repeat, "a brand new one for today")
    submit(qtbot, window, dialog)
    assert cell(window, "alice", AccountColumn.STATE) == "active, must change password"
    assert window.message_text() == (
        "✓ Password of alice reset: they must choose a new one at their next sign-in."
    )


def test_unlocking_an_account_locked_after_failures(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    add_alice(authority)
    accounts = authority.service.accounts()
    now = datetime.now(UTC)
    for _ in range(5):
        accounts.record_failure("alice", to_iso(now))
    accounts.lock("alice", to_iso(now + timedelta(minutes=15)))
    window = open_window(admin_session)
    assert cell(window, "alice", AccountColumn.STATE) == "active, locked"
    assert cell(window, "alice", AccountColumn.FAILURES) == "5"
    assert window.account_count.text() == "2 accounts · 1 locked"
    window.select_account("Admin One")
    assert not window.unlock_button.isEnabled()  # nothing to unlock
    window.select_account("alice")
    act(qtbot, window, window.unlock_button)
    assert cell(window, "alice", AccountColumn.STATE) == "active"
    assert cell(window, "alice", AccountColumn.FAILURES) == "0"
    assert window.message_text().startswith("✓ alice unlocked")
    assert not window.unlock_button.isEnabled()


# ---- workstations ----------------------------------------------------------------------------
def station_cell(window: AdministrationWindow, code: str, column: WorkstationColumn) -> str:
    model = window.workstation_model
    row = model.row_of(code)
    assert row is not None, f"{code} is not listed"
    return str(model.index(row, column).data())


def test_enrolling_and_revoking_a_workstation(
    qtbot: QtBot,
    authority: LocalAuthority,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    window = open_window(admin_session)
    assert station_cell(window, "CR1", WorkstationColumn.STATE) == "enrolled"
    assert window.tabs is not None
    window.tabs.setCurrentIndex(1)
    click(qtbot, window.enrol_button)
    dialog = window.active_dialog
    assert isinstance(dialog, EnrolDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.focusWidget() is dialog.code
    key = SigningKey.generate()
    qtbot.keyClicks(dialog.code, "cr2")
    qtbot.keyClicks(dialog.public_key, "not a key")
    qtbot.keyClick(dialog.public_key, Key.Key_Return)
    assert dialog.row("public_key").error.isVisible()
    dialog.public_key.clear()
    qtbot.keyClicks(dialog.public_key, f"public key  {key.public_key}")  # pasted whole
    assert dialog.fingerprint.text() == f"Fingerprint: {fingerprint(key.public_key)}"
    submit(qtbot, window, dialog)
    assert station_cell(window, "CR2", WorkstationColumn.STATE) == "enrolled"
    assert station_cell(window, "CR2", WorkstationColumn.KEY) == fingerprint(key.public_key)
    assert station_cell(window, "CR2", WorkstationColumn.ENROLLED_BY) == "Admin One"
    assert window.message_text().startswith("✓ Workstation CR2 enrolled")

    window.select_workstation("CR2")
    click(qtbot, window.revoke_button)
    box = window.confirm_box
    assert box is not None
    assert "Revoke workstation CR2?" in box.text()
    box.button(QtWidgets.QMessageBox.StandardButton.Cancel).click()  # type: ignore[union-attr]
    assert station_cell(window, "CR2", WorkstationColumn.STATE) == "enrolled"
    click(qtbot, window.revoke_button)
    box = window.confirm_box
    assert box is not None
    with qtbot.waitSignal(window.loaded, timeout=5000):
        box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()  # type: ignore[union-attr]
    assert station_cell(window, "CR2", WorkstationColumn.STATE) == "revoked"
    assert station_cell(window, "CR2", WorkstationColumn.REVOKED_BY) == "Admin One"
    assert not window.revoke_button.isEnabled()


# ---- who is offered what ---------------------------------------------------------------------
def test_a_dispatcher_is_offered_nothing(
    store: Store,
    authority: LocalAuthority,
    sessions: list[ConsoleSession],
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    session = make_session(store, DISPATCHER)
    sessions.append(session)
    asked: list[str] = []

    def administration() -> LocalAdministration:
        asked.append("asked")
        return LocalAdministration(authority.service, DISPATCHER.name)

    session.administration = administration
    window = open_window(session)
    assert window.tabs is None
    assert window.message_text() == (
        "Your role (dispatcher) cannot administer accounts: ask an administrator."
    )
    offered = [b.text() for b in window.findChildren(QtWidgets.QPushButton)]
    assert offered == ["Close"]
    assert asked == []  # the authority was not even asked for


def test_without_the_authority_the_window_says_why(
    store: Store,
    sessions: list[ConsoleSession],
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    session = make_session(store, ADMIN)  # signed in offline: no administration to be had
    sessions.append(session)
    window = open_window(session)
    assert window.tabs is None
    assert window.explanation.isVisible()
    assert window.message_text() == NO_AUTHORITY
    assert "the server must be reachable" in NO_AUTHORITY
    assert "signed in to it online" in NO_AUTHORITY
    assert [b.text() for b in window.findChildren(QtWidgets.QPushButton)] == ["Close"]


def test_the_window_closes_when_an_administrator_hands_the_desk_over(
    qtbot: QtBot,
    store: Store,
    admin_session: ConsoleSession,
    open_window: Callable[[ConsoleSession], AdministrationWindow],
) -> None:
    from tests.ui.conftest import sign_in_as

    window = open_window(admin_session)
    assert window.isVisible()  # (hidden while the console is locked: tests/ui/test_sign_in.py)
    sign_in_as(admin_session, DISPATCHER)
    assert not window.isVisible()
