"""Discord's documented message limits, answered with 400 50035 Invalid Form Body."""

from __future__ import annotations

from typing import Any

from .errors import empty_message, field_error, invalid_form_body

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_COMPONENT_ROWS = 5
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_LIMITS = {"name": 256, "value": 1024}
MAX_FIELDS = 25
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
WEBHOOK_NAME_BANNED = ("clyde", "discord")


def _too_long(limit: int) -> dict[str, Any]:
    return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _embed_errors(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    errors: dict[str, Any] = {}
    total = 0
    for key, limit in EMBED_LIMITS.items():
        text = embed.get(key) or ""
        total += len(text)
        if len(text) > limit:
            errors[key] = _too_long(limit)
    footer = (embed.get("footer") or {}).get("text") or ""
    total += len(footer)
    if len(footer) > FOOTER_LIMIT:
        errors["footer"] = {"text": _too_long(FOOTER_LIMIT)}
    author = (embed.get("author") or {}).get("name") or ""
    total += len(author)
    if len(author) > AUTHOR_NAME_LIMIT:
        errors["author"] = {"name": _too_long(AUTHOR_NAME_LIMIT)}
    fields = embed.get("fields") or []
    if len(fields) > MAX_FIELDS:
        errors["fields"] = field_error(
            "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FIELDS} or fewer in length."
        )
    field_errors: dict[str, Any] = {}
    for index, item in enumerate(fields):
        one: dict[str, Any] = {}
        for key, limit in FIELD_LIMITS.items():
            text = str(item.get(key) or "")
            total += len(text)
            if len(text) > limit:
                one[key] = _too_long(limit)
        if one:
            field_errors[str(index)] = one
    if field_errors and "fields" not in errors:
        errors["fields"] = field_errors
    return errors, total


def check_message_body(body: dict[str, Any], *, creating: bool, has_files: bool = False) -> None:
    """Raise 50035 / 50006 the way Discord does for a message create or edit body."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if content is not None and len(str(content)) > MAX_CONTENT:
        errors["content"] = _too_long(MAX_CONTENT)
    embeds = body.get("embeds")
    if embeds is not None:
        if len(embeds) > MAX_EMBEDS:
            errors["embeds"] = _too_long(MAX_EMBEDS)
        else:
            total = 0
            per_embed: dict[str, Any] = {}
            for index, embed in enumerate(embeds):
                embed_errors, size = _embed_errors(embed)
                total += size
                if embed_errors:
                    per_embed[str(index)] = embed_errors
            if per_embed:
                errors["embeds"] = per_embed
            elif total > MAX_EMBED_TOTAL:
                errors["embeds"] = field_error(
                    "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
                )
    components = body.get("components")
    if (
        components is not None
        and len(components) > MAX_COMPONENT_ROWS
        and not (int(body.get("flags") or 0) & (1 << 15))
    ):
        errors["components"] = _too_long(MAX_COMPONENT_ROWS)
    if errors:
        raise invalid_form_body(errors)
    if creating and not _has_visible_part(body, has_files=has_files):
        raise empty_message()


def check_edit_result(payload: dict[str, Any]) -> None:
    """An edit may not leave a message with nothing to show."""
    if not _has_visible_part(payload, has_files=False):
        raise empty_message()


def _has_visible_part(body: dict[str, Any], *, has_files: bool) -> bool:
    return bool(
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or body.get("sticker_ids")
        or body.get("poll")
        or has_files
    )


def check_webhook_username(username: str | None) -> None:
    """Webhook usernames: 1-80 characters, never containing 'clyde' or 'discord'."""
    if username is None:
        return
    lowered = username.lower()
    if not 1 <= len(username) <= 80:
        raise invalid_form_body(
            {"username": field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")}
        )
    if any(word in lowered for word in WEBHOOK_NAME_BANNED):
        raise invalid_form_body(
            {
                "username": field_error(
                    "USERNAME_INVALID_CONTAINS", "Username cannot contain that word"
                )
            }
        )


def check_thread_name(name: Any) -> None:
    """Thread names: 1-100 characters."""
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise invalid_form_body(
            {"name": field_error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
        )
