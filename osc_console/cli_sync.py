"""The server and sync subcommands of ``osc-console``: ``serve``, ``user add``, ``sync``.

Kept beside cli.py so that the console's own commands do not import the server stack.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from osc_console.config import parse_realm, workstation_code
from osc_console.models.clock import from_iso, local_label
from osc_console.paths import data_dir, store_path
from osc_console.store.event_store import Store

AddCommand = Callable[[str, str], argparse.ArgumentParser]


class SyncCommandError(Exception):
    """A problem worth one line to the operator (cli.py prints it)."""


def add_commands(command: AddCommand, parser_class: type[argparse.ArgumentParser]) -> None:
    serve = command("serve", "run the central sync server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: LAN)")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--db", help="sqlite:///PATH or postgresql://… (default: server.db in the data folder)"
    )
    serve.add_argument(
        "--token-hours", type=float, default=12.0, help="how long a sign-in lasts (hours)"
    )

    user = command("user", "manage the users of a server database")
    usub = user.add_subparsers(
        dest="user_command", metavar="ACTION", required=True, parser_class=parser_class
    )
    add = usub.add_parser("add", help="add a user who may sign in to the server")
    add.add_argument("name")
    add.add_argument("--agency", required=True, help="police|corporation|…")
    add.add_argument("--role", required=True, help="call_handler|dispatcher|duty_manager|…")
    add.add_argument("--password-stdin", action="store_true", required=True)
    add.add_argument("--db", help="as for serve")
    add.add_argument("--data-dir", help="data folder (else OSC_DATA_DIR)")

    sync = command("sync", "sync this workstation's store with a server, without the console")
    sync.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8765")
    sync.add_argument("--password-stdin", action="store_true", required=True)
    sync.add_argument("--once", action="store_true", help="one round, then exit")
    sync.add_argument(
        "--verify",
        action="store_true",
        help="with --once: then prove this store and the server hold the same events",
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from osc_console.server.app import create_app
    from osc_console.server.backends import open_backend
    from osc_console.server.service import SyncService
    from osc_console.server.storage import safe_url

    backend = open_backend(args.db, data_dir(getattr(args, "data_dir", None)))
    service = SyncService(backend, token_ttl=timedelta(hours=args.token_hours))
    print(
        f"OSC Console server on http://{args.host}:{args.port} (database {safe_url(backend.url)})",
        flush=True,
    )
    try:
        uvicorn.run(create_app(service), host=args.host, port=args.port, log_level="warning")
    finally:
        backend.close()
    return 0


def user(args: argparse.Namespace) -> int:
    from osc_console.server.backends import open_backend
    from osc_console.server.service import SyncService
    from osc_console.server.storage import safe_url

    password = _password(args)
    backend = open_backend(args.db, data_dir(args.data_dir))
    try:
        made = SyncService(backend).add_user(args.name, args.agency, args.role, password)
    finally:
        backend.close()
    print(f"added {made.name} ({made.agency.value}, {made.role}) to {safe_url(backend.url)}")
    return 0


def sync(args: argparse.Namespace) -> int:
    from osc_console.sync.client import HttpTransport
    from osc_console.sync.engine import SyncEngine, SyncState
    from osc_console.sync.transport import SyncError

    password = _password(args)
    folder = data_dir(getattr(args, "data_dir", None))
    realm = parse_realm(getattr(args, "realm", None))
    code = workstation_code(folder, getattr(args, "workstation", None))
    path = store_path(folder, realm)
    Store.open(path, realm).close()  # refuse a newer or foreign file before going online
    user_name = getattr(args, "user", None)
    if not user_name:
        raise SyncCommandError("--user: say who signs in to the server")

    def report(state: SyncState) -> None:
        if not args.once:
            print(_state_line(state), flush=True)

    engine = SyncEngine(
        lambda: Store.open(path, realm),
        HttpTransport(args.server),
        workstation=code,
        realm=realm,
        server_label=args.server,
        on_state=report,
    )
    engine.sign_in(user_name, password)
    if args.once:
        try:
            result = engine.sync_once()
        except SyncError as exc:
            raise SyncCommandError(str(exc)) from exc
        state = engine.state
        print(
            f"pushed {result.pushed}, pulled {result.pulled}; {state.pending} waiting, "
            f"{state.refused} refused by the server"
        )
        if state.skew_warning:
            print(f"warning: {state.skew_warning}", file=sys.stderr)
        agree = True
        if args.verify:
            try:
                agreement = engine.verify()
            except SyncError as exc:
                raise SyncCommandError(str(exc)) from exc
            print(agreement.line)
            agree = agreement.agree
        return 0 if state.refused == 0 and agree else 1
    engine.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop(timeout=2.0)  # an unfinished long-poll is left to its daemon thread
    return 0


def _state_line(state: Any) -> str:
    when = ""
    if state.last_success:
        when = f", last sync {local_label(from_iso(state.last_success))}"
    extra = f" — {state.message}" if state.message else ""
    return f"{state.status.label}: {state.pending} waiting{when}{extra}"


def _password(args: argparse.Namespace) -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise SyncCommandError("--password-stdin: no password was given on standard input")
    return password
