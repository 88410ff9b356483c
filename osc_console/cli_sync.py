"""The server and sync subcommands of ``osc-console``: ``serve`` and ``sync``.

Kept beside cli.py so that the console's own commands do not import the server stack.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
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
    serve.add_argument("--certfile", help="the server's TLS certificate (PEM): serve https")
    serve.add_argument("--keyfile", help="the private key of --certfile (PEM)")
    serve.add_argument(
        "--allow-http",
        action="store_true",
        help="serve plain http beyond this machine (passwords cross the network in clear)",
    )
    serve.add_argument(
        "--authority-key",
        help="the server's signing key file (default: server-authority.key in the data folder; "
        "made on first start; every server process on one database needs the same)",
    )
    serve.add_argument(
        "--token-hours", type=float, default=12.0, help="how long a sign-in lasts (hours)"
    )
    serve.add_argument(
        "--grant-days",
        type=float,
        default=7.0,
        help="how long a console may sign a person in offline after their last online sign-in",
    )
    serve.add_argument(
        "--lock-after", type=int, default=5, help="consecutive failed sign-ins that lock a name"
    )
    serve.add_argument(
        "--lock-minutes", type=float, default=15.0, help="how long such a lock lasts"
    )

    sync = command("sync", "sync this workstation's store with a server, without the console")
    sync.add_argument("--server", required=True, help="e.g. https://server.example:8765")
    sync.add_argument("--password-stdin", action="store_true", required=True)
    sync.add_argument("--once", action="store_true", help="one round, then exit")
    sync.add_argument(
        "--verify",
        action="store_true",
        help="with --once: then prove this store and the server hold the same events",
    )
    sync.add_argument("--ca-file", help="the certificate authority of the server's certificate")
    sync.add_argument(
        "--allow-http", action="store_true", help="plain http to a server beyond this machine"
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from osc_console.server.app import create_app
    from osc_console.server.authority_file import AUTHORITY_KEY_FILE, load_authority
    from osc_console.server.backends import open_backend
    from osc_console.server.service import SyncService
    from osc_console.server.signin import SignInPolicy
    from osc_console.server.storage import safe_url
    from osc_console.sync.transport import check_server_url

    if bool(args.certfile) != bool(args.keyfile):
        raise SyncCommandError("--certfile and --keyfile go together")
    for name in ("certfile", "keyfile"):
        value = getattr(args, name)
        if value and not Path(value).expanduser().is_file():
            raise SyncCommandError(f"--{name} {value}: no such file")
    if args.lock_after < 1 or args.lock_minutes <= 0 or args.grant_days <= 0:
        raise SyncCommandError("--lock-after, --lock-minutes and --grant-days must be positive")
    scheme = "https" if args.certfile else "http"
    if scheme == "http":
        try:
            check_server_url(f"http://{args.host}:{args.port}", allow_http=args.allow_http)
        except Exception as exc:
            raise SyncCommandError(
                f"--host {args.host} without --certfile/--keyfile would let passwords cross the "
                "network in clear: serve https, or give --allow-http"
            ) from exc
    folder = data_dir(getattr(args, "data_dir", None))
    backend = open_backend(args.db, folder)
    key_file = Path(args.authority_key) if args.authority_key else folder / AUTHORITY_KEY_FILE
    policy = SignInPolicy(
        lock_after=args.lock_after,
        lock_for=timedelta(minutes=args.lock_minutes),
        token_ttl=timedelta(hours=args.token_hours),
        grant_for=timedelta(days=args.grant_days),
    )
    try:
        service = SyncService(backend, authority=load_authority(key_file), policy=policy)
        print(
            f"OSC Console server on {scheme}://{args.host}:{args.port} (database "
            f"{safe_url(backend.url)}; signing key {service.authority.key_id})",
            flush=True,
        )
        uvicorn.run(
            create_app(service),
            host=args.host,
            port=args.port,
            log_level="warning",
            ssl_certfile=args.certfile,
            ssl_keyfile=args.keyfile,
        )
    finally:
        backend.close()
    return 0


def sync(args: argparse.Namespace) -> int:
    from osc_console.services.signin import PasswordChangeNeeded
    from osc_console.services.workstation import open_door
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
    try:
        door = open_door(
            folder, code, args.server, ca_file=args.ca_file, allow_http=args.allow_http
        )
    except SyncError as exc:
        raise SyncCommandError(str(exc)) from exc

    def report(state: SyncState) -> None:
        if not args.once:
            print(_state_line(state), flush=True)

    try:
        result = door.gatekeeper.sign_in(user_name, password, realm, offline=False)
        if isinstance(result, PasswordChangeNeeded):
            raise SyncCommandError(
                f"{result.user} must choose a new password first: sign in at the console"
            )
        reply = door.gatekeeper.last_reply
        assert reply is not None  # signed in online
        with Store.open(path, realm) as store:
            from osc_console.services.identity import register_operator

            register_operator(store, result, door.identity)
        engine = SyncEngine(
            lambda: Store.open(path, realm),
            door.gatekeeper.link,  # type: ignore[arg-type]
            workstation=code,
            realm=realm,
            server_label=args.server,
            on_state=report,
            identity=door.identity,
            certificates=door.keyring.break_glass_keys,
        )
        engine.sign_in(user_name, password)  # kept for signing in again if the token runs out
        engine.adopt(reply)
        return _run_engine(engine, args)
    finally:
        door.keyring.close()


def _run_engine(engine: Any, args: argparse.Namespace) -> int:
    from osc_console.sync.transport import SyncError

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
        engine.transport.close()
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
