"""Text hygiene: invisible characters, Discord markup, OOC detection, names and splitting."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

__all__ = [
    "CJK_CHARS",
    "cut_at_grapheme",
    "is_cjk_char",
    "is_ooc",
    "neutralize_mass_mentions",
    "render_discord_markup",
    "sanitize_speaker_name",
    "sanitize_webhook_name",
    "split_for_discord",
    "strip_invisible",
    "strip_invisible_strict",
]

_EMOJI_BEFORE = "#*0-9\u00a9\u00ae\u203c-\u3299\U0001f000-\U0001faff"
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0d\ufeff"
    "\uffa0\ufff9-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
    # Variation selectors and joiners only mean something inside an emoji sequence.
    f"|(?<![{_EMOJI_BEFORE}])[\ufe0e\ufe0f]"
    f"|(?<![{_EMOJI_BEFORE}\ufe0f])\u200d"
    f"|\u200d(?![{_EMOJI_BEFORE}])"
)
_ASCII_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
"""What `_INVISIBLE` finds in ASCII text (a carriage return among them)."""


def strip_invisible(text: str) -> str:
    """Remove zero-width, control and blank-looking characters (MiniMax error 1042).

    Newlines and tabs stay; CR LF and lone CR become LF. Zero-width joiners and
    emoji variation selectors survive only inside emoji sequences.
    """
    if text.isascii() and (text.isprintable() or _ASCII_INVISIBLE.search(text) is None):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


class _StrictDrops(dict[int, str | None]):
    """`str.translate` table deleting every format, control, private-use, surrogate and
    unassigned code point and every variation selector (newlines and tabs stay).
    """

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        category = unicodedata.category(char)
        drop = (category[0] == "C" and char not in "\n\t") or (
            "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef"
        )
        value = None if drop else char
        if len(self) < 65_536:
            self[code] = value
        return value


_STRICT_DROPS = _StrictDrops()
_STACKED_MARKS = re.compile(
    "([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{2})"
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
)


def strip_invisible_strict(text: str) -> str:
    """What MiniMax gets after refusing a request for invisible characters (code 1042).

    Beyond `strip_invisible`: every format character (joiners inside emoji too), control,
    private-use and unassigned code point and variation selector goes, and stacks of
    combining diacritics ("zalgo") are cut to two per letter.
    """
    if text.isascii() and text.isprintable():
        return text
    text = strip_invisible(text).translate(_STRICT_DROPS)
    return _STACKED_MARKS.sub(r"\1", text)


def cut_at_grapheme(text: str, index: int) -> int:
    """The largest cut position <= `index` that does not split a character sequence
    (combining marks, emoji joiners, variation selectors and skin tones stay with their base).
    """
    index = max(0, min(index, len(text)))
    while 0 < index < len(text) and not _grapheme_boundary(text[index - 1], text[index]):
        index -= 1
    return index


CJK_CHARS = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003134f]"
)
"""One CJK ideograph, kana, hangul syllable or full-width form."""


def is_cjk_char(char: str) -> bool:
    """Whether `char` is a CJK ideograph, kana, hangul or full-width form."""
    return CJK_CHARS.match(char) is not None


_MARKUP = re.compile(
    r"<@!?(?P<user>\d+)>"
    r"|<@&(?P<role>\d+)>"
    r"|<#(?P<channel>\d+)>"
    r"|<a?:(?P<emoji>\w+):\d+>"
    r"|<t:(?P<ts>-?\d{1,13})(?::(?P<style>[tTdDfFR]))?>"
    r"|</(?P<command>[\w -]+):\d+>"
)
_TIME_FORMATS = {
    "t": "%H:%M UTC",
    "T": "%H:%M:%S UTC",
    "d": "%Y-%m-%d",
    "D": "%d %B %Y",
    "f": "%Y-%m-%d %H:%M UTC",
    "F": "%A, %d %B %Y %H:%M UTC",
    "R": "%Y-%m-%d %H:%M UTC",
}


def render_discord_markup(
    text: str,
    *,
    users: Mapping[int, str],
    roles: Mapping[int, str],
    channels: Mapping[int, str],
) -> str:
    """Render mentions as `@Name`/`#name`, custom emoji as `:name:`, timestamps as UTC text."""

    def render(match: re.Match[str]) -> str:
        if (user := match["user"]) is not None:
            return "@" + users.get(int(user), "unknown-user")
        if (role := match["role"]) is not None:
            return "@" + roles.get(int(role), "unknown-role")
        if (channel := match["channel"]) is not None:
            return "#" + channels.get(int(channel), "unknown-channel")
        if (emoji := match["emoji"]) is not None:
            return f":{emoji}:"
        if (command := match["command"]) is not None:
            return "/" + command
        try:
            moment = datetime.fromtimestamp(int(match["ts"]), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return match[0]
        return moment.strftime(_TIME_FORMATS[match["style"] or "f"])

    if "<" not in text:
        return text
    return _MARKUP.sub(render, text)


_OOC = re.compile(r"\s*(?:\(\(|//|ooc\s*:|\[ooc\]|\(ooc\))", re.IGNORECASE)


def is_ooc(text: str) -> bool:
    """Whether a message is out of character: `((...))`, `// ...` or `OOC: ...`."""
    return _OOC.match(text) is not None


_MASS_MENTION = re.compile(r"@(everyone|here)")


def neutralize_mass_mentions(text: str) -> str:
    """Break `@everyone`/`@here` with a zero-width space (allowed_mentions is the real guard)."""
    return _MASS_MENTION.sub("@\u200b\\1", text)


def _one_line(name: str) -> str:
    return " ".join(strip_invisible(name).split())


def sanitize_speaker_name(name: str, *, max_length: int = 64, fallback: str = "Someone") -> str:
    """A stable, single-line, non-empty speaker label for a message's `name` field."""
    cleaned = _one_line(name)[:max_length].rstrip()
    return cleaned or fallback


