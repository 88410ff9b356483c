"""Exercise mode as planners and players use it: the control panel drives a real exercise on a
real store, and a player's console (its own connection to the same store file, as another
workstation's would be after sync) follows it: codeword, messages, and the stop."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from pypdf import PdfReader
from pytestqt.qtbot import QtBot

from osc_console.app import Console, SyncOptions
from osc_console.models.agencies import Agency
from osc_console.models.errors import DomainError
from osc_console.models.events import Author
from osc_console.models.exercise_log import Phase
from osc_console.models.payloads import Kind
from osc_console.models.scenario import load_shipped, parse_scenario, shipped_scenario_text
from osc_console.models.users import Role, User
from osc_console.paths import store_path
from osc_console.services.exercise import ExerciseRun, RunState, status_of
from osc_console.services.incidents import IncidentService
from osc_console.services.workstation import open_door
from osc_console.signing.vault import TEST_COST
from osc_console.store.event_store import Store
from osc_console.ui.exercise.control_panel import SPEEDS, ExerciseControlPanel
from osc_console.ui.exercise.inject_model import InjectColumn
from osc_console.ui.exercise.join import JoinExerciseDialog
from osc_console.ui.exercise.switch import RealmSwitcher
from osc_console.ui.main_window import MainWindow
from osc_console.ui.qt import QtCore
from osc_console.ui.session import ConsoleSession
from osc_console.ui.shifts.view import ShiftLogWindow
from osc_console.ui.tasks import DbWorker
from tests.signing import AUTHORITY, now_iso, signed
from tests.ui.conftest import make_session, wait_idle

REALM = "exercise:city-flood"
PLANNER = User("Ana Planner", Agency.CORPORATION, Role.PLANNER)
PLAYER = User("PC Jane Smith", Agency.POLICE, Role.DISPATCHER)
LEFT = QtCore.Qt.MouseButton.LeftButton
PASSWORD = "a long enough password"


def exercise_control(store: Store, agency: Agency = Agency.CORPORATION) -> Author:
    """Exercise control's planner (Ana at EXCON), signed and known to ``store``."""
    return signed(store, Author("Ana", agency, "EXCON"), role="planner")


@pytest.fixture
def sessions() -> Iterator[list[ConsoleSession]]:
    made: list[ConsoleSession] = []
    yield made
    for session in made:
        session.worker.shutdown()
        session.store.close()


@pytest.fixture
def open_session(tmp_path: Path, sessions: list[ConsoleSession]) -> Callable[..., ConsoleSession]:
    def build(user: User, realm: str = REALM) -> ConsoleSession:
        store = Store.open(store_path(tmp_path, realm), realm)
        session = make_session(store, user)
        sessions.append(session)
        return session

    return build


@pytest.fixture
def make_console(tmp_path: Path) -> Iterator[Callable[..., Console]]:
    """The composition root of workstation CR1 with its data in ``tmp_path`` (a server's
    address or none), which builds each realm's window as the running console does."""
    made: list[Console] = []

    def build(settings: QtCore.QSettings, server: str | None = None) -> Console:
        door = open_door(tmp_path, "CR1", server, kdf_cost=TEST_COST)
        console = Console(door, tmp_path, "CR1", settings, DbWorker(), SyncOptions(server=server))
        made.append(console)
        return console

    yield build
    for console in made:
        console.identity_worker.shutdown()
        console.door.close()


def open_window(
    qtbot: QtBot, session: ConsoleSession, ini: Path, *, owned: bool = True
) -> MainWindow:
    """``owned=False``: a window the realm switcher will close and delete itself."""
    settings = QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings)
    if owned:
        qtbot.addWidget(window)
    with qtbot.waitSignal(window.detail_ready, timeout=5000):
        window.show()
    return window


def open_panel(qtbot: QtBot, session: ConsoleSession) -> ExerciseControlPanel:
    panel = ExerciseControlPanel(session)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def loaded(qtbot: QtBot, panel: ExerciseControlPanel) -> None:
    qtbot.mouseClick(panel.load_shipped_button, LEFT)
    qtbot.waitUntil(lambda: panel.run is not None, timeout=5000)


def state_is(panel: ExerciseControlPanel, state: RunState) -> Callable[[], bool]:
    return lambda: panel.snapshot is not None and panel.snapshot.state is state


