"""`python -m bot check`: validate settings, personas, database and cogs without going online."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping

import httpx

from bot.cards import PersonaFolderError, load_personas_dir
from bot.config import Settings
from bot.llm import DialectPolicy, MemoryStateStore
from bot.memory import StoreError, inspect_database
from bot.startup import ExitCode


def _say(line: str) -> None:
    print(line)  # noqa: T201 (this command's output is its report)


async def run_check(settings: Settings) -> int:
    """Print what was found; exit code 1 if anything needs fixing."""
    problems = 0
    _say(f"settings: ok (provider {settings.llm_provider}, model {settings.llm_model})")
    _say(f"  endpoint: {settings.llm_base_url}  dialect: {settings.llm_dialect}")
    if settings.discord_api_base or settings.discord_gateway_url:
        _say(
            f"  discord proxy: REST {settings.discord_api_base or 'default'}, "
            f"gateway {settings.discord_gateway_url or 'default'}"
        )

    loaded = load_personas_dir(settings.personas_dir)
    _say(f"personas: {len(loaded.personas)} loaded from {settings.personas_dir}")
    for persona_id, persona in sorted(loaded.personas.items()):
        _say(f"  - {persona_id}: {persona.name} ({loaded.files[persona_id].name})")
    for error in loaded.errors:
        problems += 1
        _say(f"  ! {error}")
    if not loaded.personas:
        problems += 1
        _say("  ! no persona loaded: scenes need at least one")

    if settings.uses_postgres:
        _say("database: PostgreSQL URL set (not contacted offline; checked at start)")
    else:
        problems += await _check_database(settings)

    problems += await _check_cogs(settings)
    _say("check: all good" if problems == 0 else f"check: {problems} problem(s) found")
    return ExitCode.OK if problems == 0 else ExitCode.FAILED


async def _check_database(settings: Settings) -> int:
    """Report the database's schema and the stored dialect choice, reading the database
    without creating or changing anything.
    """
    try:
        state = await inspect_database(settings.database)
    except StoreError as error:
        _say(f"database: ! {error}")
        return 1
    if not state.exists:
        _say(f"database: would create {state.location} (schema v{state.latest})")
    elif state.version > state.latest:
        _say(
            f"database: ! {state.location}: schema v{state.version} is newer than this "
            f"build's v{state.latest}; run the newer version of the bot"
        )
        return 1
    elif state.version < state.latest:
        _say(
            f"database: {state.location}: needs migration {state.version} → {state.latest} "
            "(applied when the bot starts)"
        )
    else:
        _say(f"database: {state.location}: schema v{state.version}, up to date")
    for problem in state.problems:
        _say(f"  ! {problem}")
    _say(f"dialect choice: {await _dialect_choice(settings, state.runtime_state)}")
    return len(state.problems)


async def _dialect_choice(settings: Settings, stored: Mapping[str, str]) -> str:
    """The stored dialect choice for the configured provider and model, in words."""
    policy = DialectPolicy(
        settings.llm_dialect, key=f"{settings.llm_provider}:{settings.llm_model}"
    )
    state = MemoryStateStore()
    state.values.update(stored)
    policy.attach(state)
    await policy.load()
    return policy.describe()


async def _check_cogs(settings: Settings) -> int:
    """Build the real bot offline and load every extension."""
    from bot.bot import EXTENSIONS, create_bot
    from bot.services import open_services

    if settings.uses_postgres:
        _say("cogs: skipped (needs the database)")
        return 0
    logging.getLogger("discord").setLevel(logging.WARNING)
    try:
        # A throwaway memory: checking must not create or change the real one.
        with tempfile.TemporaryDirectory(prefix="ensemble-check-") as scratch:
            offline = settings.model_copy(update={"database": f"{scratch}/memory.sqlite3"})
            async with open_services(offline) as services:
                bot = create_bot(services)
                async with bot:
                    for extension in EXTENSIONS:
                        await bot.load_extension(extension)
                    commands = [c.qualified_name for c in bot.tree.walk_commands()]
    except PersonaFolderError:
        _say("cogs: skipped (needs a readable PERSONAS_DIR)")
        return 0  # the personas line above already counted it
    except (ImportError, httpx.HTTPError, RuntimeError, StoreError) as error:
        _say(f"cogs: ! {error}")
        return 1
    _say(f"cogs: {len(EXTENSIONS)} loaded, {len(commands)} slash command(s)")
    return 0
