"""The control-room dashboard tab (pyqtgraph charts over store.dashboard figures)."""
