"""The room's own settings files (``shifts.toml``, ``targets.toml``): TOML in the config folder.

A missing file means the defaults; a file that exists but cannot be read or parsed is an
error naming the file, never a quiet fall-back: a wrong roster or target would mislabel
reports and figures.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from osc_console.models.errors import ValidationError


def read_settings(path: Path, field: str) -> dict[str, Any] | None:
    """The parsed file, or None when there is none; ``field`` names it in an error."""
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(field, f"{path} cannot be read: {exc}") from None
