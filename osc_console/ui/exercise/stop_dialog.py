"""Confirming the end of an exercise: ENDEX, or STOP EXERCISE for a real emergency."""

from __future__ import annotations

from osc_console.ui.qt import QtWidgets

ENDEX = "ENDEX: the exercise is over"
REAL_EMERGENCY = "Real emergency: stop the exercise"


class StopExerciseDialog(QtWidgets.QDialog):
    """Confirm the end of the exercise, with the reason every player will read."""

    def __init__(self, emergency: bool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Stop the exercise" if emergency else "End the exercise")
        layout = QtWidgets.QVBoxLayout(self)
        warning = QtWidgets.QLabel(
            "Every player's console shows this at once, and nothing more can be recorded in "
            "the exercise."
        )
        warning.setWordWrap(True)
        self.reason = QtWidgets.QLineEdit(REAL_EMERGENCY if emergency else ENDEX)
        self.reason.setAccessibleName("Reason every player reads")
        self.reason.selectAll()
        self.emergency = QtWidgets.QCheckBox("Stopped for a real emergency")
        self.emergency.setChecked(emergency)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        ok.setText("STOP EXERCISE" if emergency else "End exercise")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(lambda text: ok.setEnabled(bool(text.strip())))
        for widget in (warning, self.reason, self.emergency, buttons):
            layout.addWidget(widget)
