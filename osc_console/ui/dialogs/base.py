"""What every quick dialog shares: inline validation, the save round trip, the failure banner.

A quick dialog is a short form. Its first field has focus, Tab walks the fields in reading
order, Enter (Ctrl+Enter inside a multi-line field) saves and Esc cancels. Each field has a
small error label under it that speaks only once the operator has been in the field (or tried
to save), so a fresh form is not a wall of red; Save stays disabled until the form is valid.

Saving goes through :meth:`ConsoleSession.perform`: the dialog says "Saving…", and closes only
when the store has the change. A refusal (read-only file, a rule) appears in a banner at the
top and everything typed stays where it was, ready to try again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from osc_console.models.errors import DomainError
from osc_console.models.users import Action
from osc_console.services.incidents import IncidentService, Outcome
from osc_console.ui.dialogs.fields import alive, muted, set_role
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession, describe_error

Work = Callable[[IncidentService], Outcome]

# What each role-gated dialog lets someone do, for the sentence shown when their role may not.
ACTION_WORDS = {
    Action.OPEN_INCIDENT: "open incidents",
    Action.AMEND: "amend log entries",
    Action.DECIDE: "record decisions",
    Action.ASSIGN: "assign teams",
    Action.UPDATE_ASSIGNMENT: "update assignments",
    Action.WITHDRAW: "withdraw assignments",
    Action.CHANGE_GRADE: "change grades",
    Action.CHANGE_STATUS: "change an incident's status",
    Action.LINK: "link incidents",
    Action.CLOSE: "close incidents",
    Action.REOPEN: "reopen incidents",
    Action.RESOLVE_CONFLICT: "resolve conflicting edits",
}


@dataclass(slots=True)
class FieldRow:
    key: str
    widget: QtWidgets.QWidget
    label: QtWidgets.QLabel
    error: QtWidgets.QLabel


class QuickDialog(QtWidgets.QDialog):
    """The frame of a quick dialog. Subclasses add fields and say what saving means.

    Subclasses set ``action`` (the role permission the dialog needs), add fields with
    :meth:`add_field`, implement :meth:`validate` (field key -> message) and :meth:`work`
    (what to ask the service), and call :meth:`changed` when a field changes.
    """

    action: Action | None = None

    def __init__(
        self,
        session: ConsoleSession,
        title: str,
        *,
        intro: str = "",
        save_text: str = "Save",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.outcome: Outcome | None = None
        self._rows: dict[str, FieldRow] = {}
        self._touched: set[str] = set()
        self._attempted = False
        self._saving = False
        self._refocus: QtWidgets.QWidget | None = None
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.setMinimumWidth(520)

        outer = QtWidgets.QVBoxLayout(self)
        outer.setSpacing(8)
        self.banner = QtWidgets.QFrame()
        self.banner.setProperty("role", "banner")
        self.banner.setAccessibleName("Problem")
        # The theme paints every widget in the window colour; the banner's text sits on red.
        self.banner.setStyleSheet("QLabel { color: #FFFFFF; background: transparent; }")
        banner_layout = QtWidgets.QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(10, 6, 10, 6)
        self.banner_label = QtWidgets.QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setAccessibleName("Problem message")
        self.banner_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        banner_layout.addWidget(self.banner_label, 1)
        self.banner.hide()
        outer.addWidget(self.banner)

        self.intro = muted(intro)
        self.intro.setAccessibleName("About this dialog")
        self.intro.setVisible(bool(intro))
        outer.addWidget(self.intro)

        self.body = QtWidgets.QWidget()
        self.body.setAccessibleName(f"{title} form")
        self.form = QtWidgets.QFormLayout(self.body)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignTop
        )
        outer.addWidget(self.body, 1)

        footer = QtWidgets.QHBoxLayout()
        self.saving_label = QtWidgets.QLabel("Saving…")
        self.saving_label.setAccessibleName("Saving")
        self.saving_label.hide()
        self.hint = muted("Enter saves · Esc cancels")
        self.hint.setAccessibleName("Keyboard hint")
        self.hint.setWordWrap(False)
        footer.addWidget(self.hint)
        footer.addStretch(1)
        footer.addWidget(self.saving_label)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.cancel_button = self.buttons.addButton(
            "Cancel", QtWidgets.QDialogButtonBox.ButtonRole.RejectRole
        )
        self.cancel_button.setAccessibleName("Cancel")
        self.save_button = self.buttons.addButton(
            save_text, QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setAccessibleName(save_text)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        footer.addWidget(self.buttons)
        outer.addLayout(footer)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(self.submit)

        self.permitted = self.action is None or session.may(self.action)
        if not self.permitted:
            self.unavailable(self.refusal())

    # ---- building --------------------------------------------------------------------------
    def add_field(
        self,
        key: str,
        label: str,
        widget: QtWidgets.QWidget,
        *,
        extra: Sequence[QtWidgets.QWidget] = (),
        form: QtWidgets.QFormLayout | None = None,
    ) -> FieldRow:
        """A labelled field with its inline error label under it (and any extra lines)."""
        plain = label.replace("&", "")
        if not widget.accessibleName():
            widget.setAccessibleName(plain)
        caption = QtWidgets.QLabel(label)
        caption.setBuddy(widget)
        caption.setAccessibleName(plain)
        error = QtWidgets.QLabel()
        error.setProperty("role", "error")
        error.setWordWrap(True)
        error.setAccessibleName(f"{plain} error")
        error.hide()
        cell = QtWidgets.QWidget()
        cell.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred
        )
        column = QtWidgets.QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        for item in extra:
            column.addWidget(item)
        column.addWidget(error)
        (form or self.form).addRow(caption, cell)
        row = FieldRow(key, widget, caption, error)
        self._rows[key] = row
        widget.installEventFilter(self)
        return row

    def row(self, key: str) -> FieldRow:
        return self._rows[key]

    def finish(self, first: QtWidgets.QWidget) -> None:
        """End of building: the first field has focus (unless nothing may be done here)."""
        if self.permitted:
            first.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        self.refresh()

    def unavailable(self, message: str) -> None:
        """Nothing may be done here (role, or the incident's state): say why, offer no form."""
        self.permitted = False
        self.intro.setText(message)
        self.intro.setAccessibleName(message)
        set_role(self.intro, "")
        self.intro.setVisible(True)
        self.body.hide()
        self.save_button.hide()
        self.hint.hide()
        self.cancel_button.setText("Close")
        self.cancel_button.setAccessibleName("Close")
        self.cancel_button.setFocus()

    def refusal(self) -> str:
        user = self.session.user
        what = ACTION_WORDS.get(self.action, "do this") if self.action else "do this"
        if user is None:
            return f"Sign in to {what}."
        return f"Your role ({user.role.label}) cannot {what}."

    # ---- to override -----------------------------------------------------------------------
    def validate(self) -> dict[str, str]:
        """Field key -> what is wrong with it. Empty when the form can be saved."""
        return {}

    def work(self) -> Work:
        """What to ask the service, built from the form (called only when it is valid)."""
        raise NotImplementedError

    def focus_for(self, key: str) -> QtWidgets.QWidget:
        """Where the operator goes to fix the field's error (usually the field itself)."""
        return self._rows[key].widget

    def start_save(self) -> None:
        self.session.perform(self.work(), self._saved, self._failed)

    # ---- validation ------------------------------------------------------------------------
    def changed(self, key: str | None = None) -> None:
        if key is not None:
            self._touched.add(key)
        self.refresh()

    def refresh(self) -> dict[str, str]:
        errors = self.validate() if self.permitted else {"": "not permitted"}
        for key, row in self._rows.items():
            message = errors.get(key) if (self._attempted or key in self._touched) else None
            row.error.setText(message or "")
            row.error.setVisible(bool(message))
            row.widget.setAccessibleDescription(message or "")
        self.save_button.setEnabled(self.permitted and not errors and not self._saving)
        self.fit_height()
        return errors

    def fit_height(self) -> None:
        """Grow (never shrink) so wrapped messages fit: Qt sizes a window without asking its
        wrapped labels how tall they are at the window's width."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        needed = layout.totalMinimumHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.FocusOut and isinstance(event, QtGui.QFocusEvent):
            reason = event.reason()
            if (
                reason
                not in (
                    QtCore.Qt.FocusReason.PopupFocusReason,
                    QtCore.Qt.FocusReason.ActiveWindowFocusReason,
                )
                and not self._saving
            ):
                for key, row in self._rows.items():
                    if row.widget is watched:
                        self.changed(key)
                        break
        return super().eventFilter(watched, event)

    # ---- saving ----------------------------------------------------------------------------
    @property
    def saving(self) -> bool:
        return self._saving

    def submit(self) -> None:
        if self._saving or not self.permitted:
            return
        errors = self.refresh()
        if errors:
            self._attempted = True
            self.refresh()
            for key in self._rows:
                if key in errors:
                    self.focus_for(key).setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
                    break
            return
        self.hide_banner()
        self._set_saving(True)
        try:
            self.start_save()
        except DomainError as exc:  # e.g. nobody is signed in any more
            self._failed(describe_error(exc))

    def _saved(self, outcome: Outcome) -> None:
        if not alive(self):
            return
        self.outcome = outcome
        self._set_saving(False)
        self.accept()

    def _failed(self, message: str) -> None:
        if not alive(self):
            return
        self._set_saving(False)
        self.show_banner(message)

    def _set_saving(self, saving: bool) -> None:
        if saving:
            focus = QtWidgets.QApplication.focusWidget()
            self._refocus = focus if focus is not None and self.isAncestorOf(focus) else None
        self._saving = saving
        self.body.setEnabled(not saving)
        self.cancel_button.setEnabled(not saving)
        self.saving_label.setVisible(saving)
        self.refresh()
        if not saving and self._refocus is not None and alive(self._refocus):
            self._refocus.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)

    def show_banner(self, message: str) -> None:
        text = message[:1].upper() + message[1:]
        self.banner_label.setText(text)
        self.banner.setAccessibleDescription(text)
        self.banner.show()
        self.fit_height()

    def hide_banner(self) -> None:
        self.banner.hide()
        self.banner_label.clear()

    def banner_text(self) -> str:
        return self.banner_label.text() if self.banner.isVisibleTo(self) else ""

    # ---- keys and closing ------------------------------------------------------------------
    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
            if self.permitted:
                self.submit()
            else:
                self.reject()
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.fit_height()

    def done(self, result: int) -> None:
        # A completer list left open would outlive the dialog and swallow the next keys.
        while (popup := QtWidgets.QApplication.activePopupWidget()) is not None:
            popup.close()
        super().done(result)

    def reject(self) -> None:
        if self._saving:
            return  # the write is in flight: its answer must have somewhere to land
        super().reject()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self._saving:
            event.ignore()
            return
        super().closeEvent(event)
