"""Fixtures for sync tests: a server backend of each kind, and a running server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from osc_console.models.agencies import Agency
from osc_console.server.postgres_backend import PostgresBackend
from osc_console.server.service import SyncService
from osc_console.server.sqlite_backend import SqliteBackend
from osc_console.server.storage import Backend
from tests.sync.harness import ServerThread, add_users, make_service, pg_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        made: Backend = SqliteBackend(tmp_path / "server.db")
        yield made
        made.close()
    else:
        with pg_schema() as dsn:
            made = PostgresBackend(dsn)
            yield made
            made.close()


@pytest.fixture
def service(backend: Backend) -> SyncService:
    made = make_service(backend)
    add_users(
        made,
        ("alice", Agency.POLICE),
        ("bob", Agency.CORPORATION),
        ("carol", Agency.POLICE),
        ("dave", Agency.CORPORATION),
    )
    add_users(made, ("erin", Agency.CORPORATION), role="planner")
    return made


@pytest.fixture
def server(service: SyncService) -> Iterator[ServerThread]:
    running = ServerThread(service).start()
    yield running
    running.stop()
