"""The dashboard's figures as one CSV, for a partnership board's spreadsheet.

One table with a ``section`` column rather than six files: a single attachment carries the
whole picture, and a filter on the first column gives any one chart. Hours are shown in
London local time with the UTC hour beside them; durations in minutes, as the charts show.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC
from typing import Any

from osc_console.models.clock import to_iso
from osc_console.store.dashboard import Dashboard, HourlySeries

HEADER = ("section", "key", "hour_local", "hour_utc", "measure", "value")


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.2f}"


def _hourly(writer: Any, section: str, hourly: HourlySeries) -> None:
    for series in hourly.series:
        for hour, count in zip(hourly.hours, series.counts, strict=True):
            writer.writerow(
                [
                    section,
                    series.key or "",
                    hour.strftime("%Y-%m-%d %H:%M %Z"),
                    to_iso(hour.astimezone(UTC)),
                    "incidents",
                    count,
                ]
            )


def dashboard_csv(figures: Dashboard) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerow(["period", "start", "", to_iso(figures.start), "", ""])
    writer.writerow(["period", "end", "", to_iso(figures.end), "", ""])
    _hourly(writer, "opened_per_hour", figures.opened_per_hour)
    _hourly(writer, "open_by_grade", figures.open_by_grade)
    for stats in (*figures.response.assign, *figures.response.attend):
        key = stats.grade or "not graded"
        measure = f"time_to_{stats.measure}"
        for name, value in (
            ("count", stats.count),
            ("without", stats.without),
            ("median_minutes", _minutes(stats.median_s)),
            ("p90_minutes", _minutes(stats.p90_s)),
            ("target_minutes", _minutes(stats.target_s)),
            ("met_target", stats.met if stats.target_s is not None else ""),
        ):
            writer.writerow([measure, key, "", "", name, value])
    for ranked in figures.categories:
        writer.writerow(["category", ranked.name or "", "", "", "incidents", ranked.count])
    for ranked in figures.hotspots:
        writer.writerow(["hotspot", ranked.name or "", "", "", "incidents", ranked.count])
    for repeat in figures.repeats:
        writer.writerow(
            [
                "repeat_location",
                repeat.location,
                "",
                f"{repeat.first_opened_at}..{repeat.last_opened_at}",
                "incidents",
                repeat.count,
            ]
        )
    return out.getvalue()
