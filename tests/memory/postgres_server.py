"""A fresh PostgreSQL schema per test on the server named by ENSEMBLE_TEST_POSTGRES_URL.

Without that variable PostgreSQL tests are skipped, except under CI=true, where they fail:
CI must never pass while silently skipping the PostgreSQL suite. `eval "$(bash
.ci/postgres.sh)"` starts a throwaway server and sets the variable.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

URL_VARIABLE = "ENSEMBLE_TEST_POSTGRES_URL"
START_HINT = 'eval "$(bash .ci/postgres.sh)" starts a throwaway server'
TIMEOUT = 10


def postgres_url() -> str:
    """The test server's URL; skips the test without one (fails it under CI=true)."""
    url = os.environ.get(URL_VARIABLE, "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"CI=true but {URL_VARIABLE} is not set, so the PostgreSQL suite cannot run "
            f"({START_HINT})",
            pytrace=False,
        )
    pytest.skip(f"{URL_VARIABLE} is not set ({START_HINT})")


def with_search_path(url: str, schema: str) -> str:
    """`url` with its connections working in `schema` (a server setting in the query)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("search_path", schema)])))


async def run_sql(url: str, *statements: str) -> None:
    """Run statements on a connection of their own."""
    import asyncpg

    conn = await asyncio.wait_for(asyncpg.connect(url), TIMEOUT)
    try:
        for statement in statements:
            await asyncio.wait_for(conn.execute(statement), TIMEOUT)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """An empty schema for one test; yields a URL working in it, drops it afterwards."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    await run_sql(url, f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(url, schema)
    finally:
        await run_sql(url, f"DROP SCHEMA {schema} CASCADE")
