"""`stream_turn`: per-turn fallback, the one-time recoveries and clean output, against the fake."""

import pytest

from bot.llm import (
    MemoryStateStore,
    OutputFilteredError,
    PromptTooLongError,
    RateLimitedError,
    SamplingParams,
    StreamInterruptedError,
    TransientError,
    TurnRequest,
    stream_turn,
    strip_messages,
)
from bot.llm.dialect import STICKY_AFTER
from bot.prompt.output import ReplyFilter
from tests.fakes.model_server import FakeModelServer, HttpError, ProviderError, Reply
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
SHORT = [{"role": "system", "content": "You are Mira."}, {"role": "user", "content": "Hello!"}]


class Renderer:
    """Records every rendering asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, dialect, shrink):
        self.calls.append((dialect, shrink))
        if shrink:
            return TurnRequest(SHORT, estimated_tokens=10, raw_tokens=9)
        messages = NATIVE if dialect == "native" else FLAT
        return TurnRequest(messages, estimated_tokens=50_000, raw_tokens=40_000)


def turn(client, render=None, **kwargs):
    return stream_turn(client, render or Renderer(), SamplingParams(), **kwargs)


async def no_sleep(_seconds):
    return None


def roles(request):
    return {m["role"] for m in request.messages}


async def test_native_success_is_plain(fm, http):
    client = make_client(http, fm, "minimax")
    deltas, result, error = await collect(turn(client))
    assert error is None and "".join(deltas) == "Echo: Hello!"
    assert result.dialect == "native" and result.recoveries == ()
    assert (result.prompt_estimate, result.prompt_raw) == (50_000, 40_000)


async def test_an_outage_is_answered_flat_for_that_turn_only(fm, http):
    client = make_client(http, fm, "minimax", sleep=no_sleep)
    fm.script(*[HttpError(500, "unknown error, 999 (1000)")] * 3, endpoint="minimax")

    _, result, error = await collect(turn(client))

    assert error is None and result.dialect == "flat"
    assert [bool(roles(r) & {"group"}) for r in fm.requests] == [True, True, True, False]
    assert "flat for this turn" in result.recoveries[0]
    assert client.dialect.current == "native"

    _deltas, result, error = await collect(turn(client))  # the next turn probes native again
    assert error is None and result.dialect == "native"
    assert "group" in roles(fm.requests[-1])


async def test_native_failing_turn_after_turn_makes_flat_stick(http):
    async with FakeModelServer(api_key=API_KEY, roles_fail_with_500=True) as fm:
        client = make_client(http, fm, "minimax", sleep=no_sleep, max_attempts=2)
        for _number in range(STICKY_AFTER):
            _, result, error = await collect(turn(client))
            assert error is None and result.dialect == "flat"
        assert client.dialect.current == "flat"
        sent = len(fm.requests)
        _, result, error = await collect(turn(client))
        assert error is None and result.dialect == "flat"
        assert len(fm.requests) == sent + 1  # no native attempt until the probe is due


async def test_a_refusal_naming_the_roles_switches_at_once_and_is_stored(http):
    async with FakeModelServer(api_key=API_KEY, rejects_roles=True) as fm:
        client = make_client(http, fm, "openrouter")
        store = MemoryStateStore()
        client.dialect.attach(store)

        _, result, error = await collect(turn(client))

        assert error is None and result.dialect == "flat"
        assert len(fm.requests) == 2  # the 400 is not retried; flat went out at once
        assert client.dialect.current == "flat"
        assert "dialect:openrouter:minimax/minimax-m2-her" in store.values


async def test_rate_limits_never_push_to_flat(fm, http):
    client = make_client(http, fm, "openrouter", sleep=no_sleep, max_attempts=2)
    fm.script(HttpError(429, "slow down"), HttpError(429, "slow down"))

    _, _, error = await collect(turn(client))

    assert isinstance(error, RateLimitedError)
    assert all("group" in roles(r) for r in fm.requests)


async def test_an_over_length_refusal_shrinks_once_in_the_same_dialect(fm, http):
    client = make_client(http, fm, "openrouter")
    render = Renderer()
    fm.script(HttpError(400, "This model's maximum context length is 65536 tokens"))

    _, result, error = await collect(turn(client, render))

    assert error is None and result.dialect == "native"
    assert render.calls == [("native", False), ("native", True)]
    assert fm.requests[-1].messages == SHORT
    assert "over-length" in result.recoveries[0]
    assert client.dialect.current == "native"


async def test_a_second_over_length_refusal_is_raised(fm, http):
    client = make_client(http, fm, "openrouter")
    too_long = HttpError(400, "prompt is too long")
    fm.script(too_long, too_long)

    _, _, error = await collect(turn(client))

    assert isinstance(error, PromptTooLongError)
    assert len(fm.requests) == 2


async def test_token_limit_on_a_big_prompt_shrinks(fm, http):
    client = make_client(http, fm, "minimax", sleep=no_sleep, max_attempts=1)
    fm.script(ProviderError(1039, "token limit"), endpoint="minimax")

    _, _result, error = await collect(turn(client, context_tokens=65_536))

    assert error is None and fm.requests[-1].messages == SHORT


async def test_invisible_characters_are_stripped_and_sent_once_more(http):
    async with FakeModelServer(api_key=API_KEY, rejects_invisible=True) as fm:
        client = make_client(http, fm, "minimax")
        hidden = [
            {"role": "system", "name": "Mira", "content": "You are\u200b Mira."},
            {"role": "user", "name": "Al\u2060ice", "content": "Hi 👨\u200d👩\u200d👧 \u202eboo"},
        ]

        _, result, error = await collect(turn(client, lambda dialect, shrink: TurnRequest(hidden)))

        assert error is None
        assert len(fm.requests) == 2
        assert fm.requests[-1].messages == [
            {"role": "system", "name": "Mira", "content": "You are Mira."},
            {"role": "user", "name": "Alice", "content": "Hi 👨👩👧 boo"},
        ]
        assert "1042" in result.recoveries[0]


@pytest.mark.parametrize(
    "blocked",
    [ProviderError(1027, "output new_sensitive"), Reply(text="", chunks=(), output_flag=1)],
)
async def test_a_blocked_reply_is_regenerated_once(fm, http, blocked):
    client = make_client(http, fm, "minimax")
    fm.script(blocked, Reply(text="A gentler answer."), endpoint="minimax")

    deltas, result, error = await collect(turn(client))

    assert error is None and "".join(deltas) == "A gentler answer."
    assert "regenerated once" in result.recoveries[0]
    assert result.dialect == "native"


async def test_a_reply_blocked_twice_is_given_up(fm, http):
    client = make_client(http, fm, "minimax")
    fm.script(*[ProviderError(1027, "output new_sensitive")] * 2, endpoint="minimax")

    _, _, error = await collect(turn(client))

    assert isinstance(error, OutputFilteredError)
    assert len(fm.requests) == 2


async def test_the_cleaner_cuts_and_the_stream_closes_early(fm, http):
    client = make_client(http, fm, "minimax")
    fm.script(
        Reply(
            chunks=("Mira: ", "Welcome", " in.\n", "bob:", " thanks", "!\n", "more"),
            chunk_delay=0.01,
        ),
        endpoint="minimax",
    )
    cleaner = ReplyFilter("Mira", ["Bob", "Alice"])

    deltas, result, error = await collect(turn(client, cleaner=cleaner, count_tokens=len))

    assert error is None
    assert "".join(deltas) == "Welcome in."
    assert result.text == "Welcome in."
    assert cleaner.cut.startswith("bob:")
    assert "someone else's turn" in result.recoveries[-1]
    assert result.usage is not None and result.usage.estimated  # closed before usage came
    assert result.usage.prompt_tokens == 50_000


async def test_a_reply_cut_by_an_error_carries_an_estimated_usage(fm, http):
    client = make_client(http, fm, "openrouter")
    fm.script(Reply(chunks=("Once ", "upon "), error_after=2))

    deltas, _, error = await collect(turn(client, count_tokens=len))

    assert deltas == ["Once ", "upon "]
    assert isinstance(error, TransientError) and error.partial
    assert error.usage is not None and error.usage.estimated
    assert (error.usage.prompt_tokens, error.usage.completion_tokens) == (50_000, 10)


async def test_a_native_probe_gets_a_single_try(fm, http):
    client = make_client(http, fm, "minimax", sleep=no_sleep)
    client.dialect.state.flat = True  # as if stored flat; the probe is due at once
    fm.script(HttpError(500, "still broken"), endpoint="minimax")

    _, result, error = await collect(turn(client))

    assert error is None and result.dialect == "flat"
    assert len(fm.requests) == 2  # one native try, then flat
    assert client.dialect.state.next_probe > 0


async def test_errors_after_text_are_never_retried(fm, http):
    client = make_client(http, fm, "openrouter")
    fm.script(Reply(chunks=("a",), disconnect_after=1))

    _, _, error = await collect(turn(client))

    assert isinstance(error, StreamInterruptedError) and error.partial
    assert len(fm.requests) == 1


def test_strip_messages_keeps_roles_and_falls_back_for_empty_names():
    cleaned = strip_messages([{"role": "user", "name": "\u200b", "content": "a\u200bb"}])
    assert cleaned == [{"role": "user", "name": "Someone", "content": "ab"}]
