"""Typed application-wide signals: every screen listens to the same few messages."""

from __future__ import annotations

from osc_console.ui.qt import QtCore


class AppSignals(QtCore.QObject):
    # A ChangeSet from a local write or a sync pull: each panel decides whether to redraw.
    changes_applied = QtCore.Signal(object)
    # The incident the operator is looking at (id), or "" for none.
    incident_selected = QtCore.Signal(str)
    # Save state for the status bar: ("saving"|"saved"|"failed", message).
    save_state = QtCore.Signal(str, str)
    # Who is signed in changed (signed in, switched operator, signed out): the Operator or None.
    operator_changed = QtCore.Signal(object)
