"""A fake M2-her server speaking OpenRouter's and MiniMax's streaming formats, on loopback.

    async with FakeModelServer(api_key="k") as fm:
        fm.script(Reply("Hello there."), HttpError(429, retry_after=2), endpoint="openrouter")
        client = LLMClient(http, provider="openrouter", api_key="k",
                           base_url=fm.base_url_openrouter)
        ...
        fm.requests[0].body["messages"]

Endpoints: `POST /chat/completions` (OpenRouter shape) and `POST /v1/text/chatcompletion_v2`
(MiniMax native shape). Each request takes the next scripted item for its endpoint, else the
next global one, else `default_reply` (an echo of the last message). A scripted item is a
`Reply` (a stream, optionally broken: mid-stream error, filter flag, disconnect, stall, no
finish reason; or carrying MiniMax sensitivity flags on a normal reply), an `HttpError`
(status + body before the first byte) or a `ProviderError` (an HTTP-200 error: MiniMax
`base_resp` as an event, as a plain JSON body, or as a bare JSON body served as
`text/event-stream`; OpenRouter's first-event `error` chunk).
Server modes imitate endpoints: `rejects_roles` (HTTP 400 / 2013 naming the roles),
`roles_fail_with_500` (HTTP 500 "unknown error" on the roles, as reported for one endpoint),
`rejects_invisible` (MiniMax 1042 when a message holds invisible characters), and
`caches_prefixes` (`cached_tokens` from the prefix shared with the previous request).
Every request is recorded (`fm.requests`) with monotonic arrival, first- and last-token times.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

__all__ = [
    "MINIMAX_PATH",
    "OPENROUTER_PATH",
    "ROLEPLAY_ROLES",
    "FakeModelServer",
    "HttpError",
    "ProviderError",
    "RecordedRequest",
    "Reply",
    "Script",
    "echo_reply",
]

Endpoint = Literal["openrouter", "minimax"]
OPENROUTER_PATH = "/chat/completions"
MINIMAX_PATH = "/v1/text/chatcompletion_v2"
ROLEPLAY_ROLES = frozenset({"user_system", "group", "sample_message_user", "sample_message_ai"})
KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
MAX_OUTPUT_TOKENS = 2048


@dataclass(frozen=True)
class Reply:
    """A streamed answer; the `*_after` fields break it after that many content chunks."""

    text: str = "Hello from the fake model."
    chunks: tuple[str, ...] | None = None
    """Explicit pieces; by default `text` is split after each whitespace run."""
    chunk_delay: float = 0.0
    """Seconds between content chunks."""
    first_byte_delay: float = 0.0
    """Seconds before the response headers (nothing at all is sent meanwhile)."""
    keepalives: int | None = None
    """`: OPENROUTER PROCESSING` comments after the headers (default 1 OpenRouter, 0 MiniMax)."""
    keepalive_interval: float = 0.0
    """Seconds between those comments (time to first token that still shows life)."""
    finish_reason: str | None = "stop"
    """"stop", "length", ...; None ends the stream cleanly without any finish reason."""
    prompt_tokens: int | None = None
    """Default: a rough estimate from the request's message lengths."""
    completion_tokens: int | None = None
    """Default: the number of content chunks."""
    cached_tokens: int = 0
    cost: float | None = 0.00042
    """OpenRouter `usage.cost`; MiniMax never reports it."""
    done: bool | None = None
    """Send `data: [DONE]` at the end (default: OpenRouter yes, MiniMax no)."""
    error_after: int | None = None
    """Send the provider's mid-stream error event after this many chunks, then end."""
    error_code: int | str | None = None
    """Default "server_error" (OpenRouter) / 1000 (MiniMax)."""
    error_message: str = "Provider disconnected unexpectedly"
    output_sensitive_after: int | None = None
    """MiniMax: an `output_sensitive` chunk, then the stream ends without a finish reason;
    OpenRouter: `finish_reason: content_filter`."""
    input_flag: int | None = None
    """MiniMax: every chunk and the aggregate say `input_sensitive: true` with this type."""
    output_flag: int | None = None
    """MiniMax: every chunk and the aggregate say `output_sensitive: true` with this type."""
    disconnect_after: int | None = None
    """Drop the TCP connection (no chunked terminator) after this many chunks."""
    stall_after: int | None = None
    """Go silent after this many chunks for `stall_seconds`, then carry on."""
    stall_seconds: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)

    def pieces(self) -> tuple[str, ...]:
        """The content chunks this reply streams."""
        if self.chunks is not None:
            return self.chunks
        return tuple(re.findall(r"\S+\s*|\s+", self.text))


