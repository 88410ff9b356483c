"""The dashboard's queries spread over several connections give exactly the serial figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from osc_console.models.agencies import Agency
from osc_console.services.demo import DemoSpec, seed_store
from osc_console.store import dashboard as dash
from osc_console.store.event_store import Store

END = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("connections", [1, 2, 3, 4])
def test_concurrent_figures_equal_the_serial_ones(store: Store, connections: int) -> None:
    seed_store(store, DemoSpec(incidents=300, days=5, seed=3, end=END))
    readers = store.read_connections(connections)
    assert len(readers) == connections
    assert readers[0] is store.conn
    for viewer, lead in ((Agency.POLICE, None), (Agency.CORPORATION, Agency.CORPORATION)):
        for start, end in ((END - timedelta(days=5), END), (END, END), (END, END - timedelta(1))):
            serial = dash.dashboard(store.conn, start, end, viewer, lead)
            spread = dash.dashboard_concurrently(readers, start, end, viewer, lead)
            assert spread == serial


def test_read_connections_are_read_only_and_reused(store: Store) -> None:
    import sqlite3

    first = store.read_connections(3)
    again = store.read_connections(2)
    assert again == first[:2]
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        first[1].execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")


def test_no_connection_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one connection"):
        dash.dashboard_concurrently([], END - timedelta(days=1), END, Agency.POLICE)
