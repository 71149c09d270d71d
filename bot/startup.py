"""Starting up: reach Discord within a time limit, and turn every start-up failure into one
line naming the cause and the fix, with a documented exit code (README, "Start-up failures").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import aiohttp
import discord
import discord.http
import yarl
from pydantic import ValidationError

from bot.cards import PersonaFolderError
from bot.memory import (
    CorruptDatabaseError,
    DatabaseUnavailableError,
    MigrationError,
    SchemaTooNewError,
    StoreError,
    UnsupportedDatabaseError,
)
from bot.metrics_server import MetricsPortError
from bot.settings_errors import describe_settings_error


class ExitCode(IntEnum):
    """`python -m bot`'s exit codes; the README's table lists the same."""

    OK = 0
    FAILED = 1
    """`check` found problems, or an unexpected error (a bug: the traceback is printed)."""
    CONFIG = 2
    """A setting is missing or invalid, Discord rejected the token or refused DEV_GUILD_ID,
    or an intent is not allowed."""
    DISCORD_UNREACHABLE = 3
    DATABASE = 4
    PERSONAS = 5
    METRICS_PORT = 6


@dataclass(frozen=True)
class StartupFailure:
    """What to print (one line: cause, then fix) and the exit code."""

    code: ExitCode
    message: str


class DiscordUnreachableError(Exception):
    """Discord could not be reached at start; the message names where and why."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _api_host() -> str:
    return yarl.URL(discord.http.Route.BASE).host or discord.http.Route.BASE


_NETWORK_FIX = (
    "Check the machine's network, DNS and firewall (and DISCORD_API_BASE / "
    "DISCORD_GATEWAY_URL if you use a proxy), then start again."
)


def _describe_network_error(error: BaseException, host: str) -> str:
    """Why a connection to Discord failed, in a few words naming where."""
    if isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error
        where = f"{error.host}:{error.port}"
        if isinstance(cause, socket.gaierror):
            return f"the name {error.host} does not resolve (DNS)"
        if isinstance(cause, ConnectionRefusedError):
            return f"{where} refused the connection"
        return f"cannot connect to {where} ({cause.strerror or cause})"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"the connection to {host} timed out"
    if isinstance(error, OSError):
        return f"{host}: {error.strerror or error or type(error).__name__}"
    return f"{host}: {_one_line(str(error)) or type(error).__name__}"


def _database_failure(error: StoreError) -> StartupFailure:
    text = _one_line(str(error))
    if isinstance(error, CorruptDatabaseError | SchemaTooNewError | UnsupportedDatabaseError):
        fix = ""  # these messages already say what to do
    elif isinstance(error, MigrationError):
        fix = (
            " The upgrade was rolled back and nothing changed: check free disk space and the "
            "bot's write access, then start again."
        )
    elif isinstance(error, DatabaseUnavailableError) and text.startswith("postgres"):
        fix = (
            " Start the PostgreSQL server, or correct the host, port, user and password in "
            "DATABASE."
        )
    else:
        fix = " Set DATABASE to a file in a folder the bot can create and write."
    ending = "" if text.endswith(".") else "."
    return StartupFailure(ExitCode.DATABASE, f"cannot open the database {text}{ending}{fix}")


