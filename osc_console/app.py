"""Composition root: the one place a running console is built.

Settings, the workstation's door (keyring, identity, the authority it answers to), the
sign-in, and for each realm the console enters: its store, database worker, signals,
session, sync engine and window. Joining an exercise builds the exercise realm's set here
too (through :meth:`Console.open_window`); nothing else in the program builds any of them.
Nothing global: every object is made here and handed to what needs it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osc_console.config import parse_realm, workstation_code
from osc_console.paths import config_dir, data_dir, store_path, window_settings_path
from osc_console.runtime import settle_after_start_up
from osc_console.services.identity import Operator, register_operator
from osc_console.services.workstation import WorkstationDoor, open_door
from osc_console.store.event_store import Store

if TYPE_CHECKING:
    from osc_console.sync.engine import Backoff
    from osc_console.sync.transport import Transport
    from osc_console.ui.desk import DeskGuard
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.qt import QtCore
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.sync_status import SyncLink
    from osc_console.ui.tasks import DbWorker

# Demo accounts (``--demo`` on a new standalone workstation): shown on the sign-in screen.
DEMO_PASSWORD = "demo only - never for real use"
DEMO_ACCOUNTS = (
    ("demo.dispatcher", "police", "dispatcher"),
    ("demo.handler", "corporation", "call_handler"),
    ("demo.manager", "police", "duty_manager"),
    ("demo.planner", "corporation", "planner"),
    ("demo.admin", "police", "admin"),
)


@dataclass(slots=True)
class SyncOptions:
    """How a console reaches its server (the engine's pacing is a test's to change)."""

    server: str | None = None
    ca_file: str | None = None
    allow_http: bool = False
    transport: Transport | None = None
    long_poll: float = 20.0
    backoff: Backoff | None = None
    pull_limit: int | None = None
    progress_threshold: int | None = None


@dataclass(slots=True)
class Console:
    """Everything a running console is made of, built here and nowhere else."""

    door: WorkstationDoor
    directory: Path
    workstation: str
    settings: QtCore.QSettings
    identity_worker: DbWorker
    sync: SyncOptions = field(default_factory=SyncOptions)
    guard: DeskGuard | None = None

    # ---- one realm's console ------------------------------------------------------------------
    def open_window(self, realm: str, operator: Operator | None = None) -> MainWindow:
        """The console of ``realm`` for the operator at the desk (or ``operator``)."""
        if operator is None:
            current = self.guard.operator if self.guard is not None else None
            if current is None:
                from osc_console.models.errors import DomainError

                raise DomainError("nobody is signed in")
            operator = current
        store = Store.open(store_path(self.directory, realm), realm)
        try:
            session = self.session_for(store, operator)
        except BaseException:
            store.close()
            raise
        return self.window_for(session)

    def session_for(self, store: Store, operator: Operator) -> ConsoleSession:
        from osc_console.services import audit
        from osc_console.ui.session import ConsoleSession
        from osc_console.ui.signals import AppSignals
        from osc_console.ui.tasks import DbWorker

        # The store must hold the operator's certificate before anything is signed into it.
        register_operator(store, operator, self.door.identity)
        session = ConsoleSession(store, DbWorker(), AppSignals(), self.workstation)
        session.sign_in(operator)
        session.administration = lambda: self._administration(session)
        session.server_audit = lambda: self._administration(session, reviewing=True)
        session.run(lambda s: audit.signed_in(s, operator))
        return session

    def window_for(self, session: ConsoleSession) -> MainWindow:
        from osc_console.ui.main_window import MainWindow
        from osc_console.ui.qt import QtCore, QtWidgets

        link = self.sync_link(session) if self.sync.server else None
        if link is not None:
            app = QtWidgets.QApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(link.stop)
        window = MainWindow(session, settings=self.settings, sync=link)
        if self.guard is not None:
            self.guard.attach(window)
        if link is not None:
            # After the first paint: the operator sees the queue before any network work.
            QtCore.QTimer.singleShot(0, window, link.start)
        return window

    def sync_link(self, session: ConsoleSession) -> SyncLink:
        """The engine for this session's store, realm and workstation, linked to the UI
        thread. It signs in through this workstation's identity; the sign-in the console made
        is adopted when it was for this realm. The password is not kept: an expired sign-in
        asks again."""
        from osc_console.sync.engine import PROGRESS_THRESHOLD, SyncEngine
        from osc_console.sync.protocol import DEFAULT_PULL_LIMIT
        from osc_console.ui.sync_status import SyncLink

        options = self.sync
        assert options.server is not None
        transport = options.transport
        if transport is None:
            # Its own client: stopping the engine closes it, and the sign-in screen's stays.
            from osc_console.sync.client import HttpTransport

            transport = HttpTransport(
                options.server, ca_file=options.ca_file, allow_http=options.allow_http
            )
        link = SyncLink(session, options.server)
        path, realm = session.store.path, session.realm
        engine = SyncEngine(
            lambda: Store.open(path, realm),
            transport,
            workstation=session.workstation,
            realm=realm,
            server_label=options.server,
            on_state=link.post_state,
            on_changes=link.post_changes,
            long_poll=options.long_poll,
            backoff=options.backoff,
            keep_password=False,
            pull_limit=options.pull_limit or DEFAULT_PULL_LIMIT,
            progress_threshold=options.progress_threshold or PROGRESS_THRESHOLD,
            identity=self.door.identity,
            certificates=self.door.keyring.break_glass_keys,
        )
        link.attach(engine)
        reply = self.door.gatekeeper.last_reply
        operator = session.operator
        if (
            reply is not None
            and operator is not None
            and reply.session.token == operator.token
            and reply.session.realm == realm
        ):
            engine.adopt(reply)
        return link

    def _administration(self, session: ConsoleSession, *, reviewing: bool = False) -> Any:
        """The authority's accounts for this operator, if they may and it can be reached."""
        from osc_console.models.users import Action
        from osc_console.services.administration import (
            LocalAdministration,
            RemoteAdministration,
        )

        operator = session.operator
        needed = Action.REVIEW_AUDIT if reviewing else Action.MANAGE_USERS
        if operator is None or not session.may(needed):
            return None
        local = self.door.local
        if local is not None:
            return LocalAdministration(local.service, operator.user)
        link = self.door.gatekeeper.link
        if operator.token is None or not hasattr(link, "admin"):
            return None  # signed in offline: the server's accounts cannot be reached
        return RemoteAdministration(link, operator.token, self.door.gatekeeper.server or "")


