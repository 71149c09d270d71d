"""A postgresql:// URL: the store's own query parameters, pool options, a redacted form,
and driver errors turned into store errors that name it by that form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

from bot.memory.backend import ConflictError
from bot.memory.errors import CorruptDatabaseError, DatabaseFileError, DatabaseUnavailableError

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
"""What asyncpg raises when a statement or a connection fails."""

_CORRUPT_STATES = {"XX001", "XX002"}
_UNSTORABLE_TEXT_STATES = {"22021", "22P05"}
_UNAVAILABLE_STATES = {"25006", "25P03", "42501"}
# Connection, authentication, unknown database, out of resources, operator intervention
# (which includes statement timeouts and server shutdowns).
_UNAVAILABLE_CLASSES = {"08", "28", "3D", "53", "57"}


def translate_error(exc: BaseException, target: PostgresTarget) -> DatabaseFileError:
    """The store error for a driver error, naming the database by its redacted URL."""
    detail = target.scrub(str(exc)) or ("timed out" if isinstance(exc, TimeoutError) else "")
    detail = detail or type(exc).__name__
    state = getattr(exc, "sqlstate", None)
    if not isinstance(state, str):
        return DatabaseUnavailableError(target.display, f"cannot reach the database ({detail})")
    if state == "23505":
        return ConflictError(target.display, f"database error: {detail}")
    if state in _UNSTORABLE_TEXT_STATES:
        return DatabaseFileError(
            target.display, f"text PostgreSQL cannot store, such as NUL (U+0000): {detail}"
        )
    if state in _CORRUPT_STATES:
        return CorruptDatabaseError(
            target.display,
            f"the server reports damaged data ({detail}); restore the database from a backup",
        )
    if state in _UNAVAILABLE_STATES or state[:2] in _UNAVAILABLE_CLASSES:
        return DatabaseUnavailableError(target.display, f"cannot use the database ({detail})")
    return DatabaseFileError(target.display, f"database error: {detail}")


_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})

_PARAMETERS: dict[str, tuple[str, type[float] | None, float]] = {
    "pool_min_size": ("min_size", int, 0),
    "pool_max_size": ("max_size", int, 1),
    "statement_cache_size": ("statement_cache_size", int, 0),
    "connect_timeout": ("connect_timeout", float, 0.001),
    "statement_timeout": ("statement_timeout", None, 0),
    "idle_in_transaction_session_timeout": ("idle_in_transaction_timeout", None, 0),
}
"""The store's own URL parameters: the `PoolOptions` field each sets, its number type (None:
text, as PostgreSQL reads it) and least value."""


@dataclass(frozen=True, slots=True)
class PoolOptions:
    """How the store connects: pool bounds and timeouts."""

    min_size: int = 1
    max_size: int = 10
    connect_timeout: float = 10.0
    """Seconds to open one connection (or to wait for a free one in the pool)."""
    statement_timeout: str = "30s"
    """PostgreSQL's `statement_timeout`; the server cancels statements that run longer."""
    idle_in_transaction_timeout: str = "60s"
    """A transaction left open this long (a hung process) is ended by the server."""
    statement_cache_size: int = 100
    """Prepared statements kept per connection; 0 behind PgBouncer's transaction pooling."""

    def server_settings(self) -> dict[str, str]:
        """The settings every pooled connection starts with."""
        return {
            "statement_timeout": self.statement_timeout,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_timeout,
        }


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A parsed database URL: what asyncpg gets, the options, and what logs may show."""

    dsn: str
    """The URL without the store's own parameters (it may hold a password: never show it)."""
    options: PoolOptions
    display: str
    """The URL with any password replaced by `***`; the only form used in messages."""

    def __repr__(self) -> str:
        return f"PostgresTarget({self.display!r}, {self.options!r})"

    def scrub(self, text: str) -> str:
        """`text` with the URL's passwords replaced by `***` (for driver error messages)."""
        parts = urlsplit(self.dsn)
        secrets = {value for key, value in parse_qsl(parts.query) if key in _SECRET_PARAMETERS}
        if parts.password:
            secrets |= {parts.password, unquote(parts.password)}
        for secret in sorted(filter(None, secrets), key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def redact(url: str) -> str:
    """The URL with passwords (in the user part or the query) replaced by `***`."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:***{at}{hosts}"
    query = [
        (key, "***" if key in _SECRET_PARAMETERS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*/:")))


def parse_target(url: str, defaults: PoolOptions | None = None) -> PostgresTarget:
    """Split the store's own query parameters (`_PARAMETERS`, documented in the README) out
    of a postgresql:// URL; `defaults` stand for those it leaves out.

    Every other parameter goes to asyncpg as is: libpq ones (`sslmode`, `host`,
    `passfile`...) are connection options, the rest server settings (`search_path`,
    `application_name`, which defaults to `ensemble`...).

    Raises:
        DatabaseFileError: a parameter of the store's has a value it cannot use.

    """
    display = redact(url)
    options = defaults or PoolOptions()
    parts = urlsplit(url)
    passed_on = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _PARAMETERS:
            passed_on.append((key, value))
            continue
        field, kind, minimum = _PARAMETERS[key]
        setting: Any = value if kind is None else _number(display, key, value, kind, minimum)
        options = replace(options, **{field: setting})
    if "application_name" not in {key for key, _ in passed_on}:
        passed_on.append(("application_name", "ensemble"))
    if options.min_size > options.max_size:
        raise DatabaseFileError(display, "pool_min_size is larger than pool_max_size")
    dsn = urlunsplit(parts._replace(query=urlencode(passed_on)))
    return PostgresTarget(dsn=dsn, options=options, display=display)


def _number(display: str, key: str, value: str, kind: type[float], minimum: float) -> float:
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum:
        raise DatabaseFileError(
            display, f"URL parameter {key}={value!r} must be a number of at least {minimum}"
        )
    return number
