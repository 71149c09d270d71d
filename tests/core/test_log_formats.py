"""LOG_FORMAT=text|json: the fields a log collector needs, and secrets redacted in both."""

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.log import make_formatter

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTIz.discord-token-value.abcdef"
API_KEY = "or-key-9f8e7d6c5b4a"


def record_with_exception(message: str, *args: object) -> logging.LogRecord:
    try:
        raise RuntimeError(f"provider said no to key {API_KEY} and Bearer {API_KEY}")
    except RuntimeError:
        exc_info = sys.exc_info()
    return logging.LogRecord("bot.llm", logging.ERROR, __file__, 1, message, args, exc_info)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_secrets_are_redacted_in_message_and_exception(log_format):
    formatter = make_formatter(log_format, secrets=(TOKEN, API_KEY))
    record = record_with_exception("login with %s failed", TOKEN)

    output = formatter.format(record)

    assert TOKEN not in output
    assert API_KEY not in output
    assert "login with *** failed" in output
    assert "provider said no to key ***" in output
    assert "Traceback" in output


def test_credential_shaped_text_is_redacted_without_being_configured():
    formatter = make_formatter("json")
    record = logging.LogRecord(
        "discord.http", logging.WARNING, __file__, 1, "sent Authorization: Bot %s", (TOKEN,), None
    )

    entry = json.loads(formatter.format(record))

    assert entry["message"] == "sent Authorization: Bot ***"


def test_json_lines_carry_time_level_logger_message_and_exception():
    formatter = make_formatter("json", secrets=(API_KEY,))
    plain = logging.LogRecord("bot.engine", logging.INFO, __file__, 1, "reply %d done", (7,), None)
    failed = record_with_exception("reply failed")

    first, second = (json.loads(formatter.format(r)) for r in (plain, failed))

    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.engine"
    assert first["message"] == "reply 7 done"
    assert first["time"].endswith("+00:00")
    assert second["exception"].startswith("Traceback")
    assert "RuntimeError" in second["exception"]
    assert "\n" not in formatter.format(failed)  # one record, one line


def test_the_cli_writes_json_lines_when_asked(tmp_path):
    """A real start-up with LOG_FORMAT=json: each stderr log line is one JSON object."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        "LLM_API_KEY": API_KEY,
        "DATABASE": str(tmp_path / "memory.sqlite3"),
        "PERSONAS_DIR": str(tmp_path / "cards"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "broken.toml").write_text("name = \n")
    (cards / "good.toml").write_text('name = "Good"\n')

    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert entries, result.stderr
    assert any(e["message"].startswith("Persona card skipped") for e in entries)
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert TOKEN not in result.stderr + result.stdout
    assert API_KEY not in result.stderr + result.stdout
