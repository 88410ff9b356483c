"""A standalone workstation with its people, for command-line tests that write.

Writing subcommands sign as --user, whose password unlocks their key: these people exist in
the workstation's own authority (as its administrator would have added them), each with
PASSWORD.
"""

from __future__ import annotations

from pathlib import Path

from osc_console.services.local_authority import LocalAuthority
from osc_console.services.workstation import open_door

PASSWORD = "a long enough password"
PEOPLE = {
    "PC Jane Smith": ("police", "dispatcher"),
    "Sam Okafor": ("corporation", "dispatcher"),
    "Ana Planner": ("police", "planner"),
    "Cal Handler": ("police", "call_handler"),
}


def standalone_workstation(data: Path, code: str | None = "CR1") -> str:
    """``data`` becomes workstation ``code`` (None: the code a new folder is given), its own
    authority, with an administrator and PEOPLE as its accounts. Returns the code."""
    import json

    from osc_console.config import WORKSTATION_FILE, workstation_code

    if code is not None:
        data.mkdir(parents=True, exist_ok=True)
        (data / WORKSTATION_FILE).write_text(json.dumps({"code": code}) + "\n", encoding="utf-8")
    code = workstation_code(data)
    door = open_door(data, code)
    try:
        local = door.local
        assert isinstance(local, LocalAuthority)
        if not local.has_accounts:
            local.create_first_administrator("Admin One", "police", PASSWORD)
            for name, (agency, role) in PEOPLE.items():
                local.service.admin.add_user(
                    "test set-up", name, agency, role, PASSWORD, must_change=False
                )
    finally:
        door.close()
    return code
