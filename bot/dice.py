"""Dice rolls in the notation tabletop players use, over the `d20` library's grammar.

`roll("2d6+3")`, `roll("4d6kh3")`, `roll("d20 adv")`; inline rolls are `[[1d20+4]]` inside a
scene message (`inline_rolls`). Limits are checked on the parsed expression before any die is
rolled, so a hostile expression costs nothing; errors are `DiceError`s whose message a player
can read. Plain functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import d20

MAX_EXPRESSION_CHARS = 100
MAX_DICE = 100
"""Dice rolled by one expression, all terms together (keeps, rerolls and explosions included)."""
MAX_SIDES = 1000
MAX_INLINE_ROLLS = 5
MAX_REASON_CHARS = 100

_INLINE = re.compile(r"\[\[([^\[\]\n]{1,200})\]\]")
_ADVANTAGE = re.compile(r"\s+(adv|advantage|dis|disadvantage)\s*$", re.IGNORECASE)
_BARE_DIE = re.compile(r"(?<![\w)])d(\d)", re.IGNORECASE)


class DiceError(ValueError):
    """A roll that can't be made; the message says why, for the player."""


@dataclass(frozen=True, slots=True)
class Roll:
    """One finished roll."""

    expression: str
    """What was rolled, normalised (`d20` → `1d20`, advantage → `2d20kh1`)."""
    total: int
    breakdown: str
    """Each die and the sum, in Discord markdown, e.g. "1d20 (**17**) + 4 = `21`"."""

    def sentence(self, who: str, reason: str = "") -> str:
        """The line memory keeps: "bob rolled 1d20+4 = 17 for Stealth"."""
        purpose = f" for {reason.strip()}" if reason.strip() else ""
        return f"{who} rolled {self.expression} = {self.total}{purpose}"


def normalise(expression: str) -> tuple[str, d20.AdvType]:
    """The expression d20 parses, and the advantage asked for with `adv`/`dis`."""
    text = " ".join(expression.split())
    if not text:
        raise DiceError("Give a dice expression, e.g. `d20`, `2d6+3` or `4d6kh3`.")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise DiceError(f"That expression is too long (at most {MAX_EXPRESSION_CHARS} characters).")
    advantage = d20.AdvType.NONE
    marked = _ADVANTAGE.search(text)
    if marked is not None:
        word = marked[1].lower()
        advantage = d20.AdvType.ADV if word.startswith("adv") else d20.AdvType.DIS
        text = text[: marked.start()]
    return _BARE_DIE.sub(r"1d\1", text), advantage


def _check_limits(node: d20.ast.Node) -> None:
    """Refuse too many dice or too many sides before anything is rolled."""
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, d20.ast.Dice):
            if current.size > MAX_SIDES:
                raise DiceError(f"Dice have at most {MAX_SIDES} sides here.")
            if current.size < 1:
                raise DiceError("A die needs at least one side.")
            count += current.num
            if count > MAX_DICE:
                raise DiceError(f"At most {MAX_DICE} dice in one roll.")
        stack.extend(current.children)


def roll(expression: str, *, roller: d20.Roller | None = None) -> Roll:
    """Roll `expression` (e.g. "2d6+3", "4d6kh3", "d20 adv"); raises DiceError."""
    text, advantage = normalise(expression)
    try:
        parsed = d20.parse(text)
    except d20.RollSyntaxError as error:
        raise DiceError(
            f"I can't read `{text}` as dice: try `d20`, `2d6+3`, `4d6kh3` or `d20 adv`."
        ) from error
    _check_limits(parsed)
    engine = roller or d20.Roller(context=d20.RollContext(max_rolls=MAX_DICE * 2))
    try:
        result = engine.roll(parsed, advantage=advantage)
    except d20.TooManyRolls as error:
        raise DiceError(f"That roll needs too many dice (at most {MAX_DICE}).") from error
    except d20.RollError as error:
        raise DiceError(f"That roll can't be made: {error}") from error
    return Roll(
        expression=_compact(text, advantage),
        total=int(result.total),
        breakdown=result.result,
    )


def _compact(text: str, advantage: d20.AdvType) -> str:
    compact = text.replace(" ", "")
    if advantage is d20.AdvType.NONE:
        return compact
    return f"{compact} ({'advantage' if advantage is d20.AdvType.ADV else 'disadvantage'})"


@dataclass(frozen=True, slots=True)
class InlineRolls:
    """The `[[...]]` rolls of one message and the text with their results in place."""

    rolls: tuple[Roll, ...]
    text: str
    """The message with each `[[expr]]` replaced by "expr = total"."""


def inline_rolls(text: str, *, roller: d20.Roller | None = None) -> InlineRolls | None:
    """The inline rolls of a message (None when it has none); raises DiceError, and then
    nothing of the message is rolled.
    """
    found = list(_INLINE.finditer(text))
    if not found:
        return None
    if len(found) > MAX_INLINE_ROLLS:
        raise DiceError(f"At most {MAX_INLINE_ROLLS} inline rolls in one message.")
    rolls = [roll(match[1], roller=roller) for match in found]
    pieces: list[str] = []
    last = 0
    for match, made in zip(found, rolls, strict=True):
        pieces += [text[last : match.start()], f"[{made.expression} = {made.total}]"]
        last = match.end()
    pieces.append(text[last:])
    return InlineRolls(tuple(rolls), "".join(pieces))


def clean_reason(reason: str | None) -> str:
    """A roll's reason as one short line (raises DiceError when too long)."""
    text = " ".join((reason or "").split())
    if len(text) > MAX_REASON_CHARS:
        raise DiceError(f"Keep the reason under {MAX_REASON_CHARS} characters.")
    return text
