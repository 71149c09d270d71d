"""`python -m bot check` says which dialect the bot will use and why."""

from pathlib import Path

from bot.check import _dialect_choice, run_check
from bot.config import Settings
from bot.llm import BadRequestError, DialectPolicy, MemoryStateStore
from bot.memory import inspect_database, open_store

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

    text = await _dialect_choice(config, store.values)

    assert text.startswith("flat since ")
    assert "refused the roleplay roles: invalid role(s): group" in text
    assert text.endswith("native is tried again on the next turn")


async def test_a_fixed_setting_is_shown_as_fixed(tmp_path):
    text = await _dialect_choice(settings(tmp_path, llm_dialect="flat"), {})
    assert text == "flat (fixed by LLM_DIALECT)"


async def test_check_reads_the_stored_choice_from_the_database_without_changing_it(tmp_path):
    config = settings(tmp_path, llm_provider="minimax")
    async with await open_store(config.database) as store:
        policy = DialectPolicy("auto", key=f"minimax:{config.llm_model}")
        policy.attach(store)
        await policy.native_refused(BadRequestError("invalid role(s): group", status=400))
    before = Path(config.database).read_bytes()  # noqa: ASYNC240
    text = await _dialect_choice(config, {})
    assert text.startswith("native")  # nothing passed: nothing stored
    state = await inspect_database(config.database)
    assert (await _dialect_choice(config, state.runtime_state)).startswith("flat since ")
    assert Path(config.database).read_bytes() == before  # noqa: ASYNC240
