"""The shift log window: review a shift, hand it over, sign it off, export it."""

from osc_console.ui.shifts.view import ShiftLogWindow

__all__ = ["ShiftLogWindow"]