def run_console(args: argparse.Namespace) -> int:
    realm = parse_realm(args.realm)
    directory = data_dir(args.data_dir)
    workstation = workstation_code(directory, args.workstation)
    server = getattr(args, "server", None)
    door = open_door(
        directory,
        workstation,
        server,
        ca_file=getattr(args, "ca_file", None),
        allow_http=getattr(args, "allow_http", False),
    )
    try:
        return _run(args, door, directory, workstation, realm, server=server)
    finally:
        door.close()


def _run(
    args: argparse.Namespace,
    door: WorkstationDoor,
    directory: Path,
    workstation: str,
    realm: str,
    *,
    server: str | None,
) -> int:
    with Store.open(store_path(directory, realm), realm) as store:
        ended = store.exercise_ended()  # joining a finished exercise says so
        if ended is not None:
            print(
                f"osc-console: {realm} has ended ({ended.payload.get('reason')}): opened for "
                "review; nothing more can be recorded in it",
                file=sys.stderr,
            )
        demo = bool(args.demo) and store.event_count() == 0
        if demo:
            from osc_console.services.demo import DemoSpec, seed_store

            seed_store(store, DemoSpec(realm=realm))
    demo_accounts = make_demo_accounts(door) if args.demo else ()

    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("OSC Console")
    app.setOrganizationName("OSC")

    from osc_console.ui.desk import DeskGuard
    from osc_console.ui.exercise.switch import RealmSwitcher
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    settings = QtCore.QSettings(str(window_settings_path()), QtCore.QSettings.Format.IniFormat)
    apply_theme(app, str(settings.value("theme", "dark")))
    identity_worker = DbWorker()
    options = SyncOptions(
        server=server,
        ca_file=getattr(args, "ca_file", None),
        allow_http=getattr(args, "allow_http", False),
    )
    console = Console(door, directory, workstation, settings, identity_worker, options)
    switcher: RealmSwitcher | None = None
    try:
        operator = _first_sign_in(args, console, realm, demo_accounts)
        if operator is None:
            return 0
        console.guard = DeskGuard(
            door,
            identity_worker,
            lock_minutes=_lock_minutes(args),
            ask_sign_in=lambda parent, title: _ask(console, parent, title, realm_of(parent)),
        )
        window = console.open_window(realm, operator)
        # File → Join exercise… builds another realm's console here, in its place.
        switcher = RealmSwitcher(console.open_window)
        switcher.adopt(window)
        window.show()
        # Once the operator has the console: garbage collections rare and short from then on
        # (the chart library is loaded ahead by the workspace, ui/workspace.py).
        QtCore.QTimer.singleShot(2000, window, settle_after_start_up)
        return int(app.exec())
    finally:
        if switcher is not None:
            switcher.shutdown()
        identity_worker.shutdown()


