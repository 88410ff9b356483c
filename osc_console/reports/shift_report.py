"""Shift reports: a PDF a duty manager hands on, and a CSV of the shift's events.

Both take a :class:`~osc_console.models.shift_log.ShiftLog`, which already holds only what the
reader's organisation may see (and how many entries were withheld), so a report can never
show more than its reader may. Both are written to a temporary file beside the target and
moved into place, so a failed export never leaves half a report behind.

The PDF is drawn with Qt's own PDF writer (``QPdfWriter`` + ``QPainter`` + ``QTextDocument``,
all QtGui: no widgets, no extra dependency). The document is laid out once at the page's
content size; each page then gets the header (shift, room, duty manager), the protective
marking at top and bottom, and "Page N of M".

Threading: the functions may run on a worker thread while the console's window stays live
(Qt supports QPdfWriter, QPainter and QTextDocument off the GUI thread). ``progress(done,
total)`` is called from that thread; the UI forwards it by a queued signal.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from osc_console.models.agencies import Agency, Classification
from osc_console.models.clock import LONDON, from_iso, local_label, now_utc
from osc_console.models.shift_log import ShiftEntry, ShiftIncident, ShiftLog, ShiftRecord
from osc_console.reports.files import atomic_file, write_pdf_file
from osc_console.reports.pdf_pages import Layout, Page, Progress, render

DEFAULT_ROOM = "City of London JCCR"
EMPTY_SHIFT = "No entries were recorded in this shift."
AFTER_SIGN_OFF = "after sign-off"

CSV_COLUMNS = (
    "occurred (UTC)",
    "occurred (London)",
    "recorded (UTC)",
    "incident ref",
    "kind",
    "agency",
    "actor",
    "workstation",
    "text",
    "after_sign_off",
    "visibility",
    "classification",
)


# ---- CSV ------------------------------------------------------------------------------------


def csv_rows(log: ShiftLog) -> Iterator[list[str]]:
    """The CSV's data rows (without the header), one per entry in chronological order."""
    for entry in log.entries:
        event = entry.event
        yield [
            event.occurred_at,
            entry.occurred_local.strftime("%Y-%m-%d %H:%M:%S %Z"),
            event.recorded_at,
            entry.incident_ref or "",
            event.kind,
            event.agency,
            event.actor,
            event.workstation,
            entry.text,
            "yes" if entry.after_sign_off else "",
            event.visibility,
            event.classification,
        ]