_HAIR_SPACE = "\u200a"
_RESERVED_WORD = re.compile(r"(d)(iscord)|(c)(lyde)", re.IGNORECASE)
_BACKTICKS = re.compile(r"`{3,}")
_WEBHOOK_NAME_LIMIT = 80


def sanitize_webhook_name(name: str, *, fallback: str = "Narrator") -> str:
    """Make `name` acceptable to Discord as a webhook username (1–80 characters).

    Discord rejects names containing "discord", "clyde" or a code fence and the bare names
    "everyone"/"here"; those are broken with a hair space, the way PluralKit does it.
    """
    cleaned = _one_line(name)
    cleaned = _RESERVED_WORD.sub(lambda m: _HAIR_SPACE.join(g for g in m.groups() if g), cleaned)
    cleaned = _BACKTICKS.sub(lambda m: _HAIR_SPACE.join(m[0]), cleaned)
    cleaned = cleaned[:_WEBHOOK_NAME_LIMIT].strip()
    if cleaned.casefold() in {"everyone", "here"}:
        cleaned = cleaned[:2] + _HAIR_SPACE + cleaned[2:]
    return cleaned or fallback


@dataclass(frozen=True, slots=True)
class _Span:
    """A Markdown construct: `start`..`end` in the text, content `inner_start`..`inner_end`."""

    start: int
    end: int
    inner_start: int
    inner_end: int
    opener: str
    closer: str
    code: bool = False

    def contains(self, other: _Span) -> bool:
        return self.inner_start <= other.start and other.end <= self.inner_end


