"""Console benchmark: the three figures of the console issue.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/console_bench.py [--dir DIR] [--quick]

1. Cold start to a painted queue with a 100,000-incident store, against the start of a bare
   PySide6 QMainWindow process, interleaved in the same run (target: at most 3x).
2. From pressing Enter on a log line to the entry shown in the timeline: p95 (target < 50 ms).
3. Scrolling and re-sorting the 100,000-incident queue: the longest the UI thread was blocked,
   measured by a 1 ms heartbeat timer (target: never more than 50 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import STAFF, synthetic_events

from osc_console.models.agencies import Agency
from osc_console.models.users import Role, User
from osc_console.store.event_store import Store

HERE = Path(__file__).resolve().parent


def build_store(path: Path, incidents: int) -> None:
    if path.exists():
        return
    events = synthetic_events(incidents, 2, seed=5, closed_share=0.9)
    store = STAFF.enrol(Store.open(path))  # the keys of the people who wrote them
    start = time.perf_counter()
    batch = []
    for event in events:
        batch.append(event)
        if len(batch) >= 5000:
            store.apply_remote(batch)
            batch = []
    if batch:
        store.apply_remote(batch)
    count = store.conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    print(f"   (built {count:,} incidents in {time.perf_counter() - start:.0f} s)")
    store.close()


def timed_run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "console_start.py"), *args], check=True)
    return time.perf_counter() - start


def bench_cold_start(path: Path, rounds: int) -> None:
    # An installed console has its bytecode compiled (pip does it), as PySide6 has; compile
    # ours too so neither side pays for compiling at start-up (PYTHONDONTWRITEBYTECODE may be
    # set in this environment).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "osc_console")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    bare, ours = [], []
    timed_run(["--bare"])  # warm the file cache for both alike
    timed_run([str(path)])
    for _ in range(rounds):
        bare.append(timed_run(["--bare"]))
        ours.append(timed_run([str(path)]))
    b, o = statistics.median(bare), statistics.median(ours)
    print(
        f"1. cold start to a painted queue ({rounds} runs each, interleaved): bare QMainWindow "
        f"median {b * 1000:.0f} ms; console with the 100,000-incident store median "
        f"{o * 1000:.0f} ms; ratio {o / b:.2f}x (target <= 3x)"
    )


def _console(path: Path):  # type: ignore[no-untyped-def]
    from osc_console.ui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from osc_console.ui.main_window import MainWindow
    from osc_console.ui.session import ConsoleSession
    from osc_console.ui.signals import AppSignals
    from osc_console.ui.tasks import DbWorker
    from osc_console.ui.theme import apply_theme

    os.environ["OSC_CONFIG_DIR"] = tempfile.mkdtemp()
    assert isinstance(app, QtWidgets.QApplication)
    apply_theme(app, "dark")
    store = Store.open(path)
    session = ConsoleSession(store, DbWorker(), AppSignals(), "CR1")
    # Signed in with a key the store holds a certificate for: what is typed is signed.
    session.sign_in(STAFF.operator(store, User("Bench", Agency.POLICE, Role.DISPATCHER), "CR1"))
    window = MainWindow(session)
    window.resize(1400, 900)
    window.show()
    loop = QtCore.QEventLoop()

    def spin(until, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.perf_counter() + limit
        while not until():
            if time.perf_counter() > deadline:
                raise TimeoutError("the console did not get there in time")
            QtCore.QTimer.singleShot(0, loop.quit)
            loop.exec()

    spin(lambda: not window.queue.model.is_loading and window.queue.model.rowCount() > 0)
    return app, window, session, spin


def bench_enter(path: Path, count: int) -> None:
    from PySide6 import QtTest

    from osc_console.ui.qt import QtCore

    _app, window, session, spin = _console(path)
    incident = window.queue.model.incident_id(0)
    window.queue.select_incident(incident)
    spin(
        lambda: (
            window.detail is not None
            and window.detail.state is not None
            and window.detail.state.id == incident
        )
    )
    assert window.detail is not None
    line = window.detail.quick_entry.line
    model = window.detail.model
    times = []
    for i in range(count):
        line.setText(f"Benchmark entry {i}: units report the area is quiet")
        rows = model.rowCount()
        start = time.perf_counter()
        QtTest.QTest.keyClick(line, QtCore.Qt.Key.Key_Return)
        spin(lambda rows=rows: model.rowCount() > rows)
        times.append(time.perf_counter() - start)
        spin(lambda: session.worker.pending == 0)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(
        f"2. Enter on a log line to the entry shown in the timeline ({count} entries): "
        f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
        "(target < 50 ms)"
    )
    window.close()
    session.worker.shutdown()


def bench_scroll_and_sort(path: Path, moves: int) -> None:
    import random

    from osc_console.ui.qt import QtCore

    _app, window, session, spin = _console(path)
    queue = window.queue
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QtCore.QTimer()
    heartbeat.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    heartbeat.start(1)
    rng = random.Random(3)
    bar = queue.table.verticalScrollBar()
    for _ in range(moves):
        bar.setValue(rng.randint(0, bar.maximum()))
        settle = time.perf_counter() + 0.03
        spin(lambda settle=settle: time.perf_counter() > settle)
    for column in (1, 2, 3, 4, 0, 1):
        for order in (QtCore.Qt.SortOrder.AscendingOrder, QtCore.Qt.SortOrder.DescendingOrder):
            queue.table.sortByColumn(column, order)
            settle = time.perf_counter() + 0.05
            spin(lambda settle=settle: time.perf_counter() > settle)
            spin(lambda: not queue.model.is_loading)
            bar.setValue(rng.randint(0, bar.maximum()))
            spin(lambda: session.worker.pending == 0)
    heartbeat.stop()
    rows = queue.model.rowCount()
    gaps.sort()
    print(
        f"3. scrolling ({moves} jumps) and re-sorting (12 sorts) a queue of {rows:,} open "
        f"incidents: longest UI-thread block {gaps[-1] * 1000:.1f} ms, p99 heartbeat gap "
        f"{gaps[int(0.99 * (len(gaps) - 1))] * 1000:.1f} ms over {len(gaps):,} beats "
        "(target: never more than 50 ms)"
    )
    window.close()
    session.worker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="osc-console-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    incidents = 5_000 if args.quick else 100_000
    path = folder / f"console-{incidents}.db"
    print(f"benchmark folder: {folder}")
    build_store(path, incidents)
    bench_cold_start(path, 3 if args.quick else 7)
    bench_enter(path, 30 if args.quick else 200)
    bench_scroll_and_sort(path, 20 if args.quick else 100)


if __name__ == "__main__":
    main()
