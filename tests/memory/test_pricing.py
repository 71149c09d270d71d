"""M2-her list prices: $0.30/M input, $1.20/M output, $0.03/M cached input."""

import pytest

from bot.pricing import M2HER_PRICES, Prices, request_cost, resolve_cost


@pytest.mark.parametrize(
    ("prompt", "completion", "cached", "dollars"),
    [
        (1_000_000, 0, 0, 0.30),
        (0, 1_000_000, 0, 1.20),
        (1_000_000, 0, 1_000_000, 0.03),
        (20_000, 500, 15_000, (5_000 * 0.30 + 15_000 * 0.03 + 500 * 1.20) / 1e6),
        (0, 0, 0, 0.0),
    ],
)
def test_request_cost(prompt, completion, cached, dollars) -> None:
    assert request_cost(prompt, completion, cached) == pytest.approx(dollars, rel=1e-12)


def test_other_price_lists() -> None:
    free_cache = Prices(input_per_million=1.0, output_per_million=2.0, cached_input_per_million=0)

    assert request_cost(2_000_000, 1_000_000, 1_000_000, free_cache) == pytest.approx(3.0)
    assert M2HER_PRICES.cached_input_per_million == 0.03


@pytest.mark.parametrize(("prompt", "completion", "cached"), [(-1, 0, 0), (0, -1, 0), (5, 0, 6)])
def test_impossible_counts_are_refused(prompt, completion, cached) -> None:
    with pytest.raises(ValueError):
        request_cost(prompt, completion, cached)


def test_provider_figure_wins() -> None:
    assert resolve_cost(0.0123, 1_000_000, 0) == 0.0123
    assert resolve_cost(0.0, 1_000_000, 0) == 0.0
    assert resolve_cost(None, 1_000_000, 0) == pytest.approx(0.30)
