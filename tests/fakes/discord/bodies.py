"""Reading request bodies once: JSON, or multipart with `payload_json` plus files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import DiscordError
from .recording import RecordedFile


@dataclass(frozen=True)
class ParsedBody:
    """A decoded request body."""

    json: Any = None
    files: list[RecordedFile] = field(default_factory=list)


_BODY_KEY = web.RequestKey("fake_discord_body", ParsedBody)


async def read_body(request: web.Request) -> ParsedBody:
    """Decode and cache the body (multipart streams can be read only once)."""
    if _BODY_KEY in request:
        return request[_BODY_KEY]
    parsed = await _decode(request)
    request[_BODY_KEY] = parsed
    return parsed


async def _decode(request: web.Request) -> ParsedBody:
    if not request.body_exists:
        return ParsedBody()
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        payload: Any = None
        files: list[RecordedFile] = []
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files.append(
                    RecordedFile(name, value.filename, value.content_type, value.file.read())
                )
            elif name == "payload_json":
                payload = json.loads(str(value))
        return ParsedBody(payload, files)
    raw = await request.read()
    if not raw:
        return ParsedBody()
    try:
        return ParsedBody(json.loads(raw))
    except ValueError as exc:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from exc


def body_of(request: web.Request) -> ParsedBody:
    """The body decoded by the middleware."""
    return request[_BODY_KEY] if _BODY_KEY in request else ParsedBody()


def json_object(request: web.Request) -> dict[str, Any]:
    """The JSON object body (empty when there is none)."""
    data = body_of(request).json
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DiscordError(400, 50109, "The request body contains invalid JSON.")
    return data


def snowflake_param(request: web.Request, name: str) -> int:
    """A numeric path parameter; anything else is a 404 like Discord's router gives."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise DiscordError(404, 0, f"404: Not Found ({name}={raw!r})")
    return int(raw)


def query_flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter (`1`, `true`)."""
    return request.query.get(name, "").lower() in ("1", "true")
