"""After-action and exercise exports: the codeword on every page and every row; live exports
never hold an exercise's records."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from osc_console.cli import main
from osc_console.models.agencies import Agency
from osc_console.models.clock import now_utc
from osc_console.models.events import Author
from osc_console.models.shifts import current_shift
from osc_console.paths import store_path
from osc_console.reports.after_action import CSV_COLUMNS
from osc_console.services.incidents import IncidentService
from osc_console.store.event_store import Store
from tests.cli.conftest import PASSWORD, standalone_workstation
from tests.signing import signed

REALM = "exercise:city-flood"
CODEWORD = "EXERCISE EXERCISE EXERCISE"
# In-process PDF exports need a Qt application: take pytest-qt's (see test_export_shift.py).
pytestmark = pytest.mark.usefixtures("qapp")


def osc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def played(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """The shipped scenario played at high speed by a planner at workstation CR1, one player
    at CR2 answering, and a live store. Whoever writes from the command line signs as --user,
    their password in a file."""
    data = tmp_path / "osc"
    standalone_workstation(data)  # CR1, its own authority, with the planner Ana Planner
    password = tmp_path / "password.txt"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    code, _, err = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data),
                       "--speed", "1000000", "--user", "Ana Planner",
                       "--password-file", str(password))  # fmt: skip
    assert (code, err) == (0, "")
    with Store.open(store_path(data, REALM), REALM) as store:
        player = Author("PC Jane Smith", Agency.POLICE, "CR2", REALM)
        desk = IncidentService(store, signed(store, player, "call_handler"))
        for incident in store.execute_read("SELECT ref FROM incidents ORDER BY ref"):
            desk.add_log(incident[0], "Acknowledged; cordon and diversions requested")
    code, _, err = osc(capsys, "incident", "new", "--summary", "Bike theft at Moorgate",
                       "--data-dir", str(data), "--agency", "police", "--grade", "scheduled",
                       "--category", "ACQ-CYCLE", "--user", "PC Jane Smith",
                       "--password-file", str(password))  # fmt: skip
    assert (code, err) == (0, ""), err
    return data


def pages_of(path: Path) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(path).pages]


def test_after_action_pdf_has_the_codeword_on_every_page(
    capsys: pytest.CaptureFixture[str], played: Path, tmp_path: Path
) -> None:
    out = tmp_path / "after.pdf"
    code, stdout, err = osc(capsys, "exercise", "report", "--data-dir", str(played),
                            "--realm", REALM, "--format", "pdf", "--out", str(out),
                            "--agency", "police", "--json")  # fmt: skip
    assert (code, err) == (0, "")
    summary = json.loads(stdout)
    assert summary["codeword"] == CODEWORD
    assert len(summary["responses"]) == 14
    answered = [r for r in summary["responses"] if r["seconds"] is not None]
    assert [r["inject"] for r in answered] == [1, 3, 5, 8, 10, 12]
    pages = pages_of(out)
    assert len(pages) > 1  # "every page" means something
    for number, text in enumerate(pages, start=1):
        assert text.count(CODEWORD) >= 2, f"page {number}"  # top and bottom
        assert f"Page {number} of {len(pages)}" in text
        assert "OFFICIAL" in text
    whole = " ".join(pages)
    assert "Injects and the players' first response" in whole
    assert "INJECT 1 (T+00:00)" in whole
    assert "FIRST RESPONSE to inject 1" in whole
    assert "Bike theft" not in whole  # the live incident is in another store


def test_after_action_csv_leads_every_row_with_the_codeword(
    capsys: pytest.CaptureFixture[str], played: Path, tmp_path: Path
) -> None:
    out = tmp_path / "after.csv"
    code, stdout, err = osc(capsys, "exercise", "report", "--data-dir", str(played),
                            "--realm", REALM, "--format", "csv", "--out", str(out),
                            "--agency", "police")  # fmt: skip
    assert (code, err) == (0, "")
    assert stdout.startswith(f"{CODEWORD} — after-action report of {REALM}: ")
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert {r["exercise"] for r in rows} == {CODEWORD}
    marks = [r["mark"] for r in rows if r["mark"]]
    assert sum(m.startswith("INJECT") for m in marks) == 14
    assert sum(m.startswith("FIRST RESPONSE") for m in marks) == 6
    assert rows[0]["kind"] == "Exercise started"
    assert rows[0]["exercise time"] == "T+00:00"
    assert rows[0]["text"].startswith("Bank Deluge: burst trunk main at Bank junction (14 injects)")
    messages = [r for r in rows if r["kind"] == "Message"]
    assert [m["mark"] for m in messages] == ["INJECT 6 (T+12:30)", "INJECT 14 (T+40:00)"]
    assert messages[0]["text"].startswith("to the players: Thames Water confirm")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--realm", "live"), "--realm must name an exercise (exercise:<slug>), not live"),
        ((), "--realm must name an exercise (exercise:<slug>), not nothing"),
        (("--realm", "exercise:nope"), "no store for exercise:nope in"),
    ],
)
def test_report_refusals_are_one_line_and_create_nothing(
    capsys: pytest.CaptureFixture[str],
    played: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    out = tmp_path / "after.pdf"
    before = sorted(p.name for p in played.iterdir())
    code, stdout, err = osc(capsys, "exercise", "report", "--data-dir", str(played), *args,
                            "--format", "pdf", "--out", str(out))  # fmt: skip
    assert code == 1
    assert stdout == ""
    assert err.startswith(f"osc-console: error: {message}")
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.name for p in played.iterdir()) == before


def test_shift_exports_in_an_exercise_carry_the_codeword_and_live_ones_exclude_it(
    capsys: pytest.CaptureFixture[str], played: Path, tmp_path: Path
) -> None:
    window = current_shift(now_utc())
    shift = ("--date", window.day.isoformat(), "--shift", window.name)
    exercise_pdf, exercise_csv = tmp_path / "x.pdf", tmp_path / "x.csv"
    live_pdf, live_csv = tmp_path / "l.pdf", tmp_path / "l.csv"
    for realm, fmt, out in (
        (REALM, "pdf", exercise_pdf),
        (REALM, "csv", exercise_csv),
        ("live", "pdf", live_pdf),
        ("live", "csv", live_csv),
    ):
        code, _, err = osc(capsys, "export", "shift", *shift, "--realm", realm,
                           "--data-dir", str(played), "--agency", "police",
                           "--format", fmt, "--out", str(out))  # fmt: skip
        assert (code, err) == (0, "")

    pages = pages_of(exercise_pdf)
    assert all(text.count(CODEWORD) >= 2 for text in pages)
    with exercise_csv.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows
    assert {r["exercise"] for r in rows} == {CODEWORD}

    live_text = " ".join(pages_of(live_pdf))
    assert CODEWORD not in live_text
    assert "Bike theft at Moorgate" in live_text
    assert "Bank junction" not in live_text
    with live_csv.open(encoding="utf-8", newline="") as stream:
        live_rows = list(csv.DictReader(stream))
    assert "exercise" not in live_rows[0]
    assert [r["kind"] for r in live_rows] == ["incident.opened"]
    # Exercise control (the planner) and the player wrote only into the exercise.
    assert {r["actor"] for r in live_rows} == {"PC Jane Smith"}
    assert {r["workstation"] for r in live_rows} == {"CR1"}


def test_live_figures_exclude_the_exercise(
    capsys: pytest.CaptureFixture[str], played: Path
) -> None:
    code, stdout, _ = osc(capsys, "incident", "list", "--data-dir", str(played), "--json",
                          "--agency", "police", "--status", "all")  # fmt: skip
    assert code == 0
    live = json.loads(stdout)
    assert live["total"] == 1
    assert [i["summary"] for i in live["incidents"]] == ["Bike theft at Moorgate"]
    code, stdout, _ = osc(capsys, "incident", "list", "--data-dir", str(played), "--json",
                          "--agency", "police", "--status", "all", "--realm", REALM)  # fmt: skip
    assert json.loads(stdout)["total"] == 6


def test_live_dashboard_figures_exclude_the_exercise(played: Path) -> None:
    """The dashboard's figures read one store: the live one never holds the exercise's six."""
    from datetime import timedelta

    from osc_console.store.dashboard import dashboard

    end = now_utc() + timedelta(hours=1)
    start = end - timedelta(days=1)
    with Store.open(store_path(played, "live"), "live") as live:
        figures = dashboard(live.conn, start, end, Agency.POLICE)
    assert sum(sum(s.counts) for s in figures.opened_per_hour.series) == 1
    assert [c.name for c in figures.categories] == ["ACQ-CYCLE"]
    with Store.open(store_path(played, REALM), REALM) as exercise:
        figures = dashboard(exercise.conn, start, end, Agency.POLICE)
    assert sum(sum(s.counts) for s in figures.opened_per_hour.series) == 6
