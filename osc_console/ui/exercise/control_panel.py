"""Exercise control: the planner's panel to load a scenario and run it for the whole room.

Load a scenario (a shipped one or a planner's TOML file), start, pause, resume, change the
exercise clock's speed, release an inject early, send a message to the players, end the
exercise (ENDEX) or stop it at once for a real emergency, and export the after-action report.

The :class:`~osc_console.services.exercise.ExerciseRun` lives on the database worker: every
call that touches it (each writes events) runs there, in order, through the session, and
returns a :class:`RunSnapshot` the panel draws from. A QTimer asks the worker every quarter
second (sooner when an inject falls due before that) to release what has come due on the
exercise clock; between replies the clock on screen is carried forward from the last
snapshot, so the UI thread never waits on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from osc_console.models.clock import LONDON
from osc_console.models.errors import DomainError
from osc_console.models.exercise_log import exercise_offset
from osc_console.models.scenario import (
    Inject,
    Scenario,
    parse_scenario,
    shipped_scenario_text,
    shipped_scenarios,
)
from osc_console.models.users import Action
from osc_console.reports.after_action import export
from osc_console.reports.pdf_pages import ReportError
from osc_console.services.exercise import (
    ExerciseError,
    ExerciseRun,
    RunState,
    after_action_of,
    check_codeword_free,
)
from osc_console.store.event_store import Store
from osc_console.ui.dialogs.fields import alive, set_role
from osc_console.ui.exercise.inject_model import INJECT_ROLE, InjectColumn, InjectTableModel
from osc_console.ui.exercise.run_steps import RunSnapshot, release_due, snapshot_of
from osc_console.ui.exercise.stop_dialog import StopExerciseDialog
from osc_console.ui.qt import QtCore, QtGui, QtWidgets
from osc_console.ui.session import ConsoleSession

TICK_MS = 250
MIN_TICK_MS = 5
# Up to 600x: a planner rehearsing a scenario file plays 45 minutes in under 5 seconds.
SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 600.0)


class ExerciseControlPanel(QtWidgets.QWidget):
    """The planner's window onto one exercise (the console's own exercise realm)."""

    join_requested = QtCore.Signal(str)  # a realm the planner asked to switch to
    exported = QtCore.Signal(str)  # path written

    def __init__(self, session: ConsoleSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.session = session
        self.setWindowTitle(f"Exercise control · {session.realm}")
        self.setObjectName("exerciseControl")
        self.resize(980, 680)
        self.scenario: Scenario | None = None
        self.run: ExerciseRun | None = None
        self.snapshot: RunSnapshot | None = None
        self._stepping = False
        self.stop_dialog: StopExerciseDialog | None = None
        self.file_dialog: QtWidgets.QFileDialog | None = None
        self._build()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.tick)
        self._update_buttons()
        if not session.may(Action.RUN_EXERCISE):
            self._say("Only planners and administrators can run an exercise.", error=True)

    # ---- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        # Scenario
        load_row = QtWidgets.QHBoxLayout()
        self.shipped = QtWidgets.QComboBox()
        self.shipped.setAccessibleName("Shipped scenarios")
        self.shipped.addItems(shipped_scenarios())
        self.load_shipped_button = QtWidgets.QPushButton("Load")
        self.load_shipped_button.clicked.connect(
            lambda: self.load_shipped(self.shipped.currentText())
        )
        self.load_file_button = QtWidgets.QPushButton("Open scenario file…")
        self.load_file_button.clicked.connect(self._choose_file)
        load_row.addWidget(QtWidgets.QLabel("Scenario:"))
        load_row.addWidget(self.shipped, 1)
        load_row.addWidget(self.load_shipped_button)
        load_row.addWidget(self.load_file_button)
        layout.addLayout(load_row)
        self.scenario_label = QtWidgets.QLabel("No scenario loaded.")
        self.scenario_label.setWordWrap(True)
        self.scenario_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout.addWidget(self.scenario_label)
        self.join_button = QtWidgets.QPushButton()
        self.join_button.hide()
        self.join_button.clicked.connect(self._join)
        layout.addWidget(self.join_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)

        # Clock and controls
        clock_row = QtWidgets.QHBoxLayout()
        self.clock_label = QtWidgets.QLabel("T+00:00")
        self.clock_label.setAccessibleName("Exercise clock")
        self.clock_label.setStyleSheet("font-size: 22pt; font-weight: 800;")
        self.state_label = QtWidgets.QLabel("ready")
        self.state_label.setAccessibleName("Exercise state")
        self.state_label.setStyleSheet("font-size: 12pt; font-weight: 700;")
        self.time_label = QtWidgets.QLabel()
        self.time_label.setAccessibleName("Exercise time of day")
        column = QtWidgets.QVBoxLayout()
        column.addWidget(self.state_label)
        column.addWidget(self.time_label)
        clock_row.addWidget(self.clock_label)
        clock_row.addSpacing(12)
        clock_row.addLayout(column)
        clock_row.addStretch(1)
        self.start_button = QtWidgets.QPushButton("Start")
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.resume_button = QtWidgets.QPushButton("Resume")
        self.speed = QtWidgets.QComboBox()
        self.speed.setAccessibleName("Exercise clock speed")
        for value in SPEEDS:
            self.speed.addItem(f"{value:g}×", value)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.activated.connect(lambda _i: self.set_speed(float(self.speed.currentData())))
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.resume_button.clicked.connect(self.resume)
        for widget in (self.start_button, self.pause_button, self.resume_button):
            clock_row.addWidget(widget)
        clock_row.addWidget(QtWidgets.QLabel("Speed"))
        clock_row.addWidget(self.speed)
        layout.addLayout(clock_row)

        # Injects
        self.model = InjectTableModel(self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Injects")
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(InjectColumn.WHAT, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.resizeSection(InjectColumn.NUMBER, 36)
        header.resizeSection(InjectColumn.AT, 70)
        header.resizeSection(InjectColumn.KIND, 80)
        header.resizeSection(InjectColumn.STATUS, 290)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.table, 1)

        row = QtWidgets.QHBoxLayout()
        self.release_button = QtWidgets.QPushButton("Release selected inject now")
        self.release_button.clicked.connect(self.release_selected)
        row.addWidget(self.release_button)
        self.message = QtWidgets.QLineEdit()
        self.message.setPlaceholderText("Message to every player…")
        self.message.setAccessibleName("Message to the players")
        self.message.returnPressed.connect(lambda: self.send_message(self.message.text()))
        self.send_button = QtWidgets.QPushButton("Send")
        self.send_button.clicked.connect(lambda: self.send_message(self.message.text()))
        row.addWidget(self.message, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)

        bottom = QtWidgets.QHBoxLayout()
        self.pdf_button = QtWidgets.QPushButton("After-action PDF…")
        self.csv_button = QtWidgets.QPushButton("After-action CSV…")
        self.pdf_button.clicked.connect(lambda: self._choose_export("pdf"))
        self.csv_button.clicked.connect(lambda: self._choose_export("csv"))
        self.endex_button = QtWidgets.QPushButton("End exercise (ENDEX)…")
        self.endex_button.clicked.connect(lambda: self.ask_stop(emergency=False))
        self.stop_button = QtWidgets.QPushButton("STOP EXERCISE")
        self.stop_button.setToolTip("Stop the exercise at once for every player (real emergency)")
        self.stop_button.setStyleSheet(
            "QPushButton { background: #B00020; color: white; font-weight: 800; "
            "padding: 6px 18px; border: 1px solid #7f0016; }"
        )
        self.stop_button.clicked.connect(lambda: self.ask_stop(emergency=True))
        for widget in (self.pdf_button, self.csv_button):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        bottom.addWidget(self.endex_button)
        bottom.addWidget(self.stop_button)
        layout.addLayout(bottom)
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Exercise control status")
        layout.addWidget(self.status)

    # ---- loading a scenario --------------------------------------------------------------------
    def load_shipped(self, name: str) -> None:
        self._load(lambda: (shipped_scenario_text(name), f"{name}.toml"))

    def load_file(self, path: Path) -> None:
        def read() -> tuple[str, str]:
            try:
                return path.read_text(encoding="utf-8"), path.name
            except (OSError, UnicodeDecodeError) as exc:
                raise ExerciseError(f"{path}: cannot be read ({exc})") from exc

        self._load(read)

    def _choose_file(self) -> None:
        dialog = QtWidgets.QFileDialog(self, "Open a scenario")
        dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setNameFilter("Scenarios (*.toml)")
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.load_file(Path(path)))
        self.file_dialog = dialog
        dialog.open()

    def _state(self) -> RunState | None:
        """The run's state as last reported by the worker (None: nothing loaded)."""
        if self.run is None:
            return None
        return self.snapshot.state if self.snapshot is not None else RunState.READY

    def _load(self, read: Callable[[], tuple[str, str]]) -> None:
        if self._state() not in (None, RunState.READY):
            self._say("A scenario is already running; end it before loading another.", True)
            return
        session = self.session
        author = session.author  # exercise control signs as the planner at this desk
        speed = self._speed()

        def work(store: Store) -> tuple[Scenario, ExerciseRun | None, RunSnapshot | None]:
            text, name = read()
            scenario = parse_scenario(text, name, reference=store.reference)
            if store.realm != scenario.realm:
                return scenario, None, None
            check_codeword_free(store.path.parent, scenario)
            # Started already (this console restarted mid-exercise, say): carry on with it.
            run = ExerciseRun.take_over(store, scenario, author)
            if run.state is RunState.READY:
                run.set_speed(speed)
                return scenario, run, None
            return scenario, run, snapshot_of(run)

        self.session.read(work, self._loaded, lambda message: self._say(message, True))

    def _loaded(self, result: tuple[Scenario, ExerciseRun | None, RunSnapshot | None]) -> None:
        if not alive(self):
            return
        scenario, run, snapshot = result
        self.scenario = scenario
        self.model.set_scenario(scenario)
        start = scenario.start.astimezone(LONDON)
        self.scenario_label.setText(
            f"<b>{scenario.name}</b><br/>Codeword <b>{scenario.codeword}</b> · realm "
            f"{scenario.realm} · starts {start:%a %d %b %H:%M} {start.tzname()} · "
            f"{exercise_offset(scenario.duration.total_seconds())} long · "
            f"{len(scenario.injects)} injects"
        )
        self.run = run
        self.snapshot = None
        self.join_button.hide()
        if run is None:
            self.join_button.setText(f"Join {scenario.realm}")
            self.join_button.show()
            self._say(
                f"This console is in {self.session.realm}. Exercise control runs in the "
                f"exercise's own realm: join {scenario.realm} first.",
                True,
            )
        elif snapshot is not None:
            self._stepped(snapshot)
            self._say(
                f"Took over exercise control of {scenario.realm}, already "
                f"{snapshot.state.value}: {len(snapshot.released)} of "
                f"{len(scenario.injects)} injects were released; the rest follow on time."
            )
        else:
            self._say(f"Loaded {scenario.source_name}: ready to start.")
        self._update_buttons()

    def _join(self) -> None:
        if self.scenario is not None:
            self.join_requested.emit(self.scenario.realm)

    # ---- running it (every step on the worker) ----------------------------------------------
    def _step(
        self, action: Callable[[ExerciseRun], RunSnapshot | None], *, quiet: bool = False
    ) -> None:
        run = self.run
        if run is None:
            return

        def work(_store: Store) -> RunSnapshot:
            before = len(run.written)
            try:
                snapshot = action(run) or snapshot_of(run)
            except DomainError as exc:
                snapshot = snapshot_of(run, problem=str(exc))
            return replace(snapshot, events=tuple(run.written[before:]))

        self._stepping = True
        self.session.run(work, self._stepped, self._step_failed)
        if not quiet:
            self._update_buttons()

    def _stepped(self, snapshot: RunSnapshot) -> None:
        self._stepping = False
        if not alive(self):
            return
        self.snapshot = snapshot
        changes = snapshot.changes()
        if changes:
            self.session.announce(changes)
        self.model.set_released(snapshot.released)
        if snapshot.problem:
            self._say(snapshot.problem, True)
        elif snapshot.new:
            self._say("Released: " + "; ".join(r.inject.label for r in snapshot.new))
        if snapshot.clock_running:  # running, or every inject out and the clock running on
            self._timer.start(self._next_tick_ms(snapshot))
        else:
            self._timer.stop()
        self._draw_clock()
        self._update_buttons()

    def _next_tick_ms(self, snapshot: RunSnapshot) -> int:
        """Ask again at the next inject's time when that comes before the usual quarter second:
        at a high speed a quarter second is minutes of exercise time, and injects must still
        arrive on time."""
        if self.scenario is None:
            return TICK_MS
        pending = [i.at for i in self.scenario.injects if i.number not in snapshot.released]
        if not pending:
            return TICK_MS
        wait = (min(pending) - snapshot.elapsed).total_seconds() / snapshot.speed
        return max(MIN_TICK_MS, min(TICK_MS, int(wait * 1000)))

    def _step_failed(self, message: str) -> None:
        self._stepping = False
        if alive(self):
            self._say(message, True)
            self._update_buttons()

    def start(self) -> None:
        def action(run: ExerciseRun) -> RunSnapshot:
            run.start()
            return release_due(run)

        self._step(action)

    def pause(self) -> None:
        self._step(lambda run: run.pause())

    def resume(self) -> None:
        self._step(lambda run: run.resume())

    def set_speed(self, speed: float) -> None:
        index = self.speed.findData(speed)
        if index >= 0:
            self.speed.setCurrentIndex(index)
        self._step(lambda run: run.set_speed(speed))

    def tick(self) -> None:
        """Release whatever has come due on the exercise clock (on the worker)."""
        self._draw_clock()
        if self._stepping or self.run is None:
            return
        self._step(release_due, quiet=True)

    def release_selected(self) -> None:
        inject = self.selected_inject()
        if inject is None:
            self._say("Select an inject to release.", True)
            return

        def action(run: ExerciseRun) -> RunSnapshot:
            released = run.release(inject, early=True)
            return snapshot_of(run, new=(released,))

        self._step(action)

    def send_message(self, text: str) -> None:
        if not text.strip():
            self._say("Type the message first.", True)
            return

        def action(run: ExerciseRun) -> RunSnapshot:
            run.send_message(text)
            return snapshot_of(run)

        self.message.clear()
        self._step(action)

    def ask_stop(self, *, emergency: bool) -> None:
        dialog = StopExerciseDialog(emergency, self)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.stop_dialog = dialog

        def finished(result: int) -> None:
            self.stop_dialog = None
            if result == QtWidgets.QDialog.DialogCode.Accepted:
                self.stop_exercise(dialog.reason.text(), emergency=dialog.emergency.isChecked())

        dialog.finished.connect(finished)
        dialog.open()

    def stop_exercise(self, reason: str, *, emergency: bool) -> None:
        """End the exercise for every player: one ``exercise.stopped`` event."""
        self._timer.stop()

        def action(run: ExerciseRun) -> RunSnapshot:
            run.stop(reason, emergency=emergency)
            return snapshot_of(run)

        self._step(action)

    # ---- after-action ---------------------------------------------------------------------------
    def _choose_export(self, fmt: str) -> None:
        slug = self.session.realm.partition(":")[2] or "exercise"
        dialog = QtWidgets.QFileDialog(self, f"Export the after-action report as {fmt.upper()}")
        dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"{fmt.upper()} files (*.{fmt})")
        dialog.setDefaultSuffix(fmt)
        dialog.selectFile(str(Path.home() / f"after-action-{slug}.{fmt}"))
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.export_after_action(fmt, Path(path)))
        self.file_dialog = dialog
        dialog.open()

    def export_after_action(self, fmt: str, path: Path) -> None:
        """Write the after-action report (as this planner's organisation may see it)."""
        viewer = self.session.agency

        def work(store: Store) -> str:
            try:
                timeline = after_action_of(store, viewer)
                _data, text = export(timeline, fmt, path)
            except ReportError as exc:
                raise DomainError(str(exc)) from exc
            return text

        self._say(f"Exporting the after-action report as {fmt.upper()}…")

        def done(text: str) -> None:
            if alive(self):
                self._say(text)
                self.exported.emit(str(path))

        self.session.run(work, done, lambda message: self._say(message, True))

    # ---- drawing -------------------------------------------------------------------------------
    def selected_inject(self) -> Inject | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        inject = self.model.data(rows[0], INJECT_ROLE)
        return inject if isinstance(inject, Inject) else None

    def _speed(self) -> float:
        return float(self.speed.currentData() or 1.0)

    def _draw_clock(self) -> None:
        snapshot = self.snapshot
        if snapshot is None or self.scenario is None:
            return
        elapsed = snapshot.elapsed_at(datetime.now(UTC))
        self.clock_label.setText(exercise_offset(elapsed.total_seconds()))
        moment = (self.scenario.start + elapsed).astimezone(LONDON)
        self.time_label.setText(
            f"exercise time {moment:%H:%M:%S} {moment.tzname()} · {snapshot.speed:g}×"
        )
        words = {
            RunState.READY: "ready",
            RunState.RUNNING: "RUNNING",
            RunState.PAUSED: "PAUSED",
            RunState.FINISHED: "all injects released",
            RunState.STOPPED: f"ENDED: {snapshot.stop_reason}",
        }
        self.state_label.setText(words[snapshot.state])

    def _update_buttons(self) -> None:
        allowed = self.session.may(Action.RUN_EXERCISE)
        state = self._state()
        ready = allowed and self.run is not None
        live = state in (RunState.RUNNING, RunState.PAUSED, RunState.FINISHED)
        pending = self.selected_inject()
        self.load_shipped_button.setEnabled(allowed and state in (None, RunState.READY))
        self.load_file_button.setEnabled(allowed and state in (None, RunState.READY))
        self.start_button.setEnabled(ready and state is RunState.READY)
        self.pause_button.setEnabled(ready and state is RunState.RUNNING)
        self.resume_button.setEnabled(ready and state is RunState.PAUSED)
        self.speed.setEnabled(ready and state is not RunState.STOPPED)
        self.release_button.setEnabled(
            ready
            and state in (RunState.RUNNING, RunState.PAUSED)
            and pending is not None
            and pending.number not in self.model.released
        )
        self.message.setEnabled(ready and live)
        self.send_button.setEnabled(ready and live)
        self.endex_button.setEnabled(ready and live)
        self.stop_button.setEnabled(ready and live)
        in_exercise = self.session.realm.startswith("exercise:")
        self.pdf_button.setEnabled(allowed and in_exercise)
        self.csv_button.setEnabled(allowed and in_exercise)

    def _say(self, text: str, error: bool = False) -> None:
        if not alive(self):
            return
        self.status.setText(text)
        set_role(self.status, "error" if error else "")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Closing the panel does not stop the clock silently: a running exercise pauses."""
        if self._state() is RunState.RUNNING:
            self.pause()
        self._timer.stop()
        super().closeEvent(event)
