"""Command line: run the bot, check the setup offline, or sync slash commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import discord
from pydantic import SecretStr, ValidationError

from bot.config import Settings
from bot.log import setup_logging
from bot.settings_errors import describe_settings_error
from bot.startup import ExitCode, describe_startup_failure

log = logging.getLogger("bot")


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
    """Read settings, or exit with one line naming every variable to fix (exit code 2)."""
    try:
        if not need_discord:
            return Settings(discord_token=PROBE_DISCORD_TOKEN)  # type: ignore[call-arg]
        return Settings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValidationError as error:
        env_file = Path(str(Settings.model_config.get("env_file") or ".env"))
        print(f"error: {describe_settings_error(error, env_file=env_file)}", file=sys.stderr)
        raise SystemExit(ExitCode.CONFIG) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot`; returns the process exit code."""
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "migrate-db":  # needs no Discord or model settings
        from bot.migrate_db import run_migration

        return asyncio.run(run_migration(args.source, args.target, replace=args.replace))
    settings = load_settings(need_discord=command != "probe")
    secrets = (settings.discord_token.get_secret_value(), settings.llm_api_key.get_secret_value())
    setup_logging(settings.log_level, secrets=secrets, log_format=settings.log_format)
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
    except Exception as error:
        failure = describe_startup_failure(error)
        if failure is None:
            raise
        print(f"error: {failure.message}", file=sys.stderr)
        return failure.code


async def _run(settings: Settings) -> int:
    from bot.bot import create_bot
    from bot.monitoring import monitoring
    from bot.services import open_services
    from bot.startup import connect_to_discord

    async with open_services(settings) as services:
        bot = create_bot(services)
        async with (
            bot,
            monitoring(
                services.metrics,
                services.store,
                bot,
                host=settings.metrics_host,
                port=settings.metrics_port,
            ),
        ):
            stop_on_signals(bot)
            await connect_to_discord(
                bot,
                settings.discord_token.get_secret_value(),
                timeout=settings.discord_startup_timeout,
            )
    return 0


def stop_on_signals(bot: discord.Client) -> None:
    """SIGTERM (docker stop, systemd) and SIGINT close the bot gracefully: replies in progress
    end interrupted and are stored, memory is flushed, and the process exits 0.
    """
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []

    def close(signame: str) -> None:
        if closing:
            return
        log.info("%s received: shutting down", signame)
        closing.append(loop.create_task(bot.close()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, close, signal.Signals(signum).name)


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
