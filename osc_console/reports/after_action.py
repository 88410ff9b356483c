"""After-action export: an exercise's multi-agency timeline, injects marked against responses.

Takes an :class:`~osc_console.models.exercise_log.AfterActionTimeline` (already limited to
what the reader's organisation may see) and writes a PDF for the debrief or a CSV for analysis.
The exercise's codeword is on every PDF page (top and bottom, in red, above the protective
marking) and in every CSV row, so no page or excerpt can be mistaken for live records.

Files are written as every report is (``reports/files.py``: temporary file, then moved into
place), and the PDF with Qt's own writer (QtGui only), so this module may run on a worker thread.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from osc_console.models.agencies import Classification
from osc_console.models.clock import LONDON, from_iso
from osc_console.models.exercise_log import AfterActionTimeline, InjectResponse, TimelineRow
from osc_console.reports.files import atomic_file, write_pdf_file
from osc_console.reports.pdf_pages import Layout, Page, ReportError, render
from osc_console.reports.shift_report import DEFAULT_ROOM

CSV_COLUMNS = (
    "exercise",
    "exercise time",
    "recorded (UTC)",
    "recorded (London)",
    "incident ref",
    "kind",
    "agency",
    "actor",
    "workstation",
    "by",
    "mark",
    "text",
    "visibility",
    "classification",
)

__all__ = [
    "CSV_COLUMNS",
    "AfterActionTimeline",
    "ReportError",
    "csv_rows",
    "export",
    "report_html",
    "write_csv",
    "write_pdf",
]


def _local(iso: str) -> str:
    moment = from_iso(iso).astimezone(LONDON)
    return f"{moment:%Y-%m-%d %H:%M:%S %Z}"


def csv_rows(timeline: AfterActionTimeline) -> Iterator[list[str]]:
    """One row per event, in the order it was recorded; the codeword leads every row."""
    codeword = timeline.status.codeword
    for row in timeline.rows:
        event = row.event
        yield [
            codeword,
            row.exercise_time,
            event.recorded_at,
            _local(event.recorded_at),
            row.incident_ref or "",
            row.kind_label,
            event.agency,
            event.actor,
            event.workstation,
            "exercise control" if row.control else "player",
            row.mark,
            row.text,
            event.visibility,
            event.classification,
        ]


def write_csv(timeline: AfterActionTimeline, path: Path | str) -> Path:
    """The timeline as UTF-8 CSV with a header row (:data:`CSV_COLUMNS`)."""
    target = Path(path)
    with atomic_file(target, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(timeline))
    return target


# ---- PDF --------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=False)


_STYLE = """
body { font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 8.5pt; color: #111; }
h2 { font-size: 12pt; margin-top: 14px; margin-bottom: 4px; color: #1d3557; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 0.5px solid #bbb; padding: 2px 4px; vertical-align: top; }
th { background-color: #e8edf3; text-align: left; font-weight: bold; }
td.n { text-align: right; }
.muted { color: #555; }
.inject { background-color: #fff4d6; }
.response { background-color: #e3f4e8; }
.slow { color: #b00020; font-weight: bold; }
.mark { font-weight: bold; }
"""

_ROWS_PER_TABLE = 40  # QTextDocument lays out many small tables faster than one long one


def _when(iso: str | None) -> str:
    """London time to the second: response times are read in seconds."""
    if not iso:
        return ""
    local = from_iso(iso).astimezone(LONDON)
    return f"{local:%H:%M:%S} {local.tzname()}"


def _lines(text: str) -> str:
    """Text as written, its line breaks kept (a METHANE update is seven lines)."""
    return _e(text).replace("\n", "<br/>")


def _response_row(response: InjectResponse) -> str:
    label = response.response_label
    cls = ' class="slow"' if label == "no player action" else ""
    by = (
        f"{_e(response.first_action_by)} ({_e(response.first_action_workstation)})"
        if response.first_action_by
        else ""
    )
    early = " <span class='muted'>(early)</span>" if response.early else ""
    return (
        f"<tr><td>{response.inject}</td><td>{_e(response.at)}{early}</td>"
        f"<td>{_e(response.inject_kind)}</td><td>{_e(response.title)}</td>"
        f"<td>{_e(response.incident_ref or '')}</td><td>{_e(_when(response.released_at))}</td>"
        f"<td{cls}>{_e(label)}</td><td>{by}</td></tr>"
    )


def _timeline_row(row: TimelineRow) -> str:
    cls = ' class="inject"' if row.mark.startswith("INJECT") else ""
    if row.mark.startswith("FIRST RESPONSE"):
        cls = ' class="response"'
    mark = f"<span class='mark'>{_e(row.mark)}</span><br/>" if row.mark else ""
    event = row.event
    return (
        f"<tr{cls}><td>{_e(row.exercise_time)}</td><td>{_e(_when(event.recorded_at))}</td>"
        f"<td>{_e(row.incident_ref or '')}</td>"
        f"<td>{mark}<b>{_e(row.kind_label)}</b>: {_lines(row.text)} "
        f"<span class='muted'>— {_e(event.actor)} ({_e(event.agency)} · "
        f"{_e(event.workstation)})</span></td></tr>"
    )


def report_html(timeline: AfterActionTimeline) -> str:
    """The report's body: summary, inject-to-response table, then the whole timeline."""
    status = timeline.status
    incident_injects = [r for r in timeline.responses if r.inject_kind == "incident"]
    answered = [r.seconds for r in incident_injects if r.seconds is not None]
    average = sum(answered) / len(answered) if answered else None
    parts = [f"<html><head><style>{_STYLE}</style></head><body>", "<h2>Summary</h2>"]
    parts.append(
        f"<p><b>{_e(status.realm)}</b>: {_e(status.headline())}.<br/>"
        f"{status.injects_released} of {status.injects_total} injects released; "
        f"{len(answered)} of {len(incident_injects)} new incidents answered by the players"
        + (
            f", on average {int(average // 60)}:{int(average % 60):02d} after release."
            if average is not None
            else "."
        )
        + f"<br/>Prepared for {_e(timeline.viewer.label)} staff."
        + (
            f" {timeline.withheld} entries restricted to another organisation are not shown."
            if timeline.withheld
            else " No entries were withheld."
        )
        + "</p>"
    )
    parts.append("<h2>Injects and the players' first response</h2>")
    table = (
        '<table class="grid" width="100%" cellspacing="0" cellpadding="2"><tr>'
        '<th width="4%">#</th><th width="8%">At</th><th width="8%">Kind</th><th>Inject</th>'
        '<th width="14%">Incident</th><th width="9%">Released</th>'
        '<th width="9%">Response</th><th width="15%">First action by</th></tr>'
    )
    parts.append(table)
    parts += [_response_row(r) for r in timeline.responses]
    parts.append("</table>")
    parts.append("<h2>Multi-agency timeline</h2>")
    head = (
        '<table class="grid" width="100%" cellspacing="0" cellpadding="2"><tr>'
        '<th width="9%">Exercise</th><th width="9%">Recorded</th><th width="15%">Incident</th>'
        "<th>Entry — by whom, from which workstation</th></tr>"
    )
    if not timeline.rows:
        parts.append("<p><b>Nothing was recorded in this exercise.</b></p>")
    for start in range(0, len(timeline.rows), _ROWS_PER_TABLE):
        parts.append(head)
        parts += [_timeline_row(r) for r in timeline.rows[start : start + _ROWS_PER_TABLE]]
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(timeline: AfterActionTimeline, path: Path | str, *, room: str = DEFAULT_ROOM) -> Path:
    """The after-action report as an A4 landscape PDF, the codeword on every page."""
    return write_pdf_file(path, lambda: _render(timeline, room))


def _marking(timeline: AfterActionTimeline) -> str:
    sensitive = any(
        r.event.classification == Classification.OFFICIAL_SENSITIVE.value for r in timeline.rows
    )
    return (Classification.OFFICIAL_SENSITIVE if sensitive else Classification.OFFICIAL).value


def _render(timeline: AfterActionTimeline, room: str) -> bytes:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor

    status = timeline.status
    codeword = status.codeword
    marking = _marking(timeline)
    title = f"After-action report: {status.scenario or status.slug}"
    made = datetime.now(LONDON)
    red = QColor("#b00020")

    def header(page: Page) -> None:
        # A red band with the codeword, the marking, the title, room, realm and when made.
        painter, width, mm = page.painter, page.width, page.mm
        painter.fillRect(QRectF(0, 0, width, 6 * mm), red)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(page.font(10, bold=True))
        painter.drawText(QRectF(0, 0, width, 6 * mm), Qt.AlignmentFlag.AlignCenter, codeword)
        painter.setPen(QColor("#000000"))
        painter.setFont(page.font(8.5, bold=True))
        painter.drawText(QRectF(0, 6.5 * mm, width, 4 * mm), Qt.AlignmentFlag.AlignCenter, marking)
        painter.setFont(page.font(10.5, bold=True))
        painter.drawText(QRectF(0, 11 * mm, width, 5 * mm), Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(page.font(8))
        painter.drawText(
            QRectF(0, 11 * mm, width, 5 * mm),
            Qt.AlignmentFlag.AlignRight,
            f"{room} · {status.realm} · made {made:%d %b %Y %H:%M %Z}",
        )
        painter.setPen(page.rule)
        painter.drawLine(0, int(17 * mm), int(width), int(17 * mm))

    return render(
        report_html(timeline),
        Layout(
            title=title,
            landscape=True,
            margins_mm=(12, 10, 12, 10),
            header_mm=19,
            footer_mm=10,
        ),
        header,
        lambda page: (f"For {timeline.viewer.label} staff · {marking}", codeword, red),
    )


def export(
    timeline: AfterActionTimeline, fmt: str, out: Path, *, room: str | None = None
) -> tuple[dict[str, Any], str]:
    """Write ``timeline`` as ``fmt`` (pdf or csv); the command line and the control panel
    both come here. Returns (machine-readable summary, one line for people)."""
    if fmt == "pdf":
        write_pdf(timeline, out, room=room or DEFAULT_ROOM)
    elif fmt == "csv":
        write_csv(timeline, out)
    else:
        raise ReportError(f"{out}: format must be pdf or csv, not {fmt!r}")
    answered = len(timeline.responded)
    data = {"path": str(out), "format": fmt, **timeline.to_dict()}
    text = (
        f"{timeline.status.codeword} — after-action report of {timeline.status.realm}: "
        f"{len(timeline.rows)} events, {len(timeline.responses)} injects released "
        f"({answered} answered by the players) written to {out}"
    )
    return data, text