_FENCE = re.compile(r"```(?:([\w+#.-]{0,20})\n)?(.*?)(?:```|\Z)", re.DOTALL)
_BLOCK_QUOTE = re.compile(r"^>>> ", re.MULTILINE)
_LINE_QUOTE = re.compile(r"^> .*$", re.MULTILINE)
_INLINE = re.compile(
    r"(?P<tick>`+)(?!`).+?(?<!`)(?P=tick)(?!`)"
    r"|(?P<pair>\|\||\*\*|__|~~)(?=\S).+?(?<=\S)(?P=pair)"
    r"|(?<![\w*])(?P<star>\*)(?=[^\s*]).*?(?<=[^\s*])\*(?!\*)"
    r"|(?<!\w)(?P<under>_)(?=[^\s_]).*?(?<=[^\s_])_(?!\w)",
    re.DOTALL,
)
_SENTENCE_END = ".!?…。！？"
_CJK_SENTENCE_END = "。！？；"
_CLOSING_PUNCTUATION = "\"')]}*_~|`»”’」』"
_PARAGRAPH, _LINE, _SENTENCE, _WORD, _EDGE, _HARD = range(6)
_MIN_SPLIT_LIMIT = 64


def _markdown_spans(text: str) -> list[_Span]:
    """Code blocks, quotes and inline emphasis as properly nested spans (code wins)."""
    code = [
        _Span(m.start(), m.end(), m.start(2), m.end(2), f"```{m[1] or ''}\n", "\n```", code=True)
        for m in _FENCE.finditer(text)
    ]
    quotes = [
        _Span(m.start(), m.end(), m.start() + 2, m.end(), "> ", "")
        for m in _LINE_QUOTE.finditer(text)
    ]
    # Code blocks and quote lines never overlap each other, so they stay sorted by both ends.
    blocks = sorted([*code, *(q for q in quotes if _fits(q, code))], key=lambda s: s.start)
    block_quote: list[_Span] = []
    if match := _BLOCK_QUOTE.search(text):
        quote = _Span(match.start(), len(text), match.end(), len(text), ">>> ", "")
        block_quote = [quote] if _fits(quote, blocks) else []
    inline = [
        span
        for span in _inline_spans(text, 0, len(text))
        if _fits(span, blocks) and _fits(span, block_quote)
    ]
    return sorted([*blocks, *block_quote, *inline], key=lambda s: (s.start, -s.end))


def _fits(span: _Span, others: list[_Span]) -> bool:
    """Whether `span` nests properly with `others` (disjoint, sorted by start and by end)."""
    first = bisect_right(others, span.start, key=lambda other: other.end)
    last = bisect_left(others, span.end, key=lambda other: other.start)
    return all(
        (other.contains(span) and not other.code) or span.contains(other)
        for other in others[first:last]
    )


def _inline_spans(text: str, lo: int, hi: int) -> list[_Span]:
    spans: list[_Span] = []
    for match in _INLINE.finditer(text, lo, hi):
        delimiter = match["tick"] or match["pair"] or match["star"] or match["under"]
        width = len(delimiter)
        start, end = match.start(), match.end()
        spans.append(_Span(start, end, start + width, end - width, delimiter, delimiter))
        if not match["tick"]:
            spans += _inline_spans(text, start + width, end - width)
    return spans


