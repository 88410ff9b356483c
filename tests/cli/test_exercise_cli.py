"""`osc-console exercise run`: plays a scenario headless into its own exercise store only."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from osc_console.cli import main
from osc_console.models.scenario import load_shipped, shipped_scenario_text
from osc_console.services.exercise import ExerciseRun
from osc_console.services.workstation import act_as, open_door
from osc_console.store.event_store import Store
from tests.cli.conftest import PASSWORD, standalone_workstation

# Exercise control signs as the planner running it (their password on standard input).
PLANNER = ("--user", "Ana Planner", "--password-stdin")
FAST = ("--speed", "100000", *PLANNER)  # 40 exercise minutes in about 25 milliseconds


def osc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    typed, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
    try:
        code = main(list(args))
    finally:
        sys.stdin = typed
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def desk(tmp_path: Path) -> Path:
    """A standalone workstation whose people include the planner Ana Planner."""
    data = tmp_path / "osc"
    standalone_workstation(data)
    return data


def live_events(data: Path) -> int:
    path = data / "live.db"
    if not path.exists():
        return 0
    with Store.open(path, "live") as store:
        return store.event_count()


def test_shipped_scenario_by_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = desk(tmp_path)
    code, out, err = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data), *FAST)
    assert (code, err) == (0, "")
    scenario = load_shipped("city-flood")
    lines = out.splitlines()
    assert lines[0].startswith("EXERCISE EXERCISE EXERCISE — Bank Deluge")
    assert len(lines) == len(scenario.injects) + 2
    assert "T+00:00  incident opened" in lines[1]
    # 12 incident and log events, 2 messages to the players
    assert lines[-1].startswith("finished: 14 injects released, 0 pending, 14 events")

    assert live_events(data) == 0
    assert not (data / "live.db").exists()
    with Store.open(data / "exercise-city-flood.db", "exercise:city-flood") as store:
        events = list(store.iter_events())
    # ... and the start, and one release mark per inject
    assert len(events) == 14 + 1 + 14
    assert {e.realm for e in events} == {"exercise:city-flood"}


def test_scenario_file_with_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = desk(tmp_path)
    file = tmp_path / "flood.toml"
    file.write_text(shipped_scenario_text("city-flood"), encoding="utf-8")
    code, out, err = osc(
        capsys, "exercise", "run", str(file), "--data-dir", str(data), "--json", *FAST
    )
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["realm"] == "exercise:city-flood"
    assert result["state"] == "finished"
    assert len(result["injects"]) == len(load_shipped("city-flood").injects)
    assert len(result["incidents"]) == 6
    assert live_events(data) == 0


def test_exercise_never_touches_an_existing_live_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = desk(tmp_path)
    code, _, _ = osc(
        capsys,
        "incident",
        "new",
        "--summary",
        "Real call",
        "--grade",
        "priority",
        "--data-dir",
        str(data),
        *PLANNER,
    )
    assert code == 0
    assert live_events(data) == 1
    code, _, err = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data), *FAST)
    assert (code, err) == (0, "")
    assert live_events(data) == 1
    with Store.open(data / "live.db", "live") as live:
        assert {e.realm for e in live.iter_events()} == {"live"}


def test_bad_scenario_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = desk(tmp_path)
    file = tmp_path / "thames.toml"
    file.write_text(
        'name = "T"\nslug = "thames"\ncodeword = "EX EX EX"\nstart = "2026-11-24T10:00:00"\n'
        'duration = 45\n\n[[inject]]\nat = "T+04:00"\nkind = "incident"\nsummary = "S"\n'
        'category = "XYZ"\ngrade = "immediate"\nlocation = "Cornhill"\nsource = "999"\n'
        'lead_agency = "police"\n',
        encoding="utf-8",
    )
    code, out, err = osc(capsys, "exercise", "run", str(file), "--data-dir", str(data), *PLANNER)
    assert code == 1
    assert out == ""
    assert err == (
        "osc-console: error: thames.toml, line 7, inject 1 (at T+04:00), category: "
        "unknown category 'XYZ'\n"
    )
    assert not list(data.glob("exercise-*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-scenario",), "no such scenario file, and no shipped scenario"),
        (("city-flood", "--speed", "0"), "--speed must be more than 0"),
        (("city-flood", "--realm", "live"), "does not match the scenario's realm"),
    ],
)
def test_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    data = desk(tmp_path)
    code, _, err = osc(capsys, "exercise", "run", *args, "--data-dir", str(data), *PLANNER)
    assert code == 1
    assert err.startswith("osc-console: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert not list(data.glob("exercise-*"))


def test_playing_an_exercise_twice_is_refused_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = desk(tmp_path)
    code, _, _ = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data), *FAST)
    assert code == 0
    with Store.open(data / "exercise-city-flood.db", "exercise:city-flood") as store:
        before = store.event_count()
    code, out, err = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data), *FAST)
    assert (code, out) == (1, "")
    assert err.startswith("osc-console: error: exercise city-flood was already started in ")
    assert err.rstrip().endswith("its injects would be released twice")
    assert err.count("\n") == 1
    with Store.open(data / "exercise-city-flood.db", "exercise:city-flood") as store:
        assert store.event_count() == before


def test_a_codeword_another_running_exercise_uses_is_refused_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = desk(tmp_path)
    code, _, _ = osc(capsys, "exercise", "run", "city-flood", "--data-dir", str(data), *FAST)
    assert code == 0  # all injects out, but nobody has ended it: still running
    second = tmp_path / "river.toml"
    text = shipped_scenario_text("city-flood").replace('slug = "city-flood"', 'slug = "river"')
    second.write_text(text.replace("EXERCISE EXERCISE EXERCISE", "exercise  Exercise EXERCISE"))
    code, out, err = osc(capsys, "exercise", "run", str(second), "--data-dir", str(data), *FAST)
    assert (code, out) == (1, "")
    assert err == (
        "osc-console: error: river.toml, line 11, codeword: 'exercise  Exercise EXERCISE' is "
        "already the codeword of exercise:city-flood, which is running; give this exercise "
        "another\n"
    )
    assert not (data / "exercise-river.db").exists()

    # Once that exercise has ended, its codeword may be used again.
    with Store.open(data / "exercise-city-flood.db", "exercise:city-flood") as store:
        door = open_door(data, "CR1")
        try:
            planner = act_as(door, store, "Ana Planner", PASSWORD)
        finally:
            door.close()
        run = ExerciseRun.take_over(store, load_shipped("city-flood"), planner)
        run.stop("ENDEX")
    code, _, err = osc(capsys, "exercise", "run", str(second), "--data-dir", str(data), *FAST)
    assert (code, err) == (0, "")
