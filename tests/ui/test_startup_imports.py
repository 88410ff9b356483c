"""A console started without a server loads nothing of the network or server stack.

httpx alone took about 0.2 s to import, more than the whole cold-start budget's margin.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_console_imports_no_network_or_server_library_until_a_server_is_set() -> None:
    code = (
        "import sys, osc_console.cli, osc_console.app, osc_console.ui.main_window;"
        "print(sorted(m for m in ('httpx', 'fastapi', 'uvicorn', 'psycopg') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
