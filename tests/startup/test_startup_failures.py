"""Every start-up failure of `python -m bot`: one line on stderr naming cause and fix, and the
exit code the README's table documents. Real child processes, no traceback anywhere.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys

from tests.fakes.discord import FakeDiscord, Intent
from tests.fakes.model_server import FakeModelServer

from .helpers import (
    README,
    assert_one_line_failure,
    base_env,
    closed_port,
    documented_exit_codes,
    run_bot,
    silent_server,
    valid_secrets,
)


def test_readme_table_lists_every_exit_code():
    from bot.startup import ExitCode

    assert set(documented_exit_codes()) == {int(code) for code in ExitCode}


async def test_missing_settings_without_env_file_is_one_line(tmp_path):
    result = await run_bot(tmp_path, base_env())

    line = assert_one_line_failure(result, 2, "DISCORD_TOKEN and LLM_API_KEY are not set")
    assert f"there is no .env in {tmp_path}" in line
    assert "copy .env.example to .env" in line


async def test_missing_token_with_env_file_is_the_line_the_readme_shows(tmp_path):
    (tmp_path / ".env").write_text("LLM_API_KEY=sk-test-1234567\n")

    result = await run_bot(tmp_path, base_env())

    line = assert_one_line_failure(result, 2, "DISCORD_TOKEN is not set")
    assert f"`{line}`" in README.read_text()


async def test_missing_and_invalid_settings_share_one_line(tmp_path):
    result = await run_bot(
        tmp_path, base_env(LLM_API_KEY="sk-test-1234567", LLM_MAX_ATTEMPTS="many")
    )

    assert_one_line_failure(result, 2, "DISCORD_TOKEN is not set", "LLM_MAX_ATTEMPTS is invalid")


async def test_rejected_token(tmp_path):
    async with FakeDiscord(token="the-real-token") as fake:
        env = base_env(
            **valid_secrets(),
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE=str(tmp_path / "memory.sqlite3"),
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 2, "Discord rejected DISCORD_TOKEN", "Reset Token")


async def test_dev_guild_the_bot_is_not_in(tmp_path):
    async with FakeDiscord() as fake:
        env = base_env(
            DISCORD_TOKEN=fake.token,
            LLM_API_KEY="sk-test-1234567",
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE=str(tmp_path / "memory.sqlite3"),
            DEV_GUILD_ID="123456789012345678",
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 2, "Missing Access", "DEV_GUILD_ID", "applications.commands")


async def test_message_content_intent_not_allowed(tmp_path):
    async with (
        FakeDiscord(approved_intents=int(Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES)) as fake,
        FakeModelServer() as model,
    ):
        env = base_env(
            DISCORD_TOKEN=fake.token,
            LLM_API_KEY=model.api_key,
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE=str(tmp_path / "memory.sqlite3"),
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 2, "Message Content intent", "MESSAGE_CONTENT_INTENT=false")


async def test_discord_refuses_the_connection(tmp_path):
    port = closed_port()
    env = base_env(
        **valid_secrets(),
        DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/gateway/",
        DATABASE=str(tmp_path / "memory.sqlite3"),
    )

    result = await run_bot(tmp_path, env)

    assert_one_line_failure(
        result, 3, "cannot reach Discord's API", f"127.0.0.1:{port} refused", "firewall"
    )


async def test_discord_does_not_answer_within_the_startup_timeout(tmp_path):
    async with silent_server() as port:
        env = base_env(
            **valid_secrets(),
            DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
            DISCORD_STARTUP_TIMEOUT="1",
            DATABASE=str(tmp_path / "memory.sqlite3"),
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 3, "did not answer within 1 s", "DISCORD_STARTUP_TIMEOUT")


async def test_gateway_unreachable_after_login(tmp_path):
    port = closed_port()
    async with FakeDiscord() as fake:
        env = base_env(
            DISCORD_TOKEN=fake.token,
            LLM_API_KEY="sk-test-1234567",
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/gateway/",
            DATABASE=str(tmp_path / "memory.sqlite3"),
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(
        result, 3, "logged in, but cannot connect to Discord's gateway", f"127.0.0.1:{port}"
    )


async def test_database_path_under_a_regular_file(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    env = base_env(**valid_secrets(), DATABASE=str(tmp_path / "afile" / "memory.sqlite3"))

    result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 4, "cannot open the database", "afile", "Set DATABASE")


async def test_postgres_url_to_a_closed_port(tmp_path):
    port = closed_port()
    env = base_env(
        **valid_secrets(), DATABASE=f"postgresql://ensemble:pw-secret@127.0.0.1:{port}/db"
    )

    result = await run_bot(tmp_path, env)

    line = assert_one_line_failure(
        result, 4, "cannot open the database", "cannot reach", "Start the PostgreSQL server"
    )
    assert "pw-secret" not in line


async def test_corrupt_sqlite_file(tmp_path):
    database = tmp_path / "memory.sqlite3"
    database.write_bytes(b"definitely not sqlite " * 300)
    before = database.read_bytes()

    result = await run_bot(tmp_path, base_env(**valid_secrets(), DATABASE=str(database)))

    assert_one_line_failure(result, 4, str(database), "corrupt", "backup")
    assert database.read_bytes() == before


async def test_schema_written_by_a_newer_version(tmp_path):
    database = tmp_path / "memory.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute("PRAGMA user_version = 999")
    db.close()

    result = await run_bot(tmp_path, base_env(**valid_secrets(), DATABASE=str(database)))

    assert_one_line_failure(result, 4, "schema version 999 is newer", "newer version")


async def test_personas_dir_missing(tmp_path):
    env = base_env(
        **valid_secrets(),
        DATABASE=str(tmp_path / "memory.sqlite3"),
        PERSONAS_DIR=str(tmp_path / "nowhere"),
    )

    result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 5, "PERSONAS_DIR", "nowhere", "No such file")


async def test_personas_dir_that_is_a_file(tmp_path):
    (tmp_path / "cards").write_text("")
    env = base_env(
        **valid_secrets(),
        DATABASE=str(tmp_path / "memory.sqlite3"),
        PERSONAS_DIR=str(tmp_path / "cards"),
    )

    result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 5, "PERSONAS_DIR", "Not a directory")


async def test_metrics_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = base_env(
            **valid_secrets(),
            DATABASE=str(tmp_path / "memory.sqlite3"),
            METRICS_PORT=str(port),
            DISCORD_API_BASE=f"http://127.0.0.1:{closed_port()}/api/v10",
        )
        result = await run_bot(tmp_path, env)

    assert_one_line_failure(result, 6, f"127.0.0.1:{port}", "in use", "METRICS_PORT")


async def test_default_log_level_adds_no_traceback(tmp_path):
    """At INFO the first start logs its migrations, but the failure is still one line."""
    port = closed_port()
    env = base_env(
        **valid_secrets(),
        LOG_LEVEL="INFO",
        DATABASE=str(tmp_path / "memory.sqlite3"),
        DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
    )

    result = await run_bot(tmp_path, env)

    assert result.code == 3
    errors = [line for line in result.lines if line.startswith("error: ")]
    assert len(errors) == 1 and result.lines[-1] == errors[0]
    assert "Traceback" not in result.stderr
    assert all(" INFO " in line for line in result.lines[:-1]), result.stderr


async def test_a_working_start_is_not_a_failure(tmp_path):
    """The same child process, pointed at working fakes, gets ready (control for the above)."""
    async with FakeDiscord() as fake, FakeModelServer() as model:
        env = base_env(
            DISCORD_TOKEN=fake.token,
            LLM_API_KEY=model.api_key,
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            DATABASE=str(tmp_path / "memory.sqlite3"),
            LOG_LEVEL="INFO",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stderr is not None
            while True:
                line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
                assert line, "the bot exited before it was ready"
                assert not line.startswith("error: "), line
                if "Ready as" in line:
                    break
        finally:
            proc.kill()
            await proc.wait()