@dataclass(frozen=True)
class HttpError:
    """A failure before the first byte: an HTTP error status with a provider-shaped body."""

    status: int
    message: str = ""
    retry_after: float | str | None = None
    """Sent as the `Retry-After` header when set."""
    code: int | str | None = None
    """OpenRouter `error.code` (default: the status). MiniMax: an int gives a `base_resp`
    body; otherwise the body is `{"type": "error", "error": {...}}` as seen on HTTP 500."""
    metadata: Mapping[str, Any] | None = None
    """OpenRouter `error.metadata` (e.g. moderation `reasons`, `flagged_input`)."""
    body: str | bytes | None = None
    """A raw body replacing the default shape."""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    first_byte_delay: float = 0.0


@dataclass(frozen=True)
class ProviderError:
    """An HTTP-200 error: MiniMax `base_resp` / OpenRouter `error`, as SSE or a plain JSON body."""

    code: int | str
    message: str = "error"
    sse: bool = True
    input_sensitive: bool = False
    """MiniMax: also set `input_sensitive: true` (with type 1)."""
    retry_after: float | None = None
    bare: bool = False
    """MiniMax: the JSON body alone (no `data:` prefix) under `text/event-stream`."""


Script = Reply | HttpError | ProviderError


@dataclass
class RecordedRequest:
    """One request the fake received, and when it streamed what."""

    endpoint: Endpoint
    path: str
    headers: dict[str, str]
    """All request headers; the Authorization value is replaced by "<redacted>"."""
    body: Any
    """The parsed JSON body (None if it was not JSON)."""
    arrived_at: float
    """`time.monotonic()` when the request was read."""
    authorized: bool
    client_port: int | None = None
    """The client's TCP port: equal ports on two requests mean a reused pooled connection."""
    item: Script | None = None
    """What answered it (None if rejected before scripting: auth, roles, parameters)."""
    first_token_at: float | None = None
    last_token_at: float | None = None
    finished_at: float | None = None
    client_gone: bool = False
    """The client hung up before the fake finished writing."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The `messages` array sent, or [] if there was none."""
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        if not isinstance(messages, list):
            return []
        return [m for m in messages if isinstance(m, dict)]

    @property
    def roles(self) -> list[str]:
        """The role of every message, in order."""
        return [str(m.get("role")) for m in self.messages]


def echo_reply(request: RecordedRequest) -> Reply:
    """The default answer: "Echo: " plus the last message's content (cut to 200 chars)."""
    messages = request.messages
    last = messages[-1].get("content", "") if messages else ""
    return Reply(text=f"Echo: {str(last)[:200]}")


