"""`osc-console user …`, `workstation …` and `sync` as an operator and an administrator type
them: accounts, enrolment, signing in, and a headless sync."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from osc_console.cli import main
from osc_console.server.authority_file import AUTHORITY_KEY_FILE, load_authority
from osc_console.server.sqlite_backend import SqliteBackend
from tests.sync.harness import ServerThread, make_service

PASSWORD = "a long enough password"
WRITE = (
    "incident",
    "new",
    "--summary",
    "Knife seen",
    "--category",
    "VAP-WEAPON",
    "--grade",
    "immediate",
    "--source",
    "999",
    "--user",
    "alice",
    "--password-stdin",
)


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_stores_a_user_and_refuses_bad_input_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    add = ("user", "add", "alice", "--agency", "police", "--role", "dispatcher")
    where = ("--password-stdin", "--db", db)
    assert _run(monkeypatch, capsys, f"{PASSWORD}\n", *add, *where) == (
        0,
        f"added alice (police, dispatcher) to {db}; they choose a new password at sign-in\n",
        "",
    )
    code, _, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *add, *where)
    assert (code, err) == (1, "osc-console: error: name: a user called 'alice' already exists\n")
    code, _, err = _run(monkeypatch, capsys, "short\n", *add[:2], "bob", *add[3:], *where)
    assert (code, err) == (
        1,
        "osc-console: error: password: must be at least 15 characters long (a few words make "
        "an easy one to remember)\n",
    )
    code, _, err = _run(
        monkeypatch, capsys, "password12345678\n", *add[:2], "bob", *add[3:], *where
    )
    assert (code, err) == (
        1,
        "osc-console: error: password: is one that many people use; choose another\n",
    )
    code, _, err = _run(monkeypatch, capsys, "", *add[:2], "bob", *add[3:], *where)
    assert (code, err) == (
        1,
        "osc-console: error: --password-stdin: no password was given on standard input\n",
    )
    bad_role = ("user", "add", "bob", "--agency", "police", "--role", "sheriff", *where)
    code, _, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *bad_role)
    assert code == 1
    assert err.startswith("osc-console: error: role: 'sheriff' is not one of call_handler")


def test_an_administrator_manages_accounts_and_every_change_is_in_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ("--db", f"sqlite:///{tmp_path / 'server.db'}")

    def osc(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        return _run(monkeypatch, capsys, stdin, *argv, *where)

    assert (
        osc(
            "user",
            "add",
            "root",
            "--agency",
            "police",
            "--role",
            "admin",
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )[0]
        == 0
    )
    assert (
        osc(
            "user",
            "add",
            "alice",
            "--agency",
            "police",
            "--role",
            "call_handler",
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )[0]
        == 0
    )
    assert osc("user", "set-role", "alice", "dispatcher")[1] == (
        "alice is now dispatcher (from their next sign-in)\n"
    )
    assert osc("user", "disable", "alice")[1] == "disabled alice\n"
    assert (
        osc("user", "disable", "alice")[2]
        == "osc-console: error: name: alice is already disabled\n"
    )
    assert osc("user", "enable", "alice")[1] == "enabled alice\n"
    assert osc("user", "unlock", "alice")[2] == "osc-console: error: name: alice is not locked\n"
    assert (
        osc("user", "reset-password", "alice", "--password-stdin", stdin="another long password\n")[
            0
        ]
        == 0
    )
    code, out, _ = osc("user", "disable", "root")
    assert code == 1  # the last administrator cannot be disabled
    code, out, err = osc(
        "user",
        "add",
        "room-glass",
        "--agency",
        "police",
        "--role",
        "dispatcher",
        "--break-glass",
        "--password-stdin",
        stdin="river over the embankment\n",
    )
    assert (code, err) == (0, "")
    code, out, _ = osc("user", "list", "--json")
    users = {u["name"]: u for u in json.loads(out)["users"]}
    assert users["alice"]["role"] == "dispatcher"
    assert users["alice"]["must_change"] is True
    assert users["root"]["must_change"] is False  # the first administrator typed their own
    assert "password_hash" not in users["alice"]
    code, out, _ = osc("user", "history")
    actions = [line.split("  ", 2)[-1] for line in out.splitlines()]
    assert [a.split(":")[0] for a in actions] == [
        "account created",
        "account created",
        "role changed",
        "account disabled",
        "account enabled",
        "password reset",
        "account created",
    ]
    assert "BREAK-GLASS" in osc("user", "list")[1]
    assert all("command line (" in line for line in out.splitlines())


def test_the_history_never_sends_what_someone_typed_at_a_sign_in_to_the_terminal_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name typed at the sign-in is kept in the server's record as typed; printed, its
    control characters are escaped (a terminal escape cannot clear the screen or hide a line)."""
    from osc_console.server.errors import ApiError

    backend = SqliteBackend(tmp_path / "server.db")
    service = make_service(backend, authority=load_authority(tmp_path / AUTHORITY_KEY_FILE))
    with pytest.raises(ApiError):
        service.signin.check_password("x\x1b[2J\x1b[1;1Hgone", "wrong", "10.0.0.9", "CR1")
    backend.close()
    code, out, err = _run(
        monkeypatch,
        capsys,
        "",
        "user",
        "history",
        "--db",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--data-dir",
        str(tmp_path),
    )
    assert (code, err) == (0, "")
    assert "\x1b" not in out
    assert "x\\x1b[2J\\x1b[1;1Hgone" in out


