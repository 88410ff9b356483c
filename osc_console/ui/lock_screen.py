"""The lock screen: who locked the console and when, Unlock and Switch operator; nothing of
the log, the queue or any incident behind it.

Shown in place of the whole window's content (the window's menus, toolbar and status bar
are hidden with it), so a desk left idle shows nobody what it was showing.
"""

from __future__ import annotations

from osc_console.ui.dialogs.fields import muted, set_role
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.theme import current_palette


class LockScreen(QtWidgets.QWidget):
    unlock_requested = QtCore.Signal(str)  # the password typed
    switch_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAccessibleName("Console locked")
        outer = QtWidgets.QVBoxLayout(self)
        outer.addStretch(2)
        box = QtWidgets.QFrame()
        box.setObjectName("lockBox")
        box.setMaximumWidth(560)
        palette = current_palette()
        box.setStyleSheet(
            f"QFrame#lockBox {{ border: 1px solid {palette.muted}; border-radius: 6px; "
            f"background: {palette.alt_base}; }} QFrame#lockBox QLabel {{ background: "
            "transparent; }"
        )
        column = QtWidgets.QVBoxLayout(box)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(12)
        self.title = QtWidgets.QLabel("Console locked")
        self.title.setAccessibleName("Console locked")
        self.title.setStyleSheet("font-size: 20pt; font-weight: 600;")
        column.addWidget(self.title)
        self.who = QtWidgets.QLabel()
        self.who.setAccessibleName("Who locked it")
        self.who.setWordWrap(True)
        column.addWidget(self.who)
        self.hint = muted(
            "Type your password to unlock, or let another operator sign in at this desk."
        )
        self.hint.setWordWrap(True)
        column.addWidget(self.hint)
        self.password = QtWidgets.QLineEdit()
        self.password.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setPlaceholderText("your password")
        self.password.returnPressed.connect(self._unlock)
        column.addWidget(self.password)
        self.problem = QtWidgets.QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem message")
        set_role(self.problem, "error")
        self.problem.hide()
        column.addWidget(self.problem)
        buttons = QtWidgets.QHBoxLayout()
        self.switch_button = QtWidgets.QPushButton("&Switch operator…")
        self.switch_button.setAccessibleName("Switch operator")
        self.switch_button.clicked.connect(self.switch_requested)
        self.unlock_button = QtWidgets.QPushButton("&Unlock")
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._unlock)
        buttons.addStretch(1)
        buttons.addWidget(self.switch_button)
        buttons.addWidget(self.unlock_button)
        column.addLayout(buttons)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)

    def show_locked(self, who: str, since: str, realm: str) -> None:
        self.who.setText(f"Locked by <b>{who}</b> at {since} · {realm}")
        self.problem.hide()
        self.password.clear()
        self.set_busy(False)
        self.password.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text[:1].upper() + text[1:])
        self.problem.show()
        self.set_busy(False)
        self.password.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.password.setEnabled(not busy)

    def _unlock(self) -> None:
        password = self.password.text()
        self.password.clear()
        if not password:
            self.show_problem("Type your password to unlock.")
            return
        self.set_busy(True)
        self.unlock_requested.emit(password)
