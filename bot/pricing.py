"""What a model request costs in US dollars, from token counts and a price list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prices:
    """Dollars per million tokens."""

    input_per_million: float
    output_per_million: float
    cached_input_per_million: float


M2HER_PRICES = Prices(
    input_per_million=0.30, output_per_million=1.20, cached_input_per_million=0.03
)
"""MiniMax M2-her list prices (the same on OpenRouter)."""


def request_cost(
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    prices: Prices = M2HER_PRICES,
) -> float:
    """Cost of one request; `cached_tokens` are the part of `prompt_tokens` read from cache.

    Raises:
        ValueError: a count is negative, or more tokens were cached than prompted.

    """
    if min(prompt_tokens, completion_tokens, cached_tokens) < 0:
        raise ValueError("token counts must not be negative")
    if cached_tokens > prompt_tokens:
        raise ValueError("cached_tokens cannot exceed prompt_tokens")
    fresh = prompt_tokens - cached_tokens
    micro_dollars = (
        fresh * prices.input_per_million
        + cached_tokens * prices.cached_input_per_million
        + completion_tokens * prices.output_per_million
    )
    return micro_dollars / 1_000_000


def resolve_cost(
    provider_cost: float | None,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    prices: Prices = M2HER_PRICES,
) -> float:
    """The provider's own figure when it sent one, else the cost from `prices`."""
    if provider_cost is not None:
        return provider_cost
    return request_cost(prompt_tokens, completion_tokens, cached_tokens, prices)


def cache_savings(cached_tokens: int, prices: Prices = M2HER_PRICES) -> float:
    """Dollars saved because `cached_tokens` were read from the provider's cache."""
    saved = prices.input_per_million - prices.cached_input_per_million
    return max(0, cached_tokens) * saved / 1_000_000
