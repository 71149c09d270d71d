"""Errors raised by the memory store.

StoreError
 ├── UnsupportedDatabaseError   the target names a backend this build cannot use
 ├── DatabaseUnavailableError   the file cannot be opened, read or written
 ├── CorruptDatabaseError       the file is not a database, or is damaged
 ├── SchemaTooNewError          the file was written by a newer version of the bot
 ├── MigrationError             a schema migration failed (none of it was applied)
 └── NotFoundError              an id that is not stored (also a LookupError)

Every message names the database file, so a fatal error can be shown to the operator as is.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every memory-store error."""


class UnsupportedDatabaseError(StoreError):
    """The configured target names a backend that is not available."""


class DatabaseFileError(StoreError):
    """An error about one database file; `path` names it."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


class DatabaseUnavailableError(DatabaseFileError):
    """The file cannot be opened, read or written (permissions, disk, a directory...)."""


class CorruptDatabaseError(DatabaseFileError):
    """The file is not an SQLite database or is damaged; it is never replaced."""


class SchemaTooNewError(DatabaseFileError):
    """The schema version is newer than this build knows how to use."""


class MigrationError(DatabaseFileError):
    """A schema migration failed and was rolled back."""


class NotFoundError(StoreError, LookupError):
    """An id (message, reply, ...) that the store does not hold."""
