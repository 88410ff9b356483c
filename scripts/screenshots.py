"""Render the console offscreen with demo data and save PNG screenshots for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Deterministic: a fixed seed and a fixed end time, so the pictures only change when the console
does.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from staff import STAFF

from osc_console.models.agencies import Agency
from osc_console.models.users import Role, User
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.store.event_store import Store


def busiest_open_incident(store: Store) -> str:
    """An open multi-agency incident with plenty in its timeline: the most telling picture."""
    row = store.conn.execute(
        "SELECT i.id FROM incidents i WHERE i.is_open = 1 AND i.visibility = 'joint' "
        "AND i.urgency <= 2 "
        "AND (SELECT count(DISTINCT agency) FROM assignments a WHERE a.incident_id = i.id) >= 2 "
        "ORDER BY i.opened_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        row = store.conn.execute(
            "SELECT id FROM incidents WHERE is_open = 1 ORDER BY log_count DESC LIMIT 1"
        ).fetchone()
    return str(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--incidents", type=int, default=3000)
    parser.add_argument("--themes", nargs="+", default=["dark", "light"])
    parser.add_argument(
        "--shots",
        nargs="+",
        choices=["main", "exercise", "timeline", "dashboard"],
        default=["main", "exercise", "timeline", "dashboard"],
        help="which pictures to make",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if "exercise" in args.shots:
        exercise_shots(args.out)
    if not {"main", "timeline", "dashboard"} & set(args.shots):
        return

    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    assert isinstance(app, QtWidgets.QApplication)
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    folder = Path(tempfile.mkdtemp(prefix="osc-shots-"))
    os.environ["OSC_CONFIG_DIR"] = str(folder / "config")
    # A Saturday night shift. Ages are counted from the real clock, so the demo ends now-ish.
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    store = Store.open(folder / "live.db")
    seed_store(store, DemoSpec(incidents=args.incidents, days=14, seed=7, end=end))
    incident = busiest_open_incident(store)

    if "timeline" in args.shots or "dashboard" in args.shots:
        from chart_shots import shoot_dashboard, shoot_timeline

        apply_theme(app, "dark")
        if "timeline" in args.shots:
            print(f"wrote {shoot_timeline(app, store, args.out, end, _settle)}")
        if "dashboard" in args.shots:
            print(f"wrote {shoot_dashboard(app, store, args.out, end, _settle)}")
    for theme in args.themes if "main" in args.shots else []:
        apply_theme(app, theme)
        session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
        session.sign_in(
            STAFF.operator(store, User("A. Patel", Agency.POLICE, Role.DISPATCHER), "CR1")
        )
        settings = QtCore.QSettings(str(folder / f"{theme}.ini"), QtCore.QSettings.Format.IniFormat)
        window = MainWindow(session, settings=settings)
        window.resize(1600, 960)
        window.show()
        _settle(app, session)
        window.queue.select_incident(incident)
        _settle(app, session)
        window.grab().save(str(args.out / f"main-{theme}.png"))
        print(f"wrote {args.out / f'main-{theme}.png'}")
        window.close()
        session.worker.shutdown()
    store.close()


def exercise_shots(out: Path) -> None:
    """A player's console during the shipped exercise, and exercise control's panel.

    Exercise control plays "Bank Deluge" at 600x from its panel to about T+18:00 and pauses;
    a police dispatcher has answered the first injects; exercise control has sent a message.
    """
    from osc_console.models.scenario import load_shipped
    from osc_console.paths import store_path
    from osc_console.services.exercise import RunState
    from osc_console.services.incidents import IncidentService
    from osc_console.ui.exercise.control_panel import ExerciseControlPanel
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.qt import QtCore, QtWidgets
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    assert isinstance(app, QtWidgets.QApplication)
    apply_theme(app, "dark")
    scenario = load_shipped("city-flood")
    realm = scenario.realm
    folder = Path(tempfile.mkdtemp(prefix="osc-exercise-shots-"))
    os.environ["OSC_CONFIG_DIR"] = str(folder / "config")
    path = store_path(folder, realm)

    planner = ConsoleSession(Store.open(path, realm), DbWorker(), AppSignals(), "EXCON")
    okafor = User("R. Okafor", Agency.CORPORATION, Role.PLANNER)
    planner.sign_in(STAFF.operator(planner.store, okafor, "EXCON"))
    panel = ExerciseControlPanel(planner)
    panel.resize(1180, 640)
    panel.show()
    panel.load_shipped("city-flood")
    _wait(app, lambda: panel.run is not None)
    panel.set_speed(600.0)
    panel.start()
    _wait(app, lambda: 8 in panel.model.released, seconds=20)
    panel.pause()
    _wait(app, lambda: panel.snapshot is not None and panel.snapshot.state is RunState.PAUSED)
    _settle(app, planner)

    # The players answer from their own workstations (their own connections to the file).
    with Store.open(path, realm) as desk_store:
        police = IncidentService(
            desk_store, STAFF.author(desk_store, "PC J. Smith", Agency.POLICE, "CR1", "dispatcher")
        )
        council = IncidentService(
            desk_store,
            STAFF.author(desk_store, "S. Adeyemi", Agency.CORPORATION, "CC2", "dispatcher"),
        )
        released = {r.inject.id: r.incident_ref for r in panel.model.released.values()}
        main_ref, subway_ref = released["main"], released["subway"]
        highways_ref = released["highways"]
        assert main_ref is not None
        assert subway_ref is not None
        assert highways_ref is not None
        police.add_log(main_ref, "Cordon requested at Bank junction; RVP Mansion House")
        police.assign(main_ref, "POL-RESP-A", note="Inner cordon Bank junction")
        police.assign(subway_ref, "POL-RESP-B")
        council.assign(highways_ref, "COL-HWY", note="Inspector to Poultry; road closure")
        council.add_log(main_ref, "Highways: diversions via Queen Victoria Street set up")
    panel.send_message("Gold coordinating group at Guildhall at T+55: prepare a summary")
    _settle(app, planner)
    panel.table.selectRow(9)
    _settle(app, planner)

    player = ConsoleSession(Store.open(path, realm), DbWorker(), AppSignals(), "CR1")
    smith = User("PC J. Smith", Agency.POLICE, Role.DISPATCHER)
    player.sign_in(STAFF.operator(player.store, smith, "CR1"))
    settings = QtCore.QSettings(str(folder / "player.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(player, settings=settings)
    window.resize(1600, 960)
    window.show()
    _settle(app, player)
    state = player.store.incident_by_ref(main_ref)
    assert state is not None
    window.queue.select_incident(state.id)
    banner = window.banner
    assert banner is not None
    _wait(app, lambda: "Gold coordinating group" in banner.text(), seconds=10)
    _settle(app, player)
    for widget, name in ((window, "exercise.png"), (panel, "exercise-control.png")):
        widget.grab().save(str(out / name))
        print(f"wrote {out / name}")
    for widget in (window, panel):  # gone (with their timers) before their workers stop
        widget.close()
        widget.deleteLater()
    for session in (player, planner):
        _settle(app, session)
    for session in (player, planner):
        session.worker.shutdown()
        session.store.close()


def _wait(app: object, done: object, seconds: float = 10) -> None:
    """Run the event loop until ``done()`` (the panel's steps run on its worker)."""
    import time

    from osc_console.ui.qt import QtCore, QtWidgets

    assert isinstance(app, QtWidgets.QApplication)
    assert callable(done)
    deadline = time.monotonic() + seconds
    loop = QtCore.QEventLoop()
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the console did not get there in time")
        QtCore.QTimer.singleShot(20, loop.quit)
        loop.exec()


def _settle(app: object, session: object) -> None:
    """Let the worker finish and the widgets repaint (queries run off the UI thread)."""
    from osc_console.ui.qt import QtCore, QtWidgets

    assert isinstance(app, QtWidgets.QApplication)
    loop = QtCore.QEventLoop()
    for _ in range(60):
        QtCore.QTimer.singleShot(25, loop.quit)
        loop.exec()
        if getattr(session, "worker").pending == 0:  # noqa: B009
            app.processEvents()
    app.processEvents()


if __name__ == "__main__":
    main()
