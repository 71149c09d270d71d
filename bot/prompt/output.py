"""Clean a streamed reply: no speaker prefix of its own, nothing written for anyone else."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

__all__ = ["ROLE_WORDS", "ReplyFilter"]

ROLE_WORDS = (
    "user",
    "assistant",
    "system",
    "user_system",
    "group",
    "sample_message_user",
    "sample_message_ai",
)
"""Message roles: a line like `user name=bob` is the model leaking the request's shape."""
_MARKUP = "*_~ \t>"
"""What may wrap a speaker label: `**Bob:**`, `*Bob*:`, `> Bob:`."""
_COLONS = (":", "：")
_MAX_NAME = 80
_AFTER_LABEL = re.compile(r"[ \t]*(?:[*_~]+(?=[ \t])[ \t]*)?")
"""What follows a label's colon and belongs to it: spaces, and a closing `**` before a space."""


class _Line(Enum):
    PLAIN = 0
    MAYBE = 1
    OWN = 2
    OTHER = 3


class ReplyFilter:
    """A streaming filter between the model and the players.

    Feed it the deltas; it returns clean deltas. It strips the persona's own speaker label
    ("Vex: …") where a line starts with it, and cuts the reply where a line starts with
    another speaker's label ("bob: …", "**Bram:**") or a message role (`user name=bob`):
    from there on the model is writing someone else's turn. It holds back only what could
    still turn out to be such a label (the start of a line, up to the longest name) and
    trailing whitespace, so a prefix never flashes on screen. After `finish`, `cut` holds
    the leaked text (for the debug log) and `stripped` the labels removed.
    """

    def __init__(self, own_name: str, other_names: Iterable[str]) -> None:
        self._own = own_name.casefold().strip()
        self._others = sorted(
            {n.casefold().strip() for n in other_names if n.strip()} - {self._own, ""},
            key=len,
            reverse=True,
        )
        longest = max((len(n) for n in [self._own, *self._others]), default=0)
        self._hold_limit = min(longest, _MAX_NAME) + 24
        self._pending = ""
        self._space = ""
        self._at_line_start = True
        self._started = False
        self.cut = ""
        """The text dropped because the model wrote for someone else ("" if none)."""
        self.stripped: list[str] = []
        """Own-name labels removed from line starts."""
        self.raw: list[str] = []
        """Everything fed, as it came."""

    @property
    def done(self) -> bool:
        """True once the reply was cut: the rest of the stream can be dropped."""
        return bool(self.cut)

    def feed(self, delta: str) -> str:
        """Take the next piece of the model's text; return what may be shown now."""
        self.raw.append(delta)
        if self.cut:
            self.cut += delta
            return ""
        self._pending += delta
        return self._release(final=False)

    def finish(self) -> str:
        """The stream ended: return whatever was held back and is clean."""
        if self.cut:
            return ""
        return self._release(final=True)

    @property
    def text(self) -> str:
        """Everything fed so far, uncleaned."""
        return "".join(self.raw)

    def _release(self, *, final: bool) -> str:
        text = self._pending
        out: list[str] = []
        pos = 0
        while pos < len(text):
            if not self._at_line_start:
                newline = text.find("\n", pos)
                end = len(text) if newline < 0 else newline + 1
                out.append(text[pos:end])
                pos = end
                self._at_line_start = newline >= 0
                continue
            newline = text.find("\n", pos)
            fragment = text[pos:] if newline < 0 else text[pos:newline]
            kind, label_end = self._classify(fragment, complete=final or newline >= 0)
            if kind is _Line.MAYBE:
                break
            if kind is _Line.OTHER:
                self.cut = text[pos:]
                self._space = ""
                pos = len(text)
                break
            if kind is _Line.OWN:
                self.stripped.append(fragment[:label_end])
                pos += label_end
            self._at_line_start = False
        self._pending = text[pos:]
        shown = self._space + "".join(out)
        if not self._started:
            shown = shown.lstrip()
        body = shown.rstrip()
        self._space = shown[len(body) :]
        if final:
            self._space = ""
        if body:
            self._started = True
        return body

    def _classify(self, fragment: str, *, complete: bool) -> tuple[_Line, int]:
        """What a line that starts with `fragment` is, and where its label ends."""
        start = len(fragment) - len(fragment.lstrip(_MARKUP))
        rest = fragment[start:]
        if not rest:
            return (_Line.PLAIN if complete else _Line.MAYBE), 0
        folded = rest.casefold()
        maybe = False
        for name, kind in [(self._own, _Line.OWN), *((n, _Line.OTHER) for n in self._others)]:
            if not name:
                continue
            if rest[: len(name)].casefold() == name:
                after = rest[len(name) :]
                markup = len(after) - len(after.lstrip(_MARKUP))
                tail = after[markup:]
                if not tail:
                    maybe = maybe or not complete
                elif tail.startswith(_COLONS):
                    end = start + len(name) + markup + 1
                    after = fragment[end:]
                    if kind is _Line.OWN and not complete and not after.strip(_MARKUP):
                        return _Line.MAYBE, 0  # what follows the label decides where it ends
                    match = _AFTER_LABEL.match(after)
                    return kind, end + (match.end() if match else 0)
            elif not complete and name.startswith(folded):
                maybe = True
        role = _role_line(rest, complete=complete)
        if role is not _Line.PLAIN:
            return role, 0
        if maybe and len(fragment) <= self._hold_limit:
            return _Line.MAYBE, 0
        return _Line.PLAIN, 0


def _role_line(rest: str, *, complete: bool) -> _Line:
    """Whether a line is a leaked message header: `user name=bob`, or a bare role word."""
    head = rest.rstrip()
    for role in ROLE_WORDS:
        if head.startswith(role):
            after = head[len(role) :]
            if not after:
                return _Line.OTHER if complete else _Line.MAYBE
            if after[0] in " \t":
                spec = after.lstrip()
                if spec.startswith("name") and spec[4:].lstrip().startswith("="):
                    return _Line.OTHER
                if not complete and "name=".startswith(spec.replace(" ", "")[:5]):
                    return _Line.MAYBE
        elif not complete and role.startswith(head):
            return _Line.MAYBE
    return _Line.PLAIN
