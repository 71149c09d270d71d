"""`python -m bot probe` against the fake model server, through the real command line."""

import asyncio
import logging

import pytest

from bot.cli import main
from tests.fakes.model_server import FakeModelServer, Reply

KEY = "sk-or-v1-probe-0123456789abcdef"


@pytest.fixture
def probe_env(monkeypatch, tmp_path):
    """Run in an empty directory (no .env) and leave the root logger as it was."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield monkeypatch
    root.handlers[:] = handlers
    root.setLevel(level)


async def run_probe(monkeypatch, model, provider="openrouter", key=KEY):
    monkeypatch.setenv("LLM_PROVIDER", provider)
    monkeypatch.setenv("LLM_API_KEY", key)
    monkeypatch.setenv("LLM_BASE_URL", model.url)
    return await asyncio.to_thread(main, ["probe"])


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_probe_reports_native_roles_timing_caching_and_cost(probe_env, capsys, provider):
    async with FakeModelServer(api_key=KEY, caches_prefixes=True) as model:
        model.default_reply = Reply(text="Pong.", chunk_delay=0.01)
        code = await run_probe(probe_env, model, provider)

    out = capsys.readouterr().out
    assert code == 0
    assert "native roles (system, user_system, group, sample_*, names): accepted" in out
    assert "first token after" in out
    assert "flat roles (system, user, assistant): accepted" in out
    assert "prompt caching: yes:" in out and "came from the cache" in out
    assert "cost of this probe: $" in out
    assert "verdict: this endpoint accepts M2-her's roleplay roles" in out
    native, flat, first, repeat = model.requests
    assert {"user_system", "group", "sample_message_user"} <= set(native.roles)
    assert set(flat.roles) == {"system", "user"}
    assert first.messages == repeat.messages and len(str(first.messages)) > 4000
    assert KEY not in out


async def test_probe_says_when_only_flat_works(probe_env, capsys):
    async with FakeModelServer(api_key=KEY, rejects_roles=True) as model:
        code = await run_probe(probe_env, model)

    out = capsys.readouterr().out
    assert code == 0
    assert "native roles (system, user_system, group, sample_*, names): refused:" in out
    assert "invalid role(s)" in out
    assert "verdict: only flat roles work here" in out
    assert "prompt caching: no: cached_tokens came back as 0" in out


async def test_probe_with_a_bad_key_fails_without_printing_it(probe_env, capsys):
    async with FakeModelServer(api_key=KEY) as model:
        code = await run_probe(probe_env, model, key="sk-wrong-key-0123456789")

    out = capsys.readouterr().out
    assert code == 1
    assert "verdict: nothing worked" in out
    assert "sk-wrong-key-0123456789" not in out
    assert "prompt caching" not in out


def test_probe_needs_the_model_key(probe_env, capsys):
    probe_env.delenv("LLM_API_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["probe"])
    assert exit_info.value.code == 2
    assert "LLM_API_KEY" in capsys.readouterr().err
