"""The server's signing key (its authority): kept in a file of its own, never in the database.

A copy of the database then certifies nobody: whoever would forge a grant or a key
certificate needs this file too. Every server process on one database must be given the same
file (the database remembers which key it was set up with, and refuses another).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from pathlib import Path

from osc_console.server.storage import StorageError
from osc_console.signing.authority import Authority
from osc_console.signing.keys import SigningKey

AUTHORITY_KEY_FILE = "server-authority.key"


def load_authority(path: Path, name: str = "server") -> Authority:
    """The key in ``path``, made there (readable by its owner only) if the file is new."""
    path = path.expanduser()
    if not path.exists():
        key = SigningKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another server process made it a moment ago: read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(base64.b64encode(key.seed).decode("ascii") + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
        seed = base64.b64decode(text, validate=True)
        if len(seed) != 32:
            raise ValueError("not 32 bytes")
    except (OSError, ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise StorageError(f"{path} is not a server signing key: {exc}") from exc
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    return Authority(SigningKey.from_seed(seed), name)
