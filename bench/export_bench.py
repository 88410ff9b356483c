"""Shift export benchmark: the busiest shift of a 20,000-incident demo store to PDF and CSV.

    .venv/bin/python bench/export_bench.py [--incidents 20000] [--days 60] [--dir DIR]

Seeds the demo store once into a temporary folder (or --dir, reused when it already holds
data), finds the shift in which the most events occurred, and times reading its log and
writing each format (target: the PDF under 2 s, reading the log included).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from osc_console.models.agencies import Agency
from osc_console.models.shifts import DEFAULT_PATTERNS
from osc_console.reports.shift_report import write_csv, write_pdf
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.services.shifts import build_shift_log, busiest_shift
from osc_console.store.event_store import Store

END = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def run(folder: Path, incidents: int, days: int) -> None:
    store = Store.open(folder / "live.db")
    if not store.event_count():
        started = time.perf_counter()
        seed_store(store, DemoSpec(incidents=incidents, days=days, seed=1, end=END))
        print(f"seeded {store.event_count():,} events in {time.perf_counter() - started:.1f} s")
    last = (END - timedelta(days=1)).date()
    window = busiest_shift(store, last - timedelta(days=days - 1), last, patterns=DEFAULT_PATTERNS)
    for viewer in (Agency.POLICE, Agency.CORPORATION):
        started = time.perf_counter()
        log = build_shift_log(store, window.day, window.name, viewer, patterns=DEFAULT_PATTERNS)
        read = time.perf_counter() - started
        started = time.perf_counter()
        write_pdf(log, folder / f"{viewer.value}.pdf")
        pdf = time.perf_counter() - started
        started = time.perf_counter()
        write_csv(log, folder / f"{viewer.value}.csv")
        csv = time.perf_counter() - started
        print(
            f"{window.title} as {viewer.value}: {len(log.entries):,} entries, "
            f"{len(log.incidents)} incidents, {len(log.handover)} open at end; "
            f"read {read * 1000:.0f} ms, PDF {pdf * 1000:.0f} ms "
            f"(total {(read + pdf) * 1000:.0f} ms, target < 2000), CSV {csv * 1000:.0f} ms"
        )
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        run(args.dir, args.incidents, args.days)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run(Path(folder), args.incidents, args.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