def test_a_workstation_is_enrolled_by_its_key_then_signs_in_writes_and_syncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server_dir = tmp_path / "server"
    backend = SqliteBackend(server_dir / "server.db")
    service = make_service(backend, authority=load_authority(server_dir / AUTHORITY_KEY_FILE))
    service.admin.add_user("set-up", "alice", "police", "dispatcher", PASSWORD, must_change=False)
    server = ServerThread(service).start()
    try:
        ws = ("--data-dir", str(tmp_path / "ws"), "--workstation", "CR1")
        sync = ("sync", "--server", server.url, "--user", "alice", "--password-stdin", "--once")
        # Not enrolled yet: the server says what is needed.
        code, _, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *sync, *ws)
        assert (code, err) == (
            1,
            "osc-console: error: workstation CR1 is not enrolled with this server: an "
            "administrator must enrol it (at this desk, or with 'osc-console workstation "
            "enrol')\n",
        )
        code, out, _ = _run(monkeypatch, capsys, "", "workstation", "key", "--json", *ws)
        key = json.loads(out)
        assert key["workstation"] == "CR1"
        enrol = (
            "workstation",
            "enrol",
            "CR1",
            "--public-key",
            key["public_key"],
            "--agency",
            "police",
            "--data-dir",
            str(server_dir),
        )
        code, out, err = _run(monkeypatch, capsys, "", *enrol)
        assert (code, err) == (0, "")
        assert out.startswith("enrolled CR1 (key ")

        # Signed in once online: alice's key is made and certified; she may now write here.
        code, out, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *sync, *ws)
        assert (code, err) == (0, "")
        assert _run(monkeypatch, capsys, f"{PASSWORD}\n", *WRITE, *ws)[0] == 0
        code, out, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *sync, "--verify", *ws)
        assert (code, err) == (0, "")
        assert out == (
            "pushed 1, pulled 0; 0 waiting, 0 refused by the server\n"
            "in agreement with the server: 1 events\n"
        )
        code, _, err = _run(monkeypatch, capsys, "wrong password\n", *sync, *ws)
        assert (code, err) == (1, "osc-console: error: user name or password not recognised\n")
        # A wrong password offline is refused too: her key does not open.
        code, _, err = _run(monkeypatch, capsys, "wrong password\n", *WRITE, *ws)
        assert code == 1
        assert "not recognised" in err
    finally:
        server.stop()
        backend.close()


def test_sync_to_a_server_that_is_not_there_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sync = (
        "sync",
        "--server",
        "http://127.0.0.1:9",
        "--user",
        "alice",
        "--password-stdin",
        "--once",
        "--data-dir",
        str(tmp_path / "ws"),
        "--workstation",
        "CR1",
    )
    code, _, err = _run(monkeypatch, capsys, f"{PASSWORD}\n", *sync)
    assert code == 1
    assert err.startswith("osc-console: error: cannot reach http://127.0.0.1:9:")


def test_plain_http_to_another_machine_is_refused_unless_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = (
        "--user",
        "alice",
        "--password-stdin",
        "--once",
        "--data-dir",
        str(tmp_path / "ws"),
        "--workstation",
        "CR1",
    )
    code, _, err = _run(
        monkeypatch, capsys, f"{PASSWORD}\n", "sync", "--server", "http://10.0.0.5:8765", *base
    )
    assert code == 1
    assert err == (
        "osc-console: error: http://10.0.0.5:8765 would send passwords and tokens in clear "
        "across the network: use https:// (the server's --certfile and --keyfile), or "
        "--allow-http on a network you trust completely\n"
    )
    code, _, err = _run(
        monkeypatch, capsys, "", "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "srv")
    )
    assert code == 1
    assert "--host 0.0.0.0 without --certfile/--keyfile" in err


def test_a_database_password_never_appears_in_what_is_printed() -> None:
    from osc_console.server.storage import safe_url

    assert safe_url("postgresql://osc:s3cret@db.example:5432/osc") == (
        "postgresql://osc@db.example:5432/osc"
    )
    assert safe_url("sqlite:////var/lib/osc/server.db") == "sqlite:////var/lib/osc/server.db"
