"""The room's settings for the console itself: ``console.toml`` in the config folder.

::

    [session]
    # lock a console nobody has touched for this long (minutes; 0: never)
    lock_after_minutes = 10

How long a console may sign someone in offline is the authority's to say (the server's
``--grant-days``; seven days for a standalone workstation), not each console's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from osc_console.models.errors import ValidationError
from osc_console.models.settings_file import read_settings

CONSOLE_FILE = "console.toml"
DEFAULT_LOCK_MINUTES = 10.0


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    lock_minutes: float = DEFAULT_LOCK_MINUTES


def read_console_settings(folder: Path) -> ConsoleSettings:
    """The settings in ``folder/console.toml``; missing means the defaults. A wrong value is
    a ValidationError naming the file and the setting."""
    path = folder / CONSOLE_FILE
    data = read_settings(path, "console")
    if data is None:
        return ConsoleSettings()
    session = data.get("session", {})
    if not isinstance(session, dict):
        raise ValidationError("console", f"{path}: [session] must be a table")
    minutes = session.get("lock_after_minutes", DEFAULT_LOCK_MINUTES)
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 <= minutes <= 24 * 60
    ):
        raise ValidationError(
            "console", f"{path}: lock_after_minutes must be a number of minutes from 0 to 1440"
        )
    return ConsoleSettings(float(minutes))
