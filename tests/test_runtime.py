"""The console's process collects garbage rarely once started (osc_console.runtime)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from osc_console.runtime import THRESHOLDS, settle_after_start_up


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_after_start_up_the_objects_made_are_set_aside_and_collections_are_rare(
    collector: None,
) -> None:
    made_at_start_up = [[n] for n in range(1000)]
    settle_after_start_up()
    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700  # CPython's default: a young collection every 700 objects
