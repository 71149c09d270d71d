"""Both fakes for the roleplay benchmark, in the benchmark's process or in a child process.

    async with open_fakes("process", story=True) as fakes:   # or "inprocess"
        people = await fakes.populate(rooms=1)
        settings = build_settings(fakes.endpoints, fakes.endpoints, tmp)
        async with start_bot(fakes.endpoints, settings):
            sent_at, message_id = await fakes.say(people.rooms[0], people.alice, "Hi (0).")
            ...

"inprocess" runs FakeDiscord and FakeModelServer on the caller's event loop, as the test
harness does. "process" starts them in a `spawn`ed child process on loopback ports and drives
them through a pipe, so the benchmark process holds only the bot (and an idle pipe): its CPU
time and event loop are the bot's own. Both modes expose the same async methods (`FakesHost`),
and every call returns plain picklable data.

Timestamps are `time.monotonic()` taken in whichever process holds the fakes. On Linux that is
CLOCK_MONOTONIC, one clock for the whole system; `RemoteFakes.check_clock` verifies it
(a child reading must fall between two readings of ours) instead of assuming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import resource
import time
import traceback
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer, RecordedRequest, Reply, echo_reply
from tests.harness import populate

READY_TIMEOUT = 60.0
"""Seconds the child may take to import everything and start listening."""


@dataclass(frozen=True)
class Endpoints:
    """What the bot needs to reach the fakes; duck-types as both fakes for `build_settings`."""

    token: str
    api_base: str
    gateway_url: str
    api_key: str
    base_url_openrouter: str
    base_url_minimax: str


@dataclass(frozen=True)
class People:
    """Ids of the standard guild (tests.harness.populate) and its roleplay channels."""

    guild: int
    rooms: tuple[int, ...]
    """#tavern first, then room-0, room-1..."""
    alice: int
    bob: int
    carol: int


@dataclass(frozen=True)
class Write:
    """One successful webhook create or edit of a message, as the fake Discord received it."""

    at: float
    method: str
    message_id: int
    content: str | None


@dataclass(frozen=True)
class ModelCall:
    """One model request: the last player line it answers and when it streamed."""

    last_user: str
    arrived_at: float
    first_token_at: float | None
    last_token_at: float | None


