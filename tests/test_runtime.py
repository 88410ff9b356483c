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


def test_the_charts_load_on_a_helper_thread_once_the_console_is_up() -> None:
    """The first Timeline chart or Dashboard of a session does not wait for pyqtgraph."""
    import subprocess
    import sys

    code = """
import gc, os, sys, threading
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from osc_console.ui.qt import QtWidgets
app = QtWidgets.QApplication([])
assert "pyqtgraph" not in sys.modules, "loaded at start-up already"
from osc_console.app import _settle_in_background
from osc_console.runtime import THRESHOLDS
_settle_in_background()
helper = next(t for t in threading.enumerate() if t.name == "osc-load-ahead")
assert helper is not threading.current_thread()
helper.join(120)
assert "osc_console.ui.timeline.chart" in sys.modules
assert "osc_console.ui.dashboard.panel" in sys.modules
assert gc.get_threshold() == THRESHOLDS
print("loaded ahead")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded ahead"
