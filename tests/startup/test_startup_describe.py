"""The failure → (line, exit code) table for causes a test can't produce for real offline."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import aiohttp
import discord
import pytest
from aiohttp.client_reqrep import ConnectionKey

from bot.memory import MigrationError
from bot.startup import ExitCode, describe_startup_failure


def connector_error(host: str, port: int, os_error: OSError) -> aiohttp.ClientConnectorError:
    key = ConnectionKey(host, port, True, True, None, None, None, host)
    return aiohttp.ClientConnectorError(key, os_error)


def test_dns_failure_names_the_host():
    error = connector_error("discord.com", 443, socket.gaierror(-2, "Name or service not known"))

    failure = describe_startup_failure(error)

    assert failure is not None
    assert failure.code == ExitCode.DISCORD_UNREACHABLE
    assert "the name discord.com does not resolve (DNS)" in failure.message
    assert "\n" not in failure.message


def test_connection_reset_while_logging_in_is_unreachable():
    failure = describe_startup_failure(ConnectionResetError(104, "Connection reset by peer"))

    assert failure is not None
    assert failure.code == ExitCode.DISCORD_UNREACHABLE
    assert "Connection reset by peer" in failure.message


def test_discord_outage_is_unreachable_not_a_bug():
    response = SimpleNamespace(status=503, reason="Service Unavailable")
    error = discord.DiscordServerError(response, {"message": "upstream", "code": 0})

    failure = describe_startup_failure(error)

    assert failure is not None
    assert failure.code == ExitCode.DISCORD_UNREACHABLE
    assert "outage" in failure.message


def test_failed_migration_says_nothing_changed():
    failure = describe_startup_failure(MigrationError("/data/memory.sqlite3", "disk I/O error"))

    assert failure is not None
    assert failure.code == ExitCode.DATABASE
    assert failure.message.startswith("cannot open the database /data/memory.sqlite3: disk")
    assert "nothing changed" in failure.message


@pytest.mark.parametrize(
    "error",
    [ValueError("bug"), KeyError("x"), RuntimeError("boom"), PermissionError(13, "denied")],
)
def test_a_bug_is_not_dressed_up_as_a_start_up_failure(error):
    assert describe_startup_failure(error) is None
