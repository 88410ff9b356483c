"""Render the Administration window offscreen for the README: docs/screenshots/administration.png.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/admin_shots.py [--out docs/screenshots]

A standalone workstation's own authority in a temporary folder, with the accounts of a small
joint control room: an administrator, duty managers, dispatchers and call handlers of both
organisations, one account locked after five failed sign-ins, one disabled, one that must
choose a new password, and the room's break-glass account. The administrator has just
changed someone's role through the window (so its "done" line shows) and selected an
account with a failed sign-in (so Unlock is offered). Dark theme, the Accounts tab.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from staff import STAFF

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.users import Role, User
from osc_console.services.administration import LocalAdministration
from osc_console.services.identity import WorkstationIdentity
from osc_console.services.local_authority import LocalAuthority
from osc_console.signing.keys import SigningKey
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.store.keyring import Keyring

ADMIN = "S. Whitfield"
# (name, display name, agency, role): granted by the administrator.
ACCOUNTS = [
    ("A. Patel", "Insp. Asha Patel", "police", "duty_manager"),
    ("PC Jane Smith", "PC 4127 Jane Smith", "police", "dispatcher"),
    ("PC Tom Reid", "PC 2210 Tom Reid", "police", "call_handler"),
    ("S. Okafor", "Sam Okafor", "corporation", "duty_manager"),
    ("S. Adeyemi", "Sade Adeyemi", "corporation", "dispatcher"),
    ("M. Reyes", "Marta Reyes", "corporation", "call_handler"),
    ("K. Doyle", "Kieran Doyle", "corporation", "planner"),
    ("L. Byrne", "Lee Byrne", "police", "call_handler"),
]
PASSWORD = "correct horse battery staple"


def _wait(app: object, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the window's background calls come back (a script may poll; tests never do)."""
    from osc_console.ui.qt import QtWidgets

    assert isinstance(app, QtWidgets.QApplication)
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the Administration window did not settle")
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def seed(authority: LocalAuthority) -> None:
    admin = authority.service.admin
    for name, display, agency, role in ACCOUNTS:
        admin.add_user(ADMIN, name, agency, role, PASSWORD, display_name=display, must_change=False)
    admin.add_user(
        ADMIN,
        "Control Room",
        "police",
        "dispatcher",
        PASSWORD,
        display_name="Break-glass (JCCR)",
        break_glass=True,
        must_change=False,
    )
    admin.reset_password(ADMIN, "L. Byrne", "a temporary one for monday")
    admin.disable(ADMIN, "K. Doyle")
    accounts = authority.service.accounts()
    now = datetime.now(UTC)
    for _ in range(5):
        accounts.record_failure("M. Reyes", to_iso(now))
    accounts.lock("M. Reyes", to_iso(now + timedelta(minutes=15)))
    accounts.record_failure("PC Tom Reid", to_iso(now))
    for code, agency in (("CR2", "police"), ("CC1", "corporation"), ("CC2", "corporation")):
        admin.enrol_workstation(ADMIN, code, SigningKey.generate().public_key, agency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument(
        "--all-tabs", action="store_true", help="the Workstations and Record tabs too"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from osc_console.ui.admin import AdministrationWindow
    from osc_console.ui.admin.dialogs import ChangeRoleDialog
    from osc_console.ui.qt import QtWidgets
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    assert isinstance(app, QtWidgets.QApplication)
    apply_theme(app, "dark")
    folder = Path(tempfile.mkdtemp(prefix="osc-admin-shots-"))
    os.environ["OSC_CONFIG_DIR"] = str(folder / "config")
    keyring = Keyring.open(folder)
    authority = LocalAuthority(folder, WorkstationIdentity(keyring, "CR1", kdf_cost=TEST_COST))
    authority.create_first_administrator(ADMIN, "police", PASSWORD, "Sgt. Sarah Whitfield")
    seed(authority)

    store = Store.open(folder / "live.db")
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    session.sign_in(STAFF.operator(store, User(ADMIN, Agency.POLICE, Role.ADMIN), "CR1"))
    session.administration = lambda: LocalAdministration(authority.service, ADMIN)

    window = AdministrationWindow(session)
    window.resize(1280, 800)
    window.show()
    _wait(app, lambda: window.account_model.rowCount() > 0 and not window.calls.pending)

    # A role changed through the window, as an administrator does it.
    window.select_account("S. Adeyemi")
    window.change_role()
    dialog = window.active_dialog
    assert isinstance(dialog, ChangeRoleDialog)
    dialog.role.setCurrentIndex(dialog.role.findData("duty_manager"))
    dialog.submit()
    _wait(app, lambda: window.active_dialog is None and not window.calls.pending)
    window.select_account("PC Tom Reid")  # one failed sign-in: Unlock is offered
    _wait(app, lambda: True)

    target = args.out / "administration.png"
    window.grab().save(str(target))
    print(f"wrote {target}")
    if args.all_tabs:
        assert window.tabs is not None
        for index, name in ((1, "workstations"), (2, "record")):
            window.tabs.setCurrentIndex(index)
            _wait(app, lambda: True)
            extra = args.out / f"administration-{name}.png"
            window.grab().save(str(extra))
            print(f"wrote {extra}")
    window.close()
    session.worker.shutdown()
    store.close()
    authority.close()
    keyring.close()


if __name__ == "__main__":
    main()
