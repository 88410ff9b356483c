"""`osc-console` as scripts and operators use it: incident new/log/list/show and check.

Every error is one line on stderr starting "osc-console: error: " and a non-zero exit, and a
refused command writes nothing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from osc_console.cli import main
from osc_console.store.event_store import Store
from tests.cli.conftest import PASSWORD, standalone_workstation

DESK = ("--workstation", "CR1", "--agency", "police", "--user", "PC Jane Smith")
# Writing signs as --user: their password comes on standard input (see ``osc``).
WRITER = (*DESK, "--password-stdin")
KNIFE = (
    "--summary",
    "Man seen with a knife outside a bar",
    "--category",
    "VAP-WEAPON",
    "--grade",
    "immediate",
    "--location",
    "Leadenhall Street",
    "--source",
    "999",
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "osc"
    standalone_workstation(folder)
    return folder


def osc(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    """Run the command as an operator types it; a password, if asked for, is typed too."""
    typed, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
    try:
        code = main([*args, "--data-dir", str(data)])
    finally:
        sys.stdin = typed
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def event_count(data: Path, realm: str = "live") -> int:
    name = "live.db" if realm == "live" else f"exercise-{realm.split(':')[1]}.db"
    if not (data / name).exists():
        return 0
    with Store.open(data / name, realm) as store:
        return store.event_count()


@pytest.fixture
def ref(capsys: pytest.CaptureFixture[str], data: Path) -> str:
    """One incident already in the store, opened from the command line."""
    code, out, err = osc(capsys, data, "incident", "new", *KNIFE, *WRITER, "--json")
    assert (code, err) == (0, "")
    return str(json.loads(out)["ref"])


# ---- the happy path --------------------------------------------------------------------------


def test_incident_new_prints_the_new_incident_with_its_ref(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    code, out, err = osc(capsys, data, "incident", "new", *KNIFE, *WRITER, "--json")
    assert code == 0
    assert err == ""
    incident = json.loads(out)
    assert re.fullmatch(r"\d{8}-CR1-0001", incident["ref"])
    assert incident["status"] == "open"
    assert incident["visibility"] == "joint"
    assert incident["opened_by"] == "PC Jane Smith"
    code, out, err = osc(capsys, data, "incident", "list", "--json", *DESK)
    (row,) = json.loads(out)["incidents"]
    assert row["ref"] == incident["ref"]
    assert row["id"] == incident["id"]
    assert (row["summary"], row["grade"], row["category"], row["location"]) == (
        "Man seen with a knife outside a bar",
        "immediate",
        "VAP-WEAPON",
        "Leadenhall Street",
    )

    code, out, err = osc(capsys, data, "incident", "new", *KNIFE, *WRITER)
    assert (code, err) == (0, "")
    assert re.fullmatch(r"opened \d{8}-CR1-0002\n", out)


def test_a_logged_entry_shows_in_list_search_and_show(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str
) -> None:
    code, out, err = osc(
        capsys, data, "incident", "log", ref, "Caller says he walked towards Lime Street", *WRITER
    )
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"logged on {ref} \([0-9a-f-]{{36}}\)\n", out)

    code, out, err = osc(capsys, data, "incident", "list", *DESK)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1] == "1 of 1 shown"
    assert lines[0].split() == [ref, "immediate", "open", "VAP-WEAPON", "Leadenhall", "Street", "-"]

    code, out, _ = osc(capsys, data, "incident", "list", "--search", "Lime Str", *DESK)
    assert code == 0
    assert out.splitlines()[0].startswith(ref)
    code, out, _ = osc(capsys, data, "incident", "list", "--search", "umbrella", *DESK)
    assert out.splitlines() == ["0 of 0 shown"]

    code, out, err = osc(capsys, data, "incident", "list", "--json", *DESK)
    assert (code, err) == (0, "")
    listing = json.loads(out)
    assert listing["total"] == 1
    (row,) = listing["incidents"]
    assert row["ref"] == ref
    assert row["log_count"] == 1
    assert row["summary"] == "Man seen with a knife outside a bar"

    code, out, err = osc(capsys, data, "incident", "show", ref, *DESK)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{ref}  open  Man seen with a knife outside a bar"
    assert [line.split()[-1] for line in lines[1:]] == ["incident.opened", "log.added"]
    assert all("CR1" in line and "PC Jane Smith" in line for line in lines[1:])

    code, out, err = osc(capsys, data, "incident", "show", ref, "--json", *DESK)
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["incident"]["ref"] == ref
    assert [e["kind"] for e in shown["timeline"]] == ["incident.opened", "log.added"]
    assert shown["timeline"][1]["payload"]["text"] == "Caller says he walked towards Lime Street"


def test_the_data_dir_can_come_before_the_subcommand(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str
) -> None:
    code = main(["--data-dir", str(data), "incident", "list", *DESK])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert out.startswith(ref)


def test_a_data_folder_keeps_its_workstation_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "new-desk"
    standalone_workstation(data, code=None)  # a new folder is given a code of its own
    refs = []
    for _ in range(2):
        code, out, err = osc(
            capsys,
            data,
            "incident",
            "new",
            *KNIFE,
            "--user",
            "PC Jane Smith",
            "--password-stdin",
            "--json",
        )
        assert (code, err) == (0, "")
        refs.append(json.loads(out)["ref"])
    code_file = json.loads((data / "workstation.json").read_text(encoding="utf-8"))["code"]
    assert re.fullmatch(r"WS[0-9A-F]{4}", code_file)
    assert refs[0].endswith(f"-{code_file}-0001")
    assert refs[1].endswith(f"-{code_file}-0002")


def test_an_exercise_never_shows_in_live(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    code, out, err = osc(
        capsys, data, "incident", "new", *KNIFE, *WRITER, "--realm", "exercise:drill", "--json"
    )
    assert (code, err) == (0, "")
    assert (data / "exercise-drill.db").exists()
    code, out, _ = osc(capsys, data, "incident", "list", *DESK)
    assert out.splitlines() == ["0 of 0 shown"]
    code, out, _ = osc(capsys, data, "incident", "list", *DESK, "--realm", "exercise:drill")
    assert out.splitlines()[-1] == "1 of 1 shown"


def test_a_corporation_user_does_not_see_police_only_incidents(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    code, out, err = osc(
        capsys, data, "incident", "new", *KNIFE, *WRITER, "--visibility", "police", "--json"
    )
    assert (code, err) == (0, "")
    secret = json.loads(out)["ref"]
    council = ("--workstation", "CC1", "--agency", "corporation", "--user", "Sam Okafor")
    code, out, _ = osc(capsys, data, "incident", "list", *council)
    assert out.splitlines() == ["0 of 0 shown"]
    code, out, err = osc(capsys, data, "incident", "show", secret, *council)
    assert code == 1
    assert err.splitlines() == [f"osc-console: error: incident: no incident {secret} in this store"]


# ---- refusals ----------------------------------------------------------------------------------

AGENCIES = "police, corporation, fire, ambulance, transport"
SOURCES = "999, 101, phone, email, walk-in, cctv, anpr, radio, partner, self-initiated"
NEW = ("incident", "new")

REFUSALS = [
    pytest.param(
        (*NEW, "--summary", "   ", "--grade", "immediate", *WRITER),
        "payload.summary: must not be empty",
        id="empty summary",
    ),
    pytest.param(
        (*NEW, "--summary", "x" * 501, "--grade", "immediate", *WRITER),
        "payload.summary: is 501 characters; the limit is 500",
        id="summary too long",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--category", "LOST-DOG", "--grade", "rwd", *WRITER),
        "payload.category: unknown category 'LOST-DOG'",
        id="unknown category",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--category", "CL-CRIME", "--grade", "rwd", *WRITER),
        "payload.category: 'CL-CRIME' is a closing category, not one to open an incident with",
        id="closing category",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "urgent", *WRITER),
        "payload.grade: 'urgent' is not one of immediate, priority, scheduled, rwd",
        id="bad grade",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", *WRITER),
        "payload.grade: give a police grade or a council priority",
        id="no grade",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--priority", "critical", *WRITER),
        "payload.council_priority: 'critical' is not one of urgent, high, routine, low",
        id="bad priority",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--source", "pigeon", *WRITER),
        f"payload.source: 'pigeon' is not one of {SOURCES}",
        id="bad source",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--lat", "95", "--lon", "0", *WRITER),
        "payload.location: lat must be a number from -90 to 90",
        id="bad latitude",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--visibility", "public", *WRITER),
        "--visibility: 'public' is not one of joint, police, corporation",
        id="bad visibility",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--classification", "SECRET", *WRITER),
        "--classification: 'SECRET' is not one of OFFICIAL, OFFICIAL-SENSITIVE",
        id="bad classification",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--lead-agency", "army", *WRITER),
        f"--lead-agency: 'army' is not one of {AGENCIES}",
        id="bad lead agency",
    ),
    pytest.param(
        (*NEW, "--summary", "Lost dog", "--grade", "rwd", "--occurred-at", "yesterday", *WRITER),
        "occurred_at: is not a date and time",
        id="occurred-at not a time",
    ),
    pytest.param(
        (
            *NEW,
            "--summary",
            "Lost dog",
            "--grade",
            "rwd",
            "--occurred-at",
            "2999-01-01T00:00",
            *WRITER,
        ),
        "occurred_at: is in the future",
        id="occurred-at in the future",
    ),
    pytest.param(
        (
            *NEW,
            *("--summary", "Lost dog", "--grade", "rwd", "--visibility", "police"),
            *("--user", "Sam Okafor", "--password-stdin"),
        ),
        "visibility: City of London Corporation staff cannot record police-only entries",
        id="council user writing police-only",
    ),
    pytest.param(
        ("incident", "log", "20260101-CR1-9999", "Suspect detained", *WRITER),
        "incident: no incident 20260101-CR1-9999 in this store",
        id="unknown incident for log",
    ),
    pytest.param(
        ("incident", "show", "20260101-CR1-9999", *DESK),
        "incident: no incident 20260101-CR1-9999 in this store",
        id="unknown incident for show",
    ),
    pytest.param(
        ("incident", "log", "{ref}", "   ", *WRITER),
        "payload.text: must not be empty",
        id="empty log text",
    ),
    pytest.param(
        ("incident", "log", "{ref}", "Suspect detained", "--visibility", "everyone", *WRITER),
        "--visibility: 'everyone' is not one of joint, police, corporation",
        id="bad log visibility",
    ),
    pytest.param(
        ("incident", "log", "{ref}", "Seen later", "--occurred-at", "2999-01-01T00:00Z", *WRITER),
        "occurred_at: is in the future",
        id="log in the future",
    ),
    pytest.param(
        (*NEW, *KNIFE, *WRITER, "--agency", "army"),
        f"agency: 'army' is not one of {AGENCIES}",
        id="bad agency",
    ),
    pytest.param(
        (*NEW, *KNIFE, *WRITER, "--workstation", "cr-1"),
        "workstation: 'cr-1' must be 2 to 8 capital letters or digits, e.g. CR1",
        id="bad workstation",
    ),
    pytest.param(
        ("incident", "list", *DESK, "--realm", "test"),
        "realm: 'test' must be 'live' or 'exercise:<slug>'",
        id="bad realm",
    ),
    pytest.param(
        (*NEW, *KNIFE, *WRITER, "--realm", "exercise:Big Drill"),
        "realm: 'exercise:Big Drill' must be 'live' or 'exercise:<slug>'",
        id="bad exercise name",
    ),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_a_refused_command_says_why_in_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str, args: tuple[str, ...], message: str
) -> None:
    before = event_count(data)
    files = sorted(p.name for p in data.iterdir())
    argv = [a.replace("{ref}", ref) for a in args]

    code, out, err = osc(capsys, data, *argv)

    assert code == 1
    assert out == ""
    assert err.splitlines() == [f"osc-console: error: {message}"]
    assert event_count(data) == before
    assert sorted(p.name for p in data.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        f for f in files if not f.endswith(("-wal", "-shm"))
    ]


def test_a_latitude_without_a_longitude_is_refused(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str
) -> None:
    code, _, err = osc(
        capsys, data, *NEW, "--summary", "Lost dog", "--grade", "rwd", "--lat", "51.51", *WRITER
    )
    assert code == 1
    assert err.splitlines() == [
        "osc-console: error: payload.location: give both lat and lon, or neither"
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("incident", "new", "--grade", "immediate"),
            "the following arguments are required: --summary",
        ),
        (
            ("incident", "list", "--status", "pending"),
            "argument --status: invalid choice: 'pending'",
        ),
        (("incident", "list", "--limit", "many"), "argument --limit: invalid int value: 'many'"),
        (("incident",), "the following arguments are required: ACTION"),
    ],
)
def test_a_usage_error_exits_2_and_names_the_argument(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    data = tmp_path / "osc"
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--data-dir", str(data)])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("osc-console: error: ")
    assert error in line
    assert line.endswith("--help)")
    assert not data.exists()


def test_a_file_that_is_not_a_store_is_one_line(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    (data / "live.db").write_text("not a database\n", encoding="utf-8")
    code, out, err = osc(capsys, data, "incident", "list", *DESK)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"osc-console: error: {data / 'live.db'} is not an OSC Console store: "
        "it is not an SQLite database"
    ]


# ---- check -------------------------------------------------------------------------------------


def test_check_passes_a_good_store(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str
) -> None:
    osc(capsys, data, "incident", "log", ref, "Officers on scene", *WRITER)
    code, out, err = osc(capsys, data, "check")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "OK — 2 events (2 signed, 0 unsigned before signing), 1 incidents, 1 workstation "
        "chains checked"
    ]

    code, out, err = osc(capsys, data, "check", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "ok": True,
        "events": 2,
        "incidents": 1,
        "chains": 1,
        "signed": 2,
        "unsigned": 0,
        "problems": [],
        "warnings": [],
    }


def test_check_reports_a_damaged_store_in_one_line(
    capsys: pytest.CaptureFixture[str], data: Path, ref: str
) -> None:
    path = data / "live.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'").fetchone()
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    damaged = bytearray(path.read_bytes())
    offset = (root[0] - 1) * size
    damaged[offset : offset + size] = bytes([0xA5]) * size
    path.write_bytes(bytes(damaged))

    code, out, err = osc(capsys, data, "check")

    assert code == 1
    if err:  # refused at opening: one line
        assert len(err.splitlines()) == 1
        assert err.startswith("osc-console: error: ")
    else:  # opened, and check names the damage instead of crashing
        assert "PROBLEM sqlite: integrity_check: " in out
        assert out.splitlines()[-1].startswith("FAILED: ")


# ---- the installed command -------------------------------------------------------------------


def _installed_command() -> str:
    beside = Path(sys.executable).parent / "osc-console"
    found = str(beside) if beside.exists() else shutil.which("osc-console")
    if not found:
        pytest.skip("the osc-console console script is not installed")
    return found


def test_the_installed_command_opens_an_incident_and_checks_the_store(data: Path) -> None:
    command = _installed_command()
    env = {**os.environ, "OSC_DATA_DIR": str(data / "elsewhere")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, *args, "--data-dir", str(data)],
            capture_output=True,
            text=True,
            input=PASSWORD + "\n",
            env=env,
            timeout=60,
            check=False,
        )

    opened = run("incident", "new", *KNIFE, *WRITER, "--json")
    assert (opened.returncode, opened.stderr) == (0, "")
    ref = json.loads(opened.stdout)["ref"]
    assert re.fullmatch(r"\d{8}-CR1-0001", ref)

    refused = run("incident", "log", ref, "  ", *WRITER)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == ["osc-console: error: payload.text: must not be empty"]

    checked = run("check")
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout.splitlines() == [
        "OK — 1 events (1 signed, 0 unsigned before signing), 1 incidents, 1 workstation "
        "chains checked"
    ]
    assert not (data / "elsewhere").exists()


def test_demo_with_a_seed_and_an_end_makes_the_same_data_every_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hashes = []
    for folder in ("first", "second"):
        args = ["demo", "--incidents", "40", "--days", "2", "--seed", "7"]
        args += ["--end", "2026-11-22T23:00:00Z", "--data-dir", str(tmp_path / folder)]
        assert main(args) == 0
        with sqlite3.connect(tmp_path / folder / "live.db") as conn:
            hashes.append(
                [r[0] for r in conn.execute("SELECT content_hash FROM events ORDER BY id")]
            )
        conn.close()
    capsys.readouterr()
    assert hashes[0] == hashes[1]
    assert len(hashes[0]) > 40
