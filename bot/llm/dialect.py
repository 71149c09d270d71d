"""Choosing between M2-her's roleplay roles and plain roles: flat only on evidence.

Evidence that an endpoint refuses the roles (m2her-api.md §5.1, §5.4):
- a refusal before the first token (4xx, or MiniMax 2013) whose message names a role or a
  role-related field: flat from now on, for this provider and model;
- native failing every try of a turn while the same prompt rendered flat succeeds, turn after
  turn (`STICKY_AFTER` turns running): flat from now on. Once or twice is an outage, and
  only that turn is flat.
Timeouts, 5xx, rate limits and over-long prompts are never evidence on their own. A flat
choice is stored (`StateStore`), and native is probed again on start and then with backoff,
so a fixed endpoint comes back to the roleplay roles.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

from bot.llm.errors import (
    BadRequestError,
    InvisibleCharactersError,
    LLMError,
    LLMTimeoutError,
    OutputFilteredError,
    PromptTooLongError,
    RateLimitedError,
    RetryableError,
)
from bot.llm.state import StateStore
from bot.models import Dialect

log = logging.getLogger(__name__)

DialectSetting = Literal["auto", "native", "flat"]
"""`native` and `flat` are fixed; `auto` uses native and falls back to flat on evidence."""
FailureKind = Literal[
    "refusal", "too_long", "invisible", "blocked_output", "transient", "bad_request", "other"
]

STICKY_AFTER = 3
"""Turns in a row that only flat could answer before flat is kept."""
FIRST_PROBE_DELAY = 30 * 60.0
"""Seconds after falling back before native is tried again; doubles after each failed probe."""
MAX_PROBE_DELAY = 12 * 3600.0
TOKEN_LIMIT_CODE = 1039
"""MiniMax "token limit": a rate limit, or (on a prompt near the window) an over-long one."""

_ROLE_WORDS = re.compile(
    r"user_system|sample_message|\bgroup\b|\broles?\b|\bname\b|unknown variant|unsupported role",
    re.IGNORECASE,
)


def failure_kind(
    error: BaseException, *, estimated_tokens: int = 0, context_tokens: int = 0
) -> FailureKind:
    """What a failure before the first token says about the request (m2her-api.md §5.4).

    `estimated_tokens`/`context_tokens` tell a MiniMax 1039 about a prompt near the window
    (over-long) from one about the account's token rate (a rate limit).
    """
    if not isinstance(error, LLMError) or error.partial:
        return "other"
    if isinstance(error, PromptTooLongError):
        return "too_long"
    if (
        isinstance(error, RateLimitedError)
        and error.code == TOKEN_LIMIT_CODE
        and context_tokens
        and estimated_tokens * 2 >= context_tokens
    ):
        return "too_long"
    if isinstance(error, InvisibleCharactersError):
        return "invisible"
    if isinstance(error, OutputFilteredError):
        return "blocked_output"
    if isinstance(error, BadRequestError):
        return "refusal" if _ROLE_WORDS.search(error.message) else "bad_request"
    if isinstance(error, RateLimitedError):
        return "other"  # flat would be rate limited just the same
    if isinstance(error, LLMTimeoutError) and error.phase == "total":
        return "other"  # the turn's time is used up; a flat try would start it over
    if isinstance(error, RetryableError):
        return "transient"
    return "other"


def is_role_rejection(error: BaseException) -> bool:
    """Whether an error before the first token is the endpoint refusing M2-her's roles."""
    return failure_kind(error) == "refusal"


