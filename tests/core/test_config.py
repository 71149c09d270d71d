"""Settings: defaults, clamping, secrets, the .env.example mirror and the CLI's error lines."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.settings_errors import describe_settings_error

ROOT = Path(__file__).resolve().parents[2]


def make(**values):
    return Settings(_env_file=None, discord_token="tok-123456", llm_api_key="key-abcdef", **values)


def test_provider_defaults_fill_model_and_base_url():
    openrouter = make()
    assert openrouter.llm_model == "minimax/minimax-m2-her"
    assert openrouter.llm_base_url == "https://openrouter.ai/api/v1"
    minimax = make(llm_provider="minimax")
    assert minimax.llm_model == "M2-her"
    assert minimax.llm_base_url == "https://api.minimax.io"
    china = make(llm_provider="minimax", llm_base_url="https://api.minimaxi.com/")
    assert china.llm_base_url == "https://api.minimaxi.com"


@pytest.mark.parametrize(
    ("field", "given", "expected"),
    [
        ("llm_temperature", 0.0, 0.01),
        ("llm_temperature", 1.7, 1.0),
        ("llm_top_p", 0.0, 0.01),
        ("llm_top_p", 2.0, 1.0),
        ("llm_max_tokens", 5000, 2048),
        ("llm_max_tokens", 0, 1),
    ],
)
def test_generation_values_are_clamped_to_m2her_ranges(field, given, expected):
    assert getattr(make(**{field: given}), field) == expected


def test_secrets_never_show_in_repr_or_dump():
    settings = make()
    text = repr(settings) + str(settings.model_dump())
    assert "tok-123456" not in text
    assert "key-abcdef" not in text


def test_postgres_url_is_detected():
    assert make(database="postgresql://u@h/db").uses_postgres
    assert not make(database="./data/x.sqlite3").uses_postgres


def test_env_example_lists_every_setting_in_order():
    keys = [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert keys == [name.upper() for name in Settings.model_fields]


def test_env_example_loads_once_secrets_are_filled(tmp_path):
    env = tmp_path / ".env"
    text = (ROOT / ".env.example").read_text()
    text = text.replace("DISCORD_TOKEN=\n", "DISCORD_TOKEN=abc.def.ghi\n")
    text = text.replace("LLM_API_KEY=\n", "LLM_API_KEY=sk-test-0000\n")
    env.write_text(text)
    settings = Settings(_env_file=env)
    assert settings.discord_api_base is None
    assert settings.dev_guild_id is None
    assert settings.database == "./data/ensemble.sqlite3"
    assert settings.personas_dir == Path("personas")
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", None)
    assert settings.log_format == "text"
    assert settings.discord_startup_timeout == 30.0


def test_describe_names_the_variable():
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, llm_provider="openai")
    text = describe_settings_error(caught.value)
    assert "\n" not in text
    assert text.startswith("DISCORD_TOKEN and LLM_API_KEY are not set: add them to .env")
    assert "; LLM_PROVIDER is invalid: " in text


def test_describe_says_when_there_is_no_env_file(tmp_path):
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, llm_api_key="sk-x-123456")
    text = describe_settings_error(caught.value, env_file=tmp_path / ".env")
    assert text == (
        f"DISCORD_TOKEN is not set: there is no .env in {tmp_path}: copy .env.example to .env "
        "and fill it in."
    )


def _run_cli(tmp_path, *args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LLM_"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_without_token_prints_one_line_and_exits_2(tmp_path):
    (tmp_path / ".env").write_text("# no token yet\n")
    result = _run_cli(tmp_path, "check", env_extra={"LLM_API_KEY": "sk-x-123456"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: DISCORD_TOKEN is not set: add it to .env or the environment (see .env.example)."
    )
    assert "Traceback" not in result.stderr


def test_cli_with_malformed_setting_names_it(tmp_path):
    result = _run_cli(
        tmp_path,
        "check",
        env_extra={
            "DISCORD_TOKEN": "x.y.z",
            "LLM_API_KEY": "sk-1234567",
            "LLM_MAX_ATTEMPTS": "many",
        },
    )
    assert result.returncode == 2
    assert "LLM_MAX_ATTEMPTS is invalid" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_reports_what_it_found_offline(tmp_path):
    result = _run_cli(
        tmp_path,
        "check",
        env_extra={
            "DISCORD_TOKEN": "x.y.z",
            "LLM_API_KEY": "sk-1234567",
            "PERSONAS_DIR": str(ROOT / "personas"),
            "DATABASE": str(tmp_path / "db" / "memory.sqlite3"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "personas: 4 loaded" in result.stdout
    assert f"database: would create {tmp_path / 'db' / 'memory.sqlite3'} (schema v" in result.stdout
    assert "cogs: 9 loaded" in result.stdout
    assert result.stdout.strip().endswith("check: all good")
    assert not (tmp_path / "db").exists()  # checking creates nothing
    assert "sk-1234567" not in result.stdout + result.stderr


def test_cli_check_lists_every_broken_card_and_fails(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "good.toml").write_text('name = "Good"\ndescription = "A fine persona."\n')
    (cards / "bad.toml").write_text('name = "Bad"\ndescription = [1, 2]\n')
    (cards / "worse.json").write_text("{not json")
    result = _run_cli(
        tmp_path,
        "check",
        env_extra={
            "DISCORD_TOKEN": "x.y.z",
            "LLM_API_KEY": "sk-1234567",
            "PERSONAS_DIR": str(cards),
            "DATABASE": str(tmp_path / "memory.sqlite3"),
        },
    )
    assert result.returncode == 1
    assert "personas: 1 loaded" in result.stdout
    assert "bad.toml" in result.stdout
    assert "worse.json" in result.stdout
    assert "problem(s) found" in result.stdout


def test_cli_refuses_a_corrupt_database_without_touching_it(tmp_path):
    db = tmp_path / "memory.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    result = _run_cli(
        tmp_path,
        "check",
        env_extra={"DISCORD_TOKEN": "x.y.z", "LLM_API_KEY": "sk-1234567", "DATABASE": str(db)},
    )
    assert result.returncode == 1
    assert str(db) in result.stdout
    assert db.read_bytes() == before


def test_readme_documents_every_setting_and_ci_runs_its_test_command():
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in readme, f"README's settings table lacks {name.upper()}"
    install = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]'"
    command = f"{install} && .venv/bin/python -m pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()
