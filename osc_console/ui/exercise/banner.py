"""The exercise banner: full width above everything, the exercise's codeword, and no way to
hide it while the console is in an exercise realm.

It has no buttons, actions or menu; it is not a dock or toolbar (which a window's context
menu can hide); and :meth:`ExerciseBanner.setVisible` refuses to hide it, so even code that
calls ``hide()`` cannot make exercise traffic look like live traffic.
"""

from __future__ import annotations

from datetime import UTC, datetime

from osc_console.models.exercise_log import DEFAULT_CODEWORD, ExerciseStatus, Phase
from osc_console.ui.qt import QtCore, QtWidgets


class ExerciseBanner(QtWidgets.QFrame):
    """Codeword, exercise, where it stands, and exercise control's latest message."""

    def __init__(self, realm: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.realm = realm
        self.status: ExerciseStatus | None = None
        self.setProperty("role", "banner")
        self.setObjectName("exerciseBanner")
        self.setAccessibleName("Exercise banner")
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(12, 5, 12, 5)
        layout.setSpacing(1)
        self.codeword_label = QtWidgets.QLabel()
        self.codeword_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.codeword_label.setStyleSheet("font-size: 14pt; font-weight: 800;")
        self.codeword_label.setAccessibleName("Exercise codeword")
        self.state_label = QtWidgets.QLabel()
        self.state_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.state_label.setAccessibleName("Exercise state")
        self.message_label = QtWidgets.QLabel()
        self.message_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setAccessibleName("Latest message from exercise control")
        self.message_label.setStyleSheet("font-weight: 600;")
        self.message_label.hide()  # a label inside: the banner itself never hides
        for label in (self.codeword_label, self.state_label, self.message_label):
            layout.addWidget(label)
        self._tick = QtCore.QTimer(self)
        self._tick.timeout.connect(self._refresh_clock)
        self._tick.start(1000)
        self.show_status(None)

    # ---- what it shows ---------------------------------------------------------------------
    @property
    def codeword(self) -> str:
        return self.status.codeword if self.status else DEFAULT_CODEWORD

    def text(self) -> str:
        """Everything the banner says, one line per label shown (for tests and screen readers)."""
        labels = (self.codeword_label, self.state_label, self.message_label)
        return "\n".join(label.text() for label in labels if not label.isHidden())

    def show_status(self, status: ExerciseStatus | None) -> None:
        self.status = status
        slug = self.realm.partition(":")[2]
        self.codeword_label.setText(f"{self.codeword} — {slug}")
        if status is not None and status.messages:
            latest = status.messages[-1]
            self.message_label.setText(f"Exercise control ({latest.at_label}): {latest.text}")
            self.message_label.setToolTip(
                "\n".join(f"{m.at_label}  {m.text}" for m in status.messages)
            )
            self.message_label.show()
        else:
            self.message_label.hide()
        self._refresh_clock()

    def _refresh_clock(self) -> None:
        status = self.status
        if status is None:
            self.state_label.setText("Exercise traffic only: nothing here is live")
            return
        line = status.headline()
        if status.phase is Phase.ENDED:
            line += " — nothing more can be recorded"
        elif status.phase is not Phase.NOT_STARTED:
            line += f" · {status.clock_label(datetime.now(UTC))}"
        self.state_label.setText(line)

    # ---- it cannot be hidden -----------------------------------------------------------------
    def setVisible(self, visible: bool) -> None:
        """Hiding is refused once the banner is in a window: an exercise console always says
        it is one. (Unparented, it behaves as any widget, or "show" would open a window.)"""
        super().setVisible(visible or self.parentWidget() is not None)
