"""Response targets for the dashboard: ``targets.toml`` in the config folder, else defaults.

Targets are a local policy (a force's Immediate attendance standard, a council's service
levels), so a room sets its own without a new release::

    # minutes from the opening of the incident
    [immediate]
    assign = 5
    attend = 15

    [priority]
    attend = 60

A grade not in the file has no target. A file that exists but is wrong raises a
ValidationError naming the file and the fault (the dashboard says so and shows the defaults):
a target silently ignored would make a board read the wrong share met.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from osc_console.models.errors import ValidationError
from osc_console.models.incident import Grade
from osc_console.models.settings_file import read_settings
from osc_console.paths import config_dir
from osc_console.store.dashboard import DEFAULT_TARGETS, ResponseTarget

TARGETS_FILE = "targets.toml"
MAX_MINUTES = 7 * 24 * 60  # a week: anything longer is a typing mistake, not a target


def parse_targets(data: object, source: str = TARGETS_FILE) -> dict[str, ResponseTarget]:
    if not isinstance(data, dict):
        raise ValidationError("targets", f"{source}: give one [grade] table per grade")
    grades = [g.value for g in Grade]
    targets: dict[str, ResponseTarget] = {}
    for grade, table in data.items():
        if grade not in grades:
            raise ValidationError(
                "targets", f"{source}: [{grade}] is not a grade ({', '.join(grades)})"
            )
        if not isinstance(table, dict):
            raise ValidationError("targets", f"{source}: [{grade}] must be a table")
        unknown = set(table) - {"assign", "attend"}
        if unknown:
            raise ValidationError(
                "targets", f"{source}: [{grade}] {sorted(unknown)[0]} is not assign or attend"
            )
        minutes: dict[str, float | None] = {}
        for key in ("assign", "attend"):
            value = table.get(key)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value <= MAX_MINUTES
            ):
                raise ValidationError(
                    "targets",
                    f"{source}: [{grade}] {key} must be minutes from 1 to {MAX_MINUTES} "
                    f"(got {value!r})",
                )
            minutes[key] = None if value is None else float(value)
        targets[grade] = ResponseTarget(minutes["assign"], minutes["attend"])
    return targets


def load_targets(folder: Path) -> Mapping[str, ResponseTarget]:
    """The targets of ``folder/targets.toml``, else :data:`DEFAULT_TARGETS`."""
    path = folder / TARGETS_FILE
    data = read_settings(path, "targets")
    return DEFAULT_TARGETS if data is None else parse_targets(data, str(path))


def configured_targets() -> Mapping[str, ResponseTarget]:
    """The room's targets (``targets.toml`` in the config folder). A wrong file raises."""
    return load_targets(config_dir())
