"""The server speaks TLS, and clients verify it: `serve --certfile --keyfile` with a
certificate made in the test (by trustme), a workstation syncing over https, and a client
that does not trust the certificate refusing to send its password."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from osc_console.cli import main

PASSWORD = "a long enough password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _osc(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *argv: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A certificate authority made here, and the server's certificate and key."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    ca = tmp_path / "room-ca.pem"
    chain = tmp_path / "server-chain.pem"
    key = tmp_path / "server-key.pem"
    authority.cert_pem.write_to_path(str(ca))
    issued.private_key_pem.write_to_path(str(key))
    with chain.open("wb") as handle:
        for blob in issued.cert_chain_pems:
            handle.write(blob.bytes())
    return ca, chain, key


@pytest.fixture
def https_server(
    tmp_path: Path, certificates: tuple[Path, Path, Path]
) -> Iterator[tuple[str, Path]]:
    _, chain, key = certificates
    folder = tmp_path / "server"
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "osc_console",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--certfile",
            str(chain),
            "--keyfile",
            str(key),
            "--data-dir",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OSC_DATA_DIR": str(folder)},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    out, err = process.communicate(timeout=5)
                    raise RuntimeError(f"serve did not start: {out} {err}") from None
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}", folder
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def test_a_workstation_syncs_over_https_and_refuses_a_server_it_cannot_verify(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    certificates: tuple[Path, Path, Path],
    https_server: tuple[str, Path],
) -> None:
    url, server_dir = https_server
    ca = certificates[0]
    db = ("--data-dir", str(server_dir))
    add = ("user", "add", "alice", "--agency", "police", "--role", "dispatcher")
    assert (
        _osc(
            monkeypatch, capsys, f"{PASSWORD}\n", *add, "--password-stdin", "--keep-password", *db
        )[0]
        == 0
    )
    ws = ("--data-dir", str(tmp_path / "ws"), "--workstation", "CR1")
    code, out, _ = _osc(monkeypatch, capsys, "", "workstation", "key", "--json", *ws)
    key = json.loads(out)["public_key"]
    enrol = ("workstation", "enrol", "CR1", "--public-key", key, "--agency", "police", *db)
    assert _osc(monkeypatch, capsys, "", *enrol)[0] == 0

    sync = ("sync", "--server", url, "--user", "alice", "--password-stdin", "--once", *ws)
    # The room's certificate authority is not in the system store: the client refuses to
    # talk (and so never sends the password).
    code, _, err = _osc(monkeypatch, capsys, f"{PASSWORD}\n", *sync)
    assert code == 1
    assert err.startswith(
        f"osc-console: error: the server at {url} is not the server it says it is: its "
        "certificate could not be verified"
    )
    code, out, err = _osc(monkeypatch, capsys, f"{PASSWORD}\n", *sync, "--ca-file", str(ca))
    assert (code, err) == (0, "")
    assert out == "pushed 0, pulled 0; 0 waiting, 0 refused by the server\n"
