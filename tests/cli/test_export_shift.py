"""`osc-console export shift`: a shift's log as PDF or CSV, and one line for each bad input."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from osc_console.cli import main
from osc_console.models.clock import LONDON
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.store.event_store import Store

END = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
# In-process PDF exports need a Qt application; take pytest-qt's QApplication, because a
# bare QGuiApplication made by the report module would outlive this file and the widget
# tests that follow could not create theirs.
pytestmark = pytest.mark.usefixtures("qapp")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    with Store.open(folder / "live.db") as store:
        seed_store(store, DemoSpec(incidents=150, days=2, seed=3, end=END))
    return folder


def osc(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["export", "shift", *args, "--data-dir", str(data)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_export(capsys: pytest.CaptureFixture[str], demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "late.csv"
    args = ("--date", "2026-11-22", "--shift", "late", "--format", "csv", "--out", str(out))
    code, stdout, err = osc(capsys, demo_dir, *args, "--agency", "corporation", "--json")
    assert (code, err) == (0, "")
    summary = json.loads(stdout)
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert summary["entries"] == len(rows) > 0
    assert summary["viewer"] == "corporation"
    assert summary["withheld"].get("police", 0) > 0
    assert {r["visibility"] for r in rows} <= {"joint", "corporation"}
    assert all("2026-11-22T15:00" <= r["occurred (UTC)"] < "2026-11-22T23:00" for r in rows)


def test_pdf_export(capsys: pytest.CaptureFixture[str], demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "night.pdf"
    args = ("--date", "2026-11-22", "--shift", "Night", "--format", "pdf", "--out", str(out))
    code, stdout, err = osc(capsys, demo_dir, *args, "--agency", "police")
    assert (code, err) == (0, "")
    assert stdout.startswith("the night shift of 2026-11-22: ")
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(out).pages]
    assert all(f"Page {n} of {len(pages)}" in p for n, p in enumerate(pages, start=1))
    assert "corporation-only entries withheld" in pages[0]


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (("--shift", "brunch"), "unknown shift 'brunch' (early, late, night)", 1),
        (("--date", "22/11/2026"), "'22/11/2026' is not a date like 2026-11-22", 1),
        (("--date", "2026-02-30"), "'2026-02-30' is not a date like 2026-11-22", 1),
        (("--format", "docx"), "argument --format: invalid choice: 'docx'", 2),
    ],
)
def test_bad_input_is_one_line(  # noqa: PLR0917 - pytest fixtures and parameters
    capsys: pytest.CaptureFixture[str],
    demo_dir: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
    exit_code: int,
) -> None:
    given = dict(zip(args[::2], args[1::2], strict=True))
    options = {"--date": "2026-11-22", "--shift": "late", "--format": "pdf"} | given
    flat = [x for pair in options.items() for x in pair]
    try:
        code, stdout, err = osc(capsys, demo_dir, *flat, "--out", str(tmp_path / "r.pdf"))
    except SystemExit as exc:  # usage errors leave through argparse
        code = int(exc.code or 0)
        captured = capsys.readouterr()
        stdout, err = captured.out, captured.err
    assert code == exit_code
    assert stdout == ""
    assert err.count("\n") == 1
    assert err.startswith("osc-console: error: ")
    assert message in err
    assert not (tmp_path / "r.pdf").exists()


def test_a_future_date_is_refused(
    capsys: pytest.CaptureFixture[str], demo_dir: Path, tmp_path: Path
) -> None:
    tomorrow = (datetime.now(UTC).astimezone(LONDON).date() + timedelta(days=1)).isoformat()
    args = ("--date", tomorrow, "--shift", "early", "--format", "csv")
    code, _, err = osc(capsys, demo_dir, *args, "--out", str(tmp_path / "r.csv"))
    assert (code, err) == (1, f"osc-console: error: {tomorrow} is in the future\n")


def test_an_unwritable_output_path_is_named(
    capsys: pytest.CaptureFixture[str], demo_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "r.pdf"
    args = ("--date", "2026-11-22", "--shift", "late", "--format", "pdf", "--out", str(out))
    code, _, err = osc(capsys, demo_dir, *args)
    assert code == 1
    assert err == (
        f"osc-console: error: {out}: cannot be written (the folder {out.parent} does not exist)\n"
    )


def test_a_day_with_no_events_gives_an_empty_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "empty.pdf"
    args = ("--date", "2026-01-05", "--shift", "early", "--format", "pdf", "--out", str(out))
    code, stdout, _ = osc(capsys, tmp_path / "data", *args)
    assert code == 0
    assert "0 entries" in stdout
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(out).pages)
    assert "No entries were recorded in this shift." in text
