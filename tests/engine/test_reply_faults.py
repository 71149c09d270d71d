"""Every reply ends in a terminal look and a settled memory row, whatever fails and where.

Table-driven through the scene runtime and a recording port (no discord.py): a fault is
injected at each step of a reply's life — before the first send, after it, between edits, at
the final edit, between split parts — and on the model's side. After each scenario:
- every message the reply created shows a terminal look (no cursor, no Stop button), unless a
  player deleted it or Discord kept refusing (then the players were told);
- no memory row stays `streaming`, and memory keeps exactly what Discord shows;
- the player's line is stored, and it is answered at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.engine import Look, PortError
from bot.models import AuthorKind, ReplyStatus
from tests.engine.conftest import Stage
from tests.engine.recording_port import STREAMING, TERMINAL
from tests.fakes.model_server import HttpError, Reply

LONG = " ".join(f"word{n}" for n in range(60))
"""About five parts at the recording port's 60 characters per message."""

SLOW = Reply(text=LONG, chunk_delay=0.005)


@dataclass(frozen=True)
class Case:
    name: str
    reply: Reply | HttpError = SLOW
    faults: tuple[tuple[str, int, PortError, int | None], ...] = ()
    status: ReplyStatus = ReplyStatus.COMPLETE
    look: str = Look.COMPLETE.value
    told: bool = False
    """Whether the players get a notice (Discord kept refusing the final look)."""
    kept_all: bool = True
    """Whether memory holds the whole model text (else: what was shown)."""
    extra: dict[str, object] = field(default_factory=dict)


FORBIDDEN = PortError("403 Missing Permissions", status=403, code=50013)
INVALID = PortError("400 Invalid Form Body", status=400, code=50035)
RATE_LIMITED = PortError("429 Too Many Requests", status=429)
BAD_GATEWAY = PortError("502 Bad Gateway", status=502)
TIMEOUT = PortError("Discord did not answer within 8 s")

CASES = [
    Case("no fault"),
    Case("model cut at the length cap", Reply(text=LONG, finish_reason="length"), look="cut"),
    Case(
        "refused before the first send, then allowed",
        faults=(("send", 1, FORBIDDEN, 1),),
        status=ReplyStatus.FAILED,
        look=Look.FAILED.value,
        kept_all=False,
    ),
    Case(
        "refused at the first edit (403)",
        faults=(("edit", 1, FORBIDDEN, 1),),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case(
        "5xx between edits",
        faults=(("edit", 3, BAD_GATEWAY, 1),),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case(
        "Discord silent between split parts",
        faults=(("send", 3, TIMEOUT, 1),),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case("final edit fails once (5xx), then works", faults=(("settle", 1, BAD_GATEWAY, 1),)),
    Case(
        "final edit rate limited once (429), then works",
        faults=(("settle", 1, RATE_LIMITED, 1),),
    ),
    Case(
        "400 at the first edit",
        faults=(("edit", 1, INVALID, 1),),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case(
        "refused between split parts (403 on the second message)",
        faults=(("send", 2, FORBIDDEN, 1),),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case(
        "final look refused for good (403)",
        faults=(("settle", 1, FORBIDDEN, None),),
        status=ReplyStatus.INTERRUPTED,
        look=STREAMING,
        told=True,
        kept_all=False,
    ),
    Case(
        "model error mid-stream",
        Reply(text=LONG, error_after=5),
        status=ReplyStatus.INTERRUPTED,
        look=Look.INTERRUPTED.value,
        kept_all=False,
    ),
    Case(
        "model error before any text",
        HttpError(503),
        status=ReplyStatus.FAILED,
        look=Look.FAILED.value,
        kept_all=False,
    ),
    Case(
        "empty completion",
        Reply(text="", chunks=("   ",)),
        status=ReplyStatus.FAILED,
        look=Look.FAILED.value,
        kept_all=False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_every_reply_ends_settled(stage: Stage, case: Case) -> None:
    await stage.enable()
    for kind, nth, error, times in case.faults:
        stage.port.fail(kind, nth, error, times=times)
    stage.model.script(case.reply)
    line = await stage.say("Narrator, tell me everything.")
    await stage.quiet()

    records = await stage.memory()
    assert [r.discord_id for r in records if r.kind is AuthorKind.HUMAN] == [line.discord_id]
    replies = [r for r in records if r.kind is AuthorKind.PERSONA]
    assert len(replies) == 1, "answered exactly once"
    reply = replies[0]
    assert reply.status is case.status
    assert await stage.store.unfinished_replies() == []

    messages = [m for m in stage.port.reply_messages() if not m.deleted]
    if case.look == STREAMING:  # Discord refused every final edit: players were told
        assert stage.port.notices and "could not be finished" in stage.port.notices[-1][1]
    else:
        assert messages, "the reply shows in some final state"
        for message in messages:
            assert message.look in TERMINAL, (message.id, message.looks)
        assert messages[-1].look == case.look
        assert not stage.port.notices
    shown = " ".join(m.content.split("\n-# ")[0].removesuffix(" ▌") for m in messages)
    if case.kept_all:
        assert reply.text == LONG
    assert reply.text.replace(" ", "") == shown.replace(" ", "").removesuffix("…")
    assert tuple(m.id for m in messages) == reply.discord_ids or not reply.text


async def test_a_deleted_last_part_keeps_the_rest(stage: Stage) -> None:
    await stage.enable()
    stage.model.script(Reply(text=LONG, chunk_delay=0.02))
    await stage.say("Narrator, tell me everything.")
    while len(stage.port.reply_messages()) < 3:
        await stage.model.wait_for_requests(1)
        await __import__("asyncio").sleep(0.01)
    newest = stage.port.reply_messages()[-1]
    stage.port.delete(newest.id)
    await stage.runtime.message_deleted(222, newest.id)
    await stage.quiet()
    (reply,) = [r for r in await stage.memory() if r.kind is AuthorKind.PERSONA]
    kept = [m for m in stage.port.reply_messages() if not m.deleted]
    assert reply.status is ReplyStatus.COMPLETE
    assert reply.discord_ids == tuple(m.id for m in kept)
    assert newest.id not in reply.discord_ids
    for message in kept:
        assert message.look in TERMINAL
    assert kept[-1].look == Look.COMPLETE.value
