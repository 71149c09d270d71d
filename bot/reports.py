"""Plain-text reports for commands: transcripts, usage tables and the prompt inspector."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.memory import ChannelConfig, MessageRecord, Store, Summary, UsageTotals
from bot.models import AuthorKind, ReplyStatus

K = TypeVar("K")

TRANSCRIPT_PAGE = 500


def format_usd(amount: float) -> str:
    """Dollars with cents, or with four decimals for amounts under a dollar."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"


def format_tokens(count: int) -> str:
    """A compact token count: 950, 12.3k, 4.5M."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def usage_cell(totals: UsageTotals | None) -> str:
    """Dollars and tokens of one group, e.g. "$0.0123 · 12.3k"."""
    if totals is None or totals.requests == 0:
        return "—"
    tokens = totals.prompt_tokens + totals.completion_tokens
    return f"{format_usd(totals.cost_usd)} · {format_tokens(tokens)}"


def usage_rows(
    periods: Sequence[tuple[str, Mapping[K, UsageTotals]]],
    label: Callable[[K], str],
    *,
    limit: int = 10,
) -> list[str]:
    """One line per key with its use in each period, costliest over the last period first."""
    widest = periods[-1][1] if periods else {}
    keys = sorted(widest, key=lambda k: (-widest[k].cost_usd, label(k)))
    rows = [
        f"{label(key)}: " + " | ".join(usage_cell(totals.get(key)) for _, totals in periods)
        for key in keys[:limit]
    ]
    if len(keys) > limit:
        rows.append(f"… and {len(keys) - limit} more")
    return rows


def totals_row(periods: Sequence[tuple[str, UsageTotals]]) -> str:
    """The whole guild's use in each period, with the period names."""
    return " | ".join(f"{name} {usage_cell(totals)}" for name, totals in periods)


def _timestamp(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_transcript(
    records: Iterable[MessageRecord], *, title: str, setting: str, exported_at: float
) -> str:
    """A Markdown transcript of a channel's memory, oldest line first."""
    lines = [f"# {title or 'Scene transcript'}", ""]
    if setting:
        lines += [f"> {setting}", ""]
    lines += [f"*Exported {_timestamp(exported_at)} from Ensemble's memory.*", ""]
    count = 0
    for record in records:
        if record.status is ReplyStatus.STREAMING or not record.text.strip():
            continue
        count += 1
        marks = []
        if record.kind is AuthorKind.PERSONA:
            marks.append("persona")
        if record.ooc:
            marks.append("OOC")
        if record.status is ReplyStatus.INTERRUPTED:
            marks.append("interrupted")
        if record.edited:
            marks.append("edited")
        suffix = f" *({', '.join(marks)})*" if marks else ""
        lines += [f"**{record.author_name}** · {_timestamp(record.created_at)}{suffix}"]
        lines += [record.text, ""]
    if count == 0:
        lines += ["*(memory is empty)*", ""]
    return "\n".join(lines)


async def transcript_text(
    store: Store, channel_id: int, *, title: str, setting: str, now: float
) -> str:
    """The Markdown transcript of everything a channel's memory holds."""
    records: list[MessageRecord] = []
    after: int | None = None
    while page := await store.messages_after(channel_id, after, limit=TRANSCRIPT_PAGE):
        records.extend(page)
        after = page[-1].id
    return render_transcript(records, title=title, setting=setting, exported_at=now)


def transcript_filename(name: str) -> str:
    """A safe file name for a scene's transcript."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:60]
    return f"{slug or 'scene'}-transcript.md"


def describe_mode(config: ChannelConfig, default_lull: float) -> str:
    """A scene's reply mode in words."""
    if config.reply_mode == "auto":
        lull = default_lull if config.lull_seconds is None else config.lull_seconds
        return f"joins in automatically after {lull:g} s of quiet"
    return "answers only when addressed"


def summary_line(summary: Summary) -> str:
    """Which version a summary is, how old (a Discord timestamp) and who wrote it."""
    who = "the model" if summary.author_id is None else f"<@{summary.author_id}>"
    return f"version {summary.version}, written <t:{int(summary.created_at)}:R> by {who}"


def request_json(payload: Mapping[str, Any]) -> str:
    """The full request body, pretty-printed."""
    return json.dumps(payload, ensure_ascii=False, indent=2)


def request_preview(payload: Mapping[str, Any], limit: int) -> str:
    """The request as JSON in at most `limit` characters.

    Long contents are shortened first, then messages in the middle are left out.
    """
    messages: list[dict[str, Any]] = list(payload.get("messages", []))
    for keep in (400, 200, 120, 60, 30):
        text = _preview_json(payload, messages, keep)
        if len(text) <= limit:
            return text
    shown = list(messages)
    while len(shown) > 2:
        del shown[len(shown) // 2]
        marker = {"…": f"{len(messages) - len(shown)} message(s) left out, see the file"}
        middle = len(shown) // 2
        text = _preview_json(payload, [*shown[:middle], marker, *shown[middle:]], 30)
        if len(text) <= limit:
            return text
    return _preview_json(payload, [], 0)[: limit - 1] + "…"


def _preview_json(payload: Mapping[str, Any], messages: list[dict[str, Any]], keep: int) -> str:
    def shorten(message: dict[str, Any]) -> dict[str, Any]:
        content = message.get("content")
        if isinstance(content, str) and len(content) > keep:
            cut = len(content) - keep
            return {**message, "content": f"{content[:keep]}… (+{cut} chars)"}
        return message

    short = {**payload, "messages": [shorten(m) for m in messages]}
    return json.dumps(short, ensure_ascii=False, indent=1)
