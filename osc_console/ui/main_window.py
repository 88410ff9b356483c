"""The console's main window: composes the queue and the detail, menus, toolbar, status bar.

No SQL and no HTTP here: panels ask the session for what they show, and every action opens a
quick dialog that writes through the session. Which actions exist depends on the signed-in
user's role: an action the role may not take is not offered at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from osc_console.models.clock import LONDON
from osc_console.models.users import Action
from osc_console.paths import window_settings_path
from osc_console.ui.dialogs.fields import alive
from osc_console.ui.exercise.banner import ExerciseBanner
from osc_console.ui.exercise.mode import ExerciseMode
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.queue.panel import QueuePanel
from osc_console.ui.session import ConsoleSession
from osc_console.ui.sync_status import SyncLink, SyncStatusIndicator
from osc_console.ui.theme import apply_theme, current_palette
from osc_console.ui.workspace import Workspace

if TYPE_CHECKING:
    from osc_console.ui.detail.panel import IncidentDetailPanel
    from osc_console.ui.shifts.view import ShiftLogWindow

# (keys, what it does, action name): the single list behind menus, toolbar and Help.
SHORTCUTS: list[tuple[str, str, str]] = [
    ("Ctrl+N", "New incident", "new_incident"),
    ("Ctrl+L", "Focus the log entry line", "focus_entry"),
    ("F6", "Focus the queue", "focus_queue"),
    ("Ctrl+F", "Search incidents and logs", "search"),
    ("Alt+Down", "Next incident", "next_incident"),
    ("Alt+Up", "Previous incident", "previous_incident"),
    ("Ctrl+Shift+A", "Assign a team", "assign"),
    ("Ctrl+G", "Change grade or priority", "grade"),
    ("Ctrl+Shift+S", "Change status", "status"),
    ("Ctrl+D", "Record a decision", "decision"),
    ("Ctrl+Shift+C", "Close the incident", "close"),
    ("Ctrl+Shift+R", "Reopen the incident", "reopen"),
    ("Ctrl+Shift+L", "Shift log", "shift_log"),
    ("Ctrl+Shift+K", "Link to another incident", "link"),
    ("Ctrl+Shift+D", "Dashboard", "dashboard"),
    ("Ctrl+Shift+F", "Search incidents and logs with filters", "find"),
    ("F5", "Refresh (sync now when a server is set)", "refresh"),
    ("Ctrl+T", "Switch dark / light theme", "theme"),
    ("Ctrl+Alt+L", "Lock the console", "lock"),
    ("Ctrl+Alt+O", "Switch operator (another person takes the desk)", "switch_operator"),
    ("Ctrl+Alt+P", "Change your password", "change_password"),
    ("Ctrl+Alt+A", "Administration: accounts and workstations", "administration"),
    ("Ctrl+Alt+U", "Audit trail: sign-ins, locks, break-glass", "audit"),
    ("F1", "Keyboard shortcuts", "shortcuts"),
    ("Ctrl+Q", "Quit", "quit"),
]

# Which role permission each incident action needs.
_NEEDS: dict[str, Action] = {
    "new_incident": Action.OPEN_INCIDENT,
    "assign": Action.ASSIGN,
    "grade": Action.CHANGE_GRADE,
    "status": Action.CHANGE_STATUS,
    "decision": Action.DECIDE,
    "close": Action.CLOSE,
    "reopen": Action.REOPEN,
    "focus_entry": Action.LOG,
    "link": Action.LINK,
    "administration": Action.MANAGE_USERS,
    "audit": Action.REVIEW_AUDIT,
}


class HeaderBar(QtWidgets.QFrame):
    """Who, where, which realm, the time, and whether the server is reachable."""

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session
        self.setObjectName("headerBar")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.identity = QtWidgets.QLabel()
        self.identity.setAccessibleName("Signed-in user, workstation and realm")
        self.identity.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.clock = QtWidgets.QLabel()
        self.clock.setAccessibleName("Local time")
        self.connection = QtWidgets.QLabel()
        self.connection.setAccessibleName("Server connection")
        layout.addWidget(self.identity, 1)
        # Break-glass use in the last week, for duty managers and administrators (hidden
        # otherwise); clicking it opens the audit trail.
        from osc_console.ui.audit.notice import BreakGlassNotice

        self.break_glass = BreakGlassNotice(session)
        layout.addWidget(self.break_glass)
        layout.addSpacing(12)
        layout.addWidget(self.clock)
        layout.addSpacing(16)
        layout.addWidget(self.connection)
        self.refresh_identity()
        session.signals.operator_changed.connect(lambda _operator: self.refresh_identity())
        self.set_connection("Local only", "no server set: entries are kept on this workstation")
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._timer.start(1000)
        self.tick()

    def refresh_identity(self) -> None:
        operator = self.session.operator
        who = operator.label if operator else "nobody signed in"
        if operator is not None and operator.method.value == "offline":
            who += " · <i>signed in offline</i>"
        if operator is not None and operator.method.value == "break_glass":
            who = f"<span style='color:{current_palette().danger}'>BREAK-GLASS</span> · {who}"
        self.identity.setText(
            f"<b>OSC Console</b> · {who} · {self.session.workstation} · <b>{self.session.realm}</b>"
        )

    def set_connection(self, text: str, detail: str, colour: str = "") -> None:
        palette = current_palette()
        self.connection.setText(f"<span style='color:{colour or palette.muted}'>●</span> {text}")
        self.connection.setToolTip(detail)

    def tick(self) -> None:
        now = datetime.now(UTC)
        local = now.astimezone(LONDON)
        self.clock.setText(f"{local:%H:%M:%S} {local.tzname()} ({now:%H:%M}Z)")


class MainWindow(QtWidgets.QMainWindow):
    detail_ready = QtCore.Signal()

    def __init__(
        self,
        session: ConsoleSession,
        *,
        settings: QtCore.QSettings | None = None,
        sync: SyncLink | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.sync = sync
        self.settings = settings or QtCore.QSettings(
            str(window_settings_path()), QtCore.QSettings.Format.IniFormat
        )
        self.setWindowTitle(f"OSC Console · {session.workstation} · {session.realm}")
        self.setMinimumSize(960, 600)
        self.resize(1440, 900)
        self._dialog: QtWidgets.QDialog | None = None
        self.shift_log_window: ShiftLogWindow | None = None
        self.admin_window: QtWidgets.QWidget | None = None
        self.audit_window: QtWidgets.QWidget | None = None
        # Set by the composition root: locks, unlocks and switches the operator.
        self.guard: Any = None
        self.password_dialog: QtWidgets.QDialog | None = None

        # The queue is built first (its first query starts at once, on the worker); the detail
        # panel is built just after the window is shown, so the queue paints sooner.
        self.queue = QueuePanel(session)
        self.detail: IncidentDetailPanel | None = None
        self._pending_incident: str | None = None
        self.header = HeaderBar(session)
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.queue)
        self.splitter.addWidget(QtWidgets.QWidget())
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setChildrenCollapsible(False)

        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        if session.realm.startswith("exercise:"):
            self.banner: ExerciseBanner | None = ExerciseBanner(session.realm)
            column.addWidget(self.banner)
        else:
            self.banner = None
        column.addWidget(self.header)
        # The incident view, then the Dashboard and Search tabs (ui/workspace.py).
        self.workspace_tabs = QtWidgets.QTabWidget()
        self.workspace_tabs.setDocumentMode(True)
        self.workspace_tabs.setAccessibleName("Workspace")
        self.workspace_tabs.addTab(self.splitter, "Incidents")
        self.workspace = Workspace(self, self.workspace_tabs, session)
        column.addWidget(self.workspace_tabs, 1)
        # The lock screen takes the place of everything above when the console is locked.
        from osc_console.ui.lock_screen import LockScreen

        self.lock_screen = LockScreen()
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(central)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)

        self.actions_by_name: dict[str, QtGui.QAction] = {}
        self._build_actions()
        self._build_menus_and_toolbar()
        self.exercise_mode = ExerciseMode(self)  # join / control / banner updates
        self._build_status_bar()
        self._wire()
        self._restore_layout()
        self.update_actions()

        self._checkpoint = QtCore.QTimer(self)
        self._checkpoint.timeout.connect(self._idle_checkpoint)
        self._checkpoint.start(60_000)
        # The detail is built once the queue has its first rows on screen (or after half a
        # second at most): at start-up the operator's first question is "what is urgent".
        self.queue.model.loaded.connect(self._queue_loaded)
        QtCore.QTimer.singleShot(500, self._attach_detail)

    def _queue_loaded(self) -> None:
        self.queue.model.loaded.disconnect(self._queue_loaded)
        QtCore.QTimer.singleShot(60, self._attach_detail)

    def _focus_entry(self) -> None:
        if self.detail is not None:
            self.detail.focus_entry()

    def _attach_detail(self) -> None:
        from osc_console.ui.detail.panel import IncidentDetailPanel

        if self.detail is not None:
            return
        detail = IncidentDetailPanel(self.session)
        sizes = self.splitter.sizes()
        placeholder = self.splitter.replaceWidget(1, detail)
        if placeholder is not None:
            placeholder.deleteLater()
        self.splitter.setSizes(sizes)
        self.detail = detail
        detail.assign_requested.connect(self.assign)
        detail.update_assignment_requested.connect(self.update_assignment)
        detail.withdraw_requested.connect(self.withdraw_assignment)
        detail.amend_requested.connect(self.amend_entry)
        detail.resolve_conflict_requested.connect(self.resolve_conflict)
        detail.loaded.connect(self.update_actions)
        self.detail_ready.emit()
        if self._pending_incident is not None:
            detail.show_incident(self._pending_incident or None)
        self.update_actions()

    # ---- construction --------------------------------------------------------------------
    def _build_actions(self) -> None:
        handlers: dict[str, Callable[[], Any]] = {
            "new_incident": self.new_incident,
            "focus_entry": self._focus_entry,
            "focus_queue": self.queue.focus_queue,
            "search": self.queue.focus_search,
            "next_incident": self.queue.select_next,
            "previous_incident": self.queue.select_previous,
            "assign": self.assign,
            "grade": self.change_grade,
            "status": self.change_status,
            "decision": self.record_decision,
            "close": self.close_incident,
            "reopen": self.reopen_incident,
            "shift_log": self.show_shift_log,
            "link": self.link_incident,
            "dashboard": self.workspace.show_dashboard,
            "find": self.workspace.show_search,
            "refresh": self.refresh,
            "theme": self.toggle_theme,
            "lock": self.lock,
            "switch_operator": self.switch_operator,
            "change_password": self.change_password,
            "administration": self.show_administration,
            "audit": self.show_audit,
            "shortcuts": self.show_shortcuts,
            "quit": self.close,
        }
        for keys, text, name in SHORTCUTS:
            action = QtGui.QAction(text, self)
            action.setObjectName(f"action_{name}")
            action.setShortcut(QtGui.QKeySequence(keys))
            action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{text} ({keys})")
            action.triggered.connect(handlers[name])
            self.addAction(action)
            self.actions_by_name[name] = action

    def _build_menus_and_toolbar(self) -> None:
        a = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a["new_incident"])
        file_menu.addSeparator()
        file_menu.addAction(a["lock"])
        file_menu.addAction(a["switch_operator"])
        file_menu.addAction(a["change_password"])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        incident = bar.addMenu("&Incident")
        for name in (
            "focus_entry",
            "assign",
            "grade",
            "status",
            "decision",
            "close",
            "reopen",
            "link",
        ):
            incident.addAction(a[name])
        shift_menu = bar.addMenu("&Shift")
        shift_menu.addAction(a["shift_log"])
        view = bar.addMenu("&View")
        for name in (
            "focus_queue",
            "search",
            "next_incident",
            "previous_incident",
            "dashboard",
            "find",
            "refresh",
            "theme",
        ):
            view.addAction(a[name])
        tools = bar.addMenu("&Tools")
        tools.addAction(a["administration"])
        tools.addAction(a["audit"])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a["shortcuts"])

        self.toolbar = QtWidgets.QToolBar("Main")
        self.toolbar.setObjectName("mainToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in ("new_incident", "assign", "grade", "status", "close", "reopen"):
            self.toolbar.addAction(a[name])
        self.addToolBar(self.toolbar)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.save_label = QtWidgets.QLabel("Ready")
        self.save_label.setAccessibleName("Save state")
        # Server reachable? Entries waiting? One indicator says both (and the header repeats it).
        self.sync_status = SyncStatusIndicator(self.session, self.sync)
        self.sync_status.summary_changed.connect(
            lambda colour, text, tip: self.header.set_connection(text, tip, colour)
        )
        bar.addWidget(self.save_label, 1)
        bar.addPermanentWidget(self.sync_status.progress)
        bar.addPermanentWidget(self.sync_status)
        look = self.sync_status.look
        if look is not None:
            self.header.set_connection(look.text, look.tooltip, look.colour)

    def _wire(self) -> None:
        signals = self.session.signals
        self.header.break_glass.clicked.connect(self.show_audit)
        self.queue.incident_selected.connect(self._incident_selected)
        signals.save_state.connect(self._save_state)
        signals.changes_applied.connect(lambda _changes: self.update_actions())
        signals.operator_changed.connect(lambda _operator: self.update_actions())

    # ---- state ---------------------------------------------------------------------------
    def _incident_selected(self, incident_id: str) -> None:
        if self.detail is None:
            self._pending_incident = incident_id
            return
        if not incident_id and self.detail.incident_id is not None:
            # The incident left the list (closed while the queue shows open ones): keep it
            # on screen, so a close made in error can be reopened at once.
            self.update_actions()
            return
        self.detail.show_incident(incident_id or None)
        self.update_actions()

    def show_incident(self, incident_id: str) -> None:
        """Show an incident in the detail whether or not the queue lists it (search results)."""
        if self.detail is None:
            self._pending_incident = incident_id
            return
        if self.detail.incident_id != incident_id:
            self.detail.show_incident(incident_id)
        self.update_actions()

    def update_actions(self, *_: object) -> None:
        """Offer only what this role may do, and only what makes sense for this incident."""
        if self.pages.currentWidget() is self.lock_screen:
            for action in self.actions_by_name.values():
                action.setEnabled(False)
            return
        state = self.detail.state if self.detail is not None else None
        selected = state is not None
        closed = bool(state and state.is_closed)
        needs_open = {"assign", "grade", "status", "close"}
        needs_selected = {"decision", "focus_entry", "link"}
        for name, action in self.actions_by_name.items():
            needed = _NEEDS.get(name)
            allowed = needed is None or self.session.may(needed)
            action.setVisible(allowed)
            action.setEnabled(allowed)
            if name in needs_open:
                action.setEnabled(allowed and selected and not closed)
            elif name == "reopen":
                action.setEnabled(allowed and closed)
            elif name in needs_selected:
                action.setEnabled(allowed and selected)

    def _save_state(self, state: str, message: str) -> None:
        palette = current_palette()
        colour = {"saving": palette.muted, "saved": palette.ok, "failed": palette.danger}.get(
            state, palette.text
        )
        mark = {"saved": "✓ ", "failed": "✗ "}.get(state, "")
        self.save_label.setText(f"<span style='color:{colour}'>{mark}{message}</span>")
        if state == "failed":
            self.save_label.setToolTip(message)

    # ---- actions -------------------------------------------------------------------------
    def _open(
        self, dialog: QtWidgets.QDialog, on_accept: Callable[[Any], None] | None = None
    ) -> None:
        self._dialog = dialog
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(result: int) -> None:
            if result == QtWidgets.QDialog.DialogCode.Accepted and on_accept is not None:
                on_accept(dialog)
            self._dialog = None

        dialog.finished.connect(finished)
        dialog.open()

    def _with_incident(self, make: Callable[[Any], QtWidgets.QDialog]) -> None:
        state = self.detail.state if self.detail is not None else None
        if state is None:
            self.statusBar().showMessage("Select an incident first", 4000)
            return
        self._open(make(state))

    def new_incident(self) -> None:
        from osc_console.ui.dialogs.new_incident import NewIncidentDialog

        def opened(dialog: Any) -> None:
            outcome = getattr(dialog, "outcome", None)
            if outcome is not None:
                self.queue.select_incident(outcome.incident.id)

        self._open(NewIncidentDialog(self.session, self), opened)

    def assign(self) -> None:
        from osc_console.ui.dialogs.assign import AssignDialog

        self._with_incident(lambda state: AssignDialog(self.session, state, self))

    def update_assignment(self, assignment_id: str) -> None:
        from osc_console.ui.dialogs.assignment_status import AssignmentStatusDialog

        self._with_incident(
            lambda state: AssignmentStatusDialog(self.session, state, assignment_id, self)
        )

    def withdraw_assignment(self, assignment_id: str) -> None:
        from osc_console.ui.dialogs.assignment_status import WithdrawDialog

        self._with_incident(lambda state: WithdrawDialog(self.session, state, assignment_id, self))

    def change_grade(self) -> None:
        from osc_console.ui.dialogs.grade import GradeDialog

        self._with_incident(lambda state: GradeDialog(self.session, state, self))

    def change_status(self) -> None:
        from osc_console.ui.dialogs.status import StatusDialog

        self._with_incident(lambda state: StatusDialog(self.session, state, self))

    def record_decision(self) -> None:
        from osc_console.ui.dialogs.decision import DecisionDialog

        self._with_incident(lambda state: DecisionDialog(self.session, state, self))

    def close_incident(self) -> None:
        from osc_console.ui.dialogs.close import CloseDialog

        self._with_incident(lambda state: CloseDialog(self.session, state, self))

    def reopen_incident(self) -> None:
        from osc_console.ui.dialogs.close import ReopenDialog

        self._with_incident(lambda state: ReopenDialog(self.session, state, self))

    def link_incident(self) -> None:
        from osc_console.ui.dialogs.link import LinkDialog

        self._with_incident(lambda state: LinkDialog(self.session, state, self))

    def amend_entry(self, event_id: str) -> None:
        from osc_console.ui.dialogs.amend import AmendDialog

        state = self.detail.state if self.detail is not None else None
        if state is None:
            return

        def got(event: Any) -> None:
            if event is not None:
                self._open(AmendDialog(self.session, state, event, self))

        self.session.read(lambda store: store.event(event_id), got)

    def resolve_conflict(self, field: str) -> None:
        from osc_console.ui.dialogs.conflict import ResolveConflictDialog

        self._with_incident(lambda state: ResolveConflictDialog(self.session, state, field, self))

    def show_shift_log(self) -> None:
        """The shift log in its own window (one per main window; raised if already open)."""
        from osc_console.ui.shifts.view import ShiftLogWindow

        if self.shift_log_window is None:
            self.shift_log_window = ShiftLogWindow(self.session, parent=self)
        self.shift_log_window.show()
        self.shift_log_window.raise_()
        self.shift_log_window.activateWindow()

    def refresh(self) -> None:
        self.sync_status.sync_now()
        self.queue.reload()
        if self.detail is not None:
            self.detail.show_incident(self.detail.incident_id)

    def toggle_theme(self) -> None:
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            name = "light" if current_palette().name == "dark" else "dark"
            apply_theme(app, name)
            self.settings.setValue("theme", name)

    def show_shortcuts(self) -> None:
        from osc_console.ui.dialogs.shortcuts import ShortcutsDialog

        self._open(ShortcutsDialog([(keys, text) for keys, text, _ in SHORTCUTS], self))

    # ---- who is at the desk ---------------------------------------------------------------
    def lock(self) -> None:
        if self.guard is not None:
            self.guard.lock()

    def switch_operator(self) -> None:
        if self.guard is not None:
            self.guard.switch_operator()

    def change_password(self) -> None:
        if self.guard is not None:
            self.guard.change_password()

    def show_locked(self, who: str, since: str) -> None:
        """Nothing of the log stays on screen: the window shows the lock screen only."""
        if self._dialog is not None:
            self._dialog.reject()
        # Every window of this console goes (the shift log, exercise control, administration,
        # the audit trail…): nothing stays on screen, or usable, behind the lock.
        self._hidden_while_locked = [
            w
            for w in QtWidgets.QApplication.topLevelWidgets()
            if w is not self and w.isVisible() and self._owns(w)
        ]
        for other in self._hidden_while_locked:
            other.hide()
        self.session.locked = True
        self.menuBar().hide()
        self.toolbar.hide()
        self.statusBar().hide()
        self.pages.setCurrentWidget(self.lock_screen)
        self.lock_screen.show_locked(who, since, self.session.realm)
        self.update_actions()

    def _owns(self, widget: QtWidgets.QWidget) -> bool:
        parent = widget.parentWidget()
        while parent is not None:
            if parent is self:
                return True
            parent = parent.parentWidget()
        return False

    def show_unlocked(self) -> None:
        self.session.locked = False
        for other in getattr(self, "_hidden_while_locked", []):
            if alive(other):
                other.show()
        self._hidden_while_locked = []
        self.pages.setCurrentIndex(0)
        self.menuBar().show()
        self.toolbar.show()
        self.statusBar().show()
        self.update_actions()
        self.queue.focus_queue()

    @property
    def is_locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    def show_administration(self) -> None:
        from osc_console.ui.admin.window import AdministrationWindow

        if not self.session.may(Action.MANAGE_USERS):
            return
        if self.admin_window is None:
            self.admin_window = AdministrationWindow(self.session, parent=self)
        self.admin_window.show()
        self.admin_window.raise_()
        self.admin_window.activateWindow()

    def show_audit(self) -> None:
        from osc_console.ui.audit.window import AuditWindow

        if not self.session.may(Action.REVIEW_AUDIT):
            return
        if self.audit_window is None:
            self.audit_window = AuditWindow(self.session, parent=self)
        self.audit_window.show()
        self.audit_window.raise_()
        self.audit_window.activateWindow()

    # ---- layout memory and shutdown ------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QtCore.QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("windowState")
        if isinstance(state, QtCore.QByteArray):
            self.restoreState(state)
        splitter = self.settings.value("splitter")
        if isinstance(splitter, QtCore.QByteArray):
            self.splitter.restoreState(splitter)
        else:  # first run: the queue gets a little under half, the detail the rest
            width = max(self.width(), 960)
            self.splitter.setSizes([int(width * 0.47), width - int(width * 0.47)])

    def save_layout(self) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        self.settings.sync()

    def _idle_checkpoint(self) -> None:
        if self.session.worker.pending == 0:
            self.session.run(lambda store: store.checkpoint())

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.save_layout()
        if self.guard is not None and self.guard.window is self:
            self.guard.closing()
        super().closeEvent(event)
