"""Import boundaries: only the Discord edge imports discord; adapters stay independent."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISCORD_EDGE = {"bot/bot.py", "bot/cli.py", "bot/__main__.py", "bot/check.py", "bot/startup.py"}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def core_modules():
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("bot/ui/") or rel in DISCORD_EDGE:
            continue
        yield rel


@pytest.mark.parametrize("rel", list(core_modules()))
def test_core_never_imports_discord(rel):
    bad = {m for m in imports_of(ROOT / rel) if m == "discord" or m.startswith("discord.")}
    assert not bad, f"{rel} imports {bad}; only cogs/, bot/ui/ and the wiring may"


FORBIDDEN = {
    "bot/llm": ("aiosqlite", "asyncpg", "bot.memory", "bot.config", "bot.prompt", "bot.cards"),
    "bot/memory": ("httpx", "bot.llm", "bot.prompt", "bot.config"),
    "bot/prompt": ("httpx", "aiosqlite", "bot.memory", "bot.llm"),
    "bot/cards": ("httpx", "aiosqlite", "bot.memory", "bot.llm"),
    "bot/ui": ("bot.memory", "aiosqlite", "asyncpg"),
    "bot/engine": ("bot.ui", "cogs", "httpx", "aiosqlite", "asyncpg"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_adapters_stay_apart(package):
    paths = list((ROOT / package).rglob("*.py")) or [ROOT / f"{package}.py"]
    for path in paths:
        if not path.exists():
            continue
        for module in imports_of(path):
            for banned in FORBIDDEN[package]:
                assert not (module == banned or module.startswith(banned + ".")), (
                    f"{path.relative_to(ROOT)} imports {module}"
                )


def test_cogs_do_not_talk_http_or_sql():
    for path in (ROOT / "cogs").rglob("*.py"):
        for module in imports_of(path):
            assert module.split(".")[0] not in {"httpx", "aiosqlite", "asyncpg"}, path