def realm_of(window: Any) -> str:
    return str(window.session.realm)


def _first_sign_in(
    args: argparse.Namespace,
    console: Console,
    realm: str,
    demo_accounts: tuple[tuple[str, str], ...],
) -> Operator | None:
    """The sign-in screen (or, with --password-stdin, the password given for --user)."""
    door = console.door
    if getattr(args, "password_stdin", False):
        from osc_console.services.signin import PasswordChangeNeeded

        password = sys.stdin.readline().rstrip("\r\n")
        user = getattr(args, "user", None) or ""
        result = door.gatekeeper.sign_in(user, password, realm)
        if isinstance(result, PasswordChangeNeeded):
            print(
                "osc-console: error: choose a new password at the sign-in screen", file=sys.stderr
            )
            return None
        return result
    return _ask(console, None, "Sign in", realm, demo_accounts, prefill=getattr(args, "user", None))


def _ask(
    console: Console,
    parent: Any,
    title: str,
    realm: str,
    demo_accounts: tuple[tuple[str, str], ...] = (),
    *,
    prefill: str | None = None,
) -> Operator | None:
    from osc_console.ui.dialogs.sign_in import SignInDialog

    dialog = SignInDialog(
        console.door,
        realm,
        console.identity_worker,
        title=title,
        demo_accounts=demo_accounts,
        password_hint=DEMO_PASSWORD if demo_accounts else "",
        record_failure=lambda user, reason: _record_failure(console, realm, user, reason),
        parent=parent,
    )
    if prefill:
        dialog.user.setEditText(prefill)
    accepted = dialog.exec() == dialog.DialogCode.Accepted
    return dialog.operator if accepted else None


def _record_failure(console: Console, realm: str, user: str, reason: str) -> None:
    """A failed sign-in at this desk, recorded by the workstation itself."""
    from osc_console.services import audit

    identity = console.door.identity
    path = store_path(console.directory, realm)

    def write() -> None:
        with Store.open(path, realm) as store:
            audit.sign_in_failed(store, identity, user, reason)

    console.identity_worker.submit(write)


def make_demo_accounts(door: WorkstationDoor) -> tuple[tuple[str, str], ...]:
    """``--demo`` on a standalone workstation with no accounts: accounts for each role,
    sharing one password the sign-in screen shows."""
    local = door.local
    if local is None:
        return ()
    if not local.has_accounts:
        local.create_first_administrator("demo.admin", "police", DEMO_PASSWORD, "Demo Admin")
        for name, agency, role in DEMO_ACCOUNTS[:-1]:
            local.service.admin.add_user(
                "demo set-up", name, agency, role, DEMO_PASSWORD, must_change=False
            )
    names = {a.name for a in local.service.accounts().all()}
    return tuple(
        (name, f"{agency} {role.replace('_', ' ')}")
        for name, agency, role in DEMO_ACCOUNTS
        if name in names
    )


def _lock_minutes(args: argparse.Namespace) -> float:
    given = getattr(args, "lock_minutes", None)
    if given is not None:
        return float(given)
    from osc_console.services.console_settings import read_console_settings

    return read_console_settings(config_dir()).lock_minutes
