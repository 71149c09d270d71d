"""Pointing real discord.py at a FakeDiscord and running a bot against it for one test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Patch `Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY` to the fake; restore on exit."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord, client: ClientT, *, timeout: float = 5.0
) -> AsyncIterator[ClientT]:
    """Log `client` in against `fake`, connect (reconnect=False) and wait for on_ready.

    If the connection dies before ready (bad token, 4014...), its exception is raised instead
    of waiting for the timeout. On exit the client is closed and its task awaited.
    """
    with pointed_at(fake):
        await client.login(fake.token)
        task = asyncio.create_task(client.connect(reconnect=False), name="fake-discord-client")
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if task in done:
                task.result()
                raise RuntimeError("client.connect() returned before the client became ready")
            if ready not in done:
                raise TimeoutError(f"client not ready within {timeout}s")
            yield client
        finally:
            ready.cancel()
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout)
