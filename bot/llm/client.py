"""The streaming M2-her client for OpenRouter and MiniMax's native API."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing, suppress
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from bot.llm.chunks import StreamState, parse_flags
from bot.llm.classify import PROVIDER_LABELS, build_error, class_for_status, error_from_payload
from bot.llm.dialect import DialectPolicy, DialectSetting
from bot.llm.errors import (
    LLMError,
    LLMTimeoutError,
    StreamInterruptedError,
    TransientError,
)
from bot.llm.providers import DEFAULT_BASE_URLS, DEFAULT_MODELS, ENDPOINT_PATHS, TOKEN_FIELDS
from bot.llm.retry import backoff_delay, parse_retry_after
from bot.llm.sampling import SamplingParams
from bot.llm.types import ChatResult, Provider, StreamItem
from bot.models import ChatMessage

log = logging.getLogger(__name__)

_MAX_ERROR_BODY = 64 * 1024
_DRAIN_SECONDS = 0.25


class LLMClient:
    """Streams M2-her replies over one shared, pooled `httpx.AsyncClient`.

    Retries happen only before the first token; once text has been yielded an error is
    raised with `partial=True` and the caller decides what to do. Timeouts: `connect_timeout`
    to connect (or wait for a pooled connection), `idle_timeout` without a single byte
    (keep-alive comments count), `total_timeout` for the whole call including retries.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        provider: Provider,
        api_key: str,
        base_url: str | None = None,
        model: str | None = None,
        referer: str | None = None,
        title: str | None = None,
        dialect: DialectSetting = "auto",
        max_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        connect_timeout: float = 10.0,
        idle_timeout: float = 30.0,
        total_timeout: float = 120.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        if provider not in ENDPOINT_PATHS:
            raise ValueError(f"unknown provider {provider!r}")
        if not api_key.strip():
            raise ValueError("api_key must not be empty")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._http = http
        self._provider: Provider = provider
        self._api_key = api_key
        self._base_url = (base_url or DEFAULT_BASE_URLS[provider]).rstrip("/")
        self._url = self._base_url + ENDPOINT_PATHS[provider]
        self._model = model or DEFAULT_MODELS[provider]
        self._token_field = TOKEN_FIELDS[provider]
        headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }
        if provider == "openrouter":
            if referer:
                headers["HTTP-Referer"] = referer
            if title:
                headers["X-OpenRouter-Title"] = title
        self._headers = headers
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=idle_timeout, write=idle_timeout, pool=connect_timeout
        )
        self._idle_timeout = idle_timeout
        self._connect_timeout = connect_timeout
        self._total_timeout = total_timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng
        self._wallclock = wallclock
        self.dialect = DialectPolicy(dialect, key=f"{provider}:{self._model}")
        """The dialect choice for this client's endpoint; a flat fallback sticks here."""

    @property
    def provider(self) -> Provider:
        """The provider: openrouter or minimax."""
        return self._provider

    @property
    def model(self) -> str:
        """The model id sent with every request."""
        return self._model

    @property
    def url(self) -> str:
        """The full endpoint URL requests go to."""
        return self._url

    def __repr__(self) -> str:
        return f"LLMClient(provider={self._provider!r}, url={self._url!r}, model={self._model!r})"

    async def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        *,
        max_attempts: int | None = None,
    ) -> AsyncGenerator[StreamItem, None]:
        """Stream one reply: text deltas (`str`), then exactly one `ChatResult`.

        Args:
            messages: The full `messages` array, already in the chosen dialect.
            params: Sampling values; clamped to M2-her's ranges before sending.
            max_attempts: Tries before the first token for this call (default: the client's).

        Raises:
            LLMError: a subclass from `bot.llm.errors`; `partial` tells whether text was
                yielded before it. Close the iterator (`contextlib.aclosing`) if you stop early.

        """
        deadline = self._monotonic() + self._total_timeout
        body = self._encode(messages, params)
        tries = self._max_attempts if max_attempts is None else max(1, max_attempts)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with aclosing(self._attempt(body, deadline, attempt)) as items:
                    async for item in items:
                        yield item
                return
            except LLMError as error:
                delay = self._retry_delay(error, attempt, deadline, tries)
                if delay is None:
                    raise
                log.warning(
                    "Model request failed before the first token (attempt %d/%d): %s; "
                    "retrying in %.2f s",
                    attempt,
                    tries,
                    error,
                    delay,
                )
                await self._sleep(delay)

    def request_body(
        self, messages: Sequence[ChatMessage], params: SamplingParams
    ) -> dict[str, Any]:
        """The exact JSON body `stream_chat` would send (for inspection, e.g. /debug prompt)."""
        params = params.clamp()
        return {
            "model": self._model,
            "messages": list(messages),
            "stream": True,
            self._token_field: params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }

    def _encode(self, messages: Sequence[ChatMessage], params: SamplingParams) -> bytes:
        payload = self.request_body(messages, params)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def _retry_delay(
        self, error: LLMError, attempt: int, deadline: float, tries: int
    ) -> float | None:
        if not error.retryable or attempt >= tries:
            return None
        delay = backoff_delay(
            attempt, base=self._backoff_base, cap=self._backoff_cap, rng=self._rng
        )
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if self._monotonic() + delay >= deadline:
            return None
        return delay

    def _remaining(self, deadline: float) -> float:
        return deadline - self._monotonic()

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***")

    async def _attempt(
        self, body: bytes, deadline: float, attempt: int
    ) -> AsyncGenerator[StreamItem, None]:
        state = StreamState(provider=self._provider, redact=self._redact, request_id=None)
        request = self._http.build_request(
            "POST", self._url, content=body, headers=self._headers, timeout=self._timeout
        )
        try:
            async with asyncio.timeout(self._remaining(deadline)):
                response = await self._http.send(request, stream=True)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._transport_error(exc, state, started=False) from exc
        try:
            state.request_id = response.headers.get("x-generation-id")
            state.retry_after = parse_retry_after(response.headers, now=self._wallclock())
            content_type = response.headers.get("content-type", "")
            if response.status_code >= 400 or "text/event-stream" not in content_type:
                raise await self._body_error(response, state, deadline)
            stream = await self._event_stream(response, state, deadline)
            async with aclosing(EventSource(stream).aiter_sse()) as events:
                while not state.ended:
                    event = await self._next_event(events, state, deadline)
                    if event is None:
                        break
                    if event.data == "[DONE]":
                        state.ended = True
                        break
                    if not event.data:
                        continue
                    try:
                        chunk = json.loads(event.data)
                    except ValueError:
                        raise self._state_error(
                            TransientError, f"malformed stream chunk {event.data[:80]!r}", state
                        ) from None
                    text = state.feed(chunk)
                    if text:
                        yield text
                if state.ended:
                    await _drain(events)
        finally:
            await response.aclose()
        blocked = state.blocked()
        if blocked is not None:
            raise blocked
        if state.finish_reason is None:
            if not state.flags:
                raise self._state_error(
                    StreamInterruptedError, "stream ended without a finish reason", state
                )
            state.finish_reason = "content_filter"  # flagged, then cut: keep what came
        if state.flags:
            log.warning(
                "%s %s (request %s); the text was delivered",
                PROVIDER_LABELS[self._provider],
                state.flags.describe(),
                state.request_id,
            )
        result = ChatResult(
            finish_reason=state.finish_reason,
            usage=state.usage,
            request_id=state.request_id,
            text="".join(state.parts),
            attempts=attempt,
            flags=state.flags,
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "Model reply done: id=%s finish=%s attempts=%d usage=%s",
                result.request_id,
                result.finish_reason,
                attempt,
                result.usage,
            )
        yield result

    async def _event_stream(
        self, response: httpx.Response, state: StreamState, deadline: float
    ) -> httpx.Response:
        """The response to read events from; raises the error of a bare JSON body.

        MiniMax may answer HTTP 200 `text/event-stream` with a plain JSON error body instead
        of events (m2her-api.md §2.4, §5.3); an SSE parser would skip it as an unknown field
        and the reply would look like a dropped connection. So the first bytes are read
        here: a JSON object is the error it reports, anything else is replayed to the parser.
        """
        pieces = response.aiter_bytes()
        first = b""
        try:
            async with asyncio.timeout(self._remaining(deadline)):
                while not first.strip():
                    piece = await anext(pieces, None)
                    if piece is None:
                        break
                    first += piece
        except (TimeoutError, httpx.HTTPError) as exc:
            raise self._transport_error(exc, state, started=True) from exc
        if not first.lstrip().startswith(b"{"):
            headers = [
                (key, value)
                for key, value in response.headers.multi_items()
                if key.lower() not in ("content-encoding", "content-length")
            ]
            return httpx.Response(
                response.status_code,
                headers=headers,
                stream=_Replay(first, pieces),
                request=response.request,
            )
        raw = bytearray(first)
        with suppress(TimeoutError, httpx.HTTPError):
            async with asyncio.timeout(self._remaining(deadline)):
                async for piece in pieces:
                    raw += piece
                    if len(raw) >= _MAX_ERROR_BODY:
                        break
        raise self._json_body_error(bytes(raw[:_MAX_ERROR_BODY]), state, "text/event-stream")

    def _json_body_error(self, raw: bytes, state: StreamState, content_type: str) -> LLMError:
        """The error an HTTP-200 body that is not an event stream reports."""
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            error = error_from_payload(
                payload,
                provider=self._provider,
                redact=self._redact,
                retry_after=state.retry_after,
                request_id=state.request_id,
            )
            if error is not None:
                return error
            state.flags = state.flags.merge(parse_flags(payload))
            blocked = state.blocked()
            if blocked is not None:
                return blocked
        detail = raw[:200].decode("utf-8", "replace").strip()
        return self._state_error(
            TransientError, f"expected an event stream, got {content_type!r}: {detail}", state
        )

    async def _next_event(
        self,
        events: AsyncIterator[ServerSentEvent],
        state: StreamState,
        deadline: float,
    ) -> ServerSentEvent | None:
        """The next event, None at the end; a broken stream after the finish reason is an end."""
        try:
            remaining = self._remaining(deadline)
            if remaining > self._idle_timeout:
                # httpx's read timeout (the idle timeout) ends this wait before the deadline:
                # no timer of our own per event, which costs more than reading a small chunk.
                return await anext(events)
            async with asyncio.timeout(remaining):
                return await anext(events)
        except StopAsyncIteration:
            return None
        except (TimeoutError, httpx.HTTPError) as exc:
            if state.finish_reason is not None:
                return None
            raise self._transport_error(exc, state, started=True) from exc

    async def _body_error(
        self, response: httpx.Response, state: StreamState, deadline: float
    ) -> LLMError:
        """The error a non-stream response stands for (HTTP error, or MiniMax's JSON body)."""
        status = response.status_code
        try:
            async with asyncio.timeout(self._remaining(deadline)):
                raw = await _read_limited(response)
        except (TimeoutError, httpx.HTTPError) as exc:
            if status < 400:
                return self._transport_error(exc, state, started=True)
            raw = b""  # the status alone still says what went wrong
        if status < 400:
            return self._json_body_error(raw, state, response.headers.get("content-type", ""))
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        error = None
        if isinstance(payload, dict):
            error = error_from_payload(
                payload,
                provider=self._provider,
                redact=self._redact,
                status=status,
                retry_after=state.retry_after,
                request_id=state.request_id,
            )
        if error is not None:
            return error
        return build_error(
            class_for_status(status),
            raw[:200].decode("utf-8", "replace").strip(),
            provider=self._provider,
            redact=self._redact,
            status=status,
            retry_after=state.retry_after,
            request_id=state.request_id,
        )

    def _transport_error(
        self, exc: BaseException, state: StreamState, *, started: bool
    ) -> LLMError:
        """Our own timeouts and httpx's network errors, as members of the error tree."""
        common: dict[str, Any] = {
            "provider": self._provider,
            "partial": state.partial,
            "request_id": state.request_id,
        }
        prefix = PROVIDER_LABELS[self._provider]
        if isinstance(exc, TimeoutError):
            return LLMTimeoutError(
                f"{prefix}: no complete reply within {self._total_timeout:g} s",
                phase="total",
                **common,
            )
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return LLMTimeoutError(
                f"{prefix}: could not connect within {self._connect_timeout:g} s",
                phase="connect",
                **common,
            )
        if isinstance(exc, httpx.TimeoutException):
            return LLMTimeoutError(
                f"{prefix}: no data for {self._idle_timeout:g} s", phase="idle", **common
            )
        reason = self._redact(str(exc))[:200] or type(exc).__name__
        if started:
            return StreamInterruptedError(f"{prefix}: connection lost ({reason})", **common)
        return TransientError(f"{prefix}: request failed ({reason})", **common)

    def _state_error(self, cls: type[LLMError], detail: str, state: StreamState) -> LLMError:
        return build_error(
            cls,
            detail,
            provider=self._provider,
            redact=self._redact,
            partial=state.partial,
            request_id=state.request_id,
        )


class _Replay(httpx.AsyncByteStream):
    """The bytes already read from a response, then the rest of it."""

    def __init__(self, first: bytes, rest: AsyncIterator[bytes]) -> None:
        self._first = first
        self._rest = rest

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        async for piece in self._rest:
            yield piece

    async def aclose(self) -> None:
        close = getattr(self._rest, "aclose", None)
        if close is not None:
            await close()


async def _read_limited(response: httpx.Response) -> bytes:
    """At most 64 KiB of an error body: enough for any error JSON, bounded for a rogue server."""
    data = bytearray()
    async for piece in response.aiter_bytes():
        data += piece
        if len(data) >= _MAX_ERROR_BODY:
            break
    return bytes(data[:_MAX_ERROR_BODY])


async def _drain(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read what follows the last event so the connection can go back to the pool."""
    with suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in events:
                pass
