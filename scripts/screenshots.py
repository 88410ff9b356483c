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
        "--only",
        nargs="+",
        choices=["main", "timeline", "dashboard"],
        default=["main", "timeline", "dashboard"],
        help="which pictures to make",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

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

    if "timeline" in args.only or "dashboard" in args.only:
        from screenshots_issue5 import shoot_dashboard, shoot_timeline

        apply_theme(app, "dark")
        if "timeline" in args.only:
            print(f"wrote {shoot_timeline(app, store, args.out, end, _settle)}")
        if "dashboard" in args.only:
            print(f"wrote {shoot_dashboard(app, store, args.out, end, _settle)}")
    for theme in args.themes if "main" in args.only else []:
        apply_theme(app, theme)
        session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
        session.sign_in(User("A. Patel", Agency.POLICE, Role.DISPATCHER))
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
