"""What exercise mode adds to the main window: File → Join exercise… (and back to live),
Exercise → Exercise control… for planners, and in an exercise realm the watcher that keeps
the banner current and tells the operator when exercise control sends a message or ends it.

Kept out of ``main_window.py`` so that the window stays a composition of panels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from osc_console.models.exercise_log import ExerciseStatus, PlayerMessage
from osc_console.models.users import Action
from osc_console.ui.exercise.banner import ExerciseBanner
from osc_console.ui.exercise.watcher import ExerciseWatcher
from osc_console.ui.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from osc_console.ui.exercise.control_panel import ExerciseControlPanel
    from osc_console.ui.exercise.join import JoinExerciseDialog
    from osc_console.ui.main_window import MainWindow


class ExerciseMode(QtCore.QObject):
    # A realm to open instead of this one ("live" or "exercise:<slug>"); the composition
    # root (app.py) opens that realm's store and a new window, then closes this one.
    join_requested = QtCore.Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.in_exercise = self.session.realm.startswith("exercise:")
        self.control_panel: ExerciseControlPanel | None = None
        self.join_dialog: JoinExerciseDialog | None = None
        self.watcher: ExerciseWatcher | None = None
        self._build_actions()
        if self.in_exercise:
            self.watcher = ExerciseWatcher(self.session, self)
            self.watcher.status_changed.connect(self._status)
            self.watcher.message_received.connect(self._message)
            self.watcher.ended.connect(self._ended)

    @property
    def banner(self) -> ExerciseBanner | None:
        return self.window.banner

    def _build_actions(self) -> None:
        window = self.window
        self.join_action = QtGui.QAction("Join exercise…", window)
        self.join_action.setObjectName("action_join_exercise")
        self.join_action.triggered.connect(self.show_join)
        self.live_action = QtGui.QAction("Return to live", window)
        self.live_action.setObjectName("action_return_to_live")
        self.live_action.triggered.connect(lambda: self.join_requested.emit("live"))
        self.live_action.setVisible(self.in_exercise)
        self.control_action = QtGui.QAction("Exercise control…", window)
        self.control_action.setObjectName("action_exercise_control")
        self.control_action.triggered.connect(self.show_control_panel)
        file_menu = _menu(window, "&File")
        if file_menu is not None:
            quit_action = window.actions_by_name.get("quit")
            before = quit_action if quit_action in file_menu.actions() else None
            file_menu.insertAction(before, self.join_action)  # type: ignore[arg-type]
            file_menu.insertAction(before, self.live_action)  # type: ignore[arg-type]
            file_menu.insertSeparator(before)  # type: ignore[arg-type]
        exercise_menu = window.menuBar().addMenu("E&xercise")
        exercise_menu.addAction(self.control_action)
        self.exercise_menu = exercise_menu
        self.update_actions()

    def update_actions(self) -> None:
        """Exercise control is offered to planners (and administrators) only."""
        allowed = self.session.may(Action.RUN_EXERCISE)
        self.control_action.setVisible(allowed)
        self.exercise_menu.menuAction().setVisible(allowed)

    # ---- joining ---------------------------------------------------------------------------
    def show_join(self) -> None:
        from osc_console.ui.exercise.join import JoinExerciseDialog

        dialog = JoinExerciseDialog(self.session, self.session.store.path.parent, self.window)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.join_dialog = dialog

        def finished(result: int) -> None:
            self.join_dialog = None
            if result == QtWidgets.QDialog.DialogCode.Accepted and dialog.chosen_realm:
                self.join_requested.emit(dialog.chosen_realm)

        dialog.finished.connect(finished)
        dialog.open()

    # ---- exercise control ------------------------------------------------------------------
    def show_control_panel(self) -> None:
        from osc_console.ui.exercise.control_panel import ExerciseControlPanel

        if not self.session.may(Action.RUN_EXERCISE):
            return
        if self.control_panel is None:
            self.control_panel = ExerciseControlPanel(self.session, self.window)
            self.control_panel.join_requested.connect(self.join_requested)
        self.control_panel.show()
        self.control_panel.raise_()
        self.control_panel.activateWindow()

    # ---- what players see ------------------------------------------------------------------
    def _status(self, status: ExerciseStatus) -> None:
        if self.banner is not None:
            self.banner.show_status(status)

    def _message(self, message: PlayerMessage) -> None:
        self.window.statusBar().showMessage(
            f"Message from exercise control ({message.at_label}): {message.text}", 30_000
        )

    def _ended(self, status: ExerciseStatus) -> None:
        self.window.statusBar().showMessage(
            f"{status.headline()} — nothing more can be recorded in this exercise", 0
        )


def _menu(window: QtWidgets.QMainWindow, title: str) -> QtWidgets.QMenu | None:
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QtWidgets.QMenu) and action.text() == title:
            return menu
    return None
