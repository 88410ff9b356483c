"""``osc-console user …`` and ``osc-console workstation …``: accounts and enrolled desks.

Run on the server's machine against its database (``--db``, as for ``serve``), or with
``--standalone`` against a standalone workstation's own authority in ``--data-dir``. Every
change is kept in the audit trail as made from the command line, by the system user who ran
it. On a workstation, ``workstation key`` shows the device key an administrator enrols.
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from osc_console.config import workstation_code
from osc_console.models.clock import from_iso, local_label
from osc_console.models.errors import ValidationError
from osc_console.paths import data_dir

AddCommand = Callable[[str, str], argparse.ArgumentParser]


class AccountsCommandError(Exception):
    """A problem worth one line to the operator (cli.py prints it)."""


def add_commands(command: AddCommand, parser_class: type[argparse.ArgumentParser]) -> None:
    user = command("user", "manage the accounts of a server (or of a standalone workstation)")
    usub = user.add_subparsers(
        dest="user_command", metavar="ACTION", required=True, parser_class=parser_class
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = usub.add_parser(name, help=help_text, description=help_text)
        _where(p)
        return p

    add = action("add", "add an account (its password from standard input)")
    add.add_argument("name")
    add.add_argument("--agency", required=True, help="police|corporation|…")
    add.add_argument("--role", required=True, help="call_handler|dispatcher|duty_manager|…")
    add.add_argument("--display-name", default="", help="as colleagues know them")
    add.add_argument("--password-stdin", action="store_true", required=True)
    add.add_argument(
        "--break-glass",
        action="store_true",
        help="the room's emergency account: usable offline at any enrolled desk, every use "
        "recorded",
    )
    add.add_argument(
        "--keep-password",
        action="store_true",
        help="the person typed this password themselves: do not ask them to change it",
    )
    action("list", "list the accounts")
    for name, text in (
        ("disable", "disable an account (its grants end now; it is signed out)"),
        ("enable", "enable a disabled account"),
        ("unlock", "unlock an account locked by failed sign-ins"),
    ):
        action(name, text).add_argument("name")
    role = action("set-role", "grant another role (it applies from the next sign-in)")
    role.add_argument("name")
    role.add_argument("role")
    reset = action("reset-password", "set a new password the person must change at sign-in")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", required=True)
    action("history", "the audit trail: account changes and sign-ins the server saw")

    station = command("workstation", "enrol, list and revoke workstations; show this one's key")
    wsub = station.add_subparsers(
        dest="workstation_command", metavar="ACTION", required=True, parser_class=parser_class
    )
    enrol = wsub.add_parser("enrol", help="enrol a workstation's device key with the server")
    _where(enrol)
    enrol.add_argument("code", help="the workstation's code, e.g. CR1")
    enrol.add_argument("--public-key", required=True, help="as 'workstation key' prints it")
    enrol.add_argument("--agency", required=True, help="whose desk it is: police|corporation")
    listing = wsub.add_parser("list", help="enrolled workstations")
    _where(listing)
    revoke = wsub.add_parser("revoke", help="revoke a workstation: it can no longer sign in")
    _where(revoke)
    revoke.add_argument("code")
    key = wsub.add_parser("key", help="this workstation's code and device key, for enrolment")
    key.add_argument("--data-dir", help="data folder (else OSC_DATA_DIR)")
    key.add_argument("--workstation", help="workstation code, e.g. CR1")
    key.add_argument("--json", action="store_true")


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="the server's database: sqlite:///PATH or postgresql://…")
    _where_key(parser)
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="this workstation's own accounts (a workstation without a server)",
    )
    parser.add_argument("--data-dir", help="data folder (else OSC_DATA_DIR)")
    parser.add_argument("--workstation", help="workstation code, with --standalone")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _where_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--authority-key",
        help="the server's signing key file (default: server-authority.key in the data folder)",
    )


def who() -> str:
    """How a change made here is recorded: from the command line, by this system user."""
    try:
        person = getpass.getuser()
    except (KeyError, OSError):
        person = "unknown"
    return f"command line ({person}@{socket.gethostname()})"


@contextmanager
def _admin(args: argparse.Namespace) -> Iterator[Any]:
    """The administration rules over the chosen database, closed afterwards."""
    from osc_console.server.service import SyncService

    folder = data_dir(getattr(args, "data_dir", None))
    if getattr(args, "standalone", False):
        from osc_console.services.local_authority import LocalAuthority
        from osc_console.services.workstation import open_door

        code = workstation_code(folder, getattr(args, "workstation", None))
        door = open_door(folder, code)
        try:
            if door.local is None:
                raise AccountsCommandError(
                    f"{folder} is a workstation of a server: manage its accounts on the server"
                )
            local: LocalAuthority = door.local
            yield local.service
        finally:
            door.close()
        return
    from osc_console.server.authority_file import AUTHORITY_KEY_FILE, load_authority
    from osc_console.server.backends import open_backend

    backend = open_backend(args.db, folder)
    try:
        key_file = getattr(args, "authority_key", None)
        # The server's signing key: it certifies an enrolled workstation's key and a
        # break-glass account's own key; the database remembers which key is its own.
        authority = load_authority(Path(key_file) if key_file else folder / AUTHORITY_KEY_FILE)
        yield SyncService(backend, authority=authority)
    finally:
        backend.close()


def user(args: argparse.Namespace) -> int:
    command = args.user_command
    password = _password() if command in ("add", "reset-password") else None
    with _admin(args) as service:
        admin = service.admin
        by = who()
        where = "this workstation" if args.standalone else _where_label(service)
        if command == "add":
            assert password is not None
            first_admin = args.role == "admin" and not any(
                u.role == "admin" and u.active for u in admin.users()
            )
            made = admin.add_user(
                by,
                args.name,
                args.agency,
                args.role,
                password,
                display_name=args.display_name,
                break_glass=args.break_glass,
                must_change=not (args.keep_password or first_admin),
            )
            change = "" if not made.must_change else "; they choose a new password at sign-in"
            _say(
                args,
                {"added": made.name},
                f"added {made.name} ({made.agency.value}, {made.role}) to {where}{change}",
            )
        elif command == "list":
            users = admin.users()
            _say(args, {"users": [u.to_wire() for u in users]}, _user_table(users))
        elif command in ("disable", "enable", "unlock"):
            getattr(admin, command)(by, args.name)
            done = {"disable": "disabled", "enable": "enabled", "unlock": "unlocked"}[command]
            _say(args, {done: args.name}, f"{done} {args.name}")
        elif command == "set-role":
            admin.set_role(by, args.name, args.role)
            _say(
                args,
                {"role": args.role},
                f"{args.name} is now {args.role.replace('_', ' ')} (from their next sign-in)",
            )
        elif command == "reset-password":
            assert password is not None
            admin.reset_password(by, args.name, password)
            _say(
                args,
                {"reset": args.name},
                f"reset the password of {args.name}: they choose a new one at their next sign-in",
            )
        elif command == "history":
            entries = admin.audit(0, 1000)
            _say(args, {"entries": [e.to_wire() for e in entries]}, _audit_table(entries))
    return 0


def workstation(args: argparse.Namespace) -> int:
    command = args.workstation_command
    if command == "key":
        return _show_key(args)
    with _admin(args) as service:
        admin = service.admin
        if command == "enrol":
            key_id = admin.enrol_workstation(who(), args.code, args.public_key, args.agency)
            _say(
                args,
                {"workstation": args.code.upper(), "key_id": key_id},
                f"enrolled {args.code.upper()} (key {key_id}) for {args.agency}",
            )
        elif command == "list":
            stations = admin.workstations()
            lines = [
                f"{w['code']:<8} {w['agency']:<12} key {w['key_id']}  enrolled "
                f"{_when(w['enrolled_at'])} by {w['enrolled_by']}"
                + (
                    f"  REVOKED {_when(w['revoked_at'])} by {w['revoked_by']}"
                    if w["revoked_at"]
                    else ""
                )
                for w in stations
            ]
            _say(args, {"workstations": stations}, "\n".join(lines) or "no workstation enrolled")
        elif command == "revoke":
            admin.revoke_workstation(who(), args.code)
            _say(
                args,
                {"revoked": args.code.upper()},
                f"revoked {args.code.upper()}: it can no longer sign in",
            )
    return 0


def _show_key(args: argparse.Namespace) -> int:
    from osc_console.services.identity import WorkstationIdentity
    from osc_console.signing.keys import fingerprint
    from osc_console.store.keyring import Keyring

    folder = data_dir(getattr(args, "data_dir", None))
    code = workstation_code(folder, getattr(args, "workstation", None))
    keyring = Keyring.open(folder)
    try:
        key = WorkstationIdentity(keyring, code).device_key
    finally:
        keyring.close()
    data = {
        "workstation": code,
        "public_key": key.public_key,
        "key_id": key.key_id,
        "fingerprint": fingerprint(key.public_key),
    }
    _say(
        args,
        data,
        f"workstation {code}\npublic key  {key.public_key}\nfingerprint "
        f"{data['fingerprint']}\nan administrator enrols it with: osc-console workstation enrol "
        f"{code} --public-key {key.public_key} --agency AGENCY",
    )
    return 0


def _where_label(service: Any) -> str:
    from osc_console.server.storage import safe_url

    return safe_url(service.backend.url)


def _user_table(users: list[Any]) -> str:
    lines = []
    for u in users:
        state = "active" if u.active else "DISABLED"
        if u.locked_until:
            state += f", LOCKED until {_when(u.locked_until)}"
        if u.must_change:
            state += ", must change password"
        if u.break_glass:
            state += ", BREAK-GLASS"
        lines.append(_printable(f"{u.name:<24} {u.agency:<12} {u.role:<13} {state}"))
    return "\n".join(lines) or "no accounts"


def _audit_table(entries: list[Any]) -> str:
    return (
        "\n".join(
            _printable(
                f"{_when(e.at)}  {e.actor}  {e.action}: {e.subject}"
                + (f" ({e.detail})" if e.detail else "")
                + (f" at {e.workstation}" if e.workstation else "")
            )
            for e in entries
        )
        or "nothing recorded yet"
    )


def _printable(text: str) -> str:
    """What anyone typed at a sign-in (a user name that does not exist, say) reaches this
    record: control characters are shown escaped, never sent to the terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _when(iso: str | None) -> str:
    return local_label(from_iso(iso)) if iso else "-"


def _say(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def _password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise AccountsCommandError("--password-stdin: no password was given on standard input")
    return password


__all__ = ["AccountsCommandError", "ValidationError", "add_commands", "user", "workstation"]
