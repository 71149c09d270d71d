"""Logging setup: one format for our logs and discord.py's, secrets redacted in every format."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]

_SECRET_PATTERNS = (
    re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+"),
    re.compile(r"(Bot\s+)[A-Za-z0-9._\-]+"),
    re.compile(r"(sk-[a-z]{0,4}-?)[A-Za-z0-9]{8,}"),
)
_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_TEXT_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class Redactor:
    """Masks anything that looks like a credential, plus the configured secrets."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        self._secrets = tuple(s for s in secrets if len(s) >= 6)

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        for pattern in _SECRET_PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text


class RedactingTextFormatter(logging.Formatter):
    """`time LEVEL logger: message` lines; the whole output, traceback included, is redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(_TEXT_FORMAT, _TEXT_DATE_FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The formatted line(s) with secrets masked."""
        return self._redact(super().format(record))


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and (if any) exception."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON with secrets masked in every field."""
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = self._redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self._redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self._redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def make_formatter(log_format: LogFormat, secrets: tuple[str, ...] = ()) -> logging.Formatter:
    """The formatter for `LOG_FORMAT`, masking `secrets` and credential-shaped text."""
    redact = Redactor(secrets)
    if log_format == "json":
        return JsonLinesFormatter(redact)
    return RedactingTextFormatter(redact)


def setup_logging(
    level: str, *, secrets: tuple[str, ...] = (), log_format: LogFormat = "text"
) -> None:
    """Configure the root logger once: lines on stderr in `log_format`, secrets redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(log_format, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    # Its only INFO line is "logging in using static token", noise before a start-up error.
    logging.getLogger("discord.client").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("httpx").setLevel(logging.WARNING)
