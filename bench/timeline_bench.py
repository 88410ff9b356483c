"""Timeline chart benchmark: an incident with 5,000 events, from the store to the first paint.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/timeline_bench.py [--events N] [--repeat R]

One incident is filled with ``--events`` events (logs, decisions, grade changes, and the
assignments of a dozen teams of five agencies moving through their statuses) over six hours.
Then, as the console does when the Timeline chart tab is opened, it times: reading the
incident and its timeline from the store, laying it out (lanes, markers, bars), and building
the chart and painting it once (a synchronous repaint of the plot). The figure the issue asks
for is the sum: under 200 ms to first paint. In the console the incident's events are
already held by its detail panel (its Log tab) when the Timeline chart tab is opened, so
what an operator waits for there is the layout and the paint ("chart of an incident already
shown"); the sum is the stricter figure, from the store. The chart is built once per detail
panel: opening another incident while the tab shows reads, lays out and paints into the
chart already built, which is timed too. Importing pyqtgraph is timed separately: the
console does it on a helper thread four seconds after start-up (ui/workspace.py). It also
times a redraw after one more entry and a zoom step (each a full repaint), the "redraws
smoothly" part. Best of ``--repeat`` runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import STAFF

from osc_console.models.agencies import Agency
from osc_console.models.clock import to_iso
from osc_console.models.events import EventDraft
from osc_console.models.payloads import Kind
from osc_console.runtime import settle_after_start_up
from osc_console.services.incidents import IncidentService, Location, NewIncident
from osc_console.store import queries
from osc_console.store.event_store import Store

TEAMS = (
    "POL-RESP-A",
    "POL-RESP-B",
    "POL-CCTV",
    "POL-RPU",
    "COL-HWY",
    "COL-CLEANSE",
    "COL-EP",
    "LFB-DOW",
    "LFB-WCH",
    "LAS-CITY",
    "TFL-LSTCC",
    "BTP-CITY",
)


def fill(store: Store, events: int) -> str:
    """One major incident with ``events`` events, written and signed by two duty managers;
    returns its id."""
    police = IncidentService(
        store, STAFF.author("Insp. Morgan", Agency.POLICE, "PD1", role="duty_manager")
    )
    council = STAFF.author("A. Patel", Agency.CORPORATION, "CR1", role="duty_manager")
    STAFF.enrol(store)
    start = datetime.now(UTC) - timedelta(hours=6)
    incident = police.open_incident(
        NewIncident(
            summary="Suspicious package, Bishopsgate: evacuation and cordon",
            category="CT-SUSP-ITEM",
            source="999",
            location=Location("Bishopsgate"),
            lead_agency=Agency.POLICE,
            grade="immediate",
            occurred_at=to_iso(start),
        )
    ).incident
    assignments = []
    for team in TEAMS:
        outcome = police.assign(incident.id, team)
        assignments.append(outcome.events[0].payload["assignment_id"])
    for i, assignment in enumerate(assignments):
        for status in ("acknowledged", "en_route", "on_scene"):
            police.update_assignment(incident.id, assignment, status)
        if i % 3 == 0:
            police.update_assignment(incident.id, assignment, "completed")
    written = store.execute_read(
        "SELECT count(*) FROM events WHERE incident_id = ?", [incident.id]
    )[0][0]
    span = timedelta(hours=6)
    remaining = max(0, events - written)
    drafts = []
    for n in range(remaining):
        at = to_iso(start + span * (n + 1) / (remaining + 1))
        if n % 25 == 0:
            payload = {"decision": f"Decision {n}: hold the cordon", "rationale": "Risk unchanged"}
            kind = Kind.DECISION_RECORDED
        else:
            payload = {"text": f"Update {n}: cordon holding, crowd moved back, traffic diverted"}
            kind = Kind.LOG_ADDED
        drafts.append(EventDraft(kind, payload, incident_id=incident.id, occurred_at=at))
    for first in range(0, len(drafts), 500):
        author = council if (first // 500) % 2 else police.author
        store.append_many(drafts[first : first + 500], author)
    return incident.id


def best(run: Callable[[], float], repeat: int) -> float:
    return min(run() for _ in range(repeat))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="keep CPython's garbage-collector settings (the console tunes them at start-up)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from osc_console.ui.qt import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    import pyqtgraph  # noqa: F401  (timed: paid once per session)

    from osc_console.ui.timeline.chart import TimelineChart

    import_ms = (time.perf_counter() - started) * 1000
    from osc_console.ui.timeline.layout import build_timeline

    with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "t.db") as store:
        incident_id = fill(store, args.events)
        other_id = fill(store, args.events)  # a second one, to switch the chart between
        viewer = Agency.POLICE
        held = store.execute_read(
            "SELECT count(*) FROM events WHERE incident_id = ?", [incident_id]
        )
        print(f"incident with {held[0][0]:,} events")
        if not args.default_gc:
            settle_after_start_up()  # as the console does once its window is up

        # Wall time, and CPU time (process_time): on a shared, loaded machine the second shows
        # the work itself, the first what a user of that machine would wait.
        parts = ("read", "layout", "paint", "shown", "total")
        wall: dict[str, list[float]] = {k: [] for k in parts}
        cpu: dict[str, list[float]] = {k: [] for k in parts}
        charts: list[TimelineChart] = []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            state = store.incident(incident_id)
            events = queries.timeline(store.conn, incident_id, viewer)
            t1, c1 = time.perf_counter(), time.process_time()
            data = build_timeline([(state, events)], store.reference, datetime.now(UTC))
            t2, c2 = time.perf_counter(), time.process_time()
            chart = TimelineChart()
            chart.resize(1200, 700)
            chart.set_data(data)
            chart.show()
            app.processEvents()
            chart.plot.viewport().repaint()
            t3, c3 = time.perf_counter(), time.process_time()
            for name, (a, b) in {
                "read": (0, 1),
                "layout": (1, 2),
                "paint": (2, 3),
                "shown": (1, 3),
                "total": (0, 3),
            }.items():
                wall[name].append(([t0, t1, t2, t3][b] - [t0, t1, t2, t3][a]) * 1000)
                cpu[name].append(([c0, c1, c2, c3][b] - [c0, c1, c2, c3][a]) * 1000)
            for earlier in charts:
                earlier.close()  # one chart on screen, as in the console
            charts.append(chart)
        chart = charts[-1]
        assert chart.data is not None

        # The console builds the chart once per detail panel and redraws it for each incident
        # opened while its tab shows: read, lay out, set the data, paint.
        again: list[float] = []
        again_cpu: list[float] = []
        for n in range(args.repeat * 2):
            shown_id = other_id if n % 2 == 0 else incident_id
            t0, c0 = time.perf_counter(), time.process_time()
            state = store.incident(shown_id)
            events = queries.timeline(store.conn, shown_id, viewer)
            chart.set_data(build_timeline([(state, events)], store.reference, datetime.now(UTC)))
            app.processEvents()
            chart.plot.viewport().repaint()
            again.append((time.perf_counter() - t0) * 1000)
            again_cpu.append((time.process_time() - c0) * 1000)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  {'':38} {'wall':>8} {'cpu':>8}")
        print(f"  {'pyqtgraph import (loaded ahead, off the UI thread)':38} {import_ms:8.1f}")
        for name, label in (
            ("read", "read incident + timeline from store"),
            ("layout", "lay out lanes, markers, bars"),
            ("paint", "build chart and first paint"),
            ("shown", "chart of an incident already shown"),
            ("total", "open to first paint"),
        ):
            print(f"  {label:38} {min(wall[name]):8.1f} {min(cpu[name]):8.1f} ms")
        total = min(wall["total"])
        verdict = "within" if total < 200 else "OVER"
        print(
            f"  open to first paint, first time in a session (chart built), wall: {total:.1f} ms "
            f"({verdict} the 200 ms budget)"
        )
        best_again = min(again)
        verdict = "within" if best_again < 200 else "OVER"
        print(
            f"  open another incident in the chart (read, lay out, paint), wall: "
            f"{best_again:.1f} ms, cpu {min(again_cpu):.1f} ms, median of "
            f"{len(again)} {sorted(again)[len(again) // 2]:.1f} ms ({verdict} the 200 ms budget)"
        )

        state = store.incident(incident_id)
        events = queries.timeline(store.conn, incident_id, viewer)
        chart.set_data(build_timeline([(state, events)], store.reference, datetime.now(UTC)))

        def redraw() -> float:
            t0 = time.perf_counter()
            data = build_timeline([(state, events)], store.reference, datetime.now(UTC))
            chart.set_data(data)
            chart.plot.viewport().repaint()
            return (time.perf_counter() - t0) * 1000

        def zoom() -> float:
            t0 = time.perf_counter()
            chart.plot.zoom(0.8)
            chart.plot.viewport().repaint()
            return (time.perf_counter() - t0) * 1000

        print(f"  redraw after a new entry (layout+paint) {best(redraw, args.repeat):6.1f} ms")
        print(f"  one zoom step (repaint)               {best(zoom, args.repeat):8.1f} ms")
        print(
            f"  markers {len(chart.data.markers):,}, bars {len(chart.data.spans)}, "
            f"lanes {len(chart.data.lanes)}"
        )
        chart.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