def write_csv(
    log: ShiftLog,
    path: Path | str,
    *,
    progress: Progress | None = None,
    codeword: str | None = None,
) -> Path:
    """Write the shift's entries as UTF-8 CSV with a header row (:data:`CSV_COLUMNS`).

    Text is written exactly as recorded (it is evidence); a spreadsheet user opening it should
    import it as text. In an exercise, ``codeword`` leads every row (an ``exercise`` column),
    so no excerpt can pass for live records. Returns the path written.
    """
    target = Path(path)
    total = len(log.entries)
    lead = [codeword] if codeword else []
    with atomic_file(target, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([*(["exercise"] if codeword else []), *CSV_COLUMNS])
        for done, row in enumerate(csv_rows(log), start=1):
            writer.writerow([*lead, *row])
            if progress is not None and (done % 500 == 0 or done == total):
                progress(done, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return target


# ---- PDF: the text of the report (HTML for QTextDocument) -------------------------------


def _entries(n: int) -> str:
    return "1 entry was" if n == 1 else f"{n} entries were"


def _e(text: object) -> str:
    return html.escape(str(text), quote=False)


def _time(iso: str) -> str:
    return local_label(from_iso(iso)) if iso else ""


def _dated(iso: str, log: ShiftLog) -> str:
    """The time, with the date when it lies outside the shift's days (an old update)."""
    moment = from_iso(iso)
    local = moment.astimezone(LONDON)
    if local.date() in (log.window.start_local.date(), log.window.end_local.date()):
        return local_label(moment)
    return f"{local:%d %b} {local_label(moment)}"


def _when(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def _mark(entry: ShiftEntry) -> str:
    if not entry.after_sign_off:
        return ""
    return f' <span class="late">[{AFTER_SIGN_OFF}, recorded {_e(_when(entry.recorded))}]</span>'


_STYLE = """
body { font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 8.5pt; color: #111; }
h2 { font-size: 12pt; margin-top: 14px; margin-bottom: 4px; color: #1d3557; }
h3 { font-size: 9.5pt; margin-top: 8px; margin-bottom: 2px; }
table.grid { border-collapse: collapse; }
table.grid td, table.grid th { border: 0.5px solid #bbb; padding: 2px 4px; vertical-align: top; }
th { background-color: #e8edf3; text-align: left; font-weight: bold; }
td.n { text-align: right; }
.count { font-size: 14pt; font-weight: bold; }
.muted { color: #555; }
.late { color: #b00020; font-weight: bold; }
.note { background-color: #f4f6f8; padding: 4px; }
"""


def report_html(log: ShiftLog) -> str:
    """The report's body as HTML (sections: summary, timeline, incidents, handover, sign-off)."""
    parts = [f"<html><head><style>{_STYLE}</style></head><body>"]
    parts += _summary(log)
    parts += _timeline(log)
    parts += _incidents(log)
    parts += _handover(log)
    parts += _sign_off(log)
    parts.append("</body></html>")
    return "".join(parts)


def _summary(log: ShiftLog) -> list[str]:
    cells = "".join(
        f'<td width="16%"><span class="count">{n}</span><br/>{_e(label)}</td>'
        for label, n in log.counts.items()
    )
    out = [
        "<h2>Summary</h2>",
        '<table class="grid" width="100%" cellspacing="0" cellpadding="4">'
        f"<tr>{cells}</tr></table>",
        f"<p>Prepared for <b>{_e(log.viewer.label)}</b> staff. "
        f"{len(log.entries)} entries shown; {len(log.incidents)} incidents had entries in this "
        "shift.</p>",
    ]
    line = log.withheld_line
    out.append(
        f"<p><b>{_e(line)}.</b></p>"
        if line
        else "<p>No entries were withheld: every entry of this shift is shown.</p>"
    )
    if log.after_sign_off_count:
        out.append(
            f'<p class="late">{_entries(log.after_sign_off_count)} recorded after the '
            f"shift was signed off; each is marked “{AFTER_SIGN_OFF}”.</p>"
        )
    return out


def _by(entry: ShiftEntry) -> str:
    event = entry.event
    known = {a.value: a for a in Agency}
    agency = known[event.agency].label.split()[-1] if event.agency in known else event.agency
    return (
        f"<span class='muted'>— {_e(event.actor)} ({_e(agency)} · {_e(event.workstation)})</span>"
    )


def _entry_cell(entry: ShiftEntry) -> str:
    sensitive = entry.event.classification == Classification.OFFICIAL_SENSITIVE.value
    marking = " <span class='muted'>[OFFICIAL-SENSITIVE]</span>" if sensitive else ""
    only = (
        f" <span class='muted'>[{_e(entry.event.visibility)}-only]</span>"
        if entry.event.visibility != "joint"
        else ""
    )
    return f"<b>{_e(entry.kind_label)}</b>: {_e(entry.text)}{only}{marking}{_mark(entry)}"


_TIMELINE_TABLE = '<table class="grid" width="100%" cellspacing="0" cellpadding="2">'
_TIMELINE_HEAD = (
    f'{_TIMELINE_TABLE}<tr><th width="11%">Time</th><th width="17%">Incident</th>'
    "<th>Entry — by whom, from which workstation</th></tr>"
)
_TABLE_ROWS = 40  # rows per table: layout time grows faster than linearly with table size


def _timeline(log: ShiftLog) -> list[str]:
    """One table per hour of London time: easier to find one's way in a long shift, and
    QTextDocument lays out many small tables far faster than one of thousands of rows."""
    out = ["<h2>Timeline</h2>"]
    if log.is_empty:
        return [*out, f"<p><b>{EMPTY_SHIFT}</b></p>"]
    hour: tuple[int, int, int, int] | None = None
    rows = 0
    for entry in log.entries:
        local = entry.occurred_local
        key = (local.year, local.month, local.day, local.hour)
        if key != hour:
            if hour is not None:
                out.append("</table>")
            out.append(f"<h3>{local:%a %d %b} {local:%H}:00 {_e(local.tzname())}</h3>")
            out.append(_TIMELINE_HEAD)
            hour, rows = key, 0
        elif rows == _TABLE_ROWS:
            out.append(f"</table>{_TIMELINE_TABLE}")
            rows = 0
        rows += 1
        out.append(
            f"<tr><td>{_e(_time(entry.event.occurred_at))}</td>"
            f'<td style="white-space: nowrap">{_e(entry.incident_ref or "Shift")}</td>'
            f"<td>{_entry_cell(entry)} {_by(entry)}</td></tr>"
        )
    out.append("</table>")
    return out


def _incident_heading(incident: ShiftIncident) -> str:
    return (
        f"<h3>{_e(incident.ref)} · {_e(incident.urgency_label)} · "
        f"{_e(incident.status_label)} at end of shift</h3>"
        f"<p>{_e(incident.summary)}</p>"
    )


def _incidents(log: ShiftLog) -> list[str]:
    out = ["<h2>Incidents</h2>"]
    if not log.incidents:
        return [*out, "<p>No incident had entries in this shift.</p>"]
    for incident in log.incidents:
        out.append(_incident_heading(incident))
        out.append('<table width="100%" cellspacing="0" cellpadding="1">')
        for entry in incident.entries:
            out.append(
                f'<tr><td width="11%">{_e(_time(entry.event.occurred_at))}</td>'
                f"<td>{_entry_cell(entry)} <span class='muted'>— {_e(entry.event.actor)}"
                "</span></td></tr>"
            )
        out.append("</table>")
    return out


def _record(label: str, record: ShiftRecord | None, log: ShiftLog, missing: str) -> str:
    if record is None:
        return f"<p><b>{_e(label)}:</b> {_e(missing)}</p>"
    note = f'<p class="note">{_e(record.note)}</p>' if record.note else ""
    return f"<p><b>{_e(label)}:</b> {_e(record.who_when(log.window.day))}</p>{note}"


def _handover(log: ShiftLog) -> list[str]:
    out = ["<h2>Handover</h2>"]
    if not log.handover:
        out.append("<p>No incidents were open at the end of the shift.</p>")
    else:
        out.append(
            f"<p>{len(log.handover)} incidents were open at the end of the shift, with "
            f"{log.counts.assignments_outstanding} assignments outstanding.</p>"
            '<table class="grid" width="100%" cellspacing="0" cellpadding="2">'
            '<tr><th width="17%">Incident</th><th width="28%">Summary</th>'
            "<th>Last update</th><th width="
            '"20%">Outstanding</th></tr>'
        )
        for incident in log.handover:
            last = incident.last_update
            last_text = (
                f"{_e(_dated(last.event.occurred_at, log))} {_e(last.kind_label)}: {_e(last.text)}"
                if last
                else ""
            )
            teams = "<br/>".join(_e(a.label) for a in incident.outstanding) or "none"
            out.append(
                f"<tr><td><span style='white-space: nowrap'>{_e(incident.ref)}</span>"
                "<br/><span class='muted'>"
                f"{_e(incident.urgency_label)} · {_e(incident.status_label)}</span></td>"
                f"<td>{_e(incident.summary)}</td><td>{last_text}</td><td>{teams}</td></tr>"
            )
        out.append("</table>")
    out.append(_record("Handover note", log.handover_note, log, "no handover note was written."))
    out.append(
        _record("Acknowledged", log.acknowledgement, log, "the handover has not been acknowledged.")
    )
    return out


def _sign_off(log: ShiftLog) -> list[str]:
    out = ["<h2>Sign-off</h2>"]
    out.append(_record("Signed off by", log.sign_off, log, "this shift has not been signed off."))
    if log.sign_off is not None:
        count = log.after_sign_off_count
        out.append(
            f"<p>{_entries(count)} recorded after the sign-off (marked “{AFTER_SIGN_OFF}”).</p>"
            if count
            else "<p>Nothing was recorded in this shift after the sign-off.</p>"
        )
    for extra in log.sign_offs[1:]:
        out.append(
            "<p class='muted'>A further sign-off was recorded (made offline, before this "
            f"workstation knew of the first) by {_e(extra.who_when(log.window.day))}.</p>"
        )
    out.append(f"<p class='muted'>Report produced {_e(_when(now_utc()))} from the event log.</p>")
    return out


# ---- PDF: pages -------------------------------------------------------------------------------


def write_pdf(
    log: ShiftLog,
    path: Path | str,
    *,
    room: str = DEFAULT_ROOM,
    progress: Progress | None = None,
    codeword: str | None = None,
) -> Path:
    """Write the shift report as an A4 PDF. Returns the path written.

    In an exercise, ``codeword`` is printed in red at both ends of every page's top line.

    Every page carries the shift (name, date, local window with zone), the room, the duty
    manager, the protective marking (the highest classification shown) at top and bottom,
    and "Page N of M". ``progress(done, total)`` is called as pages are drawn.
    Raises ReportError naming the path when it cannot be written.
    """
    return write_pdf_file(path, lambda: _render_pdf(log, room, progress, codeword))


def _render_pdf(
    log: ShiftLog, room: str, progress: Progress | None, codeword: str | None = None
) -> bytes:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor

    window = log.window
    marking = log.classification.value
    title = f"Shift log: {window.name.capitalize()} shift of {window.day:%A %d %B %Y}"
    manager = log.duty_manager or "not signed off"

    def header(page: Page) -> None:
        # Marking (and in an exercise the codeword at both ends), title and window, room and
        # manager, a rule.
        painter, width, mm = page.painter, page.width, page.mm
        painter.setFont(page.font(9.5, bold=True))
        painter.drawText(QRectF(0, 0, width, 5 * mm), Qt.AlignmentFlag.AlignCenter, marking)
        if codeword:
            painter.setPen(QColor("#b00020"))
            for side in (Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight):
                painter.drawText(QRectF(0, 0, width, 5 * mm), side, codeword)
            painter.setPen(QColor("#000000"))
        painter.setFont(page.font(10.5, bold=True))
        painter.drawText(QRectF(0, 5.5 * mm, width, 5 * mm), Qt.AlignmentFlag.AlignLeft, title)
        painter.setFont(page.font(8))
        painter.drawText(QRectF(0, 5.5 * mm, width, 5 * mm), Qt.AlignmentFlag.AlignRight, room)
        painter.drawText(
            QRectF(0, 10.5 * mm, width, 4 * mm), Qt.AlignmentFlag.AlignLeft, window.local_label
        )
        painter.drawText(
            QRectF(0, 10.5 * mm, width, 4 * mm),
            Qt.AlignmentFlag.AlignRight,
            f"Duty manager: {manager}",
        )
        painter.setPen(page.rule)
        painter.drawLine(0, int(15.5 * mm), int(width), int(15.5 * mm))

    return render(
        report_html(log),
        Layout(
            title=f"Shift report: {window.title}",
            landscape=False,
            margins_mm=(15, 12, 15, 12),
            header_mm=17,
        ),
        header,
        lambda page: (f"For {log.viewer.label} staff", marking, None),
        progress,
    )
