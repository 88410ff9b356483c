"""File → Join exercise…: pick an exercise held in this data folder, or name one by its slug.

The list is read on the worker (each exercise store opened and its events folded). An exercise
that has ended is said to have ended, with when and why, before the planner or player opens
it; it can still be opened, to review it and export its after-action report.
"""

from __future__ import annotations

from pathlib import Path

from osc_console.models.clock import from_iso, local_label
from osc_console.models.exercise_log import Phase
from osc_console.models.incident import REALM_PATTERN
from osc_console.services.exercise import ExerciseInfo, list_exercises
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.fields import alive, set_role
from osc_console.ui.qt import QtCore, QtWidgets
from osc_console.ui.session import ConsoleSession

INFO_ROLE = QtCore.Qt.ItemDataRole.UserRole


def describe(info: ExerciseInfo) -> str:
    """One line per exercise: its name, where it stands, and for an ended one, when and why."""
    status = info.status
    if status is None:
        return f"{info.realm} — cannot be opened: {info.problem}"
    name = status.scenario or status.slug
    if status.phase is Phase.ENDED:
        when = local_label(from_iso(status.ended_at)) if status.ended_at else "?"
        why = "stopped for a real emergency" if status.emergency else "ended"
        return f"{name} ({info.realm}) — {why} at {when}: {status.ended_reason}"
    return f"{name} ({info.realm}) — {status.phase.value}"


class JoinExerciseDialog(QtWidgets.QDialog):
    def __init__(
        self,
        session: ConsoleSession,
        directory: Path,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.directory = directory
        self.chosen_realm: str | None = None
        self.setWindowTitle("Join an exercise")
        self.resize(620, 380)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel(f"Exercises held in {directory}:"))
        self.list = QtWidgets.QListWidget()
        self.list.setAccessibleName("Exercises")
        self.list.currentItemChanged.connect(lambda *_: self._picked())
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        layout.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Or join by name: exercise:"))
        self.slug = QtWidgets.QLineEdit()
        self.slug.setPlaceholderText("city-flood")
        self.slug.setAccessibleName("Exercise slug")
        self.slug.textEdited.connect(lambda _t: self._typed())
        row.addWidget(self.slug, 1)
        layout.addLayout(row)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About the chosen exercise")
        layout.addWidget(self.note)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Join")
        self.ok.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.exercises: list[ExerciseInfo] = []
        folder = directory

        def work(_store: Store) -> list[ExerciseInfo]:
            return list_exercises(folder)

        session.run(work, self._listed, self._failed)

    def _listed(self, found: list[ExerciseInfo]) -> None:
        if not alive(self):
            return
        self.exercises = found
        for info in found:
            item = QtWidgets.QListWidgetItem(describe(info))
            item.setData(INFO_ROLE, info.realm)
            if info.realm == self.session.realm:
                item.setText(item.text() + " (this console)")
            self.list.addItem(item)
        if not found:
            self.note.setText("No exercise is held here yet: type its name to join it.")

    def _failed(self, message: str) -> None:
        if alive(self):
            self.note.setText(message)
            set_role(self.note, "error")

    def info(self, realm: str) -> ExerciseInfo | None:
        return next((i for i in self.exercises if i.realm == realm), None)

    def choose(self, realm: str) -> None:
        """Select an exercise as if clicked (or type its slug when it is not listed)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(INFO_ROLE) == realm:
                self.list.setCurrentItem(item)
                return
        self.slug.setText(realm.partition(":")[2])
        self._typed()

    def _picked(self) -> None:
        item: QtWidgets.QListWidgetItem | None = self.list.currentItem()
        if item is None:  # cleared because a slug was typed
            return
        self.slug.clear()
        self._offer(str(item.data(INFO_ROLE)))

    def _typed(self) -> None:
        text = self.slug.text().strip().lower()
        if not text:
            self._offer(None)
            return
        self.list.setCurrentRow(-1)
        realm = f"exercise:{text}"
        if not REALM_PATTERN.match(realm):
            self._offer(None, f"{text!r}: use lower-case letters, digits and hyphens.")
            return
        self._offer(realm)

    def _offer(self, realm: str | None, problem: str | None = None) -> None:
        self.chosen_realm = None
        set_role(self.note, "")
        self.ok.setText("Join")
        if realm is None:
            self.note.setText(problem or "")
            set_role(self.note, "error" if problem else "")
            self.ok.setEnabled(False)
            return
        info = self.info(realm)
        status = info.status if info else None
        if realm == self.session.realm:
            self.note.setText("This console is already in that exercise.")
            self.ok.setEnabled(False)
            return
        if info is not None and status is None:
            self.note.setText(f"{realm} cannot be opened: {info.problem}")
            set_role(self.note, "error")
            self.ok.setEnabled(False)
            return
        if status is not None and status.phase is Phase.ENDED:
            assert info is not None
            self.note.setText(
                f"This exercise has finished: {describe(info)}. You can open it to review it "
                "and export its after-action report, but nothing more can be recorded in it."
            )
            set_role(self.note, "error")
            self.ok.setText("Open to review")
        elif info is None:
            self.note.setText(
                f"{realm} is not held here yet: the console opens an empty exercise store; "
                "exercise control's events arrive when it starts (or by sync)."
            )
        else:
            self.note.setText(f"Join {realm}: the console shows the exercise banner throughout.")
        self.chosen_realm = realm
        self.ok.setEnabled(True)
