"""The request pipeline: body decoding, latency, auth, injected failures, errors and recording."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .bodies import read_body
from .core import RATELIMIT_HEADERS_KEY, Core, RateLimitedError
from .errors import DiscordError, json_response, unauthorized
from .faults import FailRule
from .ratelimit import Verdict
from .recording import RecordedRequest

_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Token-authenticated routes: Discord ignores the bot token on these.
_TOKEN_ROUTES = re.compile(r"^/(webhooks/\d+/[^/]+(/.*)?|interactions/\d+/[^/]+/callback)$")
_UNAUTHENTICATED = {"/gateway"}


def build_middleware(core: Core, api_prefix: str) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The single middleware wrapping every HTTP route (the websocket bypasses it)."""

    @web.middleware
    async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/gateway"):
            return await handler(request)
        in_api = request.path.startswith(api_prefix)
        path = request.path[len(api_prefix) :] if in_api else request.path
        resource = request.match_info.route.resource
        record = RecordedRequest(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            route=_route_template(resource, api_prefix, path),
            at=time.monotonic(),
            headers=_redacted_headers(request),
        )
        try:
            response = await _handle(core, request, handler, record, path, in_api)
        except DiscordError as exc:
            response = exc.response()
        except web.HTTPException as exc:
            response = json_response({"message": exc.reason, "code": 0}, status=exc.status)
        except Exception as exc:
            # A bug in the fake: fail the request fast (no 5xx, which discord.py retries with
            # sleeps) and keep the traceback for the test to report.
            _log.exception("fake Discord crashed on %s %s", request.method, path)
            core.internal_errors.append(traceback.format_exc())
            response = json_response(
                {"message": f"fake Discord internal error: {exc!r}", "code": -1}, status=400
            )
        extra = request.get(RATELIMIT_HEADERS_KEY)
        if extra:
            response.headers.update(extra)
        record.status = response.status
        record.response_headers = dict(response.headers)
        record.response = _response_json(response)
        record.finished_at = time.monotonic()
        core.recorder.add(record)
        return response

    return pipeline


async def _handle(
    core: Core,
    request: web.Request,
    handler: Handler,
    record: RecordedRequest,
    path: str,
    in_api: bool,
) -> web.StreamResponse:
    body = await read_body(request)
    record.json = body.json
    record.files = list(body.files)
    delay = core.faults.delay_for(request.method, path)
    if delay > 0:
        await asyncio.sleep(delay)
    needs_auth = in_api and path not in _UNAUTHENTICATED and not _TOKEN_ROUTES.match(path)
    if needs_auth and request.headers.get("Authorization") != f"Bot {core.token}":
        raise unauthorized()
    rule = core.faults.take_failure(request.method, path)
    if rule is not None:
        return _failure(rule)
    return await handler(request)


def _failure(rule: FailRule) -> web.Response:
    if rule.status == 429:
        verdict = Verdict(
            allowed=False,
            headers={"Retry-After": "1", "Via": "1.1 google", "X-RateLimit-Scope": "user"},
            retry_after=rule.retry_after,
        )
        return RateLimitedError(verdict).response()
    if rule.status >= 500:
        message = rule.message or f"{rule.status}: Internal Server Error"
    else:
        message = rule.message or f"{rule.status}: injected failure"
    return json_response({"message": message, "code": rule.code or 0}, status=rule.status)


def _route_template(resource: web.AbstractResource | None, api_prefix: str, path: str) -> str:
    if resource is None:
        return path
    canonical = resource.canonical
    return canonical[len(api_prefix) :] if canonical.startswith(api_prefix) else canonical


def _redacted_headers(request: web.Request) -> dict[str, str]:
    headers = dict(request.headers)
    if "Authorization" in headers:
        headers["Authorization"] = headers["Authorization"].split(" ")[0] + " <redacted>"
    return headers


def _response_json(response: web.StreamResponse) -> Any:
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return None
    raw = response.body
    if not isinstance(raw, bytes | bytearray) or not raw:
        return None
    return json.loads(raw)


async def not_found(request: web.Request) -> web.Response:
    """Catch-all: a JSON 404 naming the route the fake does not implement."""
    return json_response(
        {
            "message": f"404: Not Found (fake has no route for {request.method} {request.path})",
            "code": 0,
        },
        status=404,
    )
