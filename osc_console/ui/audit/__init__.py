"""Reviewing who was at the keyboard: the audit window and the break-glass notice."""

from osc_console.ui.audit.notice import BreakGlassNotice
from osc_console.ui.audit.window import AuditWindow

__all__ = ["AuditWindow", "BreakGlassNotice"]
