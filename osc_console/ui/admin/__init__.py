"""Administering accounts and workstations from the console (administrators, online)."""

from osc_console.ui.admin.window import AdministrationWindow

__all__ = ["AdministrationWindow"]
