"""Sampling parameters and their clamping to M2-her's accepted ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_TEMPERATURE = 0.01
"""M2-her rejects temperature 0 (MiniMax 2013); this is the smallest value we send."""
MIN_TOP_P = 0.01
MAX_OUTPUT_TOKENS = 2048
"""M2-her caps a reply at 2,048 tokens."""
DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 0.95


def clamp_temperature(value: float) -> float:
    """Temperature limited to (0, 1]; NaN becomes the provider default."""
    if math.isnan(value):
        return DEFAULT_TEMPERATURE
    return min(max(value, MIN_TEMPERATURE), 1.0)


def clamp_top_p(value: float) -> float:
    """Nucleus sampling limited to (0, 1]; NaN becomes the provider default."""
    if math.isnan(value):
        return DEFAULT_TOP_P
    return min(max(value, MIN_TOP_P), 1.0)


def clamp_max_tokens(value: int) -> int:
    """Output token cap limited to 1..2048."""
    return min(max(int(value), 1), MAX_OUTPUT_TOKENS)


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """What to sample with; the client clamps the values again before sending."""

    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    max_tokens: int = 600

    @classmethod
    def clamped(cls, temperature: float, top_p: float, max_tokens: int) -> SamplingParams:
        """Build params with every value moved into M2-her's accepted range."""
        return cls(clamp_temperature(temperature), clamp_top_p(top_p), clamp_max_tokens(max_tokens))

    def clamp(self) -> SamplingParams:
        """These params moved into M2-her's accepted range (self if already valid)."""
        fixed = SamplingParams.clamped(self.temperature, self.top_p, self.max_tokens)
        return self if fixed == self else fixed
