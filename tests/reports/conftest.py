"""The late-shift scene of the shift-log tests, reused: reports are checked on the same events."""

from tests.services.test_shift_log import scene

__all__ = ["scene"]
