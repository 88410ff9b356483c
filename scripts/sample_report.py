"""Render the committed sample shift report from demo data.

    .venv/bin/python scripts/sample_report.py [--out docs/samples/shift-report.pdf]

The demo data is seeded with a fixed end, so the sample is the same every time it is made
(apart from the "report produced" time): the busiest shift of a fortnight of demo incidents,
as a City of London Corporation duty manager would export it (police-only entries withheld),
with a handover note, its acknowledgement, a sign-off and one entry added after the sign-off.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from staff import STAFF

from osc_console.models.agencies import Agency
from osc_console.models.users import Role, User
from osc_console.reports.shift_report import write_csv, write_pdf
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.services.incidents import IncidentService
from osc_console.services.shifts import DEFAULT_PATTERNS, ShiftService, busiest_shift
from osc_console.store.event_store import Store

DEMO_END = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


class _Wall:
    """A settable clock for the store, so the manager's entries land where a shift's would."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/samples/shift-report.pdf")
    parser.add_argument("--csv", type=Path, help="also write the CSV here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wall = _Wall(DEMO_END)
        store = Store.open(Path(folder) / "live.db", wall=wall)
        spec = DemoSpec(incidents=2000, days=14, seed=7, end=DEMO_END)
        seed_store(store, spec)
        last = (DEMO_END - timedelta(days=1)).date()
        window = busiest_shift(store, last - timedelta(days=12), last, patterns=DEFAULT_PATTERNS)
        manager = User("A. Patel", Agency.CORPORATION, Role.DUTY_MANAGER)
        author = STAFF.author(store, manager.name, manager.agency, "CC1", manager.role.value)
        service = ShiftService(
            store, author, user=manager, patterns=DEFAULT_PATTERNS, clock=lambda: wall.now
        )
        log = service.shift_log(window.day, window.name)
        wall.now = window.end_utc - timedelta(minutes=10)
        note = _handover_note(log)
        service.write_handover(window.day, window.name, note)
        wall.now = window.end_utc + timedelta(minutes=4)
        service.sign_off(window.day, window.name, "Shift reviewed; handover given in person.")
        incoming = User("R. Evans", Agency.CORPORATION, Role.DUTY_MANAGER)
        ShiftService(
            store,
            STAFF.author(store, incoming.name, incoming.agency, "CC2", incoming.role.value),
            user=incoming,
            patterns=DEFAULT_PATTERNS,
            clock=lambda: wall.now,
        ).acknowledge_handover(window.day, window.name, "Handover received; queue reviewed.")
        if log.handover:
            wall.now = window.end_utc + timedelta(minutes=20)
            late = log.handover[0]
            IncidentService(store, author).add_log(
                late.incident_id,
                "Late entry: CCTV review completed before the end of the shift; nothing further.",
                occurred_at=(window.end_utc - timedelta(minutes=30)).isoformat(),
            )
        log = service.shift_log(window.day, window.name, Agency.CORPORATION)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_pdf(log, args.out)
        if args.csv:
            write_csv(log, args.csv)
        store.close()
    print(f"{args.out}: {window.title}, {len(log.entries)} entries, {log.withheld_line}")
    return 0


def _handover_note(log: object) -> str:
    from osc_console.models.shift_log import ShiftLog

    assert isinstance(log, ShiftLog)
    urgent = [i.ref for i in log.handover if i.grade in ("immediate", "priority")][:3]
    lines = [
        f"{log.counts.still_open} incidents open at handover, "
        f"{log.counts.assignments_outstanding} assignments still out.",
    ]
    if urgent:
        lines.append(f"Please review first: {', '.join(urgent)}.")
    lines.append("Licensing visit to Bishopsgate venues carried over to the next late shift.")
    return " ".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
