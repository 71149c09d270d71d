"""A log of every HTTP request the fake served, with predicates and waiting."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedFile:
    """A file uploaded in a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One HTTP call: what was asked, what the fake answered, and when (monotonic seconds)."""

    method: str
    path: str
    """Path relative to the API base, e.g. `/channels/123/messages` (full path otherwise)."""
    query: dict[str, str]
    json: Any
    """The JSON body, or the decoded `payload_json` of a multipart body; None if absent."""
    files: list[RecordedFile] = field(default_factory=list)
    status: int = 0
    response: Any = None
    route: str = ""
    """The route template that matched, e.g. `/channels/{channel_id}/messages`."""
    at: float = 0.0
    """`time.monotonic()` when the request arrived."""
    finished_at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    """Request headers (the Authorization value is redacted)."""
    response_headers: dict[str, str] = field(default_factory=dict)

    def matches(
        self, method: str | None = None, path_glob: str | None = None, status: int | None = None
    ) -> bool:
        """Whether this request has the method, a path matching the glob and the status."""
        if method is not None and self.method != method.upper():
            return False
        if path_glob is not None and not fnmatch.fnmatchcase(self.path, path_glob):
            return False
        return status is None or self.status == status


class Recorder:
    """Keeps finished requests in arrival order and wakes waiters."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._changed = asyncio.Event()

    def add(self, record: RecordedRequest) -> None:
        """Store a finished request."""
        self.requests.append(record)
        self.poke()

    def poke(self) -> None:
        """Wake everything waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    def select(
        self, method: str | None = None, path_glob: str | None = None, status: int | None = None
    ) -> list[RecordedRequest]:
        """Finished requests matching all given filters."""
        return [r for r in self.requests if r.matches(method, path_glob, status)]

    async def wait_changed(self, timeout: float) -> None:
        """Sleep until the next state change or `timeout`, whichever comes first."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def describe_recent(self, count: int = 15) -> str:
        """A short multi-line summary of the last requests, for timeout messages."""
        lines = [
            f"  {r.method} {_redact_token(r.path)} -> {r.status}" for r in self.requests[-count:]
        ]
        return "\n".join(lines) or "  (no requests)"


_TOKEN_IN_PATH = re.compile(r"^(/(?:webhooks|interactions)/\d+/)[^/]+")


def _redact_token(path: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1<token>", path)


RequestPredicate = Callable[[RecordedRequest], bool]
