"""The sign-in screen: who you are, proved by your password, at this workstation.

It says where it is (the workstation's code, and whether the server can be reached or this
workstation is its own authority) and offers, in order of need: sign in; on a workstation
with no accounts yet, create its administrator; after an administrator's reset, choose a new
password; on a workstation the server does not know, enrolment by an administrator at the
desk; and, for a day the server is down and someone never seen here must work, the room's
break-glass account, whose every use is recorded.

Nothing slow runs on the UI thread: every check goes to a background worker and the answer
comes back as a signal. The dialog never holds a password longer than the attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from osc_console.models.agencies import Agency
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.passwords import MIN_PASSWORD_LENGTH, check_password
from osc_console.services.identity import Operator, SignInError
from osc_console.services.signin import PasswordChangeNeeded
from osc_console.services.workstation import WorkstationDoor
from osc_console.sync.transport import ServerRefusedError, SyncError
from osc_console.ui.dialogs.fields import alive, make_combo, muted, one_line, set_role
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.tasks import DbWorker

SIGN_IN, FIRST_ADMIN, NEW_PASSWORD, ENROL, BREAK_GLASS = range(5)
FIRST_RUN = (
    "This workstation has no accounts yet. Create its administrator: the person who will "
    "grant everyone else their account here."
)


def _password_field(name: str) -> QtWidgets.QLineEdit:
    field = QtWidgets.QLineEdit()
    field.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    field.setMaxLength(256)
    return field


class SignInDialog(QtWidgets.QDialog):
    """Signs a person in. ``operator`` holds them once accepted."""

    def __init__(
        self,
        door: WorkstationDoor,
        realm: str,
        worker: DbWorker,
        *,
        title: str = "Sign in",
        note: str = "",
        demo_accounts: Sequence[tuple[str, str]] = (),
        password_hint: str = "",
        record_failure: Callable[[str, str], None] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.door = door
        self.realm = realm
        self.worker = worker
        self.operator: Operator | None = None
        self._record_failure = record_failure
        self._pending_change: tuple[str, str, str] | None = None  # user, token, old password
        self._attempted = ""  # whose password the last attempt tried
        self._busy = False
        self.setWindowTitle(f"{title} · OSC Console · {door.identity.code}")
        self.setAccessibleName(title)
        self.setModal(True)
        self.setMinimumWidth(520)

        outer = QtWidgets.QVBoxLayout(self)
        outer.setSpacing(10)
        heading = QtWidgets.QLabel(
            f"<b>OSC Console</b> · workstation <b>{door.identity.code}</b> · {realm}"
        )
        heading.setAccessibleName("Workstation")
        outer.addWidget(heading)
        self.where = muted()
        self.where.setAccessibleName("Where you sign in")
        self.where.setWordWrap(True)
        outer.addWidget(self.where)

        self.banner = QtWidgets.QLabel()
        self.banner.setWordWrap(True)
        self.banner.setAccessibleName("Problem message")
        set_role(self.banner, "error")
        self.banner.hide()
        outer.addWidget(self.banner)
        self.message = muted()
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        self.message.setVisible(bool(note))
        self.message.setText(note)
        outer.addWidget(self.message)

        self.pages = QtWidgets.QStackedWidget()
        outer.addWidget(self.pages, 1)
        self._build_sign_in(demo_accounts, password_hint)
        self._build_first_admin()
        self._build_new_password()
        self._build_enrol()
        self._build_break_glass()

        footer = QtWidgets.QHBoxLayout()
        self.working = muted("Checking…")
        self.working.hide()
        footer.addWidget(self.working, 1)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button = QtWidgets.QPushButton("Sign in")
        self.submit_button.setDefault(True)
        self.submit_button.setAccessibleName("Sign in")
        self.submit_button.clicked.connect(self.submit)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.submit_button)
        outer.addLayout(footer)

        local = door.local
        if local is not None and not local.has_accounts:
            self.show_page(FIRST_ADMIN)
        else:
            self.show_page(SIGN_IN)
        self._describe_where()

    # ---- pages -----------------------------------------------------------------------------------
    def _form(self) -> tuple[QtWidgets.QWidget, QtWidgets.QFormLayout]:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        return page, form

    def _build_sign_in(self, demo: Sequence[tuple[str, str]], hint: str) -> None:
        page, form = self._form()
        self.user = QtWidgets.QComboBox()
        self.user.setEditable(True)
        self.user.setAccessibleName("User name")
        self.user.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        for person in self.door.identity.known_people():
            self.user.addItem(person.user)
        self.user.setCurrentIndex(0 if self.user.count() else -1)
        line = self.user.lineEdit()
        if line is not None:
            line.setPlaceholderText("your user name")
        form.addRow("&User name", self.user)
        self.password = _password_field("Password")
        self.password.setPlaceholderText("your password")
        form.addRow("&Password", self.password)
        links = QtWidgets.QHBoxLayout()
        self.enrol_button = QtWidgets.QPushButton("&Enrol this workstation…")
        self.enrol_button.setAutoDefault(False)
        self.enrol_button.clicked.connect(lambda: self.show_page(ENROL))
        self.break_glass_button = QtWidgets.QPushButton("&Break glass…")
        self.break_glass_button.setAutoDefault(False)
        self.break_glass_button.setToolTip(
            "The room's emergency account, for when you cannot sign in with your own; "
            "every use is recorded and shown to the duty manager"
        )
        self.break_glass_button.clicked.connect(lambda: self.show_page(BREAK_GLASS))
        links.addWidget(self.enrol_button)
        links.addWidget(self.break_glass_button)
        links.addStretch(1)
        form.addRow("", links)
        server_mode = not self.door.gatekeeper.standalone
        self.enrol_button.setVisible(server_mode)
        self.break_glass_button.setVisible(server_mode)
        if demo:
            lines = "<br>".join(f"<b>{name}</b> ({what})" for name, what in demo)
            shown = muted(f"Demo accounts on this workstation (password <b>{hint}</b>):<br>{lines}")
            shown.setTextFormat(QtCore.Qt.TextFormat.RichText)
            shown.setAccessibleName("Demo accounts")
            form.addRow(shown)
        self.pages.addWidget(page)

    def _build_first_admin(self) -> None:
        page, form = self._form()
        intro = muted(FIRST_RUN)
        intro.setWordWrap(True)
        intro.setAccessibleName(FIRST_RUN)
        form.addRow(intro)
        self.admin_name = one_line("Administrator's user name", "e.g. j.smith", 60)
        form.addRow("User &name", self.admin_name)
        self.admin_display = one_line("Display name", "as colleagues know you", 100)
        form.addRow("&Display name", self.admin_display)
        self.admin_agency = make_combo(
            "Organisation", [(a.label, a.value) for a in (Agency.POLICE, Agency.CORPORATION)]
        )
        form.addRow("&Organisation", self.admin_agency)
        self.admin_password = _password_field("New password")
        self.admin_password.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        form.addRow("&Password", self.admin_password)
        self.admin_repeat = _password_field("Repeat the password")
        form.addRow("&Repeat", self.admin_repeat)
        self.pages.addWidget(page)

    def _build_new_password(self) -> None:
        page, form = self._form()
        intro = muted(
            "An administrator set your password: choose a new one of your own. A few words "
            f"make an easy one to remember (at least {MIN_PASSWORD_LENGTH} characters)."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.new_password = _password_field("New password")
        form.addRow("&New password", self.new_password)
        self.new_repeat = _password_field("Repeat the new password")
        form.addRow("&Repeat", self.new_repeat)
        self.pages.addWidget(page)

    def _build_enrol(self) -> None:
        page, form = self._form()
        key = self.door.identity.fingerprint
        intro = muted(
            f"The server does not know this workstation yet. An administrator enrols it here "
            f"with their own user name and password (or on the server with 'osc-console "
            f"workstation enrol {self.door.identity.code}'). Its key: <b>{key}</b>."
        )
        intro.setTextFormat(QtCore.Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        form.addRow(intro)
        self.enrol_admin = one_line("Administrator's user name", "", 60)
        form.addRow("&Administrator", self.enrol_admin)
        self.enrol_password = _password_field("Administrator's password")
        form.addRow("&Password", self.enrol_password)
        self.enrol_agency = make_combo(
            "Whose desk", [(a.label, a.value) for a in (Agency.POLICE, Agency.CORPORATION)]
        )
        form.addRow("&Whose desk", self.enrol_agency)
        self.pages.addWidget(page)

    def _build_break_glass(self) -> None:
        page, form = self._form()
        warning = QtWidgets.QLabel(
            "BREAK GLASS: the room's emergency account, for when the server cannot be reached "
            "and you have never signed in at this workstation. Every use is recorded, with your "
            "name and reason, and shown to the duty manager and administrators."
        )
        warning.setWordWrap(True)
        set_role(warning, "error")
        form.addRow(warning)
        self.glass_account = QtWidgets.QComboBox()
        self.glass_account.setAccessibleName("Break-glass account")
        for bundle in self.door.identity.break_glass_accounts():
            self.glass_account.addItem(
                f"{bundle.user} ({bundle.role.replace('_', ' ')})", bundle.user
            )
        form.addRow("A&ccount", self.glass_account)
        self.glass_password = _password_field("Break-glass password")
        form.addRow("&Password", self.glass_password)
        self.glass_name = one_line(
            "Your name", "your own full name and collar or staff number", 100
        )
        form.addRow("Your &name", self.glass_name)
        self.glass_reason = one_line("Why", "why you need the break-glass account", 500)
        form.addRow("&Why", self.glass_reason)
        self.pages.addWidget(page)

    def show_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.banner.hide()
        texts = {
            SIGN_IN: "Sign in",
            FIRST_ADMIN: "Create and sign in",
            NEW_PASSWORD: "Change password and sign in",
            ENROL: "Enrol",
            BREAK_GLASS: "Break glass and sign in",
        }
        self.submit_button.setText(texts[page])
        self.submit_button.setAccessibleName(texts[page])
        self.cancel_button.setText("Back" if page in (ENROL, BREAK_GLASS) else "Cancel")
        focus = {
            SIGN_IN: self.password if self.user.currentText() else self.user,
            FIRST_ADMIN: self.admin_name,
            NEW_PASSWORD: self.new_password,
            ENROL: self.enrol_admin,
            BREAK_GLASS: self.glass_password,
        }[page]
        QtCore.QTimer.singleShot(0, lambda: alive(focus) and focus.setFocus())

    def reject(self) -> None:
        if self.pages.currentIndex() in (ENROL, BREAK_GLASS):
            self.show_page(SIGN_IN)
            return
        super().reject()

    # ---- where am I ------------------------------------------------------------------------------
    def _describe_where(self) -> None:
        gate = self.door.gatekeeper
        if gate.standalone:
            self.where.setText(
                "Standalone: no server is set, this workstation is its own authority."
            )
            return
        self.where.setText(f"Server {gate.server}: checking whether it can be reached…")
        link = gate.link
        health = getattr(link, "health", None)
        if health is None:
            self.where.setText(
                "No server address was given: people who have signed in here before can sign "
                "in offline."
            )
            return
        self.worker.submit(health, self._reachable, self._unreachable)

    def _reachable(self, _answer: Any) -> None:
        if alive(self):
            self.where.setText(f"Server {self.door.gatekeeper.server} can be reached.")

    def _unreachable(self, error: BaseException) -> None:
        if alive(self):
            self.where.setText(
                f"Server {self.door.gatekeeper.server} cannot be reached ({error}). If you have "
                "signed in at this workstation before, sign in as usual: you are signed in "
                "offline. Otherwise use the room's break-glass account."
            )

    # ---- doing it --------------------------------------------------------------------------------
    def submit(self) -> None:
        if self._busy:
            return
        page = self.pages.currentIndex()
        try:
            work = {
                SIGN_IN: self._sign_in_work,
                FIRST_ADMIN: self._first_admin_work,
                NEW_PASSWORD: self._new_password_work,
                ENROL: self._enrol_work,
                BREAK_GLASS: self._break_glass_work,
            }[page]()
        except (ValidationError, SignInError) as exc:
            self.show_problem(str(exc.message if isinstance(exc, ValidationError) else exc))
            return
        self._set_busy(True)
        self.worker.submit(work, self._done, self._failed)

    def _sign_in_work(self) -> Callable[[], Any]:
        user = self.user.currentText().strip()
        password = self.password.text()
        if not user or not password:
            raise SignInError("Give your user name and your password.")
        self.password.clear()
        self._attempted = user
        gate = self.door.gatekeeper

        def work() -> Any:
            result = gate.sign_in(user, password, self.realm)
            if isinstance(result, PasswordChangeNeeded):
                return (result, password)
            return result

        return work

    def _first_admin_work(self) -> Callable[[], Any]:
        local = self.door.local
        assert local is not None
        name = " ".join(self.admin_name.text().split())
        password = self.admin_password.text()
        if password != self.admin_repeat.text():
            raise SignInError("The two passwords differ: type the same one twice.")
        check_password(password, name)
        agency = str(self.admin_agency.currentData())
        display = self.admin_display.text()
        gate = self.door.gatekeeper

        def work() -> Any:
            made = local.create_first_administrator(name, agency, password, display)
            return gate.sign_in(made, password, self.realm)

        return work

    def _new_password_work(self) -> Callable[[], Any]:
        assert self._pending_change is not None
        user, token, old = self._pending_change
        new = self.new_password.text()
        if new != self.new_repeat.text():
            raise SignInError("The two passwords differ: type the same one twice.")
        check_password(new, user)
        gate = self.door.gatekeeper

        def work() -> Any:
            return gate.change_password(user, token, old, new, self.realm)

        return work

    def _enrol_work(self) -> Callable[[], Any]:
        admin = self.enrol_admin.text().strip()
        password = self.enrol_password.text()
        if not admin or not password:
            raise SignInError("An administrator gives their user name and password.")
        self.enrol_password.clear()
        identity = self.door.identity
        link = self.door.gatekeeper.link
        agency = str(self.enrol_agency.currentData())

        def work() -> Any:
            enrol = getattr(link, "enrol_at_desk", None)
            if enrol is None:
                raise SignInError("there is no server to enrol this workstation with")
            answer = enrol(
                {**identity.enrolment_request(agency), "admin": admin, "password": password}
            )
            identity.enrolled(answer)
            return "enrolled"

        return work

    def _break_glass_work(self) -> Callable[[], Any]:
        account = self.glass_account.currentData()
        if account is None:
            raise SignInError(
                "This workstation knows no break-glass account yet (it learns the room's when "
                "someone signs in while the server can be reached)."
            )
        password = self.glass_password.text()
        name, reason = self.glass_name.text(), self.glass_reason.text()
        if not name.strip() or not reason.strip():
            raise SignInError("Say who you are and why you need the break-glass account.")
        self.glass_password.clear()
        self._attempted = str(account)
        gate = self.door.gatekeeper

        def work() -> Any:
            return gate.break_glass(str(account), password, name, reason)

        return work

    def _done(self, result: Any) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        if result == "enrolled":
            self.show_page(SIGN_IN)
            self.show_message(
                f"Workstation {self.door.identity.code} is enrolled with the server. Sign in."
            )
            return
        if isinstance(result, tuple) and isinstance(result[0], PasswordChangeNeeded):
            change, old = result
            self._pending_change = (change.user, change.token, old)
            self.show_page(NEW_PASSWORD)
            return
        if isinstance(result, Operator):
            self.operator = result
            self.accept()

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self._set_busy(False)
        if isinstance(error, ServerRefusedError):
            text = error.reason  # the server's own sentence, without the HTTP status
        elif isinstance(error, DomainError | SyncError):
            text = str(error)
        else:
            text = f"unexpected error: {error.__class__.__name__}: {error}"
        self.show_problem(text[:1].upper() + text[1:])
        if "not enrolled" in text or "revoked" in text:
            self.enrol_button.setFocus()
        elif (
            self._record_failure is not None
            and self._attempted
            and ("not recognised" in text or "locked" in text)
        ):
            # Recorded by this workstation (its device key), for the audit trail.
            self._record_failure(self._attempted, text)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.working.setVisible(busy)
        self.submit_button.setEnabled(not busy)

    def show_problem(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def show_message(self, text: str) -> None:
        self.banner.hide()
        self.message.setText(text)
        self.message.show()