@dataclass(slots=True)
class DialectState:
    """What the policy remembers (and stores) for one provider and model."""

    flat: bool = False
    reason: str = ""
    since: float = 0.0
    next_probe: float = 0.0
    backoff: float = FIRST_PROBE_DELAY
    rescues: int = 0
    """Turns in a row that native failed and flat answered."""

    def dump(self) -> str:
        """JSON for the state store."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> DialectState:
        """The state stored as JSON (unknown or broken values give the default)."""
        try:
            data = json.loads(text)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        state = cls()
        for key, kind in (
            ("flat", bool),
            ("reason", str),
            ("since", float),
            ("next_probe", float),
            ("backoff", float),
            ("rescues", int),
        ):
            value = data.get(key)
            if isinstance(value, kind) or (kind is float and isinstance(value, int)):
                setattr(state, key, kind(value))
        return state


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """How to start one turn."""

    dialect: Dialect
    probing: bool = False
    """Native is being tried again after a fallback: one try, then flat."""
    may_fall_back: bool = False
    """A native failure may be answered in flat (setting `auto`)."""


class DialectPolicy:
    """Which dialect to render requests in, for one provider and model (`key`)."""

    def __init__(
        self,
        setting: DialectSetting = "auto",
        *,
        key: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if setting not in ("auto", "native", "flat"):
            raise ValueError(f"unknown dialect setting {setting!r}")
        self._setting: DialectSetting = setting
        self.key = key
        self._clock = clock
        self._state = DialectState()
        self._store: StateStore | None = None
        self._loaded = False

    @property
    def setting(self) -> DialectSetting:
        """The configured value: auto, native or flat."""
        return self._setting

    @property
    def state(self) -> DialectState:
        """What is remembered (a copy would go stale; do not change it)."""
        return self._state

    @property
    def store_key(self) -> str:
        """The key under which the choice is stored."""
        return f"dialect:{self.key}"

    @property
    def current(self) -> Dialect:
        """The dialect a prompt prepared now should use (probes aside)."""
        if self._setting == "flat" or (self._setting == "auto" and self._state.flat):
            return "flat"
        return "native"

    def attach(self, store: StateStore | None) -> None:
        """Keep the choice in `store` (read on first use, written on every change)."""
        self._store = store
        self._loaded = store is None

    async def load(self) -> None:
        """Read the stored choice (once). A stored flat choice is probed on the next turn:
        that is the "on start" probe.
        """
        if self._loaded:
            return
        self._loaded = True
        if self._store is None:
            return
        text = await self._store.get_state(self.store_key)
        if text:
            self._state = DialectState.parse(text)
            if self._state.flat:
                self._state.next_probe = self._clock()

    async def plan_turn(self) -> TurnPlan:
        """The dialect to start this turn in, and whether it is a probe of native."""
        await self.load()
        if self._setting != "auto":
            return TurnPlan(self._setting)
        state = self._state
        if state.flat and self._clock() >= state.next_probe:
            state.next_probe = self._clock() + state.backoff  # one probe at a time
            return TurnPlan("native", probing=True, may_fall_back=True)
        return TurnPlan("flat" if state.flat else "native", may_fall_back=not state.flat)

    async def native_worked(self) -> None:
        """A native request succeeded: native it is (again)."""
        state = self._state
        if not state.flat and not state.rescues:
            return
        if state.flat:
            log.warning("The endpoint accepts M2-her's roleplay roles again; using them")
        self._state = DialectState()
        await self._save()

    async def native_refused(self, error: LLMError) -> None:
        """The endpoint refused the roles by name: flat from now on (probed later)."""
        await self._go_flat(f"refused the roleplay roles: {error.message[:200]}")

    async def flat_rescued(self, error: LLMError) -> None:
        """Native failed every try of a turn and flat answered; flat sticks if it repeats."""
        state = self._state
        state.rescues += 1
        if state.rescues >= STICKY_AFTER and not state.flat:
            await self._go_flat(
                f"native failed {state.rescues} turns running while flat worked "
                f"(last: {error.message[:160]})"
            )
            return
        await self._save()

    async def probe_failed(self, error: LLMError) -> None:
        """A probe of native failed: stay flat, and wait twice as long before the next."""
        state = self._state
        state.backoff = min(state.backoff * 2, MAX_PROBE_DELAY)
        state.next_probe = self._clock() + state.backoff
        log.info(
            "Native roles still fail (%s); next try in %s",
            error.message[:160],
            _span(state.backoff),
        )
        await self._save()

    async def _go_flat(self, reason: str) -> None:
        now = self._clock()
        self._state = DialectState(
            flat=True,
            reason=reason,
            since=now,
            next_probe=now + FIRST_PROBE_DELAY,
            backoff=FIRST_PROBE_DELAY,
            rescues=self._state.rescues,
        )
        log.warning("Using flat roles for %s: the endpoint %s", self.key or "the model", reason)
        await self._save()

    async def _save(self) -> None:
        if self._store is not None:
            await self._store.set_state(self.store_key, self._state.dump())

    def describe(self) -> str:
        """The choice in words, for /debug prompt and `python -m bot check`."""
        if self._setting != "auto":
            return f"{self._setting} (fixed by LLM_DIALECT)"
        state = self._state
        if not state.flat:
            text = "native roles (auto: flat only on evidence)"
            if state.rescues:
                text += f"; the last {state.rescues} turn(s) needed flat"
            return text
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(state.since))
        wait = max(0.0, state.next_probe - self._clock())
        probe = "on the next turn" if wait <= 0 else f"in {_span(wait)}"
        return f"flat since {when}: the endpoint {state.reason}; native is tried again {probe}"

    def __repr__(self) -> str:
        return f"DialectPolicy(setting={self._setting!r}, current={self.current!r})"


def _span(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
