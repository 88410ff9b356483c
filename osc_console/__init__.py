"""One Safe City Console."""

__version__ = "0.1.0"
