"""Discord-shaped JSON error responses (status, numeric code, message, form errors)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly `application/json`, as discord.py demands."""
    merged = {"Content-Type": "application/json"}
    if headers:
        merged.update(headers)
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)


class DiscordError(Exception):
    """An API error; the middleware turns it into Discord's error JSON."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data

    def response(self) -> web.Response:
        """The HTTP response for this error."""
        return json_response(self.body(), status=self.status)


def unknown_channel() -> DiscordError:
    """404 10003."""
    return DiscordError(404, 10003, "Unknown Channel")


def unknown_guild() -> DiscordError:
    """404 10004."""
    return DiscordError(404, 10004, "Unknown Guild")


def unknown_member() -> DiscordError:
    """404 10007."""
    return DiscordError(404, 10007, "Unknown Member")


def unknown_message() -> DiscordError:
    """404 10008."""
    return DiscordError(404, 10008, "Unknown Message")


def unknown_webhook() -> DiscordError:
    """404 10015."""
    return DiscordError(404, 10015, "Unknown Webhook")


def unknown_user() -> DiscordError:
    """404 10013."""
    return DiscordError(404, 10013, "Unknown User")


def unknown_command() -> DiscordError:
    """404 10063."""
    return DiscordError(404, 10063, "Unknown application command")


def unknown_interaction() -> DiscordError:
    """404 10062."""
    return DiscordError(404, 10062, "Unknown interaction")


def already_acknowledged() -> DiscordError:
    """400 40060."""
    return DiscordError(400, 40060, "Interaction has already been acknowledged.")


def missing_permissions() -> DiscordError:
    """403 50013."""
    return DiscordError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordError:
    """403 50001."""
    return DiscordError(403, 50001, "Missing Access")


def cannot_edit_others() -> DiscordError:
    """403 50005."""
    return DiscordError(403, 50005, "Cannot edit a message authored by another user")


def empty_message() -> DiscordError:
    """400 50006."""
    return DiscordError(400, 50006, "Cannot send an empty message")


def wrong_channel_type() -> DiscordError:
    """400 50024."""
    return DiscordError(400, 50024, "Cannot execute action on this channel type")


def invalid_webhook_token() -> DiscordError:
    """401 50027."""
    return DiscordError(401, 50027, "Invalid Webhook Token")


def unauthorized() -> DiscordError:
    """401 0 (bad bot token)."""
    return DiscordError(401, 0, "401: Unauthorized")


def invalid_form_body(errors: dict[str, Any]) -> DiscordError:
    """400 50035 with Discord's nested `errors` tree."""
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def field_error(code: str, message: str) -> dict[str, Any]:
    """One leaf of a 50035 `errors` tree."""
    return {"_errors": [{"code": code, "message": message}]}
