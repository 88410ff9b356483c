"""Where files live: platformdirs' locations, overridable by --data-dir or OSC_DATA_DIR.

The override exists so that every test, script and operator can point a whole console at one
folder; nothing else in the program decides a path.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "osc-console"
APP_AUTHOR = "OSC"


def data_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("OSC_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_data_path(APP_NAME, APP_AUTHOR)


def config_dir() -> Path:
    env = os.environ.get("OSC_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return platformdirs.user_config_path(APP_NAME, APP_AUTHOR)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, APP_AUTHOR)


def store_path(directory: Path, realm: str) -> Path:
    """``live.db`` or ``exercise-<slug>.db``: one file per realm, so an exercise never mixes."""
    if realm == "live":
        return directory / "live.db"
    kind, _, slug = realm.partition(":")
    if kind != "exercise" or not slug:
        raise ValueError(f"realm {realm!r} must be 'live' or 'exercise:<slug>'")
    return directory / f"exercise-{slug}.db"


def window_settings_path() -> Path:
    """Window geometry and theme (QSettings INI): the only settings Qt keeps for us."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "window.ini"
