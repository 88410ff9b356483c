"""Choosing a backend from a database URL, as ``serve`` and ``user add`` take it."""

from __future__ import annotations

from pathlib import Path

from osc_console.server.storage import Backend, StorageError

DEFAULT_SERVER_FILE = "server.db"


def open_backend(url: str | None, default_dir: Path) -> Backend:
    """``sqlite:///PATH``, a bare path, or ``postgresql://…``; nothing means the default file."""
    if not url:
        from osc_console.server.sqlite_backend import SqliteBackend

        return SqliteBackend(default_dir / DEFAULT_SERVER_FILE)
    if url.startswith(("postgresql://", "postgres://")):
        from osc_console.server.postgres_backend import PostgresBackend

        return PostgresBackend(url)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///")).expanduser()
    elif "://" in url:
        raise StorageError(
            f"{url.split('://', 1)[0]}:// is not a known database; "
            "use sqlite:///PATH or postgresql://…"
        )
    else:
        path = Path(url).expanduser()
    from osc_console.server.sqlite_backend import SqliteBackend

    return SqliteBackend(path)