def describe_startup_failure(error: BaseException) -> StartupFailure | None:
    """The one line and exit code for a failure while starting, or None for a real bug."""
    if isinstance(error, ValidationError):
        return StartupFailure(ExitCode.CONFIG, describe_settings_error(error))
    if isinstance(error, discord.LoginFailure):
        return StartupFailure(
            ExitCode.CONFIG,
            "Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer "
            "Portal (Bot > Reset Token) into DISCORD_TOKEN.",
        )
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return StartupFailure(
            ExitCode.CONFIG,
            "the Message Content intent is not enabled for this bot. Enable it in the "
            "Developer Portal (Bot > Privileged Gateway Intents) or set "
            "MESSAGE_CONTENT_INTENT=false.",
        )
    if isinstance(error, discord.Forbidden | discord.NotFound):
        # Past the login, the only requests at start are DEV_GUILD_ID's command sync.
        return StartupFailure(
            ExitCode.CONFIG,
            f"Discord refused a request at start ({_one_line(str(error))}). If DEV_GUILD_ID "
            "is set, check the id and that the bot was invited to that server with the "
            "applications.commands scope.",
        )
    if isinstance(error, DiscordUnreachableError):
        return StartupFailure(ExitCode.DISCORD_UNREACHABLE, f"{error}. {_NETWORK_FIX}")
    if isinstance(error, discord.DiscordServerError | discord.GatewayNotFound):
        return StartupFailure(
            ExitCode.DISCORD_UNREACHABLE,
            f"Discord is failing ({_one_line(str(error))}); it is probably having an outage. "
            "Start again in a few minutes (https://discordstatus.com).",
        )
    if isinstance(error, StoreError):
        return _database_failure(error)
    if isinstance(error, PersonaFolderError):
        return StartupFailure(
            ExitCode.PERSONAS,
            f"PERSONAS_DIR {error.source} {error.reason}. Point PERSONAS_DIR at a readable "
            "folder of persona cards (the shipped ones are in personas/).",
        )
    if isinstance(error, MetricsPortError):
        return StartupFailure(
            ExitCode.METRICS_PORT,
            f"the metrics endpoint {error}. Choose a free METRICS_PORT (or METRICS_HOST), or "
            "leave METRICS_PORT empty to turn metrics off.",
        )
    if isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError | socket.gaierror):
        return StartupFailure(
            ExitCode.DISCORD_UNREACHABLE,
            f"cannot reach Discord's API: {_describe_network_error(error, _api_host())}. "
            f"{_NETWORK_FIX}",
        )
    return None


class _FirstConnectFailures(logging.Filter):
    """Catches discord.py's "retrying" log records until the first gateway connection.

    discord.py retries a failed gateway connection forever, logging a traceback each time.
    At start that means a wrong address or a blocked websocket, so the first failure is
    taken instead (and its traceback kept off the console).
    """

    def __init__(self) -> None:
        super().__init__()
        self.failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    def filter(self, record: logging.LogRecord) -> bool:
        """Swallow a retry record and remember its exception."""
        if record.exc_info is None or record.exc_info[1] is None:
            return True
        if not self.failed.done():
            self.failed.set_result(record.exc_info[1])
        return False


@contextlib.contextmanager
def _catching_first_connect_failures() -> Iterator[_FirstConnectFailures]:
    catcher = _FirstConnectFailures()
    loggers = [logging.getLogger("discord.client"), logging.getLogger("discord.shard")]
    for logger in loggers:
        logger.addFilter(catcher)
    try:
        yield catcher
    finally:
        for logger in loggers:
            logger.removeFilter(catcher)


async def connect_to_discord(bot: discord.Client, token: str, *, timeout: float) -> None:
    """Log in and connect the gateway, then run until the bot is closed.

    Reaching Discord at start is bounded by `timeout` seconds for the login and again for
    the first gateway connection; after that, discord.py reconnects by itself as usual.

    Raises:
        DiscordUnreachableError: Discord's API or gateway cannot be reached at start.
        discord.LoginFailure, discord.PrivilegedIntentsRequired: as discord.py raises them.
        aiohttp.ClientError, OSError: the login's connection failed (see
            `describe_startup_failure`).

    """
    try:
        async with asyncio.timeout(timeout):
            await bot.login(token)
    except TimeoutError:
        raise DiscordUnreachableError(
            f"Discord's API at {_api_host()} did not answer within {timeout:g} s "
            "(DISCORD_STARTUP_TIMEOUT)"
        ) from None
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with _catching_first_connect_failures() as catcher:
        running = asyncio.create_task(bot.connect(reconnect=True), name="discord-gateway")
        connected = asyncio.create_task(bot.wait_for("connect"), name="first-gateway-ready")
        watched: set[asyncio.Future[Any]] = {running, connected, catcher.failed}
        try:
            done, _ = await asyncio.wait(
                watched,
                timeout=timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            connected.cancel()
        if running in done:
            running.result()  # LoginFailure, PrivilegedIntentsRequired...
            return
        if connected not in done:
            await bot.close()
            await asyncio.gather(running, return_exceptions=True)
            if catcher.failed.done():
                cause = catcher.failed.result()
                raise DiscordUnreachableError(
                    "logged in, but cannot connect to Discord's gateway: "
                    f"{_describe_network_error(cause, str(gateway.host))}"
                ) from cause
            raise DiscordUnreachableError(
                f"logged in, but Discord's gateway at {gateway.host} did not answer within "
                f"{timeout:g} s (DISCORD_STARTUP_TIMEOUT)"
            )
    await running
