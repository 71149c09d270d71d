"""`python -m bot check`: validate settings, personas, database and cogs without going online."""

from __future__ import annotations

import logging

import httpx

from bot.cards import load_personas_dir
from bot.config import Settings
from bot.llm import DialectPolicy, StateStore, as_state_store
from bot.memory import StoreError, open_store

EXIT_OK = 0
EXIT_PROBLEMS = 1


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
        _say(f"  - {persona_id}: {persona.name}")
    for error in loaded.errors:
        problems += 1
        _say(f"  ! {error}")
    if not loaded.personas:
        problems += 1
        _say("  ! no persona loaded: scenes need at least one")

    if settings.uses_postgres:
        _say("database: PostgreSQL URL set (not contacted offline; checked at start)")
    else:
        try:
            store = await open_store(settings.database)
        except StoreError as error:
            problems += 1
            _say(f"database: ! {error}")
        else:
            async with store:
                stats = await store.stats()
                broken = await store.integrity_check()
                dialect = await _dialect_choice(settings, as_state_store(store))
            details = ", ".join(f"{key} {value}" for key, value in stats.items())
            _say(f"database: ok ({details})")
            for line in broken:
                problems += 1
                _say(f"  ! {line}")
            _say(f"dialect choice: {dialect}")

    problems += await _check_cogs(settings)
    _say("check: all good" if problems == 0 else f"check: {problems} problem(s) found")
    return EXIT_OK if problems == 0 else EXIT_PROBLEMS


async def _dialect_choice(settings: Settings, state: StateStore | None) -> str:
    """The stored dialect choice for the configured provider and model, in words."""
    policy = DialectPolicy(
        settings.llm_dialect, key=f"{settings.llm_provider}:{settings.llm_model}"
    )
    policy.attach(state)
    await policy.load()
    if state is None:
        return f"{policy.describe()} (this memory cannot store the choice yet)"
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
        async with open_services(settings) as services:
            bot = create_bot(services)
            async with bot:
                for extension in EXTENSIONS:
                    await bot.load_extension(extension)
                commands = [c.qualified_name for c in bot.tree.walk_commands()]
    except (ImportError, httpx.HTTPError, RuntimeError, StoreError) as error:
        _say(f"cogs: ! {error}")
        return 1
    _say(f"cogs: {len(EXTENSIONS)} loaded, {len(commands)} slash command(s)")
    return 0