def process_cpu() -> float:
    """CPU seconds (user + system, all threads) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def story_reply(request: RecordedRequest) -> Reply:
    """Six short beats naming the turn the player asked for; a summary request gets one line."""
    messages = request.messages
    if messages and "running summary" in str(messages[0].get("content", "")):
        return Reply(text="Earlier, the crew crossed the harbour.")
    users = [m for m in messages if m.get("role") == "user"]
    tag = str(users[-1].get("content", "")).rsplit("(", 1)[-1].rstrip(").") if users else "?"
    return Reply(chunks=tuple(f"Beat {tag}.{n} of the tale. " for n in range(6)), chunk_delay=0.02)


class FakesHost:
    """The scenario-level operations on a running FakeDiscord and FakeModelServer."""

    def __init__(self, fake: FakeDiscord, model: FakeModelServer) -> None:
        self.fake = fake
        self.model = model
        self.endpoints = Endpoints(
            token=fake.token,
            api_base=fake.api_base,
            gateway_url=fake.gateway_url,
            api_key=model.api_key,
            base_url_openrouter=model.base_url_openrouter,
            base_url_minimax=model.base_url_minimax,
        )

    async def populate(self, rooms: int) -> People:
        """The standard guild plus `rooms - 1` more text channels (before the bot connects)."""
        people = populate(self.fake)
        guild = people["guild"]
        extra = [self.fake.add_text_channel(guild.id, f"room-{n}") for n in range(rooms - 1)]
        return People(
            guild=guild.id,
            rooms=(people["channel"].id, *(c.id for c in extra)),
            alice=people["alice"].id,
            bob=people["bob"].id,
            carol=people["carol"].id,
        )

    async def rate_limit(self, limit: int, window: float) -> None:
        """Switch on Discord's per-channel message limit, with headers."""
        self.fake.rate_limit(limit=limit, window=window, headers=True)

    async def script(self, items: Sequence[Reply]) -> None:
        """Queue model answers for the next requests."""
        self.model.script(*items)

    async def say(self, channel_id: int, user_id: int, content: str) -> tuple[float, int]:
        """A player posts; returns (monotonic time just before the dispatch, message id)."""
        sent_at = time.monotonic()
        said = await self.fake.user_says(channel_id, user_id, content)
        return sent_at, int(said["id"])

    async def say_many(self, lines: Sequence[tuple[int, int, str]]) -> list[float]:
        """Players post (channel, user, content) one after another; returns each send time."""
        sent = []
        for channel_id, user_id, content in lines:
            sent.append(time.monotonic())
            await self.fake.user_says(channel_id, user_id, content)
        return sent

    async def wait_final(
        self, channel_ids: Iterable[int], text: str, timeout: float
    ) -> dict[int, int]:
        """Wait until each channel holds a webhook message reading `text`; channel -> its id."""
        channels = list(channel_ids)

        def final_in(channel_id: int) -> int | None:
            return next(
                (
                    m.id
                    for m in self.fake.messages_in(channel_id)
                    if m.webhook_id and m.content == text
                ),
                None,
            )

        def all_final() -> dict[int, int] | None:
            found = {}
            for channel_id in channels:
                message_id = final_in(channel_id)
                if message_id is None:
                    return None
                found[channel_id] = message_id
            return found

        result: dict[int, int] = await self.fake.wait_until(all_final, timeout=timeout)
        return result

    async def writes(
        self, channel_ids: Iterable[int], only: Iterable[int] | None = None
    ) -> dict[int, list[Write]]:
        """Webhook creates and edits of each channel's webhook messages, oldest first.

        With `only`, just the writes to those message ids.
        """
        owner: dict[int, int] = {}
        for channel_id in channel_ids:
            for message in self.fake.messages_in(channel_id):
                if message.webhook_id:
                    owner[message.id] = channel_id
        if only is not None:
            keep = set(only)
            owner = {k: v for k, v in owner.items() if k in keep}
        found: dict[int, list[Write]] = {channel_id: [] for channel_id in owner.values()}
        for request in self.fake.requests():
            if not request.path.startswith("/webhooks/") or request.status >= 300:
                continue
            message_id = 0
            if request.method == "POST" and isinstance(request.response, dict):
                message_id = int(request.response.get("id", 0))
            elif request.method == "PATCH":
                tail = request.path.rsplit("/", 1)[-1]
                message_id = int(tail) if tail.isdigit() else 0
            if message_id in owner:
                content = request.json.get("content") if isinstance(request.json, dict) else None
                found[owner[message_id]].append(
                    Write(request.at, request.method, message_id, content)
                )
        return found

    async def model_count(self) -> int:
        """How many model requests arrived so far."""
        return len(self.model.requests)

    async def model_calls(self, since: int = 0) -> list[ModelCall]:
        """Model requests from index `since` on, reduced to what the benchmark reads."""
        calls = []
        for request in self.model.requests[since:]:
            users = [m for m in request.messages if m.get("role") == "user"]
            last = str(users[-1].get("content", "")) if users else ""
            calls.append(
                ModelCall(last, request.arrived_at, request.first_token_at, request.last_token_at)
            )
        return calls

    async def status(self) -> dict[str, int]:
        """429s served and requests the fake Discord crashed on."""
        return {
            "rate_limit_hits": self.fake.rate_limit_hits,
            "internal_errors": len(self.fake.internal_errors),
        }

    async def clock(self) -> float:
        """`time.monotonic()` in the fakes' process."""
        return time.monotonic()

    async def cpu(self) -> float:
        """CPU seconds the fakes' process has used (the whole process, bot too if shared)."""
        return process_cpu()


class LocalFakes(FakesHost):
    """Both fakes on the caller's event loop: the bot and the fakes share process and CPU."""

    shared_process = True


