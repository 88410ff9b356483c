"""Ask for the central server's password, without stopping the operator's work.

The server asks for a sign-in at first start and again when a sign-in expires (a console does
not keep the password in memory for a whole shift). Nothing waits on the answer: entries
logged while this is open stay in the outbox and go out once the server takes the sign-in, so
the dialog is not modal and can be put off with "Not now".
"""

from __future__ import annotations

from collections.abc import Callable

from osc_console.ui.dialogs.base import QuickDialog
from osc_console.ui.dialogs.fields import alive, muted, one_line
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession


class ServerSignInDialog(QuickDialog):
    """User name (prefilled) and password for the server; OK hands them to ``submit``."""

    def __init__(
        self,
        session: ConsoleSession,
        server: str,
        user: str,
        submit: Callable[[str, str], None],
        *,
        note: str = "",
        problem: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(
            session,
            "Sign in to the server",
            intro=ServerSignInDialog.intro_text(note),
            save_text="Sign in",
            parent=parent,
        )
        self._submit = submit
        self.server = server
        # The queue and the log stay usable: nothing is lost while this waits for an answer.
        self.setModal(False)
        self.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        self.cancel_button.setText("Not now")
        self.cancel_button.setAccessibleName("Not now")

        address = muted(server)
        address.setAccessibleName("Server address")
        address.setWordWrap(False)  # a URL is not broken at its slashes
        address.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow(muted("Server"), address)
        self.user_edit = one_line("Server user name", "your user name on the server", 60)
        self.user_edit.setText(user)
        self.add_field("user", "&User name", self.user_edit)
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Server password")
        self.password.setPlaceholderText("your password on the server")
        self.add_field("password", "&Password", self.password)
        self.user_edit.textChanged.connect(lambda _t: self.changed("user"))
        self.password.textChanged.connect(lambda _t: self.changed("password"))
        self.finish(self.password if user.strip() else self.user_edit)
        if problem:
            self.show_problem(problem)

    @staticmethod
    def intro_text(note: str) -> str:
        """The server's reason (first start, expired sign-in), then the reassurance."""
        why = (
            f"{note[:1].upper()}{note[1:].rstrip('.')}."
            if note
            else "The server asks you to sign in."
        )
        return (
            f"{why} Everything you log meanwhile is kept on this workstation and sent to the "
            "server once you are signed in."
        )

    def set_note(self, note: str) -> None:
        text = self.intro_text(note)
        self.intro.setText(text)
        self.intro.setAccessibleName(text)

    def show_problem(self, message: str) -> None:
        """The server refused the last attempt: say why, and ask for the password again."""
        self.show_banner(message)
        self.password.clear()
        self.password.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.user_edit.text().strip():
            errors["user"] = "Enter your user name on the server."
        if not self.password.text():
            errors["password"] = "Enter your password."
        return errors

    def start_save(self) -> None:
        # The engine signs in on its own thread; its answer arrives as a sync state, so the
        # dialog closes now and the status bar says "Signing in…".
        user, password = self.user_edit.text().strip(), self.password.text()
        self.password.clear()
        self._submit(user, password)
        if alive(self):
            self._set_saving(False)
            self.accept()
