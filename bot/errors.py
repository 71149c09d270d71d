"""Errors the user should read, and the one table that turns failures into words."""

from __future__ import annotations

from enum import StrEnum

from bot.llm.errors import (
    AuthError,
    BadRequestError,
    InputFilteredError,
    InvisibleCharactersError,
    LLMError,
    LLMTimeoutError,
    OutputFilteredError,
    PromptTooLongError,
    QuotaExceededError,
    RateLimitedError,
    StreamInterruptedError,
)


class UserFacingError(Exception):
    """An expected failure whose message is shown to the user as is."""


class AdminAlert(StrEnum):
    """Problems only an admin can fix; each is reported to a guild's admins once."""

    AUTH = "auth"
    CREDITS = "credits"
    WEBHOOKS = "webhooks"


ALERT_TEXT: dict[AdminAlert, str] = {
    AdminAlert.AUTH: (
        "⚙️ The model provider rejected Ensemble's API key (LLM_API_KEY). Replies are paused "
        "until the key is fixed in the bot's .env and the bot is restarted."
    ),
    AdminAlert.CREDITS: (
        "💤 The model provider says the account is out of credits or over its quota. Top up "
        "(or wait for the quota window) and press Retry on the failed reply."
    ),
    AdminAlert.WEBHOOKS: (
        "🎭 Personas are speaking through the bot's own account in {channel} because Ensemble "
        "lacks the **Manage Webhooks** permission there. Grant it so each persona posts under "
        "its own name and avatar."
    ),
}


def describe_error(error: BaseException) -> str:
    """A short, human explanation of why a reply failed and what to do (m2her-api.md §5.4)."""
    interrupted = " The text so far is kept." if getattr(error, "partial", False) else ""
    if isinstance(error, RateLimitedError):
        return "The model is busy right now (rate limited) — press Retry in a minute." + (
            interrupted
        )
    if isinstance(error, AuthError):
        return "The bot is misconfigured (the provider rejected its key) — an admin was told."
    if isinstance(error, QuotaExceededError):
        return "The bot is out of model credits for now — an admin was told."
    if isinstance(error, InputFilteredError):
        return (
            "The provider's content filter blocked the latest messages — try rephrasing, "
            "then press Retry."
        )
    if isinstance(error, OutputFilteredError):
        return (
            "The provider's filter blocked this reply — steer the scene differently or press Retry."
        )
    if isinstance(error, LLMTimeoutError):
        return "The model took too long to answer — press Retry." + interrupted
    if isinstance(error, StreamInterruptedError):
        return "The connection to the model dropped (interrupted) — press Retry." + interrupted
    if isinstance(error, PromptTooLongError):
        return (
            "The model found the scene too long even after trimming — press Retry; an admin "
            "can see what is sent with `/debug prompt`."
        )
    if isinstance(error, InvisibleCharactersError):
        return (
            "The provider refused invisible characters in the scene even after they were "
            "removed — an admin can check the logs."
        )
    if isinstance(error, BadRequestError):
        return "The model refused the request as malformed — an admin can check the logs."
    if isinstance(error, LLMError):
        return "The connection to the model dropped (interrupted) — press Retry." + interrupted
    return "Something went wrong generating this reply (interrupted) — press Retry."


def admin_alert_for(error: BaseException) -> AdminAlert | None:
    """Which admin alert a model failure calls for, if any."""
    if isinstance(error, AuthError):
        return AdminAlert.AUTH
    if isinstance(error, QuotaExceededError):
        return AdminAlert.CREDITS
    return None
