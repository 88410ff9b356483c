"""The Administration window's quick forms: add an account, change a role, reset a password,
enrol a workstation.

Each is a :class:`QuickDialog` (first field focused, Enter submits, Esc cancels, inline
errors), checked here against the same rules the authority applies (user names, the password
rules) so that most mistakes are caught before anything is sent. Submitting hands a
:class:`Request` to the window, which asks the authority in the background; the dialog says
"Working…" meanwhile, closes when the authority has done it, and shows the authority's
refusal in its banner otherwise, with everything typed left in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from osc_console.models.agencies import Agency
from osc_console.models.authority import Role
from osc_console.models.errors import ValidationError
from osc_console.models.incident import WORKSTATION_CODE
from osc_console.models.passwords import check_password
from osc_console.models.users import Action, make_user
from osc_console.services.administration import Account, Administration
from osc_console.signing.keys import BadKeyError, fingerprint
from osc_console.ui.admin.models import role_label
from osc_console.ui.dialogs.base import QuickDialog
from osc_console.ui.dialogs.fields import alive, make_combo, muted, one_line, select_data
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import current_palette


@dataclass(frozen=True, slots=True)
class Request:
    """What to ask the authority, and what to say once it is done."""

    work: Callable[[Administration], None]
    done: str
    subject: str = ""  # the account or workstation to keep selected afterwards


# (request, on success, on refusal): the window's way of asking the authority.
Send = Callable[[Request, Callable[[], None], Callable[[str], None]], None]


# The fields the authority names at the start of a refusal ("role: cannot disable …").
_FIELD_PREFIX = re.compile(
    r"^(name|display_name|agency|role|password|workstation|public_key):\s+", re.IGNORECASE
)


def sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def plain_refusal(message: str) -> str:
    """The authority's refusal as a sentence, without the field name it starts with."""
    return sentence(_FIELD_PREFIX.sub("", message.strip()))


def password_field(name: str) -> QtWidgets.QLineEdit:
    field = QtWidgets.QLineEdit()
    field.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    field.setMaxLength(256)
    return field


def role_combo() -> QtWidgets.QComboBox:
    return make_combo("Role", [(role_label(r.value), r.value) for r in Role])


