"""The dialect policy: flat only on evidence, stored, probed again with backoff."""

import logging

import pytest

from bot.llm import (
    BadRequestError,
    DialectPolicy,
    DialectState,
    InvisibleCharactersError,
    LLMError,
    LLMTimeoutError,
    MemoryStateStore,
    OutputFilteredError,
    PromptTooLongError,
    RateLimitedError,
    StreamInterruptedError,
    TransientError,
    as_state_store,
    failure_kind,
    is_role_rejection,
)
from bot.llm.dialect import FIRST_PROBE_DELAY, MAX_PROBE_DELAY, STICKY_AFTER


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (BadRequestError("OpenRouter HTTP 400: invalid role(s): group", status=400), "refusal"),
        (BadRequestError("MiniMax code 2013: invalid params, user_system", code=2013), "refusal"),
        (BadRequestError("messages[2].name: unknown field", status=422), "refusal"),
        (BadRequestError("invalid params, temperature out of range", code=2013), "bad_request"),
        (BadRequestError("OpenRouter HTTP 400", status=400), "bad_request"),
        (PromptTooLongError("maximum context length is 65536", status=400), "too_long"),
        (InvisibleCharactersError("invisible character ratio", code=1042), "invisible"),
        (OutputFilteredError("output new_sensitive", code=1027), "blocked_output"),
        (TransientError("unknown error, 999 (1000)", status=500), "transient"),
        (TransientError("model down", status=502), "transient"),
        (LLMTimeoutError("no data for 30 s", phase="idle"), "transient"),
        (LLMTimeoutError("no complete reply within 120 s", phase="total"), "other"),
        (StreamInterruptedError("connection lost"), "transient"),
        (RateLimitedError("rate limit", code=1002), "other"),
        (RateLimitedError("token limit", code=1039), "other"),
        (BadRequestError("invalid role", status=400, partial=True), "other"),
        (ValueError("400"), "other"),
    ],
)
def test_failure_kinds(error, kind):
    assert failure_kind(error) == kind
    assert is_role_rejection(error) is (kind == "refusal")


def test_token_limit_on_a_prompt_near_the_window_is_over_length():
    error = RateLimitedError("token limit", code=1039)
    assert failure_kind(error, estimated_tokens=40_000, context_tokens=65_536) == "too_long"
    assert failure_kind(error, estimated_tokens=4_000, context_tokens=65_536) == "other"


async def test_a_refusal_switches_to_flat_stores_it_and_probes_on_start(caplog):
    caplog.set_level(logging.WARNING)
    clock, store = Clock(), MemoryStateStore()
    policy = DialectPolicy("auto", key="minimax:M2-her", clock=clock)
    policy.attach(store)
    assert (await policy.plan_turn()).dialect == "native"

    await policy.native_refused(BadRequestError("invalid role(s): group", status=400))

    assert policy.current == "flat"
    assert "refused the roleplay roles" in caplog.text
    assert DialectState.parse(store.values["dialect:minimax:M2-her"]).flat
    assert (await policy.plan_turn()).dialect == "flat"  # no probe before the backoff

    restarted = DialectPolicy("auto", key="minimax:M2-her", clock=clock)
    restarted.attach(store)
    plan = await restarted.plan_turn()
    assert (plan.dialect, plan.probing) == ("native", True)  # the probe on start
    assert (await restarted.plan_turn()).dialect == "flat"  # one probe at a time
    assert restarted.current == "flat"


async def test_probes_back_off_and_a_working_probe_returns_to_native(caplog):
    caplog.set_level(logging.INFO)
    clock, store = Clock(), MemoryStateStore()
    policy = DialectPolicy("auto", key="k", clock=clock)
    policy.attach(store)
    await policy.native_refused(BadRequestError("unknown role", status=400))
    waits = []
    for _ in range(8):
        clock.now = policy.state.next_probe
        plan = await policy.plan_turn()
        assert plan.probing
        await policy.probe_failed(TransientError("still 500", status=500))
        waits.append(policy.state.next_probe - clock.now)
    assert waits[:3] == [2 * FIRST_PROBE_DELAY, 4 * FIRST_PROBE_DELAY, 8 * FIRST_PROBE_DELAY]
    assert waits[-1] == MAX_PROBE_DELAY
    assert "native is tried again in 12 h" in policy.describe()

    clock.now = policy.state.next_probe
    assert (await policy.plan_turn()).probing
    await policy.native_worked()
    assert policy.current == "native"
    assert not DialectState.parse(store.values["dialect:k"]).flat
    assert "accepts M2-her's roleplay roles again" in caplog.text


async def test_an_outage_is_flat_for_a_turn_only_until_it_repeats():
    clock = Clock()
    policy = DialectPolicy("auto", key="k", clock=clock)
    outage = TransientError("unknown error", status=500)
    for _ in range(STICKY_AFTER - 1):
        await policy.flat_rescued(outage)
        assert policy.current == "native"
        assert (await policy.plan_turn()).dialect == "native"
    await policy.native_worked()  # a good turn in between resets the count
    assert policy.state.rescues == 0
    for _ in range(STICKY_AFTER):
        await policy.flat_rescued(outage)
    assert policy.current == "flat"
    assert f"native failed {STICKY_AFTER} turns running" in policy.describe()


def test_describe_says_what_is_used_and_when_native_is_tried_again():
    clock = Clock()
    assert DialectPolicy("flat").describe() == "flat (fixed by LLM_DIALECT)"
    policy = DialectPolicy("auto", clock=clock)
    assert policy.describe() == "native roles (auto: flat only on evidence)"


async def test_fixed_settings_never_change():
    rejection = BadRequestError("invalid role", status=400)
    for setting in ("native", "flat"):
        policy = DialectPolicy(setting)
        await policy.native_refused(rejection)
        plan = await policy.plan_turn()
        assert plan.dialect == setting and not plan.may_fall_back and not plan.probing


def test_policies_are_independent_and_keyed_per_model():
    first, second = DialectPolicy("auto", key="a:m"), DialectPolicy("auto", key="b:m")
    first.state.flat = True
    assert (first.current, second.current) == ("flat", "native")
    assert first.store_key != second.store_key
    assert repr(first) == "DialectPolicy(setting='auto', current='flat')"


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"flat": "yes", "since": "x"}'])
def test_a_broken_stored_state_reads_as_the_default(text):
    state = DialectState.parse(text)
    assert state == DialectState()


def test_state_round_trips():
    state = DialectState(flat=True, reason="r", since=1.0, next_probe=2.0, backoff=3.0, rescues=1)
    assert DialectState.parse(state.dump()) == state


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="dialect"):
        DialectPolicy("fancy")  # type: ignore[arg-type]


def test_only_objects_with_state_methods_are_state_stores():
    assert as_state_store(MemoryStateStore()) is not None
    assert as_state_store(object()) is None


def test_errors_keep_an_optional_usage():
    assert LLMError("x").usage is None