def choose_speed(qtbot: QtBot, panel: ExerciseControlPanel, speed: float) -> None:
    """As the planner does it: pick the speed from the list (keyboard on the combo box)."""
    index = SPEEDS.index(speed)
    panel.speed.setFocus()
    panel.speed.setCurrentIndex(index)
    panel.speed.activated.emit(index)


def test_planner_drives_the_exercise_and_the_player_follows(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    planner = open_session(PLANNER)
    player = open_session(PLAYER)
    player_window = open_window(qtbot, player, tmp_path / "player.ini")
    banner = player_window.banner
    assert banner is not None
    qtbot.waitUntil(lambda: "waiting for exercise control to start" in banner.text(), timeout=5000)
    assert banner.codeword_label.text() == "EXERCISE EXERCISE EXERCISE — city-flood"

    panel = open_panel(qtbot, planner)
    loaded(qtbot, panel)
    assert "Bank Deluge" in panel.scenario_label.text()
    assert panel.model.rowCount() == 14
    assert panel.start_button.isEnabled()
    assert not panel.pause_button.isEnabled()

    # Start: T+00:00's inject is released at once.
    qtbot.mouseClick(panel.start_button, LEFT)
    qtbot.waitUntil(lambda: 1 in panel.model.released, timeout=5000)
    assert panel.snapshot is not None
    assert panel.snapshot.state is RunState.RUNNING
    status_index = panel.model.index(0, InjectColumn.STATUS)
    assert str(panel.model.data(status_index)).startswith("released T+00:00 → ")
    qtbot.waitUntil(lambda: "running" in banner.text(), timeout=5000)

    # Pause: the clock stops, and nothing more is released however long we wait.
    qtbot.mouseClick(panel.pause_button, LEFT)
    qtbot.waitUntil(state_is(panel, RunState.PAUSED), timeout=5000)
    assert panel.state_label.text() == "PAUSED"
    frozen = panel.clock_label.text()
    qtbot.wait(600)
    assert panel.clock_label.text() == frozen
    assert set(panel.model.released) == {1}
    assert panel.resume_button.isEnabled()
    assert not panel.pause_button.isEnabled()

    # Speed 600x, resume: T+02:30 and T+05:00 arrive within a second of wall time.
    choose_speed(qtbot, panel, 600.0)
    qtbot.waitUntil(lambda: panel.snapshot is not None and panel.snapshot.speed == 600)
    qtbot.mouseClick(panel.resume_button, LEFT)
    qtbot.waitUntil(lambda: {2, 3} <= set(panel.model.released), timeout=5000)
    assert "600×" in panel.time_label.text()

    # Release the power-cut inject (T+24:00) early.
    qtbot.mouseClick(panel.pause_button, LEFT)
    qtbot.waitUntil(state_is(panel, RunState.PAUSED), timeout=5000)
    row = next(r for r in range(14) if panel.model.injects[r].id == "power")
    if row in panel.model.released:  # pragma: no cover - the clock is slower than that
        pytest.skip("the machine was too slow to pause before T+24:00")
    panel.table.selectRow(row)
    assert panel.release_button.isEnabled()
    qtbot.mouseClick(panel.release_button, LEFT)
    qtbot.waitUntil(lambda: row + 1 in panel.model.released, timeout=5000)
    assert panel.model.released[row + 1].early
    assert "released early" in str(panel.model.data(panel.model.index(row, InjectColumn.STATUS)))

    # A message reaches the player's banner (through the store: another connection).
    qtbot.keyClicks(panel.message, "Gold group meets at Guildhall at T+55")
    qtbot.keyClick(panel.message, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Gold group meets at Guildhall" in banner.text(), timeout=6000)

    # STOP EXERCISE: confirm; every console sees the end, and nothing more can be recorded.
    qtbot.mouseClick(panel.stop_button, LEFT)
    qtbot.waitUntil(lambda: panel.stop_dialog is not None, timeout=3000)
    dialog = panel.stop_dialog
    assert dialog is not None
    assert dialog.emergency.isChecked()
    dialog.reason.setText("Real incident at Liverpool Street")
    dialog.accept()
    qtbot.waitUntil(state_is(panel, RunState.STOPPED), timeout=5000)
    assert panel.state_label.text() == "ENDED: Real incident at Liverpool Street"
    assert not panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: "STOPPED FOR A REAL EMERGENCY" in banner.text(), timeout=6000)
    assert "nothing more can be recorded" in banner.text()
    qtbot.waitUntil(
        lambda: "nothing more can be recorded" in player_window.statusBar().currentMessage(),
        timeout=3000,
    )
    wait_idle(qtbot, planner)
    wait_idle(qtbot, player)
    kinds = [e.kind for e in planner.store.iter_events() if e.kind.startswith("exercise.")]
    assert kinds[:3] == [Kind.EXERCISE_STARTED, Kind.EXERCISE_INJECT_RELEASED, Kind.EXERCISE_PAUSED]
    assert Kind.EXERCISE_SPEED_CHANGED in kinds
    assert Kind.EXERCISE_RESUMED in kinds
    assert Kind.EXERCISE_MESSAGE in kinds
    assert kinds[-1] == Kind.EXERCISE_STOPPED
    ref = next(r.incident_ref for r in panel.model.released.values() if r.incident_ref)
    desk = IncidentService(player.store, player.author)
    with pytest.raises(DomainError, match="has ended"):
        desk.add_log(ref, "too late")
    assert not store_path(tmp_path, "live").exists()


def test_the_banner_shows_the_scenarios_codeword(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    text = shipped_scenario_text("city-flood").replace(
        'codeword = "EXERCISE EXERCISE EXERCISE"', 'codeword = "EXERCISE TRIDENT"'
    )
    scenario_file = tmp_path / "trident.toml"
    scenario_file.write_text(text, encoding="utf-8")
    planner = open_session(PLANNER)
    window = open_window(qtbot, planner, tmp_path / "planner.ini")
    banner = window.banner
    assert banner is not None
    panel = open_panel(qtbot, planner)
    panel.load_file(scenario_file)
    qtbot.waitUntil(lambda: panel.run is not None, timeout=5000)
    assert "EXERCISE TRIDENT" in panel.scenario_label.text()
    qtbot.mouseClick(panel.start_button, LEFT)
    qtbot.waitUntil(lambda: banner.codeword == "EXERCISE TRIDENT", timeout=5000)
    assert banner.codeword_label.text() == "EXERCISE TRIDENT — city-flood"
    assert banner.isVisible()
    banner.hide()
    assert banner.isVisible()
    qtbot.mouseClick(panel.pause_button, LEFT)
    qtbot.waitUntil(state_is(panel, RunState.PAUSED), timeout=5000)


def test_a_bad_scenario_names_the_line_and_field_and_loads_nothing(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    text = shipped_scenario_text("city-flood").replace('category = "PS-FLOOD"', 'category = "XYZ"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    planner = open_session(PLANNER)
    panel = open_panel(qtbot, planner)
    panel.load_file(bad)
    qtbot.waitUntil(lambda: bool(panel.status.text()), timeout=5000)
    assert (
        panel.status.text()
        == "bad.toml, line 15, inject 1 (at T+00:00), category: unknown category 'XYZ'"
    )
    assert panel.status.property("role") == "error"
    assert panel.run is None
    assert panel.model.rowCount() == 0
    assert not panel.start_button.isEnabled()
    assert planner.store.event_count() == 0


def test_a_live_console_offers_to_join_the_exercise_instead(
    qtbot: QtBot, open_session: Callable[..., ConsoleSession]
) -> None:
    planner = open_session(PLANNER, realm="live")
    panel = open_panel(qtbot, planner)
    panel.load_shipped("city-flood")
    qtbot.waitUntil(lambda: panel.scenario is not None, timeout=5000)
    assert panel.run is None
    assert not panel.start_button.isEnabled()
    assert panel.join_button.isVisible()
    assert panel.join_button.text() == "Join exercise:city-flood"
    with qtbot.waitSignal(panel.join_requested, timeout=2000) as joined:
        qtbot.mouseClick(panel.join_button, LEFT)
    assert joined.args == [REALM]
    assert planner.store.event_count() == 0


def test_only_planners_are_offered_exercise_control(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    player_window = open_window(qtbot, open_session(PLAYER), tmp_path / "a.ini")
    assert not player_window.exercise_mode.control_action.isVisible()
    player_window.exercise_mode.show_control_panel()
    assert player_window.exercise_mode.control_panel is None
    planner_window = open_window(qtbot, open_session(PLANNER), tmp_path / "b.ini")
    assert planner_window.exercise_mode.control_action.isVisible()
    planner_window.exercise_mode.control_action.trigger()
    panel = planner_window.exercise_mode.control_panel
    assert panel is not None
    assert panel.isVisible()
    panel.close()


def test_after_action_export_from_the_panel(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    planner = open_session(PLANNER)
    panel = open_panel(qtbot, planner)
    loaded(qtbot, panel)
    choose_speed(qtbot, panel, 600.0)
    qtbot.mouseClick(panel.start_button, LEFT)
    qtbot.waitUntil(lambda: len(panel.model.released) >= 3, timeout=5000)
    qtbot.mouseClick(panel.endex_button, LEFT)
    qtbot.waitUntil(lambda: panel.stop_dialog is not None, timeout=3000)
    assert panel.stop_dialog is not None
    assert not panel.stop_dialog.emergency.isChecked()
    panel.stop_dialog.accept()
    qtbot.waitUntil(state_is(panel, RunState.STOPPED), timeout=5000)
    out = tmp_path / "after.pdf"
    with qtbot.waitSignal(panel.exported, timeout=15000):
        panel.export_after_action("pdf", out)
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(out).pages]
    assert pages
    assert all("EXERCISE EXERCISE EXERCISE" in page for page in pages)
    assert "INJECT 1 (T+00:00)" in " ".join(pages)
    assert status_of(planner.store).phase is Phase.ENDED


def test_inject_table_model(
    qtmodeltester: Any, open_session: Callable[..., ConsoleSession], qtbot: QtBot
) -> None:
    panel = open_panel(qtbot, open_session(PLANNER))
    loaded(qtbot, panel)
    qtmodeltester.check(panel.model, force_py=True)


def new_window_alive(window: MainWindow) -> bool:

    return bool(shiboken6.isValid(window))


def test_joining_a_finished_exercise_says_so_and_switching_opens_its_window(
    qtbot: QtBot,
    tmp_path: Path,
    open_session: Callable[..., ConsoleSession],
    make_console: Callable[..., Console],
) -> None:
    # An exercise that has ended, held in the data folder.
    with Store.open(store_path(tmp_path, REALM), REALM) as store:
        run = ExerciseRun(store, load_shipped("city-flood"), exercise_control(store))
        run.start()
        run.stop("ENDEX")
    live = open_session(PLAYER, realm="live")
    window = open_window(qtbot, live, tmp_path / "w.ini", owned=False)
    assert window.banner is None
    window.exercise_mode.join_action.trigger()
    dialog = window.exercise_mode.join_dialog
    assert isinstance(dialog, JoinExerciseDialog)
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=5000)
    assert "ended at" in dialog.list.item(0).text()
    dialog.choose(REALM)
    assert dialog.note.text().startswith("This exercise has finished: Bank Deluge")
    assert "nothing more can be recorded" in dialog.note.text()
    assert dialog.ok.text() == "Open to review"
    dialog.choose("exercise:Bad Slug")
    assert not dialog.ok.isEnabled()
    dialog.choose(REALM)

    console = make_console(window.settings)
    operator = live.operator
    assert operator is not None
    switcher = RealmSwitcher(lambda realm: console.open_window(realm, operator))
    switcher.adopt(window)
    with qtbot.waitSignal(switcher.switched, timeout=5000) as switched:
        dialog.accept()
    new_window = switched.args[0]
    assert isinstance(new_window, MainWindow)
    assert new_window.session.realm == REALM
    assert new_window.session.user == PLAYER
    assert new_window.banner is not None
    qtbot.waitUntil(lambda: "ENDED" in new_window.banner.text(), timeout=5000)
    assert new_window.exercise_mode.live_action.isVisible()
    with qtbot.waitSignal(switcher.switched, timeout=5000) as back:
        new_window.exercise_mode.live_action.trigger()
    live_again = back.args[0]
    qtbot.addWidget(live_again)
    assert live_again.session.realm == "live"
    assert live_again.banner is None
    qtbot.waitUntil(lambda: not new_window_alive(new_window), timeout=5000)
    assert live_again.isVisible()
    switcher.shutdown()


def test_shift_log_exports_made_in_an_exercise_carry_the_codeword(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:

    text = shipped_scenario_text("city-flood").replace(
        'codeword = "EXERCISE EXERCISE EXERCISE"', 'codeword = "EXERCISE TRIDENT"'
    )

    scenario = parse_scenario(text, "trident.toml")
    session = open_session(User("Insp. Ray Ellis", Agency.POLICE, Role.DUTY_MANAGER))
    run = ExerciseRun(session.store, scenario, exercise_control(session.store))
    run.start()
    run.release(run.due()[0])
    assert load_shipped("city-flood").codeword != scenario.codeword
    window = ShiftLogWindow(session)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=5000):
        window.show()
    pdf, csv_file = tmp_path / "shift.pdf", tmp_path / "shift.csv"
    with qtbot.waitSignal(window.export_finished, timeout=10000):
        window.export_to("pdf", pdf)
    with qtbot.waitSignal(window.export_finished, timeout=10000):
        window.export_to("csv", csv_file)
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(pdf).pages]
    assert pages
    assert all(page.count("EXERCISE TRIDENT") >= 2 for page in pages)
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("exercise,")
    assert len(lines) > 1
    assert all(line.startswith("EXERCISE TRIDENT,") for line in lines[1:])


def test_a_restarted_control_panel_takes_over_the_running_exercise(
    qtbot: QtBot, open_session: Callable[..., ConsoleSession]
) -> None:
    planner = open_session(PLANNER)
    first = open_panel(qtbot, planner)
    loaded(qtbot, first)
    choose_speed(qtbot, first, 600.0)
    qtbot.mouseClick(first.start_button, LEFT)
    qtbot.waitUntil(lambda: {1, 2} <= set(first.model.released), timeout=5000)
    first.close()  # closing the panel pauses a running exercise rather than leave it unattended
    qtbot.waitUntil(state_is(first, RunState.PAUSED), timeout=5000)
    released = set(first.model.released)

    second = open_panel(qtbot, planner)
    loaded(qtbot, second)
    qtbot.waitUntil(state_is(second, RunState.PAUSED), timeout=5000)
    assert set(second.model.released) == released
    assert second.status.text().startswith("Took over exercise control of exercise:city-flood")
    assert second.resume_button.isEnabled()
    assert not second.start_button.isEnabled()
    qtbot.mouseClick(second.resume_button, LEFT)
    qtbot.waitUntil(lambda: len(second.model.released) > len(released), timeout=5000)
    second.stop_exercise("ENDEX", emergency=False)
    qtbot.waitUntil(state_is(second, RunState.STOPPED), timeout=5000)
    wait_idle(qtbot, planner)
    numbers = [
        e.payload["inject"]
        for e in planner.store.iter_events()
        if e.kind == Kind.EXERCISE_INJECT_RELEASED
    ]
    assert len(numbers) == len(set(numbers))  # nothing released twice

    third = open_panel(qtbot, planner)
    third.load_shipped("city-flood")
    qtbot.waitUntil(lambda: "has ended" in third.status.text(), timeout=5000)
    assert third.status.text() == (
        "exercise city-flood has ended (ENDEX); play the scenario again under a new slug"
    )
    assert third.run is None
    assert not third.start_button.isEnabled()


def test_the_console_started_in_a_finished_exercise_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`osc-console --realm exercise:<slug>`, the composition root end to end (the event
    loop replaced by a look at the window it opened)."""
    from osc_console.app import run_console
    from osc_console.cli import build_parser
    from osc_console.ui.qt import QtWidgets

    with Store.open(store_path(tmp_path, REALM), REALM) as store:
        run = ExerciseRun(store, load_shipped("city-flood"), exercise_control(store, Agency.POLICE))
        run.start()
        run.stop("ENDEX")
    # A standalone workstation: its administrator has given the player an account.
    door = open_door(tmp_path, "CR1", kdf_cost=TEST_COST)
    try:
        local = door.local
        assert local is not None
        local.create_first_administrator("Admin One", "police", PASSWORD)
        local.service.admin.add_user(
            "test set-up", PLAYER.name, "police", "dispatcher", PASSWORD, must_change=False
        )
    finally:
        door.close()
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    monkeypatch.setenv("OSC_CONFIG_DIR", str(tmp_path / "config"))
    seen: list[str] = []

    def look(_app: object) -> int:
        windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        (window,) = [w for w in windows if w.isVisible()]
        qtbot_wait = QtCore.QEventLoop()
        for _ in range(100):  # let the watcher read the exercise (on the worker)
            if window.banner is not None and "ENDED" in window.banner.text():
                break
            QtCore.QTimer.singleShot(20, qtbot_wait.quit)
            qtbot_wait.exec()
        assert window.banner is not None
        seen.append(window.banner.text())
        seen.append(window.session.realm)
        seen.append(window.session.operator.label if window.session.operator else "")
        window.close()
        window.deleteLater()
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        return 0

    monkeypatch.setattr(QtWidgets.QApplication, "exec", look)
    args = build_parser().parse_args(
        ["--realm", REALM, "--data-dir", str(tmp_path), "--user", PLAYER.name,
         "--password-stdin", "--workstation", "CR1"]
    )  # fmt: skip
    assert run_console(args) == 0
    err = capsys.readouterr().err
    assert err == (
        f"osc-console: {REALM} has ended (ENDEX): opened for review; "
        "nothing more can be recorded in it\n"
    )
    assert seen[1] == REALM
    assert seen[2] == "PC Jane Smith (Police · dispatcher)"
    assert seen[0].startswith("EXERCISE EXERCISE EXERCISE — city-flood\nBank Deluge")
    assert "ENDED: ENDEX — nothing more can be recorded" in seen[0]


def test_the_panel_refuses_a_codeword_another_running_exercise_uses(
    qtbot: QtBot, tmp_path: Path, open_session: Callable[..., ConsoleSession]
) -> None:
    other = parse_scenario(
        shipped_scenario_text("city-flood").replace('slug = "city-flood"', 'slug = "other"'),
        "other.toml",
    )
    with Store.open(store_path(tmp_path, other.realm), other.realm) as store:
        ExerciseRun(store, other, exercise_control(store, Agency.POLICE)).start()
    panel = open_panel(qtbot, open_session(PLANNER))
    panel.load_shipped("city-flood")
    qtbot.waitUntil(lambda: bool(panel.status.text()), timeout=5000)
    assert panel.status.text() == (
        "city-flood.toml, line 11, codeword: 'EXERCISE EXERCISE EXERCISE' is already the "
        "codeword of exercise:other, which is running; give this exercise another"
    )
    assert panel.run is None
    assert not panel.start_button.isEnabled()


def test_with_a_server_the_joined_exercise_syncs_as_its_own_realm(
    qtbot: QtBot,
    tmp_path: Path,
    open_session: Callable[..., ConsoleSession],
    make_console: Callable[..., Console],
) -> None:
    """Joining an exercise stops the live realm's sync engine and starts one for the
    exercise realm (the server keeps the two apart; no server is reachable here)."""
    from osc_console.store.keyring import PinnedAuthority

    server = "http://127.0.0.1:9"  # nothing listens: the engines only try and back off
    settings = QtCore.QSettings(str(tmp_path / "w.ini"), QtCore.QSettings.Format.IniFormat)
    console = make_console(settings, server)
    # The workstation answers to the authority that certified the player's key (as it
    # would to its server's after a first sign-in): every realm's store it opens trusts it.
    console.door.keyring.pin(
        PinnedAuthority("server", "test", AUTHORITY.key_id, AUTHORITY.public_key), now_iso()
    )
    live = open_session(PLAYER, realm="live")
    operator = live.operator
    assert operator is not None
    live_sync = console.sync_link(live)
    window = MainWindow(live, settings=settings, sync=live_sync)
    with qtbot.waitSignal(window.detail_ready, timeout=5000):
        window.show()
    live_sync.start()
    switcher = RealmSwitcher(lambda realm: console.open_window(realm, operator))
    switcher.adopt(window)
    with qtbot.waitSignal(switcher.switched, timeout=5000) as switched:
        window.exercise_mode.join_requested.emit(REALM)
    joined = switched.args[0]
    qtbot.addWidget(joined)
    assert joined.session.realm == REALM
    assert joined.sync is not None
    assert joined.sync is not live_sync
    assert joined.sync.engine is not None
    assert joined.sync.engine.realm == REALM
    assert live_sync.engine is not None
    assert not live_sync.engine.running  # the live engine stopped before its store closed
    qtbot.waitUntil(lambda: joined.sync.engine.running, timeout=3000)  # started after paint
    switcher.shutdown()
    assert not joined.sync.engine.running


def test_a_watcher_stops_once_its_console_is_closing(
    qtbot: QtBot, open_session: Callable[..., ConsoleSession]
) -> None:
    """The poll timer must not ask a database worker that has shut down (it raised)."""
    from osc_console.ui.exercise.watcher import ExerciseWatcher

    session = open_session(User("Player One", Agency.POLICE, Role.DISPATCHER))
    watcher = ExerciseWatcher(session)
    qtbot.waitUntil(lambda: watcher.status is not None, timeout=5000)
    session.worker.shutdown()
    watcher.poll()  # as its timer would, two seconds later
    assert not watcher._timer.isActive()
