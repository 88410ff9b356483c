"""UUIDv7 identifiers made on the workstation.

The id is the idempotency key across every replica, so it must never collide: 48 bits of
millisecond time, then 74 random bits (RFC 9562). Within one process a counter in the
random field keeps ids made in the same millisecond strictly increasing, which keeps the
primary-key index append-friendly.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_lock = threading.Lock()
_last_ms = 0
_last_rand_a = 0


def uuid7(now_ms: int | None = None) -> str:
    """A new UUIDv7 as a lower-case string."""
    global _last_ms, _last_rand_a
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & ((1 << 62) - 1)
    if now_ms is not None:
        # An id for a given time (imports, benchmarks): leaves the live sequence alone.
        ms = now_ms
    else:
        with _lock:
            ms = int(time.time() * 1000)
            if ms <= _last_ms:
                ms = _last_ms
                rand_a = _last_rand_a + 1
                if rand_a >= 1 << 12:  # 4096 ids in one millisecond: borrow the next one
                    ms += 1
                    rand_a = 0
            _last_ms, _last_rand_a = ms, rand_a
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return str(uuid.UUID(int=value))


def is_uuid(text: object) -> bool:
    return isinstance(text, str) and bool(_UUID_RE.match(text))