class RemoteFakes:
    """Both fakes in a child process; the same async methods as `FakesHost`, over a pipe."""

    shared_process = False

    def __init__(self, conn: Connection, process: multiprocessing.process.BaseProcess) -> None:
        self._conn = conn
        self._process = process
        self._lock = asyncio.Lock()
        self.endpoints: Endpoints

    async def _receive(self, timeout: float | None) -> Any:
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = self._conn.fileno()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await asyncio.wait_for(readable, timeout)
        finally:
            loop.remove_reader(fd)
        try:
            status, value = self._conn.recv()
        except EOFError:
            raise RuntimeError(
                f"the fakes' process died (exit code {self._process.exitcode})"
            ) from None
        if status == "error":
            raise RuntimeError(f"in the fakes' process:\n{value}")
        return value

    async def _call(self, name: str, *args: Any, timeout: float | None = None) -> Any:
        async with self._lock:
            self._conn.send((name, args))
            return await self._receive(timeout)

    async def start(self) -> None:
        """Wait for the child to listen, then check that both processes share one clock."""
        async with self._lock:
            self.endpoints = await self._receive(READY_TIMEOUT)
        await self.check_clock()

    async def check_clock(self, rounds: int = 20) -> float:
        """Raise unless the child's monotonic clock reads between two of ours, every round.

        Returns the widest round trip (seconds): the bound on any offset between the clocks.
        """
        widest = 0.0
        for _ in range(rounds):
            before = time.monotonic()
            theirs = await self.clock()
            after = time.monotonic()
            if not before <= theirs <= after:
                raise RuntimeError(
                    "time.monotonic() differs between the benchmark and the fakes' process "
                    f"(ours {before:.6f}..{after:.6f}, theirs {theirs:.6f}); cross-process "
                    "latencies would be meaningless"
                )
            widest = max(widest, after - before)
        return widest

    async def stop(self) -> None:
        """Ask the child to shut the fakes down and exit; kill it if it does not."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            await self._call("stop", timeout=30)
        self._conn.close()
        await asyncio.to_thread(self._process.join, 10)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)

    async def populate(self, rooms: int) -> People:
        """See `FakesHost.populate`."""
        result: People = await self._call("populate", rooms)
        return result

    async def rate_limit(self, limit: int, window: float) -> None:
        """See `FakesHost.rate_limit`."""
        await self._call("rate_limit", limit, window)

    async def script(self, items: Sequence[Reply]) -> None:
        """See `FakesHost.script`."""
        await self._call("script", list(items))

    async def say(self, channel_id: int, user_id: int, content: str) -> tuple[float, int]:
        """See `FakesHost.say`."""
        result: tuple[float, int] = await self._call("say", channel_id, user_id, content)
        return result

    async def say_many(self, lines: Sequence[tuple[int, int, str]]) -> list[float]:
        """See `FakesHost.say_many`."""
        result: list[float] = await self._call("say_many", list(lines))
        return result

    async def wait_final(
        self, channel_ids: Iterable[int], text: str, timeout: float
    ) -> dict[int, int]:
        """See `FakesHost.wait_final`."""
        result: dict[int, int] = await self._call("wait_final", list(channel_ids), text, timeout)
        return result

    async def writes(
        self, channel_ids: Iterable[int], only: Iterable[int] | None = None
    ) -> dict[int, list[Write]]:
        """See `FakesHost.writes`."""
        keep = None if only is None else list(only)
        result: dict[int, list[Write]] = await self._call("writes", list(channel_ids), keep)
        return result

    async def model_count(self) -> int:
        """See `FakesHost.model_count`."""
        result: int = await self._call("model_count")
        return result

    async def model_calls(self, since: int = 0) -> list[ModelCall]:
        """See `FakesHost.model_calls`."""
        result: list[ModelCall] = await self._call("model_calls", since)
        return result

    async def status(self) -> dict[str, int]:
        """See `FakesHost.status`."""
        result: dict[str, int] = await self._call("status")
        return result

    async def clock(self) -> float:
        """See `FakesHost.clock`."""
        result: float = await self._call("clock")
        return result

    async def cpu(self) -> float:
        """See `FakesHost.cpu` (the child's CPU only)."""
        result: float = await self._call("cpu")
        return result


Fakes = LocalFakes | RemoteFakes


@contextlib.asynccontextmanager
async def open_fakes(mode: str, *, story: bool = False) -> AsyncIterator[Fakes]:
    """Start both fakes in this process ("inprocess") or a child process ("process").

    `story`: the model's default answer is `story_reply` (else it echoes the last message).
    """
    if mode == "inprocess":
        reply = story_reply if story else echo_reply
        async with FakeDiscord() as fake, FakeModelServer(default_reply=reply) as model:
            yield LocalFakes(fake, model)
        return
    if mode != "process":
        raise ValueError(f"unknown fakes mode {mode!r}")
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=child_main, args=(theirs, story), name="bench-fakes", daemon=True
    )
    process.start()
    theirs.close()
    remote = RemoteFakes(ours, process)
    try:
        await remote.start()
        yield remote
    finally:
        await remote.stop()


def child_main(conn: Connection, story: bool) -> None:
    """Entry point of the fakes' process: serve both fakes and answer calls until "stop"."""
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(_serve(conn, story))
    except Exception:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc()))
        raise


async def _serve(conn: Connection, story: bool) -> None:
    reply = story_reply if story else echo_reply
    async with FakeDiscord() as fake, FakeModelServer(default_reply=reply) as model:
        host = FakesHost(fake, model)
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()
        tasks: set[asyncio.Task[None]] = set()

        async def run(name: str, args: tuple[Any, ...]) -> None:
            try:
                answer: tuple[str, Any] = ("ok", await getattr(host, name)(*args))
            except Exception:
                answer = ("error", traceback.format_exc())
            conn.send(answer)

        def readable() -> None:
            try:
                name, args = conn.recv()
            except (EOFError, OSError):
                name, args = "stop", ()
            if name == "stop":
                loop.remove_reader(conn.fileno())
                if not stopped.done():
                    stopped.set_result(None)
                return
            task = loop.create_task(run(name, args))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        conn.send(("ok", host.endpoints))
        loop.add_reader(conn.fileno(), readable)
        await stopped
        for task in tasks:
            task.cancel()
    with contextlib.suppress(OSError):
        conn.send(("ok", None))
