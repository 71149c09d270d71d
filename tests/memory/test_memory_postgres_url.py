"""PostgreSQL URLs: the store's own parameters, redacted passwords, and a missing driver."""

import asyncio
import logging
import socket
import sys

import pytest

from bot.memory import DatabaseFileError, DatabaseUnavailableError, UnsupportedDatabaseError
from bot.memory import open_store as open_any_store
from bot.memory.connect import is_postgres_url
from bot.memory.postgres.target import PoolOptions, parse_target, redact

SECRET = "s3cr3t-Pa55"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "url",
    ["postgresql://bot@db/ensemble", "postgres://bot@db/ensemble", "postgresql:///ensemble"],
)
def test_postgres_urls_are_recognised(url: str) -> None:
    assert is_postgres_url(url)


@pytest.mark.parametrize("path", ["./data/ensemble.sqlite3", "/srv/postgresql/memory.sqlite3"])
def test_file_paths_are_not_postgres(path: str) -> None:
    assert not is_postgres_url(path)


def test_store_parameters_are_taken_out_and_the_rest_passed_on() -> None:
    target = parse_target(
        "postgresql://bot@db:5433/ensemble?pool_min_size=2&pool_max_size=4&connect_timeout=2.5"
        "&statement_timeout=5s&sslmode=require&search_path=memory&statement_cache_size=0"
    )

    assert target.options == PoolOptions(
        min_size=2, max_size=4, connect_timeout=2.5, statement_timeout="5s", statement_cache_size=0
    )
    assert target.dsn == (
        "postgresql://bot@db:5433/ensemble?sslmode=require&search_path=memory"
        "&application_name=ensemble"
    )
    assert target.options.server_settings()["statement_timeout"] == "5s"


def test_defaults_come_from_the_caller_and_the_url_wins() -> None:
    defaults = PoolOptions(max_size=3, statement_timeout="2s")

    assert parse_target("postgresql://db/x", defaults).options == defaults
    assert parse_target("postgresql://db/x?pool_max_size=7", defaults).options.max_size == 7
    named = parse_target("postgresql://db/x?application_name=shard-2")
    assert named.dsn == "postgresql://db/x?application_name=shard-2"


@pytest.mark.parametrize(
    "query",
    ["pool_max_size=0", "pool_max_size=many", "pool_min_size=-1", "connect_timeout=0",
     "connect_timeout=nan", "statement_cache_size=-5", "pool_min_size=5&pool_max_size=2"],
)  # fmt: skip
def test_unusable_store_parameters_are_refused_without_the_password(query: str) -> None:
    with pytest.raises(DatabaseFileError) as caught:
        parse_target(f"postgresql://bot:{SECRET}@db/ensemble?{query}")

    assert SECRET not in str(caught.value)
    assert "postgresql://bot:***@db/ensemble" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://bot:{SECRET}@db/x", "postgresql://bot:***@db/x"),
        (f"postgresql://bot:{SECRET}@@db:5432/x", "postgresql://bot:***@db:5432/x"),
        (
            f"postgresql://db/x?user=bot&password={SECRET}",
            "postgresql://db/x?user=bot&password=***",
        ),
        ("postgresql://bot@db/x", "postgresql://bot@db/x"),
    ],
)
def test_redact_hides_passwords(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert SECRET not in repr(parse_target(url))


def test_scrub_removes_the_password_from_driver_messages() -> None:
    target = parse_target(f"postgresql://bot:{SECRET}@db/x")

    assert target.scrub(f"login as bot with {SECRET} failed") == "login as bot with *** failed"


async def test_unreachable_server_names_the_url_but_not_the_password(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"postgresql://bot:{SECRET}@127.0.0.1:{closed_port()}/ensemble?connect_timeout=2"

    with pytest.raises(DatabaseUnavailableError) as caught:
        await asyncio.wait_for(open_any_store(url), 10)

    error = caught.value
    assert "postgresql://bot:***@127.0.0.1" in str(error)
    for text in (str(error), repr(error), error.path, caplog.text):
        assert SECRET not in text


async def test_missing_driver_says_how_to_install_it(monkeypatch) -> None:
    for name in list(sys.modules):
        if name == "asyncpg" or name.startswith(("asyncpg.", "bot.memory.postgres")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # what `import asyncpg` finds: nothing

    with pytest.raises(UnsupportedDatabaseError) as caught:
        await open_any_store("postgresql://bot@127.0.0.1/ensemble")

    assert "pip install -e '.[postgres]'" in str(caught.value)
