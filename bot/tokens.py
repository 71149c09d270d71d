"""Token estimates per code-point class, calibrated per model but never below a hard floor."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import deque
from dataclasses import dataclass

from bot.text import CJK_CHARS

__all__ = ["SAFETY_MARGIN", "PromptBudget", "TokenEstimator", "margin_for"]

_LONG_RUN = re.compile(r"[!-~]{21,}")
"""An ASCII run without spaces longer than a word: URLs, hashes, keyboard mashing."""
_CLASS_CACHE_LIMIT = 65_536
_RAW_CACHE_CHARS = 4_000_000
"""Characters of text whose raw estimate is remembered (a prompt is built from the same texts
turn after turn: the card, the sheets, the summary, the history lines)."""


class _CodePointClasses(dict[int, str]):
    """Maps a code point to its estimate class, for `str.translate`; filled on demand.

    "a" ASCII, "c" CJK, "l" other letters, digits, punctuation and spaces, and for marks,
    symbols (emoji), format and control characters the length of their UTF-8 encoding
    ("2", "3", "4"): a byte-level tokenizer never spends more than one token per byte.
    """

    def __missing__(self, code: int) -> str:
        if len(self) >= _CLASS_CACHE_LIMIT:
            self.clear()  # bounded memory whatever scripts come along
        char = chr(code)
        if code < 128:
            kind = "a"
        elif CJK_CHARS.match(char):
            kind = "c"
        elif unicodedata.category(char)[0] in "LNPZ":
            kind = "l"
        else:
            kind = str(len(char.encode("utf-8", "surrogatepass")))
        self[code] = kind
        return kind


_CLASSES = _CodePointClasses()


class TokenEstimator:
    """Estimate M2-her tokens from text; the tokenizer is not public (m2her-api.md §5.2).

    The *raw* estimate counts each code point by its class: ASCII at `ascii_rate` (about 3.3
    characters a token; runs of more than 20 characters without a space at `long_run_rate`),
    CJK at `cjk_rate`, other letters, digits and punctuation at `letter_rate`, and every
    combining mark, emoji, symbol, variation selector, joiner or control character at its
    UTF-8 length in bytes, the most a byte-level tokenizer can spend on it. The raw estimate
    is the unit stored in `HistoryLine.tokens`.

    `count` scales it by `factor`, learnt by `calibrate` from the `prompt_tokens` the
    provider reports for the model this estimator belongs to (`key`), but never returns
    less than `floor`: one token per non-ASCII code point plus one per `floor_ascii` ASCII
    characters. So a calibration learnt on English never lets emoji or CJK text through
    under-counted.
    """

    def __init__(
        self,
        *,
        ascii_rate: float = 0.3,
        long_run_rate: float = 0.5,
        cjk_rate: float = 1.0,
        letter_rate: float = 1.0,
        message_overhead: int = 4,
        floor_ascii: int = 6,
        lowest: float = 0.25,
        ceiling: float = 3.0,
        window: int = 32,
        key: str = "",
    ) -> None:
        if not 0 < lowest <= 1 <= ceiling:
            raise ValueError("need 0 < lowest <= 1 <= ceiling")
        if min(cjk_rate, letter_rate) < 1:
            raise ValueError("non-ASCII rates must be at least one token per code point")
        self.ascii_rate = ascii_rate
        self.long_run_rate = long_run_rate
        self.cjk_rate = cjk_rate
        self.letter_rate = letter_rate
        self.message_overhead = message_overhead
        self.floor_ascii = floor_ascii
        self.lowest = lowest
        self.ceiling = ceiling
        self.key = key
        """Which provider and model the calibration was learnt from ("openrouter:…")."""
        self._samples: deque[float] = deque(maxlen=window)
        self._factor = 1.0
        self._raw: dict[str, int] = {}
        self._raw_chars = 0

    @property
    def factor(self) -> float:
        """The current calibration factor (1.0 until `calibrate` has data)."""
        return self._factor

    @property
    def samples(self) -> int:
        """How many observations the factor is the mean of."""
        return len(self._samples)

    def estimate_raw(self, text: str) -> int:
        """Uncalibrated, conservative estimate of `text` (the unit of `HistoryLine.tokens`)."""
        raw = self._raw.get(text)
        if raw is None:
            raw = self._raw[text] = self._estimate_raw(text)
            self._raw_chars += len(text)
            while self._raw_chars > _RAW_CACHE_CHARS and len(self._raw) > 1:
                oldest = next(iter(self._raw))  # the earliest remembered goes first
                del self._raw[oldest]
                self._raw_chars -= len(oldest)
        return raw

    def _estimate_raw(self, text: str) -> int:
        extra = self._long_runs(text)
        if text.isascii():
            return math.ceil(len(text) * self.ascii_rate + extra)
        classes = text.translate(_CLASSES)
        raw = (
            classes.count("a") * self.ascii_rate
            + classes.count("c") * self.cjk_rate
            + classes.count("l") * self.letter_rate
            + 2 * classes.count("2")
            + 3 * classes.count("3")
            + 4 * classes.count("4")
        )
        return math.ceil(raw + extra)

    def _long_runs(self, text: str) -> float:
        if len(text) < 21:
            return 0.0
        runs = sum(len(run) for run in _LONG_RUN.findall(text))
        return runs * (self.long_run_rate - self.ascii_rate)

    def floor(self, text: str) -> int:
        """The least `count` ever says: one token per non-ASCII code point, plus the ASCII."""
        if text.isascii():
            return -(-len(text) // self.floor_ascii)
        ascii_chars = len(text.encode("ascii", "ignore"))
        return len(text) - ascii_chars + -(-ascii_chars // self.floor_ascii)

    def count(self, text: str, raw: int | None = None) -> int:
        """Calibrated token estimate of `text`; `raw` is its stored raw estimate, if known."""
        if raw is None or raw <= 0:
            raw = self.estimate_raw(text)
        scaled = math.ceil(raw * self._factor)
        if self.floor_free:
            return scaled
        return max(self.floor(text), scaled)

    @property
    def floor_free(self) -> bool:
        """Whether `count` can skip the floor: every class rate is at or above the floor's
        and the factor does not scale below it, so the raw estimate is never under it.
        """
        return self._factor >= 1 and self.ascii_rate * self.floor_ascii >= 1

    def message_tokens(self, content: str, name: str | None = None) -> int:
        """Calibrated estimate of one chat message, with its role and name overhead."""
        named = self.count(name) + 1 if name else 0
        return self.message_overhead + named + self.count(content)

    def message_raw(self, content: str, name: str | None = None) -> int:
        """Uncalibrated estimate of one chat message including role and name overhead."""
        named = self.estimate_raw(name) + 1 if name else 0
        return self.message_overhead + named + self.estimate_raw(content)

    def scale(self, raw_tokens: int) -> int:
        """Turn a raw estimate into a calibrated one (without the per-text floor)."""
        return math.ceil(raw_tokens * self._factor)

    def unscale(self, tokens: int) -> int:
        """The largest raw estimate whose calibrated value fits in `tokens`."""
        return max(0, math.floor(tokens / self._factor))

    def calibrate(self, raw_tokens: int, reported_prompt_tokens: int) -> None:
        """Learn from a request: `raw_tokens` is the raw estimate of what was sent
        (`BuiltPrompt.raw_tokens`), `reported_prompt_tokens` the provider's count.

        Non-positive values are ignored. The factor is the mean of the recent observations,
        kept within [`lowest`, `ceiling`].
        """
        if raw_tokens <= 0 or reported_prompt_tokens <= 0:
            return
        self._learn(reported_prompt_tokens / raw_tokens)

    def learn_overflow(self, raw_tokens: int, at_least: int) -> None:
        """A request of `raw_tokens` was refused as longer than `at_least` tokens: never
        estimate it below that again (with 10 % to spare).
        """
        if raw_tokens <= 0 or at_least <= 0:
            return
        implied = 1.1 * at_least / raw_tokens
        if implied > self._factor:
            self._samples.clear()
            self._learn(implied)

    def _learn(self, implied: float) -> None:
        self._samples.append(min(max(implied, self.lowest), self.ceiling))
        mean = sum(self._samples) / len(self._samples)
        self._factor = min(max(mean, self.lowest), self.ceiling)

    def describe(self) -> str:
        """The calibration in words, for the prompt inspector."""
        if not self._samples:
            return "not calibrated yet, counting conservatively"
        return f"calibrated ×{self._factor:.2f} from the last {len(self._samples)} request(s)"


SAFETY_MARGIN = 2048
"""Tokens kept free beyond the prompt and the reply, for what the estimate may miss."""


def margin_for(context_tokens: int) -> int:
    """The safety margin for a window: 2,048 tokens, or a sixteenth of a smaller window.

    A fixed 2,048 would leave a 4,096-token window with a 2,048-token reply no room at all.
    """
    return min(SAFETY_MARGIN, context_tokens // 16)


@dataclass(frozen=True, slots=True)
class PromptBudget:
    """How many tokens a request may use.

    The whole request must fit the window: prompt + `reply_tokens` + `safety_margin` ≤
    `context_tokens`. `history_tokens`, when set, caps the channel history part of the
    prompt (cost control). All values are calibrated tokens.
    """

    context_tokens: int = 65536
    reply_tokens: int = 2048
    safety_margin: int = SAFETY_MARGIN
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

    def shrunk(self, estimated: int, share: float = 0.8) -> PromptBudget:
        """A budget whose prompt limit is at most `share` of `estimated` tokens (a request
        of that estimate was refused as too long).
        """
        limit = max(1, min(self.prompt_tokens, int(estimated * share)))
        cut = self.prompt_tokens - limit
        return PromptBudget(
            context_tokens=self.context_tokens,
            reply_tokens=self.reply_tokens,
            safety_margin=self.safety_margin + cut,
            history_tokens=self.history_tokens,
        )
