"""Who is at this workstation: pick yourself from the list and press Enter, or add yourself.

The list comes from the store, most recent first, so the person who signed in last is one
Enter away. On a new workstation the new-user form is shown at once.
"""

from __future__ import annotations

from osc_console.models.agencies import Agency
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.users import Role, User, make_user
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.base import QuickDialog
from osc_console.ui.dialogs.fields import alive, make_combo, muted, one_line
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession, describe_error

LIST_PAGE, NEW_PAGE = 0, 1
FIRST_RUN = "Nobody has signed in at this workstation yet: add yourself to start."


def _add_user(store: Store, user: User) -> BaseException | None:
    """Add the user on the worker; a refusal comes back as a value to show, not a crash."""
    try:
        store.add_user(user)
    except (DomainError, StoreError) as exc:
        return exc
    return None


class SignInDialog(QuickDialog):
    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(session, "Sign in", save_text="Sign in", parent=parent)
        self.user: User | None = None
        self.users: list[User] | None = None
        self._refused_name: str | None = None
        self.setMinimumWidth(460)

        self.pages = QtWidgets.QStackedWidget()
        self.pages.setAccessibleName("Sign in")
        self.form.addRow(self.pages)

        # ---- pick a known user -------------------------------------------------------------
        list_page = QtWidgets.QWidget()
        list_form = QtWidgets.QFormLayout(list_page)
        list_form.setContentsMargins(0, 0, 0, 0)
        self.list = QtWidgets.QListWidget()
        self.list.setAccessibleName("Users of this workstation")
        self.list.setMinimumHeight(200)
        self.add_field("user", "&Who are you?", self.list, form=list_form)
        self.new_button = QtWidgets.QPushButton("&New user…")
        self.new_button.setAccessibleName("New user")
        self.new_button.setAutoDefault(False)
        list_form.addRow("", self.new_button)
        self.pages.addWidget(list_page)

        # ---- add a user --------------------------------------------------------------------
        new_page = QtWidgets.QWidget()
        new_form = QtWidgets.QFormLayout(new_page)
        new_form.setContentsMargins(0, 0, 0, 0)
        self.first_run = muted(FIRST_RUN)
        self.first_run.setAccessibleName(FIRST_RUN)
        self.first_run.hide()
        new_form.addRow(self.first_run)
        self.name = one_line("Name", "as colleagues know you, e.g. PC Jane Smith", 60)
        self.add_field("name", "Na&me", self.name, form=new_form)
        self.agency = make_combo("Agency", [(a.label, a.value) for a in Agency])
        self.add_field("agency", "&Agency", self.agency, form=new_form)
        self.role = make_combo("Role", [(r.label.capitalize(), r.value) for r in Role])
        self.add_field("role", "&Role", self.role, form=new_form)
        self.back_button = QtWidgets.QPushButton("&Back to the list")
        self.back_button.setAccessibleName("Back to the list")
        self.back_button.setAutoDefault(False)
        new_form.addRow("", self.back_button)
        self.pages.addWidget(new_page)

        self.list.currentRowChanged.connect(lambda _r: self.changed())
        self.list.doubleClicked.connect(lambda _i: self.submit())
        self.name.textChanged.connect(lambda _t: self.changed("name"))
        self.new_button.clicked.connect(self.show_new_user)
        self.back_button.clicked.connect(self.show_list)

        self.pages.hide()
        self.intro.setText("Loading the users of this workstation…")
        self.intro.show()
        self.refresh()
        session.read(lambda store: store.users(), self._loaded, self._load_failed)

    # ---- pages -------------------------------------------------------------------------------
    def _loaded(self, users: list[User]) -> None:
        if not alive(self):
            return
        self.users = list(users)
        self.pages.show()
        for user in self.users:
            item = QtWidgets.QListWidgetItem(user.label)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, user.name)
            self.list.addItem(item)
        if self.users:
            self.intro.setText("Choose yourself and press Enter.")
            self.list.setCurrentRow(0)
            self.show_list()
        else:
            self.intro.hide()
            self.first_run.show()
            self.back_button.hide()
            self.show_new_user()

    def _load_failed(self, message: str) -> None:
        if alive(self):
            self.show_banner(f"The users of this workstation cannot be read: {message}")
            self._loaded([])

    def on_new_page(self) -> bool:
        return self.pages.currentIndex() == NEW_PAGE

    def show_new_user(self) -> None:
        self.pages.setCurrentIndex(NEW_PAGE)
        self.save_button.setText("Add and sign in")
        self.save_button.setAccessibleName("Add and sign in")
        if self.users:
            self.intro.setText("Add yourself as a user of this workstation.")
        self.name.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        self.refresh()

    def show_list(self) -> None:
        self.pages.setCurrentIndex(LIST_PAGE)
        self.save_button.setText("Sign in")
        self.save_button.setAccessibleName("Sign in")
        self.intro.setText("Choose yourself and press Enter.")
        self.list.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
        self.refresh()

    # ---- the form ----------------------------------------------------------------------------
    def selected(self) -> User | None:
        row = self.list.currentRow()
        if self.users is None or not 0 <= row < len(self.users):
            return None
        return self.users[row]

    def new_user(self) -> User:
        return make_user(self.name.text(), self.agency.currentData(), self.role.currentData())

    def validate(self) -> dict[str, str]:
        if self.users is None:
            return {"": "still loading"}
        if not self.on_new_page():
            return {} if self.selected() is not None else {"user": "Choose yourself in the list."}
        try:
            user = self.new_user()
        except ValidationError as exc:
            return {exc.field: exc.message[:1].upper() + exc.message[1:] + "."}
        taken = {u.name.casefold() for u in self.users}
        if self._refused_name is not None:
            taken.add(self._refused_name.casefold())
        if user.name.casefold() in taken:
            return {"name": f"{user.name} is already a user here: choose them from the list."}
        return {}

    def start_save(self) -> None:
        if not self.on_new_page():
            user = self.selected()
            assert user is not None
            self._sign_in(user)
            return
        user = self.new_user()
        self.session.run(
            lambda store: _add_user(store, user), lambda error: self._added(user, error)
        )

    def _added(self, user: User, error: BaseException | None) -> None:
        if not alive(self):
            return
        if error is None:
            self._sign_in(user)
            return
        if isinstance(error, ValidationError) and error.field == "name":
            self._refused_name = user.name
            self._set_saving(False)
            self._touched.add("name")
            self.refresh()
            self.name.setFocus(QtCore.Qt.FocusReason.OtherFocusReason)
            return
        self._failed(describe_error(error))

    def _sign_in(self, user: User) -> None:
        self.user = user
        self.session.sign_in(user)
        self.session.run(lambda store: store.signed_in(user))
        self._set_saving(False)
        self.accept()