class FakeModelServer:
    """aiohttp app on 127.0.0.1:<free port> imitating OpenRouter and MiniMax M2-her streams."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        rejects_roles: bool = False,
        roles_fail_with_500: bool = False,
        rejects_invisible: bool = False,
        caches_prefixes: bool = False,
        check_auth: bool = True,
        default_reply: Reply | Callable[[RecordedRequest], Reply] = echo_reply,
    ) -> None:
        self.api_key = api_key
        self.rejects_roles = rejects_roles
        """Answer HTTP 400 (OpenRouter) / base_resp 2013 (MiniMax) to M2-her's extra roles."""
        self.roles_fail_with_500 = roles_fail_with_500
        """Answer HTTP 500 "unknown error, 999 (1000)" to the extra roles (no role named)."""
        self.rejects_invisible = rejects_invisible
        """Answer MiniMax 1042 when any message holds a format or control character."""
        self.caches_prefixes = caches_prefixes
        """Report `cached_tokens` for the prefix a request shares with the previous one."""
        self._previous_body = ""
        self.check_auth = check_auth
        self.default_reply = default_reply
        self.requests: list[RecordedRequest] = []
        self._queues: dict[Endpoint | None, deque[Script]] = {
            None: deque(),
            "openrouter": deque(),
            "minimax": deque(),
        }
        self._ids = itertools.count(1)
        self.cached_prefix_chars: list[int] = []
        """With `caches_prefixes`: the shared prefix length of each request, in characters."""
        self._arrival = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> FakeModelServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on 127.0.0.1 with a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(OPENROUTER_PATH, self._openrouter)
        app.router.add_post(MINIMAX_PATH, self._minimax)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.2, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening and cancel streams still running."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The TCP port the fake listens on."""
        return self._port

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url_openrouter(self) -> str:
        """Base URL for an OpenRouter client (it appends /chat/completions)."""
        return self.url

    @property
    def base_url_minimax(self) -> str:
        """Base URL for a MiniMax client (it appends /v1/text/chatcompletion_v2)."""
        return self.url

    def script(self, *items: Script, endpoint: Endpoint | None = None) -> None:
        """Queue answers for the next requests to `endpoint` (None: to either endpoint)."""
        self._queues[endpoint].extend(items)

    def pending(self, endpoint: Endpoint | None = None) -> int:
        """How many scripted answers are still queued for `endpoint` (None: the global queue)."""
        return len(self._queues[endpoint])

    def requests_to(self, endpoint: Endpoint) -> list[RecordedRequest]:
        """The recorded requests that went to one endpoint."""
        return [r for r in self.requests if r.endpoint == endpoint]

    async def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least `count` requests arrived; TimeoutError after `timeout` s."""
        async with asyncio.timeout(timeout), self._arrival:
            await self._arrival.wait_for(lambda: len(self.requests) >= count)
        return self.requests

    # --- request handling -------------------------------------------------------------

    async def _openrouter(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "openrouter")

    async def _minimax(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "minimax")

    async def _handle(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        presented = request.headers.get("Authorization", "")
        headers = dict(request.headers)
        if "Authorization" in headers:
            headers["Authorization"] = "<redacted>"
        peer = request.transport.get_extra_info("peername") if request.transport else None
        record = RecordedRequest(
            endpoint=endpoint,
            path=request.path,
            headers=headers,
            body=body,
            arrived_at=time.monotonic(),
            authorized=presented == f"Bearer {self.api_key}",
            client_port=peer[1] if peer else None,
        )
        self.requests.append(record)
        async with self._arrival:
            self._arrival.notify_all()
        try:
            return await self._answer(request, endpoint, record, presented)
        finally:
            record.finished_at = time.monotonic()

    async def _answer(
        self, request: web.Request, endpoint: Endpoint, record: RecordedRequest, presented: str
    ) -> web.StreamResponse:
        if self.check_auth and not record.authorized:
            return self._unauthorized(endpoint, presented)
        rejection = self._reject(endpoint, record)
        if rejection is not None:
            return rejection
        if self.caches_prefixes:
            self._note_prefix(record)
        item = self._next_item(endpoint, record)
        record.item = item
        stream = _Stream(self, request, endpoint, record)
        try:
            if isinstance(item, HttpError):
                return await stream.http_error(item)
            if isinstance(item, ProviderError):
                return await stream.provider_error(item)
            return await stream.reply(item)
        except (ConnectionError, asyncio.CancelledError):
            record.client_gone = True
            raise

    def _next_item(self, endpoint: Endpoint, record: RecordedRequest) -> Script:
        for queue in (self._queues[endpoint], self._queues[None]):
            if queue:
                return queue.popleft()
        default = self.default_reply
        return default if isinstance(default, Reply) else default(record)

    def _unauthorized(self, endpoint: Endpoint, presented: str) -> web.Response:
        # Echoing the presented credential is deliberate: the client must redact it.
        detail = f"invalid credentials: {presented or '(none)'}"
        if endpoint == "openrouter":
            return web.json_response({"error": {"code": 401, "message": detail}}, status=401)
        return web.json_response(
            {"base_resp": {"status_code": 1004, "status_msg": f"login fail: {detail}"}}
        )

    def _note_prefix(self, record: RecordedRequest) -> None:
        text = json.dumps(record.messages, ensure_ascii=False)
        shared = 0
        for mine, theirs in zip(text, self._previous_body, strict=False):
            if mine != theirs:
                break
            shared += 1
        self._previous_body = text
        self.cached_prefix_chars.append(shared)

    def _reject(self, endpoint: Endpoint, record: RecordedRequest) -> web.Response | None:
        """Invalid params, and the refusals of the endpoint modes."""
        problem = _invalid_params(endpoint, record.body)
        extra = sorted(set(record.roles) & ROLEPLAY_ROLES)
        if problem is None and self.rejects_roles and extra:
            problem = f"invalid role(s): {', '.join(extra)}"
        if problem is None and self.roles_fail_with_500 and extra:
            body = {
                "type": "error",
                "error": {
                    "type": "server_error",
                    "message": "unknown error, 999 (1000)",
                    "http_code": "500",
                },
            }
            return web.json_response(body, status=500)
        if problem is None and self.rejects_invisible and _has_invisible(record.messages):
            return web.json_response(
                {"base_resp": {"status_code": 1042, "status_msg": "invisible character ratio"}}
            )
        if problem is None:
            return None
        if endpoint == "openrouter":
            return web.json_response({"error": {"code": 400, "message": problem}}, status=400)
        return web.json_response(
            {"base_resp": {"status_code": 2013, "status_msg": f"invalid params, {problem}"}}
        )

    def next_id(self, endpoint: Endpoint) -> str:
        """A fresh response id in the provider's style."""
        number = next(self._ids)
        return f"gen-fake-{number:06d}" if endpoint == "openrouter" else f"0fake{number:027d}"


