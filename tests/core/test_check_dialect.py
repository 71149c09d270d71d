"""`python -m bot check` says which dialect the bot will use and why."""

from pathlib import Path

from bot.check import _dialect_choice, run_check
from bot.config import Settings
from bot.llm import BadRequestError, DialectPolicy, MemoryStateStore

ROOT = Path(__file__).resolve().parents[2]


def settings(tmp_path, **values):
    return Settings(
        _env_file=None,
        discord_token="discord-token-for-check",
        llm_api_key="sk-or-v1-check-0123456789",
        database=str(tmp_path / "check.sqlite3"),
        personas_dir=ROOT / "personas",
        **values,
    )


async def test_check_prints_the_dialect_choice(tmp_path, capsys):
    code = await run_check(settings(tmp_path))
    out = capsys.readouterr().out
    assert code == 0
    assert "dialect choice: native roles (auto: flat only on evidence)" in out


async def test_a_stored_flat_choice_is_shown_with_its_reason_and_the_next_probe(tmp_path):
    config = settings(tmp_path, llm_provider="minimax")
    store = MemoryStateStore()
    policy = DialectPolicy("auto", key=f"minimax:{config.llm_model}")
    policy.attach(store)
    await policy.native_refused(BadRequestError("invalid role(s): group", status=400))

    text = await _dialect_choice(config, store)

    assert text.startswith("flat since ")
    assert "refused the roleplay roles: invalid role(s): group" in text
    assert text.endswith("native is tried again on the next turn")


async def test_a_fixed_setting_is_shown_as_fixed(tmp_path):
    text = await _dialect_choice(settings(tmp_path, llm_dialect="flat"), None)
    assert text == "flat (fixed by LLM_DIALECT) (this memory cannot store the choice yet)"
