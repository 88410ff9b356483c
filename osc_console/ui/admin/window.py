"""The Administration window: accounts, enrolled workstations and the authority's record.

Accounts are the authority's, not the log's: the central server's (asked over the network as
the signed-in administrator) or, on a standalone workstation, its own. So the window asks
``session.administration()`` for the door to them and offers nothing when there is none (an
administrator signed in offline cannot change what only the server keeps), saying why.

Every request goes to the authority on a background thread (a slow server never freezes the
console): the window says "Working…", then either says what was done and reads the tables
again, or shows the authority's refusal in a banner and leaves the tables as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from osc_console.models.users import Action
from osc_console.services.administration import Account, Administration, AuditLine, Workstation
from osc_console.ui.admin.calls import AuthorityCalls, read_record
from osc_console.ui.admin.dialogs import (
    AddAccountDialog,
    AuthorityDialog,
    ChangeRoleDialog,
    EnrolDialog,
    Request,
    ResetPasswordDialog,
    plain_refusal,
    sentence,
)
from osc_console.ui.admin.models import (
    AccountColumn,
    AccountTableModel,
    ItemRole,
    ListTableModel,
    RecordColumn,
    RecordTableModel,
    WorkstationColumn,
    WorkstationTableModel,
)
from osc_console.ui.dialogs.fields import alive, muted
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession
from osc_console.ui.theme import current_palette

NO_AUTHORITY = (
    "Accounts are kept by the server. To administer them, the server must be reachable and "
    "you must be signed in to it online (not offline on this workstation's copy of your "
    "grant). Sign out and sign in again once the server can be reached."
)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    accounts: list[Account]
    workstations: list[Workstation]
    record: list[AuditLine]


def _fetch(admin: Administration, after: int) -> _Snapshot:
    """Everything the window shows, in one background call (the record only after ``after``)."""
    return _Snapshot(admin.accounts(), admin.workstations(), read_record(admin, after))


def make_table(
    model: ListTableModel, name: str, proxy: QtCore.QSortFilterProxyModel | None = None
) -> QtWidgets.QTableView:
    """A sortable, read-only, row-selecting view over ``model`` (through a sorting proxy,
    ``proxy`` if it also filters)."""
    if proxy is None:
        proxy = QtCore.QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(int(ItemRole.SortRole))
    proxy.setSortCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
    view = QtWidgets.QTableView()
    view.setAccessibleName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
    view.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
    vertical = view.verticalHeader()
    vertical.hide()
    vertical.setDefaultSectionSize(view.fontMetrics().height() + 12)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    return view


def fit_columns(view: QtWidgets.QTableView, stretch: int) -> None:
    """Columns as wide as their contents, and ``stretch`` taking the room left (set as modes:
    sizes set once are lost to a sorted view's next reset)."""
    header = view.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QtWidgets.QHeaderView.ResizeMode.Stretch)


def selected_item(view: QtWidgets.QTableView) -> object | None:
    rows = view.selectionModel().selectedRows()
    if not rows:
        return None
    return rows[0].data(int(ItemRole.ItemRole))


def select_where(view: QtWidgets.QTableView, wanted: Callable[[object], bool]) -> None:
    proxy = view.model()
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        if wanted(index.data(int(ItemRole.ItemRole))):
            view.selectRow(row)
            view.scrollTo(index)
            return


def button(text: str, tip: str, slot: Callable[[], None]) -> QtWidgets.QPushButton:
    push = QtWidgets.QPushButton(text)
    push.setAccessibleName(text.replace("&", "").rstrip("…"))
    push.setToolTip(tip)
    push.setAutoDefault(False)
    push.clicked.connect(lambda _checked=False: slot())
    return push