class _Layout:
    """Where `text` may be cut, and which constructs are open at each position."""

    def __init__(self, text: str) -> None:
        self.text = text
        size = len(text) + 1
        self.open: list[tuple[_Span, ...]] = [()] * size
        self.forbidden = bytearray(size)
        self.edges: set[int] = set()
        for span in _markdown_spans(text):
            self.edges.update((span.start, span.end))
            for i in range(span.start + 1, span.inner_start + 1):
                self.forbidden[i] = 1
            for i in range(span.inner_end, span.end):
                self.forbidden[i] = 1
            for i in range(span.inner_start + 1, span.inner_end):
                self.open[i] = (*self.open[i], span)
        self.solid = [0, *accumulate(not c.isspace() for c in text)]

    def blank(self, start: int, stop: int) -> bool:
        return self.solid[stop] == self.solid[start]

    def best_cut(self, pos: int, room: int) -> tuple[int, int] | None:
        """The best `(cut, resume)` for a chunk starting at `pos` with `room` characters."""
        best: tuple[int, int] | None = None
        best_rank = (len(self.text), _HARD + 1)
        for i in range(pos + 1, min(len(self.text) - 1, pos + room) + 1):
            if self.forbidden[i]:
                continue
            spans = self.open[i]
            rank = (len(spans), 0)
            if rank > best_rank:
                continue
            found = self._boundary(pos, i, spans)
            if found is None:
                continue
            kind, resume = found
            if (len(spans), kind) > best_rank:
                continue
            if i - pos + sum(len(s.closer) for s in spans) > room or self.blank(pos, i):
                continue
            if any(self.blank(s.inner_start, i) or self.blank(resume, s.inner_end) for s in spans):
                continue
            best, best_rank = (i, resume), (len(spans), kind)
        return best

    def _boundary(self, pos: int, i: int, spans: tuple[_Span, ...]) -> tuple[int, int] | None:
        text = self.text
        char, before = text[i], text[i - 1]
        if spans and spans[-1].code:
            if char == "\n":
                return (_PARAGRAPH if text[i + 1 : i + 2] == "\n" else _LINE), i + 1
            if char in " \t":
                return _WORD, i + 1
            return (_HARD, i) if _grapheme_boundary(before, char) else None
        if char.isspace():
            if before.isspace():
                return None
            end = i
            while end < len(text) and text[end].isspace():
                end += 1
            newlines = text.count("\n", i, end)
            if newlines:
                return (_PARAGRAPH if newlines > 1 else _LINE), end
            return (_SENTENCE if self._ends_sentence(pos, i) else _WORD), end
        if i in self.edges:
            return _EDGE, i
        if before in _CJK_SENTENCE_END:
            return _SENTENCE, i
        if is_cjk_char(before) and is_cjk_char(char):
            return _WORD, i
        return (_HARD, i) if _grapheme_boundary(before, char) else None

    def _ends_sentence(self, pos: int, i: int) -> bool:
        k = i - 1
        while k > pos and self.text[k] in _CLOSING_PUNCTUATION:
            k -= 1
        return self.text[k] in _SENTENCE_END


def _grapheme_boundary(before: str, char: str) -> bool:
    return not (
        before == "\u200d"
        or char in "\u200d\ufe0e\ufe0f"
        or unicodedata.category(char)[0] == "M"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def split_for_discord(text: str, limit: int = 2000) -> list[str]:
    """Split `text` into messages of at most `limit` characters, Markdown intact.

    Cuts fall at a paragraph break, else a line break, a sentence end, a word boundary, and
    only then anywhere. Constructs (code blocks, `**`, `__`, `*`, `_`, `~~`, `||`, inline
    code, quotes) are never cut unless one alone is longer than a chunk; then it is closed
    at the end of the chunk and reopened (code fences with their language) in the next.
    Whitespace at the cut is dropped outside code. Blank text gives no chunks.
    """
    if limit < _MIN_SPLIT_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_SPLIT_LIMIT}")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    layout = _Layout(text)
    chunks: list[str] = []
    pos = 0
    stack: tuple[_Span, ...] = ()
    while True:
        prefix = "".join(span.opener for span in stack)
        if len(prefix) + len(text) - pos <= limit:
            chunks.append(prefix + text[pos:])
            return chunks
        cut = layout.best_cut(pos, limit - len(prefix))
        if cut is None:
            # Only reachable with absurd nesting: give up on formatting rather than loop.
            chunks.append(text[pos : pos + limit])
            pos, stack = pos + limit, ()
            continue
        end, resume = cut
        body = text[pos:end]
        stack = layout.open[end]
        if not (stack and stack[-1].code):
            body = body.rstrip()
            while resume < len(text) and text[resume].isspace():
                resume += 1
        chunks.append(prefix + body + "".join(span.closer for span in reversed(stack)))
        pos = resume
