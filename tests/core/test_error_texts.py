"""What players read for each model failure (m2her-api.md §5.4)."""

import pytest

from bot.errors import describe_error
from bot.llm import (
    BadRequestError,
    InvisibleCharactersError,
    OutputFilteredError,
    PromptTooLongError,
    RateLimitedError,
    StreamInterruptedError,
)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (RateLimitedError("MiniMax code 1002: rate limit", code=1002), "busy right now"),
        (PromptTooLongError("context length", status=400), "too long even after trimming"),
        (InvisibleCharactersError("1042", code=1042), "invisible characters"),
        (OutputFilteredError("1027", code=1027), "filter blocked this reply"),
        (BadRequestError("bad", status=400), "malformed"),
        (StreamInterruptedError("dropped", partial=True), "The text so far is kept."),
    ],
)
def test_each_failure_reads_right(error, words):
    assert words in describe_error(error)


def test_a_rate_limit_never_reads_as_a_dropped_connection():
    assert "connection" not in describe_error(RateLimitedError("busy", code=1002))
