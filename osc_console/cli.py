"""The ``osc-console`` command: the console, and subcommands scripts and operators rely on.

Errors are one clear line on stderr and a non-zero exit (1: refused or failed, 2: usage);
``--json`` gives machine-readable output on stdout.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from osc_console import __version__, cli_accounts, cli_sync
from osc_console.config import default_actor, parse_agency, parse_realm, workstation_code
from osc_console.models.agencies import Agency, Classification, Visibility
from osc_console.models.clock import from_iso
from osc_console.models.errors import DomainError, ValidationError
from osc_console.models.events import Author
from osc_console.paths import data_dir, store_path
from osc_console.store.errors import StoreError
from osc_console.store.event_store import Store
from osc_console.sync.transport import SyncError

PROG = "osc-console"


class CommandError(Exception):
    """A problem worth one line to the operator."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line ``osc-console: error: …`` and exit 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        where = f" {command}:" if command else ""
        self.exit(2, f"{PROG}: error:{where} {message} (see {self.prog} --help)\n")


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--data-dir", default=default, help="data folder (else OSC_DATA_DIR)")
    parser.add_argument("--realm", default=default, help="live (default) or exercise:<slug>")
    parser.add_argument("--user", default=default, help="who is acting (else OSC_USER)")
    parser.add_argument("--agency", default=default, help="police|corporation|… (else OSC_AGENCY)")
    parser.add_argument("--workstation", default=default, help="workstation code, e.g. CR1")
    parser.add_argument(
        "--json", action="store_true", default=default, help="machine-readable output"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="One Safe City Console: joint control-room incident console."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, suppress=False)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="fill an empty store with demo data (and, standalone, make demo accounts)",
    )
    parser.add_argument("--server", help="central server URL (https://…)")
    parser.add_argument("--ca-file", help="the certificate authority of the server's certificate")
    parser.add_argument(
        "--allow-http", action="store_true", help="plain http to a server beyond this machine"
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="sign --user in with the password on standard input (no sign-in screen)",
    )
    parser.add_argument(
        "--lock-minutes",
        type=float,
        help="lock the console after this many idle minutes (0: never; else console.toml)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p, suppress=True)
        return p

    demo = command("demo", "fill the store with realistic demo data")
    demo.add_argument("--incidents", type=int, default=2000)
    demo.add_argument("--days", type=int, default=14)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--end",
        help="when the demo period ends (ISO; default now): with --seed, the same data every time",
    )

    incident = command("incident", "create, log and list incidents")
    isub = incident.add_subparsers(
        dest="incident_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    new = isub.add_parser("new", help="open an incident")
    _common(new, suppress=True)
    new.add_argument("--summary", required=True)
    new.add_argument("--category", default="ADM-INFO")
    new.add_argument("--grade", help="immediate|priority|scheduled|rwd")
    new.add_argument("--priority", help="council priority: urgent|high|routine|low")
    new.add_argument("--location", default="Not known")
    new.add_argument("--lat", type=float)
    new.add_argument("--lon", type=float)
    new.add_argument("--camera")
    new.add_argument("--source", default="phone")
    new.add_argument("--lead-agency", help="defaults to your agency")
    new.add_argument("--visibility", default="joint", help="joint|police|corporation")
    new.add_argument("--classification", default="OFFICIAL")
    new.add_argument("--caller-name")
    new.add_argument("--caller-phone")
    new.add_argument("--occurred-at", help="ISO time; without a zone it is London time")
    _writer(new)

    log = isub.add_parser("log", help="add a log entry to an incident")
    _common(log, suppress=True)
    log.add_argument("ref", help="incident reference, e.g. 20261122-CR1-0007")
    log.add_argument("text")
    log.add_argument("--occurred-at")
    log.add_argument("--on-behalf-of")
    log.add_argument("--visibility", help="joint|police|corporation (default: the incident's)")
    _writer(log)

    listing = isub.add_parser("list", help="list incidents, most urgent first")
    _common(listing, suppress=True)
    listing.add_argument("--status", default="open", choices=["open", "closed", "all"])
    listing.add_argument("--search")
    listing.add_argument("--limit", type=int, default=50)

    show = isub.add_parser("show", help="one incident with its timeline")
    _common(show, suppress=True)
    show.add_argument("ref")

    export = command("export", "export records for handing on")
    esub = export.add_subparsers(
        dest="export_command", metavar="WHAT", required=True, parser_class=_Parser
    )
    shift = esub.add_parser(
        "shift", help="a shift's log as a PDF report or CSV (as --agency may see it)"
    )
    _common(shift, suppress=True)
    shift.add_argument("--date", required=True, help="the London date the shift starts on")
    shift.add_argument("--shift", required=True, help="shift name, e.g. early, late, night")
    shift.add_argument("--format", required=True, choices=["pdf", "csv"])
    shift.add_argument("--out", required=True, help="file to write")
    shift.add_argument("--room", default=None, help="room named in the PDF header")

    exercise = command("exercise", "play exercise scenarios (never touches live data)")
    xsub = exercise.add_subparsers(
        dest="exercise_command", metavar="ACTION", required=True, parser_class=_Parser
    )
    run = xsub.add_parser(
        "run", help="play a scenario headless into its exercise store, at --speed times real time"
    )
    _common(run, suppress=True)
    run.add_argument("scenario", help="a scenario .toml file, or the name of a shipped one")
    run.add_argument(
        "--speed", type=float, default=1.0, help="exercise clock speed (600: 10 min/s)"
    )
    _writer(run)
    report = xsub.add_parser(
        "report",
        help="an exercise's after-action timeline (injects against responses) as PDF or CSV",
    )
    _common(report, suppress=True)
    report.add_argument("--format", required=True, choices=["pdf", "csv"])
    report.add_argument("--out", required=True, help="file to write")
    report.add_argument("--room", default=None, help="room named in the PDF header")

    command("check", "verify the log, the chains and rebuild every projection to compare")
    cli_sync.add_commands(command, _Parser)
    cli_accounts.add_commands(command, _Parser)
    return parser


def _writer(parser: argparse.ArgumentParser) -> None:
    """A subcommand that writes signs what it writes, as --user: their password unlocks
    their key (they must have signed in at this workstation before, or it is standalone)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--password-stdin", action="store_true", help="read --user's password from standard input"
    )
    source.add_argument("--password-file", help="read --user's password from this file")
    parser.add_argument("--server", help="sign in to this server (else offline, or standalone)")
    parser.add_argument("--ca-file", help="the certificate authority of the server")
    parser.add_argument("--allow-http", action="store_true", help="plain http beyond this machine")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = _HANDLERS.get(args.command)
        if handler is None:
            return _console(args)
        return handler(args)
    except (
        CommandError,
        cli_sync.SyncCommandError,
        cli_accounts.AccountsCommandError,
        DomainError,
        StoreError,
        SyncError,
        ValueError,
    ) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"{PROG}: error: the store could not be read: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


# ---- helpers -----------------------------------------------------------------------------


def _data_dir(args: argparse.Namespace) -> Path:
    return data_dir(getattr(args, "data_dir", None))


def _open_store(args: argparse.Namespace) -> Store:
    realm = parse_realm(getattr(args, "realm", None))
    return Store.open(store_path(_data_dir(args), realm), realm)


def _reader(args: argparse.Namespace) -> Author:
    """Who is reading (what --agency may see): reading signs nothing."""
    return Author(
        actor=default_actor(getattr(args, "user", None)),
        agency=parse_agency(getattr(args, "agency", None)),
        workstation=workstation_code(_data_dir(args), getattr(args, "workstation", None)),
        realm=parse_realm(getattr(args, "realm", None)),
    )


def _signed_author(args: argparse.Namespace, store: Store) -> Author:
    """--user signed in for this one command, their key unlocked by their password."""
    from osc_console.services.workstation import act_as, open_door

    user = getattr(args, "user", None) or ""
    if not user.strip():
        raise CommandError("--user: say who is writing (they sign what is written)")
    password = _password(args)
    folder = _data_dir(args)
    code = workstation_code(folder, getattr(args, "workstation", None))
    door = open_door(
        folder,
        code,
        getattr(args, "server", None),
        ca_file=getattr(args, "ca_file", None),
        allow_http=getattr(args, "allow_http", False),
    )
    try:
        return act_as(door, store, user, password)
    finally:
        door.close()


def _password(args: argparse.Namespace) -> str:
    path = getattr(args, "password_file", None)
    if path:
        try:
            line = Path(path).expanduser().read_text(encoding="utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"--password-file {path}: cannot be read ({exc})") from exc
        password = line[0] if line else ""
        if not password:
            raise CommandError(f"--password-file {path}: the file is empty")
        return password
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin: no password was given on standard input")
    return password


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _enum(kind: type[Any], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise CommandError(f"--{field}: {value!r} is not one of {allowed}") from None


# ---- subcommands -------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from osc_console.services.demo import DemoSpec, seed_store

    if args.incidents < 1 or args.days < 1:
        raise CommandError("--incidents and --days must be at least 1")
    with _open_store(args) as store:
        if store.event_count():
            raise CommandError(
                f"{store.path} already holds {store.event_count()} events; demo data goes "
                "into an empty store only"
            )
        end = None
        if args.end:
            try:
                end = from_iso(args.end)
            except ValueError:
                raise CommandError(f"--end: {args.end!r} is not a date and time") from None
        spec = DemoSpec(
            incidents=args.incidents, days=args.days, seed=args.seed, realm=store.realm, end=end
        )
        summary = seed_store(store, spec)
        data = asdict(summary)
        _emit(
            args,
            data,
            f"demo data written to {store.path}: {summary.incidents} incidents, "
            f"{summary.events} events ({summary.open_incidents} still open, "
            f"{summary.multi_agency} multi-agency) from {summary.start} to {summary.end}",
        )
    return 0


def _incident(args: argparse.Namespace) -> int:
    from osc_console.services.incidents import (
        IncidentService,
        Location,
        NewIncident,
        incident_summary,
    )

    reader = _reader(args)
    with _open_store(args) as store:
        writing = args.incident_command in ("new", "log")
        author = _signed_author(args, store) if writing else reader
        service = IncidentService(store, author)
        if args.incident_command == "new":
            caller = {"name": args.caller_name or "", "phone": args.caller_phone or ""}
            new = NewIncident(
                summary=args.summary,
                category=args.category,
                source=args.source,
                location=Location(args.location, args.lat, args.lon, args.camera),
                lead_agency=_enum(Agency, args.lead_agency, "lead-agency")
                if args.lead_agency
                else author.agency,
                grade=args.grade,
                council_priority=args.priority,
                caller=caller,
                visibility=_enum(Visibility, args.visibility, "visibility"),
                classification=_enum(Classification, args.classification, "classification"),
                occurred_at=args.occurred_at,
            )
            outcome = service.open_incident(new)
            _emit(args, incident_summary(outcome.incident), f"opened {outcome.incident.ref}")
        elif args.incident_command == "log":
            visibility = (
                _enum(Visibility, args.visibility, "visibility") if args.visibility else None
            )
            outcome = service.add_log(
                args.ref,
                args.text,
                occurred_at=args.occurred_at,
                on_behalf_of=args.on_behalf_of,
                visibility=visibility,
            )
            event = outcome.events[-1]
            _emit(args, event.to_wire(), f"logged on {outcome.incident.ref} ({event.id})")
        elif args.incident_command == "list":
            return _list(args, store, reader.agency)
        elif args.incident_command == "show":
            return _show(args, store, service)
    return 0


def _list(args: argparse.Namespace, store: Store, viewer: Agency) -> int:
    from osc_console.store.queries import QueueFilter, StatusFilter, queue, queue_count

    f = QueueFilter(viewer=viewer, status=StatusFilter(args.status), search=args.search)
    found = queue(store.conn, f, limit=max(1, args.limit))
    total = queue_count(store.conn, f)
    if getattr(args, "json", False):
        print(json.dumps({"total": total, "incidents": [asdict(r) for r in found]}, indent=2))
        return 0
    for r in found:
        grade = r.grade or r.council_priority or "-"
        teams = ",".join(r.assigned_teams) or "-"
        print(
            f"{r.ref}  {grade:<9} {r.status:<11} {r.category or '-':<14} "
            f"{r.location[:28]:<28} {teams}"
        )
    print(f"{len(found)} of {total} shown")
    return 0


def _show(args: argparse.Namespace, store: Store, service: Any) -> int:
    from osc_console.services.incidents import incident_summary
    from osc_console.store.queries import timeline

    state = service.find(args.ref)
    events = timeline(store.conn, state.id, service.author.agency)
    if getattr(args, "json", False):
        data = {"incident": incident_summary(state), "timeline": [e.to_wire() for e in events]}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(f"{state.ref}  {state.status}  {state.value('summary')}")
    for event in events:
        print(f"  {event.occurred_at}  {event.workstation:<6} {event.actor:<16} {event.kind}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from osc_console.store.integrity import check_store

    with _open_store(args) as store:
        report = check_store(store)
    if getattr(args, "json", False):
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for problem in report.problems:
            print(f"PROBLEM {problem}")
        for warning in report.warnings:
            print(f"warning {warning}")
        verdict = "OK" if report.ok else f"FAILED: {len(report.problems)} problem(s)"
        print(
            f"{verdict} — {report.events} events ({report.signed} signed, {report.unsigned} "
            f"unsigned before signing), {report.incidents} incidents, {report.chains} "
            "workstation chains checked"
        )
    return 0 if report.ok else 1


def _export(args: argparse.Namespace) -> int:
    from osc_console.models.clock import london_date, now_utc
    from osc_console.models.shifts import parse_shift_date, parse_shift_name
    from osc_console.reports.files import check_writable
    from osc_console.reports.pdf_pages import ReportError
    from osc_console.reports.shift_report import DEFAULT_ROOM, write_csv, write_pdf
    from osc_console.services.exercise import codeword_of
    from osc_console.services.shifts import build_shift_log, configured_patterns

    patterns = configured_patterns()
    try:
        day = parse_shift_date(args.date)
        pattern = parse_shift_name(args.shift, patterns)
    except ValidationError as exc:
        raise CommandError(exc.message) from exc
    if day > london_date(now_utc()):
        raise CommandError(f"{day.isoformat()} is in the future")
    viewer = parse_agency(getattr(args, "agency", None))
    out = Path(args.out).expanduser()
    try:
        check_writable(out)  # before the store is read: fail fast on a wrong path
        with _open_store(args) as store:
            log = build_shift_log(store, day, pattern.name, viewer, patterns=patterns)
            codeword = codeword_of(store)  # an exercise's export says so on every page
        if args.format == "pdf":
            write_pdf(log, out, room=args.room or DEFAULT_ROOM, codeword=codeword)
        else:
            write_csv(log, out, codeword=codeword)
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    data = {
        "path": str(out),
        "format": args.format,
        "shift": log.window.name,
        "date": day.isoformat(),
        "start": log.window.start_utc.isoformat(),
        "end": log.window.end_utc.isoformat(),
        "viewer": viewer.value,
        "entries": len(log.entries),
        "withheld": dict(log.withheld),
        "signed_off": log.sign_off is not None,
        "classification": log.classification.value,
    }
    withheld = f"; {log.withheld_line}" if log.withheld_line else ""
    _emit(
        args,
        data,
        f"{log.window.title}: {len(log.entries)} entries written to {out}{withheld}",
    )
    return 0


def _exercise(args: argparse.Namespace) -> int:
    if args.exercise_command == "report":
        return _exercise_report(args)
    from osc_console.models.scenario import (
        Scenario,
        parse_scenario,
        shipped_scenario_text,
        shipped_scenarios,
    )
    from osc_console.services.exercise import (
        ExerciseRun,
        Released,
        check_codeword_free,
    )

    path = Path(args.scenario).expanduser()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read ({exc})") from exc
        scenario: Scenario = parse_scenario(text, path.name)
    elif args.scenario in shipped_scenarios():
        text = shipped_scenario_text(args.scenario)
        scenario = parse_scenario(text, f"{args.scenario}.toml")
    else:
        shipped = ", ".join(shipped_scenarios()) or "none"
        raise CommandError(
            f"{args.scenario}: no such scenario file, and no shipped scenario of that name "
            f"(shipped: {shipped})"
        )
    if not args.speed > 0:
        raise CommandError(f"--speed must be more than 0, not {args.speed:g}")
    wanted = getattr(args, "realm", None)
    if wanted and wanted != scenario.realm:
        raise CommandError(
            f"--realm {wanted} does not match the scenario's realm {scenario.realm}; "
            "an exercise is only ever played into its own realm"
        )
    as_json = getattr(args, "json", False)

    def show(released: Released) -> None:
        if not as_json:
            print(released.line(), flush=True)

    directory = _data_dir(args)
    if directory.is_dir():
        check_codeword_free(directory, scenario)
    with Store.open(store_path(directory, scenario.realm), scenario.realm) as store:
        # Exercise control signs as the planner named by --user (their password, their key).
        author = _signed_author(args, store)
        run = ExerciseRun(store, scenario, author, speed=args.speed)
        run.start()  # refused (already started, or ended) before anything is printed
        if not as_json:
            print(f"{scenario.codeword} — {scenario.name} ({scenario.realm}) into {store.path}")
        try:
            summary = run.run_headless(on_release=show)
        except KeyboardInterrupt:
            summary = run.stop("interrupted")
        released = [r.to_dict() for r in run.released.values()]
    if as_json:
        print(json.dumps({**summary.to_dict(), "injects": released}, indent=2, ensure_ascii=False))
    else:
        print(
            f"{summary.state.value}: {summary.released} injects released, {summary.pending} "
            f"pending, {summary.events} events, {len(summary.incidents)} incidents — "
            f"{scenario.codeword}"
        )
    return 0 if summary.pending == 0 else 1


def _exercise_report(args: argparse.Namespace) -> int:
    from osc_console.reports.after_action import export
    from osc_console.reports.files import check_writable
    from osc_console.reports.pdf_pages import ReportError
    from osc_console.services.exercise import after_action_of, exercise_store_path

    viewer = parse_agency(getattr(args, "agency", None))
    path, realm = exercise_store_path(_data_dir(args), getattr(args, "realm", None))
    out = Path(args.out).expanduser()
    try:
        check_writable(out)  # before the store is read: fail fast on a wrong path
        with Store.open(path, realm) as store:
            timeline = after_action_of(store, viewer)
        data, text = export(timeline, args.format, out, room=args.room)
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    _emit(args, data, text)
    return 0


def _console(args: argparse.Namespace) -> int:
    from osc_console.app import run_console

    return run_console(args)


_HANDLERS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    "demo": _demo,
    "incident": _incident,
    "export": _export,
    "check": _check,
    "exercise": _exercise,
    "serve": cli_sync.serve,
    "user": cli_accounts.user,
    "workstation": cli_accounts.workstation,
    "sync": cli_sync.sync,
}
