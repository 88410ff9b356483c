"""`osc-console user add` and `osc-console sync` as an operator types them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from osc_console.cli import main
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from tests.sync.harness import ServerThread

DESK = ("--workstation", "CR1", "--agency", "police", "--user", "PC Jane Smith")


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
    add = (
        "user",
        "add",
        "alice",
        "--agency",
        "police",
        "--role",
        "dispatcher",
        "--password-stdin",
        "--db",
        db,
    )
    assert _run(monkeypatch, capsys, "a long password\n", *add) == (
        0,
        f"added alice (police, dispatcher) to {db}\n",
        "",
    )
    code, _, err = _run(monkeypatch, capsys, "a long password\n", *add)
    assert (code, err) == (1, "osc-console: error: name: a user called 'alice' already exists\n")
    code, _, err = _run(monkeypatch, capsys, "short\n", *add[:2], "bob", *add[3:])
    assert (code, err) == (1, "osc-console: error: password: must be at least 8 characters long\n")
    code, _, err = _run(monkeypatch, capsys, "", *add[:2], "bob", *add[3:])
    assert (code, err) == (
        1,
        "osc-console: error: --password-stdin: no password was given on standard input\n",
    )
    bad_role = (
        "user",
        "add",
        "bob",
        "--agency",
        "police",
        "--role",
        "sheriff",
        "--password-stdin",
        "--db",
        db,
    )
    code, _, err = _run(monkeypatch, capsys, "a long password\n", *bad_role)
    assert code == 1
    assert err.startswith("osc-console: error: role: 'sheriff' is not one of call_handler")


def test_sync_once_pushes_pulls_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = SqliteBackend(tmp_path / "server.db")
    service = SyncService(backend)
    service.add_user("alice", "police", "dispatcher", "a long password")
    server = ServerThread(service).start()
    try:
        data = str(tmp_path / "ws")
        new = (
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
            "--data-dir",
            data,
            *DESK,
        )
        assert _run(monkeypatch, capsys, "", *new)[0] == 0
        sync = (
            "sync",
            "--server",
            server.url,
            "--user",
            "alice",
            "--password-stdin",
            "--once",
            "--verify",
            "--data-dir",
            data,
            "--workstation",
            "CR1",
        )
        code, out, err = _run(monkeypatch, capsys, "a long password\n", *sync)
        assert (code, err) == (0, "")
        assert out == (
            "pushed 1, pulled 0; 0 waiting, 0 refused by the server\n"
            "in agreement with the server: 1 events\n"
        )
        code, _, err = _run(monkeypatch, capsys, "wrong password\n", *sync)
        assert (code, err) == (1, "osc-console: error: user name or password not recognised\n")
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
    code, _, err = _run(monkeypatch, capsys, "a long password\n", *sync)
    assert code == 1
    assert err.startswith("osc-console: error: cannot reach http://127.0.0.1:9:")


def test_a_database_password_never_appears_in_what_is_printed() -> None:
    from osc_console.server.storage import safe_url

    assert safe_url("postgresql://osc:s3cret@db.example:5432/osc") == (
        "postgresql://osc@db.example:5432/osc"
    )
    assert safe_url("sqlite:////var/lib/osc/server.db") == "sqlite:////var/lib/osc/server.db"
