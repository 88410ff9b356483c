"""Typed settings, declared once. The workstation's identity lives beside its data.

A workstation code (e.g. ``CR1``) is part of every incident reference and names the
workstation's event chain, so it is fixed per data directory: chosen at first run (or given
with --workstation / OSC_WORKSTATION) and kept in ``workstation.json``.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
from pathlib import Path

from osc_console.models.agencies import Agency
from osc_console.models.errors import ValidationError
from osc_console.models.incident import REALM_PATTERN, WORKSTATION_CODE

WORKSTATION_FILE = "workstation.json"


def workstation_code(data_dir: Path, override: str | None = None) -> str:
    """The code of this data directory's workstation, creating it on first use."""
    wanted = override or os.environ.get("OSC_WORKSTATION")
    if wanted:
        code = wanted.strip().upper()
        if not WORKSTATION_CODE.match(code):
            raise ValidationError(
                "workstation", f"{wanted!r} must be 2 to 8 capital letters or digits, e.g. CR1"
            )
        return code
    path = data_dir / WORKSTATION_FILE
    if path.exists():
        try:
            code = str(json.loads(path.read_text(encoding="utf-8"))["code"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValidationError("workstation", f"{path} is unreadable ({exc})") from exc
        if WORKSTATION_CODE.match(code):
            return code
        raise ValidationError("workstation", f"{path} holds an invalid code {code!r}")
    code = "WS" + secrets.token_hex(2).upper()
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"code": code}) + "\n", encoding="utf-8")
    return code


def parse_agency(value: str | None) -> Agency:
    text = (value or os.environ.get("OSC_AGENCY") or "corporation").strip().lower()
    try:
        return Agency(text)
    except ValueError:
        raise ValidationError(
            "agency", f"{text!r} is not one of {', '.join(a.value for a in Agency)}"
        ) from None


def parse_realm(value: str | None) -> str:
    realm = (value or os.environ.get("OSC_REALM") or "live").strip()
    if not REALM_PATTERN.match(realm):
        raise ValidationError("realm", f"{realm!r} must be 'live' or 'exercise:<slug>'")
    return realm


def default_actor(value: str | None) -> str:
    name = (value or os.environ.get("OSC_USER") or "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
