"""Command line: run the bot, check the setup offline, or sync slash commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import discord
from pydantic import SecretStr, ValidationError

from bot.config import Settings
from bot.log import setup_logging
from bot.settings_errors import describe_settings_error

log = logging.getLogger("bot")

EXIT_CONFIG = 2
EXIT_RUNTIME = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("check", help="validate settings, personas and the database offline")
    sub.add_parser(
        "probe", help="send a few tokens to the model provider and report what it accepts"
    )
    sync = sub.add_parser("sync", help="sync slash commands with Discord")
    sync.add_argument("--guild", type=int, default=None, help="sync to one guild only (dev)")
    migrate = sub.add_parser(
        "migrate-db", help="copy an SQLite memory into PostgreSQL and verify the copy"
    )
    migrate.add_argument(
        "--from", dest="source", required=True, metavar="SQLITE", help="sqlite:///path or a path"
    )
    migrate.add_argument(
        "--to", dest="target", required=True, metavar="URL", help="postgresql://user@host/db"
    )
    migrate.add_argument(
        "--replace", action="store_true", help="delete what the target already holds first"
    )
    return parser


PROBE_DISCORD_TOKEN = SecretStr("not-needed-for-probe")
"""The probe talks only to the model provider; it runs before Discord is set up."""


def load_settings(*, need_discord: bool = True) -> Settings:
    """Read settings, or exit with one line per problem naming the variable (exit code 2)."""
    try:
        if not need_discord:
            return Settings(discord_token=PROBE_DISCORD_TOKEN)  # type: ignore[call-arg]
        return Settings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValidationError as error:
        for line in describe_settings_error(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot`; returns the process exit code."""
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "migrate-db":  # needs no Discord or model settings
        from bot.migrate_db import run_migration

        return asyncio.run(run_migration(args.source, args.target, replace=args.replace))
    settings = load_settings(need_discord=command != "probe")
    secrets = (settings.discord_token.get_secret_value(), settings.llm_api_key.get_secret_value())
    setup_logging(settings.log_level, secrets=secrets)
    try:
        if command == "check":
            from bot.check import run_check

            return asyncio.run(run_check(settings))
        if command == "probe":
            from bot.probe import run_probe

            return asyncio.run(run_probe(settings))
        if command == "sync":
            return asyncio.run(_sync(settings, args.guild))
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 0
    except discord.LoginFailure:
        print("error: Discord rejected DISCORD_TOKEN; copy the bot token again.", file=sys.stderr)
        return EXIT_CONFIG
    except discord.PrivilegedIntentsRequired:
        print(
            "error: the Message Content intent is not enabled for this bot. Enable it in the "
            "Developer Portal (Bot > Privileged Gateway Intents) or set "
            "MESSAGE_CONTENT_INTENT=false.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_RUNTIME


class StartupError(Exception):
    """A problem found while starting that the user must fix (message says how)."""


async def _run(settings: Settings) -> int:
    from bot.bot import create_bot
    from bot.services import open_services

    async with open_services(settings) as services:
        bot = create_bot(services)
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
    return 0


async def _sync(settings: Settings, guild_id: int | None) -> int:
    from bot.bot import create_bot
    from bot.services import open_services

    async with open_services(settings) as services:
        bot = create_bot(services)
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())  # loads the cogs
            if guild_id:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
                print(f"Synced {len(synced)} command(s) to guild {guild_id}.")
            else:
                synced = await bot.tree.sync()
                print(f"Synced {len(synced)} global command(s); Discord may take a minute.")
    return 0
