"""Response targets come from targets.toml in the config folder; a wrong file is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from osc_console.models.errors import ValidationError
from osc_console.services.targets import configured_targets, load_targets, parse_targets
from osc_console.store.dashboard import DEFAULT_TARGETS, ResponseTarget


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_targets(tmp_path) is DEFAULT_TARGETS


def test_a_file_sets_the_targets_of_each_grade(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text(
        "[immediate]\nassign = 3\nattend = 12.5\n\n[scheduled]\nattend = 240\n", encoding="utf-8"
    )
    assert load_targets(tmp_path) == {
        "immediate": ResponseTarget(3.0, 12.5),
        "scheduled": ResponseTarget(None, 240.0),
    }


def test_the_config_folder_is_where_the_file_is_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "config-here"
    folder.mkdir()
    monkeypatch.setenv("OSC_CONFIG_DIR", str(folder))
    (folder / "targets.toml").write_text("[priority]\nattend = 45\n", encoding="utf-8")
    assert configured_targets() == {"priority": ResponseTarget(None, 45.0)}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"urgent": {"attend": 5}}, "[urgent] is not a grade"),
        ({"immediate": 5}, "[immediate] must be a table"),
        ({"immediate": {"arrive": 5}}, "[immediate] arrive is not assign or attend"),
        ({"immediate": {"attend": 0}}, "[immediate] attend must be minutes from 1 to 10080"),
        ({"immediate": {"attend": "15"}}, "attend must be minutes from 1 to 10080 (got '15')"),
        ({"immediate": {"assign": True}}, "assign must be minutes from 1 to 10080 (got True)"),
    ],
)
def test_a_wrong_target_is_refused_by_name(data: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        parse_targets(data, "targets.toml")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text("[immediate\nattend = 5", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"targets\.toml cannot be read"):
        load_targets(tmp_path)