class AuthorityDialog(QuickDialog):
    """A quick form whose Save asks the authority (through the window) instead of the log."""

    action = Action.MANAGE_USERS

    def __init__(
        self,
        session: ConsoleSession,
        send: Send,
        title: str,
        *,
        intro: str = "",
        save_text: str = "Save",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(session, title, intro=intro, save_text=save_text, parent=parent)
        self._send = send
        self.request_sent: Request | None = None
        self.saving_label.setText("Working…")
        self.saving_label.setAccessibleName("Working")
        self.hint.setText("Enter confirms · Esc cancels")

    def refusal(self) -> str:
        user = self.session.user
        if user is None:
            return "Sign in as an administrator to change accounts."
        return f"Your role ({user.role.label}) cannot change accounts."

    def request(self) -> Request:
        """What the form asks for (called only when it is valid)."""
        raise NotImplementedError

    def start_save(self) -> None:
        request = self.request()
        self.request_sent = request
        self._send(request, self._done, self._failed)

    def _done(self) -> None:
        if not alive(self):
            return
        self._set_saving(False)
        self.accept()


# ---- accounts --------------------------------------------------------------------------------
class AddAccountDialog(AuthorityDialog):
    def __init__(
        self, session: ConsoleSession, send: Send, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            send,
            "Add account",
            intro="Give the person this password in person: they choose their own at their "
            "first sign-in.",
            save_text="Add account",
            parent=parent,
        )
        self.name = one_line("User name", "as they will type it to sign in", 60)
        self.display_name = one_line("Display name", "optional: how the console shows them", 100)
        self.agency = make_combo("Organisation", [(a.label, a.value) for a in Agency])
        select_data(self.agency, session.agency.value)
        self.role = role_combo()
        select_data(self.role, Role.CALL_HANDLER.value)
        self.password = password_field("Initial password")
        self.repeat = password_field("Repeat password")
        self.break_glass = QtWidgets.QCheckBox("&Break-glass account for the room")
        self.break_glass.setAccessibleName("Break-glass account")
        self.break_glass_warning = muted(
            "Only for the day the server is down and someone never seen at a desk must work: "
            "whoever knows its password can sign in with it, so every use is recorded with "
            "the name and reason they give, and shown to the duty managers."
        )
        self.break_glass_warning.setAccessibleName("About break-glass accounts")

        self.add_field("name", "User &name", self.name)
        self.add_field("display_name", "&Display name", self.display_name)
        self.add_field("agency", "&Organisation", self.agency)
        self.add_field("role", "&Role", self.role)
        self.add_field("password", "Initial &password", self.password)
        self.add_field("repeat", "Repeat pass&word", self.repeat)
        self.add_field("break_glass", "", self.break_glass, extra=[self.break_glass_warning])
        for edit, key in (
            (self.name, "name"),
            (self.display_name, "display_name"),
            (self.password, "password"),
            (self.repeat, "repeat"),
        ):
            edit.textEdited.connect(lambda _t, k=key: self.changed(k))
        self.agency.currentIndexChanged.connect(lambda _i: self.changed("agency"))
        self.role.currentIndexChanged.connect(lambda _i: self.changed("role"))
        self.break_glass.toggled.connect(self._break_glass_toggled)
        self.finish(self.name)

    def _break_glass_toggled(self, on: bool) -> None:
        # Checked, the warning is a warning; unchecked, a quiet note.
        colour = current_palette().warning if on else current_palette().muted
        self.break_glass_warning.setStyleSheet(f"color: {colour};")
        self.changed("break_glass")

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        name = " ".join(self.name.text().split())
        try:
            make_user(name, str(self.agency.currentData()), str(self.role.currentData()))
        except ValidationError as exc:
            key = exc.field if exc.field in ("name", "agency", "role") else "name"
            errors[key] = sentence(exc.message)
        if len(" ".join(self.display_name.text().split())) > 100:
            errors["display_name"] = "Must be at most 100 characters"
        try:
            check_password(self.password.text(), name)
        except ValidationError as exc:
            errors["password"] = sentence(exc.message)
        if self.repeat.text() != self.password.text():
            errors["repeat"] = "Does not match the password above"
        return errors

    def request(self) -> Request:
        name = " ".join(self.name.text().split())
        agency = str(self.agency.currentData())
        role = str(self.role.currentData())
        password = self.password.text()
        display = " ".join(self.display_name.text().split())
        glass = self.break_glass.isChecked()

        def work(admin: Administration) -> None:
            admin.add(name, agency, role, password, display_name=display, break_glass=glass)

        if glass:
            done = (
                f"Break-glass account {name} added ({role_label(role).lower()}, "
                f"{Agency(agency).label}): every use will be recorded and shown to the duty "
                "managers."
            )
        else:
            done = (
                f"Account {name} added ({role_label(role).lower()}, {Agency(agency).label}): "
                "they choose their own password at their first sign-in."
            )
        return Request(work, done, name)


class ChangeRoleDialog(AuthorityDialog):
    def __init__(
        self,
        session: ConsoleSession,
        send: Send,
        account: Account,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        current = role_label(account.role).lower()
        article = "an" if current[:1] in "aeiou" else "a"
        super().__init__(
            session,
            send,
            f"Change the role of {account.name}",
            intro=f"{account.name} is {article} {current}. A new role applies from their next "
            "sign-in: until then they keep the one they signed in with.",
            save_text="Change role",
            parent=parent,
        )
        self.account = account
        self.role = role_combo()
        others = [r.value for r in Role if r.value != account.role]
        select_data(self.role, others[0] if others else account.role)
        self.add_field("role", "New &role", self.role)
        self.role.currentIndexChanged.connect(lambda _i: self.changed("role"))
        self.finish(self.role)

    def validate(self) -> dict[str, str]:
        if self.role.currentData() == self.account.role:
            return {"role": f"{self.account.name} already has this role"}
        return {}

    def request(self) -> Request:
        name = self.account.name
        role = str(self.role.currentData())

        def work(admin: Administration) -> None:
            admin.set_role(name, role)

        done = (
            f"Role of {name} changed to {role_label(role).lower()}: it applies from their "
            "next sign-in."
        )
        return Request(work, done, name)


class ResetPasswordDialog(AuthorityDialog):
    def __init__(
        self,
        session: ConsoleSession,
        send: Send,
        account: Account,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            send,
            f"Reset the password of {account.name}",
            intro=f"Give {account.name} this password in person: it lets them sign in once, "
            "and they must choose a new one then. Their sessions end and their failed "
            "sign-ins are forgotten.",
            save_text="Reset password",
            parent=parent,
        )
        self.account = account
        self.password = password_field("New password")
        self.repeat = password_field("Repeat password")
        self.add_field("password", "New &password", self.password)
        self.add_field("repeat", "Repeat pass&word", self.repeat)
        self.password.textEdited.connect(lambda _t: self.changed("password"))
        self.repeat.textEdited.connect(lambda _t: self.changed("repeat"))
        self.finish(self.password)

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        try:
            check_password(self.password.text(), self.account.name)
        except ValidationError as exc:
            errors["password"] = sentence(exc.message)
        if self.repeat.text() != self.password.text():
            errors["repeat"] = "Does not match the password above"
        return errors

    def request(self) -> Request:
        name = self.account.name
        password = self.password.text()

        def work(admin: Administration) -> None:
            admin.reset_password(name, password)

        done = f"Password of {name} reset: they must choose a new one at their next sign-in."
        return Request(work, done, name)


# ---- workstations ----------------------------------------------------------------------------
_KEY_PREFIX = re.compile(r"^\s*public\s+key\s*[:=]?\s*", re.IGNORECASE)


def clean_key(text: str) -> str:
    """The key as pasted, without the 'public key' caption the command prints before it."""
    return _KEY_PREFIX.sub("", text).strip()


class EnrolDialog(AuthorityDialog):
    def __init__(
        self, session: ConsoleSession, send: Send, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(
            session,
            send,
            "Enrol a workstation",
            intro="On the workstation to enrol, run 'osc-console workstation key' and copy its "
            "code and public key here. Read the fingerprint below back to the person at that "
            "desk: it must match the one it printed.",
            save_text="Enrol",
            parent=parent,
        )
        self.code = one_line("Workstation code", "e.g. CR2", 8)
        self.public_key = one_line("Public key", "as 'osc-console workstation key' prints it", 200)
        self.fingerprint = muted("Fingerprint: –")
        self.fingerprint.setAccessibleName("Fingerprint")
        self.fingerprint.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.agency = make_combo("Organisation", [(a.label, a.value) for a in Agency])
        select_data(self.agency, session.agency.value)
        self.add_field("code", "Workstation &code", self.code)
        self.add_field("public_key", "Public &key", self.public_key, extra=[self.fingerprint])
        self.add_field("agency", "&Organisation", self.agency)
        self.code.textEdited.connect(lambda _t: self.changed("code"))
        self.public_key.textChanged.connect(lambda _t: self.changed("public_key"))
        self.finish(self.code)

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        code = self.code.text().strip().upper()
        if not WORKSTATION_CODE.match(code):
            errors["code"] = "Must be 2 to 8 capital letters or digits, e.g. CR2"
        key = clean_key(self.public_key.text())
        try:
            shown = fingerprint(key) if key else "–"
        except BadKeyError as exc:
            shown = "–"
            errors["public_key"] = sentence(str(exc))
        if not key:
            errors["public_key"] = "Paste the key the workstation printed"
        self.fingerprint.setText(f"Fingerprint: {shown}")
        return errors

    def request(self) -> Request:
        code = self.code.text().strip().upper()
        key = clean_key(self.public_key.text())
        agency = str(self.agency.currentData())

        def work(admin: Administration) -> None:
            admin.enrol(code, key, agency)

        done = (
            f"Workstation {code} enrolled for {Agency(agency).label} (fingerprint "
            f"{fingerprint(key)}): people can now sign in there."
        )
        return Request(work, done, code)
