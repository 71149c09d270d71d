"""Errors raised while reading, validating or writing character cards."""

from __future__ import annotations


class CardError(ValueError):
    """A card could not be read, is invalid, or could not be written.

    The message always names the source (a file name or path) and, when one field is at
    fault, that field::

        CardError                 any problem with a card; `source`, `field`, `reason`
        ├── CardFormatError       the container or encoding is broken (PNG, base64, JSON, TOML)
        ├── CardTooLargeError     a file, PNG chunk or field is over its size limit
        ├── CardFieldError        a field is missing, of the wrong type or out of range
        └── PersonaFolderError    the personas folder itself is missing or unreadable
    """

    def __init__(self, source: str, reason: str, *, field: str | None = None) -> None:
        self.source = source
        self.reason = reason
        self.field = field
        where = f"{source}: field '{field}'" if field else f"{source}:"
        super().__init__(f"{where} {reason}")


class CardFormatError(CardError):
    """The file is not a readable card: bad PNG, bad base64, bad JSON or TOML, wrong kind."""


class CardTooLargeError(CardError):
    """A file, an embedded text chunk or a field is larger than its limit."""


class CardFieldError(CardError):
    """A field is missing, has the wrong type or holds a value out of range."""


class PersonaFolderError(CardError):
    """The personas folder is missing, not a folder, or cannot be read."""
