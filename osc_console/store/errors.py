"""Store errors: each says what happened to the file and that nothing was changed."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot do what was asked. The message is for the operator."""


class NotAStoreError(StoreError):
    """The file is not an OSC Console store (not SQLite, corrupt, or another program's)."""


class NewerSchemaError(StoreError):
    """The file was written by a newer OSC Console; it is refused without being touched."""


class StoreWriteError(StoreError):
    """The store could not be written (read-only, disk full, locked). Nothing was saved."""
