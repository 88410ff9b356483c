"""Change your own password (File → Change password…): the current one, then the new one
twice. It needs the authority (the server, or this workstation when standalone): the new
password is checked there, every other sign-in of yours ends, and you are signed in again
with it here (your key at this desk is sealed under it from now)."""

from __future__ import annotations

from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.passwords import MIN_PASSWORD_LENGTH, check_password
from osc_console.services.identity import Operator
from osc_console.services.signin import Gatekeeper, PasswordChangeNeeded
from osc_console.sync.transport import SyncError
from osc_console.ui.dialogs.fields import alive, muted, set_role
from osc_console.ui.qt import QtWidgets
from osc_console.ui.tasks import DbWorker


def _secret(name: str) -> QtWidgets.QLineEdit:
    field = QtWidgets.QLineEdit()
    field.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    field.setMaxLength(256)
    return field


class ChangePasswordDialog(QtWidgets.QDialog):
    """``operator`` holds the person signed in again with the new password, once accepted."""

    def __init__(
        self,
        gatekeeper: Gatekeeper,
        user: str,
        realm: str,
        worker: DbWorker,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.gatekeeper = gatekeeper
        self.user = user
        self.realm = realm
        self.worker = worker
        self.operator: Operator | None = None
        self.setWindowTitle("Change your password")
        self.setAccessibleName("Change your password")
        self.setModal(True)
        self.setMinimumWidth(480)
        outer = QtWidgets.QVBoxLayout(self)
        intro = muted(
            f"{user}: choose a new password of at least {MIN_PASSWORD_LENGTH} characters (a few "
            "words are easy to remember). Your other sign-ins end."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)
        self.problem = QtWidgets.QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem message")
        set_role(self.problem, "error")
        self.problem.hide()
        outer.addWidget(self.problem)
        form = QtWidgets.QFormLayout()
        self.current = _secret("Current password")
        self.new = _secret("New password")
        self.repeat = _secret("Repeat the new password")
        form.addRow("&Current password", self.current)
        form.addRow("&New password", self.new)
        form.addRow("&Repeat", self.repeat)
        outer.addLayout(form)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        cancel = QtWidgets.QPushButton("Cancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        self.save = QtWidgets.QPushButton("Change password")
        self.save.setDefault(True)
        self.save.clicked.connect(self.submit)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save)
        outer.addLayout(buttons)
        self.current.setFocus()

    def submit(self) -> None:
        old, new = self.current.text(), self.new.text()
        if new != self.repeat.text():
            self.show_problem("The two new passwords differ: type the same one twice.")
            return
        try:
            check_password(new, self.user)
        except ValidationError as exc:
            self.show_problem(exc.message[:1].upper() + exc.message[1:] + ".")
            return
        self.save.setEnabled(False)
        gate, user, realm = self.gatekeeper, self.user, self.realm
        self.worker.submit(lambda: _change(gate, user, realm, old, new), self._done, self._failed)

    def _done(self, operator: Operator) -> None:
        if alive(self):
            self.operator = operator
            self.accept()

    def _failed(self, error: BaseException) -> None:
        if not alive(self):
            return
        self.save.setEnabled(True)
        text = str(getattr(error, "reason", "") or error)
        if not isinstance(error, DomainError | SyncError):
            text = f"unexpected error: {error}"
        self.show_problem(text[:1].upper() + text[1:])

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


def _change(gate: Gatekeeper, user: str, realm: str, old: str, new: str) -> Operator:
    """Sign in with the current password (which proves it, and gives a token for the
    change), then change it: the gatekeeper signs in again with the new one."""
    result = gate.sign_in(user, old, realm, offline=False)
    reply = gate.last_reply
    if isinstance(result, PasswordChangeNeeded):
        token = result.token
    elif reply is not None and reply.session.user.casefold() == user.casefold():
        token = reply.session.token
    else:
        raise DomainError("your password can only be changed while the server can be reached")
    return gate.change_password(user, token, old, new, realm)
