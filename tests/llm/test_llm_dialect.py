"""Role-rejection detection and the sticky auto → flat dialect fallback."""

import logging

import pytest

from bot.llm import (
    BadRequestError,
    DialectPolicy,
    LLMError,
    SamplingParams,
    TransientError,
    is_role_rejection,
)
from tests.fakes.model_server import FakeModelServer, HttpError, Reply
from tests.llm.helpers import API_KEY, collect, make_client

NATIVE = [
    {"role": "system", "name": "Mira", "content": "You are Mira."},
    {"role": "user_system", "name": "Alice", "content": "Alice, a ranger."},
    {"role": "group", "content": "The Rusty Anchor"},
    {"role": "user", "name": "Alice", "content": "Hello!"},
]
FLAT = [
    {"role": "system", "content": "You are Mira.\nAlice, a ranger.\nScene: The Rusty Anchor"},
    {"role": "user", "content": "Alice: Hello!"},
]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BadRequestError("x", status=400, code=400), True),
        (BadRequestError("x", code=2013), True),
        (TransientError("x", status=500, code="server_error"), True),
        (TransientError("x", code=1000), True),
        (TransientError("x", status=502, code=502), False),
        (BadRequestError("x", status=400, partial=True), False),
        (LLMError("x", status=401), False),
        (ValueError("400"), False),
    ],
)
def test_is_role_rejection(error, expected):
    assert is_role_rejection(error) is expected


@pytest.mark.parametrize("provider", ["openrouter", "minimax"])
async def test_auto_falls_back_to_flat_once_and_sticks(http, provider, caplog):
    caplog.set_level(logging.WARNING)
    async with FakeModelServer(api_key=API_KEY, rejects_roles=True) as fm:
        client = make_client(http, fm, provider)
        policy = client.dialect
        assert policy.current == "native"

        _, _, error = await collect(client.stream_chat(NATIVE, _params()))
        assert isinstance(error, BadRequestError)
        assert len(fm.requests) == 1, "a 400 / 2013 is not retried"
        assert policy.should_fall_back(error)

        policy.remember_flat()
        assert policy.current == "flat"
        deltas, result, error = await collect(client.stream_chat(FLAT, _params()))

    assert error is None and result is not None and "".join(deltas) == "Echo: Alice: Hello!"
    assert not policy.should_fall_back(BadRequestError("x", status=400))
    assert "flat roles" in caplog.text


async def test_minimax_http_500_on_roles_counts_as_rejection(fm, http):
    fm.script(HttpError(500, "unknown error, 999 (1000)"), endpoint="minimax")
    client = make_client(http, fm, "minimax", max_attempts=1)

    _, _, error = await collect(client.stream_chat(NATIVE, _params()))

    assert isinstance(error, TransientError) and error.status == 500
    assert client.dialect.should_fall_back(error)


async def test_error_after_text_never_triggers_fallback(fm, http):
    fm.script(Reply(chunks=("a",), error_after=1, error_code=400))
    client = make_client(http, fm, "openrouter")

    _, _, error = await collect(client.stream_chat(NATIVE, _params()))

    assert error is not None and error.partial
    assert not client.dialect.should_fall_back(error)


def test_fixed_settings_never_change():
    rejection = BadRequestError("x", status=400)
    native = DialectPolicy("native")
    flat = DialectPolicy("flat")
    assert native.current == "native" and not native.should_fall_back(rejection)
    native.remember_flat()
    assert native.current == "native"
    assert flat.current == "flat" and not flat.should_fall_back(rejection)


def test_policies_are_independent_per_client():
    first, second = DialectPolicy("auto"), DialectPolicy("auto")
    first.remember_flat()
    assert (first.current, second.current) == ("flat", "native")
    assert repr(first) == "DialectPolicy(setting='auto', current='flat')"


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="dialect"):
        DialectPolicy("fancy")  # type: ignore[arg-type]


def _params():
    return SamplingParams()
