"""How the console's Python process is tuned for an operator who must not be kept waiting.

CPython's cyclic garbage collector stops the whole process to walk every object it tracks.
In a console holding an incident of 5,000 entries a full collection took 30-35 ms and, with
CPython's default thresholds, came every second or third incident opened, landing wherever
it fell: in the middle of laying out or painting the timeline (bench/timeline_bench.py).
The console makes little cyclic garbage (entries, incidents and rows are plain trees), so
once it has started it collects far less often, and never walks again the thousands of
objects made at start-up, which live as long as the session anyway.
"""

from __future__ import annotations

import gc

# Allocations (less deallocations) between young collections, and young collections per
# older one. CPython's defaults are 700, 10, 10.
THRESHOLDS = (50_000, 20, 100)


def settle_after_start_up() -> None:
    """Collect once, set the objects made so far aside, and collect rarely from now on.

    Call once the main window is up: the one collection here is the last full walk of the
    start-up objects.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
