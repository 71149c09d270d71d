"""Token estimates from character counts, calibrated against what the provider reports."""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass

from bot.text import CJK_CHARS

__all__ = ["PromptBudget", "TokenEstimator"]

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LATIN_EXTENDED = re.compile(r"[\u0080-\u024f\u1e00-\u1eff\u2000-\u206f]")


class TokenEstimator:
    """Estimate M2-her tokens from text; the tokenizer is not public.

    Text is counted in three classes: Latin (ASCII, accented Latin, general punctuation),
    CJK (ideographs, kana, hangul, full-width forms) and everything else (Cyrillic, emoji…),
    each with its own tokens-per-character rate. That gives the *raw* estimate, the unit
    stored in `HistoryLine.tokens`. The *calibrated* estimate multiplies by `factor`, which
    `calibrate` learns from the provider's reported `prompt_tokens`: the mean of the last
    `window` observations, never below `floor` nor above `ceiling`.

    The default rates err high (about 3.3 Latin characters and 1 CJK character per token),
    so an uncalibrated estimate leaves room rather than overflowing the context.
    """

    def __init__(
        self,
        *,
        latin_rate: float = 0.3,
        cjk_rate: float = 1.0,
        other_rate: float = 0.6,
        message_overhead: int = 4,
        floor: float = 0.75,
        ceiling: float = 3.0,
        window: int = 32,
    ) -> None:
        if not 0 < floor <= 1 <= ceiling:
            raise ValueError("need 0 < floor <= 1 <= ceiling")
        self.latin_rate = latin_rate
        self.cjk_rate = cjk_rate
        self.other_rate = other_rate
        self.message_overhead = message_overhead
        self.floor = floor
        self.ceiling = ceiling
        self._samples: deque[float] = deque(maxlen=window)
        self._factor = 1.0

    @property
    def factor(self) -> float:
        """The current calibration factor (1.0 until `calibrate` has data)."""
        return self._factor

    def estimate_raw(self, text: str) -> int:
        """Uncalibrated token estimate of `text` (the unit of `HistoryLine.tokens`)."""
        if text.isascii():
            return math.ceil(len(text) * self.latin_rate)
        non_ascii = len(text) - len(_NON_ASCII.sub("", text))
        cjk = len(text) - len(CJK_CHARS.sub("", text))
        latin_extended = len(text) - len(_LATIN_EXTENDED.sub("", text))
        other = non_ascii - cjk - latin_extended
        latin = len(text) - cjk - other
        return math.ceil(latin * self.latin_rate + cjk * self.cjk_rate + other * self.other_rate)

    def estimate(self, text: str) -> int:
        """Calibrated token estimate of `text`."""
        return self.scale(self.estimate_raw(text))

    def message_raw(self, content: str, name: str | None = None) -> int:
        """Uncalibrated estimate of one chat message including role and name overhead."""
        named = self.estimate_raw(name) + 1 if name else 0
        return self.message_overhead + named + self.estimate_raw(content)

    def scale(self, raw_tokens: int) -> int:
        """Turn a raw estimate into a calibrated one."""
        return math.ceil(raw_tokens * self._factor)

    def unscale(self, tokens: int) -> int:
        """The largest raw estimate whose calibrated value fits in `tokens`."""
        return max(0, math.floor(tokens / self._factor))

    def calibrate(self, estimated: int, reported_prompt_tokens: int) -> None:
        """Learn from a request: `estimated` is the calibrated estimate this estimator gave
        for it (`BuiltPrompt.estimated_tokens`), `reported_prompt_tokens` the provider's count.

        Non-positive values are ignored. The observation is converted to the factor that
        would have been exact, so it stays meaningful while the factor moves.
        """
        if estimated <= 0 or reported_prompt_tokens <= 0:
            return
        implied = self._factor * reported_prompt_tokens / estimated
        self._samples.append(min(max(implied, self.floor), self.ceiling))
        mean = sum(self._samples) / len(self._samples)
        self._factor = min(max(mean, self.floor), self.ceiling)


@dataclass(frozen=True, slots=True)
class PromptBudget:
    """How many tokens a request may use.

    The prompt gets `context_tokens - reply_tokens - safety_margin`; `history_tokens`, when
    set, caps the channel history part of it (cost control). All values are calibrated
    tokens.
    """

    context_tokens: int = 65536
    reply_tokens: int = 2048
    safety_margin: int = 2048
    history_tokens: int | None = None

    def __post_init__(self) -> None:
        if min(self.context_tokens, self.reply_tokens, self.safety_margin) < 0:
            raise ValueError("token counts must not be negative")
        if self.prompt_tokens <= 0:
            raise ValueError("reply_tokens and safety_margin leave no room for the prompt")
        if self.history_tokens is not None and self.history_tokens < 0:
            raise ValueError("history_tokens must not be negative")

    @property
    def prompt_tokens(self) -> int:
        """Tokens the prompt may use."""
        return self.context_tokens - self.reply_tokens - self.safety_margin