class AdministrationWindow(QtWidgets.QWidget):
    """A top-level window for administrators (``Action.MANAGE_USERS``)."""

    loaded = QtCore.Signal()  # the tables were read again (or the read failed)
    finished = QtCore.Signal(str)  # a request's outcome: what was done, or the refusal

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.session = session
        self.calls = AuthorityCalls()
        self.active_dialog: AuthorityDialog | None = None
        self.confirm_box: QtWidgets.QMessageBox | None = None
        self._working = False
        self._keep: str | None = None  # the account or workstation a request was about
        self.setWindowTitle("Administration · OSC Console")
        self.setAccessibleName("Administration")
        self.resize(1180, 720)
        self.setMinimumSize(820, 480)

        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.setSpacing(8)
        self.title = QtWidgets.QLabel("Administration")
        self.title.setProperty("role", "title")
        self.title.setAccessibleName("Administration of")
        outer.addWidget(self.title)
        self.explanation = QtWidgets.QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setAccessibleName("Why nothing is offered")
        self.explanation.hide()
        outer.addWidget(self.explanation)

        self.permitted = session.may(Action.MANAGE_USERS)
        self.administration: Administration | None = (
            session.administration() if self.permitted else None
        )
        self.tabs: QtWidgets.QTabWidget | None = None
        if not self.permitted:
            user = session.user
            who = f"Your role ({user.role.label})" if user else "Nobody signed in"
            self._say_unavailable(f"{who} cannot administer accounts: ask an administrator.")
        elif self.administration is None:
            self._say_unavailable(NO_AUTHORITY)
        else:
            self.title.setText(f"Administration · {self.administration.where}")
            outer.addLayout(self._build_messages())
            outer.addWidget(self._build_tabs(), 1)
        outer.addLayout(self._build_footer())

        for keys, slot in (("F5", self.reload), ("Ctrl+W", self.close)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(slot)
        session.signals.operator_changed.connect(self._operator_changed)
        self.calls.busy_changed.connect(self._busy_changed)
        if self.administration is not None:
            self.account_view.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
            self.reload()

    # ---- building ------------------------------------------------------------------------
    def _say_unavailable(self, text: str) -> None:
        self.explanation.setText(text)
        self.explanation.setAccessibleDescription(text)
        self.explanation.show()

    def _build_messages(self) -> QtWidgets.QVBoxLayout:
        column = QtWidgets.QVBoxLayout()
        column.setSpacing(4)
        self.banner = QtWidgets.QFrame()
        self.banner.setProperty("role", "banner")
        self.banner.setAccessibleName("Refused")
        self.banner.setStyleSheet("QLabel { color: #FFFFFF; background: transparent; }")
        row = QtWidgets.QHBoxLayout(self.banner)
        row.setContentsMargins(10, 6, 10, 6)
        self.banner_label = QtWidgets.QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setAccessibleName("Refusal")
        self.banner_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        row.addWidget(self.banner_label, 1)
        self.banner.hide()
        column.addWidget(self.banner)
        self.done_label = QtWidgets.QLabel()
        self.done_label.setWordWrap(True)
        self.done_label.setAccessibleName("Done")
        self.done_label.setStyleSheet(f"color: {current_palette().ok};")
        self.done_label.hide()
        column.addWidget(self.done_label)
        self.working_label = muted("Working…")
        self.working_label.setAccessibleName("Working")
        self.working_label.hide()
        column.addWidget(self.working_label)
        return column

    def _build_tabs(self) -> QtWidgets.QTabWidget:
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setAccessibleName("Administration sections")
        self.tabs.addTab(self._build_accounts(), "A&ccounts")
        self.tabs.addTab(self._build_workstations(), "&Workstations")
        self.tabs.addTab(self._build_record(), "Rec&ord")
        return self.tabs

    def _build_accounts(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(page)
        column.setContentsMargins(6, 8, 6, 6)
        self.account_model = AccountTableModel(self)
        self.account_view = make_table(self.account_model, "Accounts")
        fit_columns(self.account_view, AccountColumn.DISPLAY_NAME)
        self.account_view.sortByColumn(AccountColumn.NAME, QtCore.Qt.SortOrder.AscendingOrder)
        self.account_view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_buttons()
        )
        column.addWidget(self.account_view, 1)
        row = QtWidgets.QHBoxLayout()
        self.add_button = button(
            "&Add account…", "Grant someone an account (Alt+A)", self.add_account
        )
        self.role_button = button(
            "Change &role…", "Grant the selected account another role (Alt+R)", self.change_role
        )
        self.disable_button = button(
            "&Disable",
            "Stop the selected account signing in; nothing of theirs is accepted (Alt+D)",
            self.disable,
        )
        self.enable_button = button(
            "&Enable", "Let the selected disabled account sign in again (Alt+E)", self.enable
        )
        self.reset_button = button(
            "Reset &password…",
            "Give the selected account a one-time password (Alt+P)",
            self.reset_password,
        )
        self.unlock_button = button(
            "&Unlock",
            "Let the selected account try again after failed sign-ins (Alt+U)",
            self.unlock,
        )
        self.account_buttons = (
            self.add_button,
            self.role_button,
            self.disable_button,
            self.enable_button,
            self.reset_button,
            self.unlock_button,
        )
        for push in self.account_buttons:
            row.addWidget(push)
        row.addStretch(1)
        self.account_count = muted()
        self.account_count.setWordWrap(False)
        self.account_count.setAccessibleName("Accounts shown")
        row.addWidget(self.account_count)
        column.addLayout(row)
        return page

    def _build_workstations(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(page)
        column.setContentsMargins(6, 8, 6, 6)
        self.workstation_model = WorkstationTableModel(self)
        self.workstation_view = make_table(self.workstation_model, "Workstations")
        fit_columns(self.workstation_view, WorkstationColumn.ENROLLED_BY)
        self.workstation_view.sortByColumn(0, QtCore.Qt.SortOrder.AscendingOrder)
        self.workstation_view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_buttons()
        )
        column.addWidget(self.workstation_view, 1)
        row = QtWidgets.QHBoxLayout()
        self.enrol_button = button(
            "E&nrol…", "Enrol a workstation by its device key (Alt+N)", self.enrol
        )
        self.revoke_button = button(
            "Re&voke…",
            "Revoke the selected workstation: nothing signed there is accepted any more (Alt+V)",
            self.revoke,
        )
        row.addWidget(self.enrol_button)
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        column.addLayout(row)
        return page

    def _build_record(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(page)
        column.setContentsMargins(6, 8, 6, 6)
        intro = muted(
            "The authority's own record: every account change and the sign-ins it saw, "
            "newest first. Times are London time; hover for UTC."
        )
        column.addWidget(intro)
        self.record_model = RecordTableModel(self)
        self.record_view = make_table(self.record_model, "Record")
        fit_columns(self.record_view, RecordColumn.DETAIL)
        self.record_view.sortByColumn(0, QtCore.Qt.SortOrder.DescendingOrder)
        column.addWidget(self.record_view, 1)
        self.record_count = muted()
        self.record_count.setAccessibleName("Record entries")
        column.addWidget(self.record_count)
        return page

    def _build_footer(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        hint = muted("F5 reads again · Ctrl+W closes")
        hint.setWordWrap(False)
        hint.setAccessibleName("Keyboard hint")
        row.addWidget(hint)
        row.addStretch(1)
        if self.administration is not None:
            self.reload_button = button("Re&load", "Read everything again (F5)", self.reload)
            row.addWidget(self.reload_button)
        self.close_button = button("Close", "Close this window (Ctrl+W)", self._close)
        row.addWidget(self.close_button)
        return row

    # ---- reading -------------------------------------------------------------------------
    def reload(self) -> None:
        admin = self.administration
        if admin is None:
            return
        after = self.record_model.last_seq
        self.calls.submit(lambda: _fetch(admin, after), self._arrived, self._read_failed)

    def _arrived(self, snapshot: _Snapshot) -> None:
        if not alive(self):
            return
        account = self.selected_account()
        station = self.selected_workstation()
        keep_account = account.name if account is not None else None
        keep_station = station.code if station is not None else None
        if self._keep is not None:
            # What a request was about is selected afterwards (a new account, say).
            if any(a.name == self._keep for a in snapshot.accounts):
                keep_account = self._keep
            if any(w.code == self._keep for w in snapshot.workstations):
                keep_station = self._keep
        self._keep = None
        self.account_model.set_items(snapshot.accounts)
        self.workstation_model.set_items(snapshot.workstations)
        self.record_model.add_lines(snapshot.record)
        if keep_account is not None:
            select_where(
                self.account_view, lambda a: isinstance(a, Account) and a.name == keep_account
            )
        if keep_station is not None:
            select_where(
                self.workstation_view,
                lambda w: isinstance(w, Workstation) and w.code == keep_station,
            )
        self._count()
        self._update_buttons()
        self.loaded.emit()

    def _read_failed(self, message: str) -> None:
        if not alive(self):
            return
        self._keep = None
        self.show_refusal(f"Could not read the accounts: {message}")
        self.loaded.emit()

    def _count(self) -> None:
        accounts = self.account_model.items()
        parts = [f"{len(accounts)} account{'s' if len(accounts) != 1 else ''}"]
        for word, count in (
            ("locked", sum(1 for a in accounts if a.locked_until)),
            ("disabled", sum(1 for a in accounts if not a.active)),
            ("break-glass", sum(1 for a in accounts if a.break_glass)),
        ):
            if count:
                parts.append(f"{count} {word}")
        self.account_count.setText(" · ".join(parts))
        lines = len(self.record_model.items())
        self.record_count.setText(f"{lines} entr{'ies' if lines != 1 else 'y'}")

    # ---- selection -----------------------------------------------------------------------
    def selected_account(self) -> Account | None:
        if self.administration is None:
            return None
        found = selected_item(self.account_view)
        return found if isinstance(found, Account) else None

    def selected_workstation(self) -> Workstation | None:
        if self.administration is None:
            return None
        found = selected_item(self.workstation_view)
        return found if isinstance(found, Workstation) else None

    def select_account(self, name: str) -> None:
        select_where(self.account_view, lambda a: isinstance(a, Account) and a.name == name)

    def select_workstation(self, code: str) -> None:
        select_where(self.workstation_view, lambda w: isinstance(w, Workstation) and w.code == code)

    def _update_buttons(self) -> None:
        if self.administration is None:
            return
        free = not self._working
        account = self.selected_account()
        self.add_button.setEnabled(free)
        self.role_button.setEnabled(free and account is not None)
        self.reset_button.setEnabled(free and account is not None)
        self.disable_button.setEnabled(free and account is not None and account.active)
        self.enable_button.setEnabled(free and account is not None and not account.active)
        self.unlock_button.setEnabled(
            free and account is not None and bool(account.locked_until or account.failures)
        )
        station = self.selected_workstation()
        self.enrol_button.setEnabled(free)
        self.revoke_button.setEnabled(free and station is not None and not station.revoked_at)
        self.reload_button.setEnabled(free)

    # ---- asking the authority ------------------------------------------------------------
    @property
    def working(self) -> bool:
        return self._working

    def send(
        self,
        request: Request,
        ok: Callable[[], None] | None = None,
        refused: Callable[[str], None] | None = None,
    ) -> None:
        """Ask the authority in the background; say what came of it."""
        admin = self.administration
        if admin is None or self._working:
            if refused is not None:  # a dialog waiting for an answer gets one
                refused("another request is still being answered; try again in a moment")
            return
        self._set_working(True)

        def done(_result: object) -> None:
            if not alive(self):
                return
            self._set_working(False)
            self.show_done(request.done)
            self._record(request)
            self._keep = request.subject or None
            if ok is not None:
                ok()
            self.reload()
            self.finished.emit(request.done)

        def failed(reason: str) -> None:
            if not alive(self):
                return
            message = plain_refusal(reason)
            self._set_working(False)
            self.show_refusal(message)
            if refused is not None:
                refused(message)
            self.finished.emit(self.banner_label.text())

        if not self.calls.submit(lambda: request.work(admin), done, failed):
            self._set_working(False)

    def _record(self, request: Request) -> None:
        """The change goes into the log too, signed by the administrator who made it, so
        that every console's audit trail shows it (the authority keeps its own record)."""
        from osc_console.services import audit

        operator = self.session.operator
        if operator is None:
            return
        subject = request.subject or "accounts"
        self.session.run(
            lambda store: audit.account_changed(store, operator, subject, request.done)
        )

    def _set_working(self, working: bool) -> None:
        self._working = working
        self.working_label.setVisible(working)
        if working:
            self.banner.hide()
            self.done_label.hide()
        self._update_buttons()

    def _busy_changed(self, busy: bool) -> None:
        if alive(self) and self.administration is not None:
            self.working_label.setVisible(busy)

    def show_done(self, text: str) -> None:
        self.banner.hide()
        self.done_label.setText(f"✓ {text}")
        self.done_label.setAccessibleDescription(text)
        self.done_label.show()

    def show_refusal(self, text: str) -> None:
        self.done_label.hide()
        message = f"Not done: {sentence(text)}" if not text.startswith("Could not") else text
        self.banner_label.setText(f"✕ {message}")
        self.banner.setAccessibleDescription(message)
        self.banner.show()

    def message_text(self) -> str:
        """What the window says now: the done line, the refusal, or nothing (for tests and
        screen readers alike)."""
        if self.administration is None:
            return self.explanation.text()
        if self.banner.isVisibleTo(self):
            return self.banner_label.text()
        if self.done_label.isVisibleTo(self):
            return self.done_label.text()
        return ""

    # ---- actions -------------------------------------------------------------------------
    def _open(self, dialog: AuthorityDialog) -> None:
        self.active_dialog = dialog
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.finished.connect(lambda _r: setattr(self, "active_dialog", None))
        dialog.open()

    def _send_from_dialog(
        self, request: Request, ok: Callable[[], None], refused: Callable[[str], None]
    ) -> None:
        self.send(request, ok, refused)

    def add_account(self) -> None:
        if self.administration is not None and not self._working:
            self._open(AddAccountDialog(self.session, self._send_from_dialog, self))

    def change_role(self) -> None:
        account = self.selected_account()
        if account is not None and not self._working:
            self._open(ChangeRoleDialog(self.session, self._send_from_dialog, account, self))

    def reset_password(self) -> None:
        account = self.selected_account()
        if account is not None and not self._working:
            self._open(ResetPasswordDialog(self.session, self._send_from_dialog, account, self))

    def enrol(self) -> None:
        if self.administration is not None and not self._working:
            self._open(EnrolDialog(self.session, self._send_from_dialog, self))

    def disable(self) -> None:
        self._account_action(
            "disable",
            "{name} disabled: signed out everywhere, and nothing more of theirs is accepted.",
        )

    def enable(self) -> None:
        self._account_action("enable", "{name} enabled: they can sign in again.")

    def unlock(self) -> None:
        self._account_action(
            "unlock",
            "{name} unlocked: their failed sign-ins are forgotten and they can try again.",
        )

    def _account_action(self, action: str, done: str) -> None:
        """Disable, enable or unlock the selected account (one click, no form)."""
        account = self.selected_account()
        if account is None:
            return
        name = account.name
        self.send(Request(lambda admin: getattr(admin, action)(name), done.format(name=name), name))

    def revoke(self) -> None:
        station = self.selected_workstation()
        if station is None or self._working:
            return
        code = station.code
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            "Revoke workstation",
            f"Revoke workstation {code}? Nothing signed there from now on will be accepted, "
            "and nobody can sign in there until it is enrolled again.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        yes = box.button(QtWidgets.QMessageBox.StandardButton.Yes)
        if yes is not None:
            yes.setText(f"Revoke {code}")
        box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)

        def answered(result: int) -> None:
            self.confirm_box = None
            if result == QtWidgets.QMessageBox.StandardButton.Yes:
                self.send(
                    Request(
                        lambda admin: admin.revoke(code),
                        f"Workstation {code} revoked: nothing more signed there is accepted.",
                        code,
                    )
                )

        box.finished.connect(answered)
        self.confirm_box = box
        box.open()

    # ---- the session moving on -----------------------------------------------------------
    def _operator_changed(self, _operator: object) -> None:
        """Someone else at the desk (or nobody): an administrator's window does not stay."""
        if alive(self) and not self.session.may(Action.MANAGE_USERS):
            self.close()

    def _close(self) -> None:
        self.close()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        if self.calls.closed:  # shown again after being closed: a new caller
            self.calls = AuthorityCalls()
            self.calls.busy_changed.connect(self._busy_changed)
            self.reload()
        super().showEvent(event)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.calls.shutdown()
        super().closeEvent(event)