def _has_invisible(messages: list[dict[str, Any]]) -> bool:
    """Whether any content holds a format or control character (zero-width, joiners…)."""
    for message in messages:
        for char in str(message.get("content", "")):
            if char not in "\n\t" and unicodedata.category(char) in ("Cf", "Cc"):
                return True
    return False


def _invalid_params(endpoint: Endpoint, body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body is not a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    if endpoint == "openrouter":
        return None
    for name, low, high in (("temperature", 0.0, 1.0), ("top_p", 0.0, 1.0)):
        value = body.get(name)
        if value is not None and not (isinstance(value, int | float) and low < value <= high):
            return f"{name} must be in ({low:g}, {high:g}]"
    tokens = body.get("max_completion_tokens")
    if tokens is not None and not (isinstance(tokens, int) and 1 <= tokens <= MAX_OUTPUT_TOKENS):
        return f"max_completion_tokens must be in [1, {MAX_OUTPUT_TOKENS}]"
    return None


class _Stream:
    """Writes one scripted answer in the endpoint's wire format."""

    def __init__(
        self,
        server: FakeModelServer,
        request: web.Request,
        endpoint: Endpoint,
        record: RecordedRequest,
    ) -> None:
        self.server = server
        self.request = request
        self.endpoint = endpoint
        self.record = record
        self.id = server.next_id(endpoint)
        self.created = int(time.time())
        body = record.body if isinstance(record.body, dict) else {}
        self.model = str(body.get("model") or "M2-her")
        self.name = next(
            (m.get("name") for m in record.messages if m.get("role") == "system" and "name" in m),
            "MiniMax AI",
        )

    # --- the three kinds of answer ------------------------------------------------

    async def http_error(self, item: HttpError) -> web.Response:
        if item.first_byte_delay:
            await asyncio.sleep(item.first_byte_delay)
        headers = dict(item.headers)
        if item.retry_after is not None:
            headers["Retry-After"] = str(item.retry_after)
        body = item.body if item.body is not None else json.dumps(self._http_error_body(item))
        return web.Response(
            status=item.status,
            body=body.encode() if isinstance(body, str) else body,
            headers={**headers, "Content-Type": item.content_type},
        )

    def _http_error_body(self, item: HttpError) -> dict[str, Any]:
        message = item.message or f"HTTP {item.status}"
        if self.endpoint == "openrouter":
            error: dict[str, Any] = {"code": item.code or item.status, "message": message}
            if item.metadata is not None:
                error["metadata"] = dict(item.metadata)
            return {"error": error}
        if isinstance(item.code, int):
            return {"base_resp": {"status_code": item.code, "status_msg": message}}
        return {
            "type": "error",
            "error": {
                "type": item.code or "server_error",
                "message": message,
                "http_code": str(item.status),
            },
        }

    async def provider_error(self, item: ProviderError) -> web.StreamResponse:
        payload = self._provider_error_payload(item)
        headers = {"Retry-After": str(item.retry_after)} if item.retry_after is not None else {}
        if item.bare:
            return web.Response(
                body=json.dumps(payload).encode(),
                headers={**headers, "Content-Type": "text/event-stream"},
            )
        if not item.sse:
            return web.json_response(payload, headers=headers)
        response = await self._start(headers)
        if self.endpoint == "openrouter":
            await response.write(KEEPALIVE)
        await self._event(response, payload)
        await response.write_eof()
        return response

    def _provider_error_payload(self, item: ProviderError) -> dict[str, Any]:
        if self.endpoint == "openrouter":
            if not item.sse:
                return {"error": {"code": item.code, "message": item.message}}
            return self._openrouter_error_chunk(item.code, item.message)
        payload: dict[str, Any] = {
            "id": self.id,
            "choices": None,
            "created": self.created,
            "model": self.model,
            "object": "chat.completion",
            "usage": None,
            "input_sensitive": item.input_sensitive,
            "input_sensitive_type": 1 if item.input_sensitive else 0,
            "output_sensitive": False,
            "base_resp": {"status_code": item.code, "status_msg": item.message},
        }
        return payload

    async def reply(self, item: Reply) -> web.StreamResponse:
        if item.first_byte_delay:
            await asyncio.sleep(item.first_byte_delay)
        response = await self._start(dict(item.headers))
        keepalives = item.keepalives
        if keepalives is None:
            keepalives = 1 if self.endpoint == "openrouter" else 0
        for index in range(keepalives):
            if index and item.keepalive_interval:
                await asyncio.sleep(item.keepalive_interval)
            await response.write(KEEPALIVE)
        if keepalives and item.keepalive_interval:
            await asyncio.sleep(item.keepalive_interval)
        pieces = item.pieces()
        for index in range(len(pieces) + 1):
            if await self._break_at(index, item, response):
                return response
            if index == len(pieces):
                break
            if index and item.chunk_delay:
                await asyncio.sleep(item.chunk_delay)
            last = index == len(pieces) - 1
            finish = item.finish_reason if last and self.endpoint == "minimax" else None
            await self._event(response, self._flagged(item, self._chunk(pieces[index], finish)))
            now = time.monotonic()
            if self.record.first_token_at is None:
                self.record.first_token_at = now
            self.record.last_token_at = now
        await self._finish(item, pieces, response)
        return response

    # --- pieces of a stream -----------------------------------------------------------

    async def _start(self, headers: Mapping[str, str]) -> web.StreamResponse:
        all_headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        if self.endpoint == "openrouter":
            all_headers["X-Generation-Id"] = self.id
        all_headers.update(headers)
        response = web.StreamResponse(status=200, headers=all_headers)
        await response.prepare(self.request)
        return response

    async def _event(self, response: web.StreamResponse, payload: Any) -> None:
        await response.write(b"data: " + json.dumps(payload).encode() + b"\n\n")

    async def _break_at(self, index: int, item: Reply, response: web.StreamResponse) -> bool:
        """Apply the scripted breakage due after `index` chunks; True if the stream is over."""
        if item.stall_after == index and item.stall_seconds:
            await asyncio.sleep(item.stall_seconds)
        if item.disconnect_after == index:
            transport = self.request.transport
            if transport is not None:
                transport.abort()
            return True
        if item.error_after == index:
            await self._event(response, self._midstream_error(item))
            await response.write_eof()
            return True
        if item.output_sensitive_after == index:
            await self._event(response, self._output_flag())
            await response.write_eof()
            return True
        return False

    async def _finish(
        self, item: Reply, pieces: tuple[str, ...], response: web.StreamResponse
    ) -> None:
        usage = self._usage(item, pieces)
        if self.endpoint == "openrouter":
            if item.finish_reason is not None:
                await self._event(response, self._chunk("", item.finish_reason))
                if item.cost is not None:
                    usage["cost"] = item.cost
                await self._event(response, self._openrouter_usage_chunk(usage))
        elif item.finish_reason is not None:
            if not pieces:
                await self._event(
                    response, self._flagged(item, self._chunk("", item.finish_reason))
                )
            aggregate = self._minimax_aggregate(item, pieces, usage)
            await self._event(response, self._flagged(item, aggregate))
        done = item.done if item.done is not None else self.endpoint == "openrouter"
        if done:
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()

    def _flagged(self, item: Reply, chunk: dict[str, Any]) -> dict[str, Any]:
        """A MiniMax chunk with the reply's scripted sensitivity flags."""
        if self.endpoint != "minimax":
            return chunk
        if item.input_flag is not None:
            chunk.update(input_sensitive=True, input_sensitive_type=item.input_flag)
        if item.output_flag is not None:
            chunk.update(output_sensitive=True, output_sensitive_type=item.output_flag)
        return chunk

    def _usage(self, item: Reply, pieces: tuple[str, ...]) -> dict[str, Any]:
        prompt = item.prompt_tokens
        if prompt is None:
            prompt = sum(len(str(m.get("content", ""))) for m in self.record.messages) // 4 + 1
        completion = item.completion_tokens if item.completion_tokens is not None else len(pieces)
        cached = item.cached_tokens
        if self.server.caches_prefixes and self.server.cached_prefix_chars:
            shared = self.server.cached_prefix_chars[-1]
            cached = min(prompt, shared // 4) if shared >= 1024 else 0
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        return usage

    def _chunk(self, content: str, finish: str | None) -> dict[str, Any]:
        choice: dict[str, Any] = {
            "index": 0,
            "delta": {"role": "assistant", "content": content},
            "finish_reason": finish,
        }
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [choice],
        }
        if self.endpoint == "openrouter":
            chunk["provider"] = "Minimax"
            choice["native_finish_reason"] = finish
        else:
            choice["delta"]["name"] = self.name
            chunk.update(usage=None, input_sensitive=False, output_sensitive=False)
        return chunk

    def _openrouter_usage_chunk(self, usage: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "provider": "Minimax",
            "choices": [],
            "usage": usage,
        }

    def _minimax_aggregate(
        self, item: Reply, pieces: tuple[str, ...], usage: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "choices": [
                {
                    "finish_reason": item.finish_reason,
                    "index": 0,
                    "message": {
                        "content": "".join(pieces),
                        "role": "assistant",
                        "name": self.name,
                        "audio_content": "",
                    },
                }
            ],
            "created": self.created,
            "model": self.model,
            "object": "chat.completion",
            "usage": {**usage, "total_characters": 0},
            "input_sensitive": False,
            "output_sensitive": False,
            "output_sensitive_int": 0,
            "base_resp": {"status_code": 0, "status_msg": ""},
        }

    def _openrouter_error_chunk(self, code: int | str, message: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "provider": "Minimax",
            "error": {"code": code, "message": message},
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": ""},
                    "finish_reason": "error",
                    "native_finish_reason": "error",
                }
            ],
        }

    def _midstream_error(self, item: Reply) -> dict[str, Any]:
        if self.endpoint == "openrouter":
            code = item.error_code if item.error_code is not None else "server_error"
            return self._openrouter_error_chunk(code, item.error_message)
        code = item.error_code if item.error_code is not None else 1000
        return {
            "id": self.id,
            "choices": None,
            "created": self.created,
            "model": self.model,
            "object": "chat.completion.chunk",
            "base_resp": {"status_code": code, "status_msg": item.error_message},
        }

    def _output_flag(self) -> dict[str, Any]:
        if self.endpoint == "openrouter":
            return self._chunk("", "content_filter")
        chunk = self._chunk("", None)
        chunk.update(output_sensitive=True, output_sensitive_type=1)
        return chunk
