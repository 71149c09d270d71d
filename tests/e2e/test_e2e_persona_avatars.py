"""A persona imported from a PNG card speaks with that picture as its webhook's own avatar."""

from __future__ import annotations

import base64
import json
import logging
import random
import zlib
from collections.abc import AsyncIterator

import pytest

from bot.cards import AVATAR_KEY
from bot.cards.limits import MAX_WEBHOOK_AVATAR_BYTES
from tests.commands_personas.helpers import card_png, chunk, image_png
from tests.commands_personas.samples import v2_card
from tests.commands_scenes.helpers import EXTENSIONS, add_persona
from tests.fakes.discord.world import StoredMessage, Webhook
from tests.fakes.model_server import Reply
from tests.harness import Scene, running_commands_scene
from tests.interactions import slash

VELL = "sister-vell"
HOOK_NAME = "Ensemble Sister Vell"


@pytest.fixture
async def scene(tmp_path) -> AsyncIterator[Scene]:
    """The real bot with every command registered, in the standard fake guild."""
    async with running_commands_scene(tmp_path, EXTENSIONS) as running:
        yield running


def with_text_chunks(image: bytes) -> bytes:
    """`image` carrying the kinds of text other tools write next to a card (tEXt/zTXt/iTXt)."""
    end = image.rindex(b"IEND") - 4
    extra = (
        chunk(b"tEXt", b"Software\0Some Card Editor 3.1")
        + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"made for the harbour campaign"))
        + chunk(b"iTXt", b"Description\0\0\0\0\0" + "Sœur Vell, prêtresse".encode())
    )
    return image[:end] + extra + image[end:]


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode()


async def import_card(scene: Scene, png: bytes, **options: object) -> str:
    attachment = scene.fake.serve_attachment("vell.png", png)
    answer = await slash(scene, "persona import", scene.admin, file=attachment, **options)
    return answer.content


async def reply_to(scene: Scene, text: str, prompt: str = "Vell, bless my blade.") -> StoredMessage:
    """A player addresses Sister Vell and her scripted reply lands (final)."""
    scene.model.script(Reply(text=text))
    await scene.say(scene.alice, prompt)

    def landed() -> StoredMessage | None:
        return next((m for m in scene.persona_messages() if m.content == text), None)

    found: StoredMessage = await scene.fake.wait_until(landed, timeout=10)
    return found


def persona_hooks(scene: Scene) -> list[Webhook]:
    return [h for h in scene.fake.world.webhooks.values() if h.channel_id == scene.channel.id]


def picture_edits(scene: Scene, hook: Webhook) -> list[object]:
    """The `avatar` of every modify request the bot sent for `hook`."""
    return [r.json["avatar"] for r in scene.fake.requests("PATCH", f"/webhooks/{hook.id}")]


def executes(scene: Scene, hook: Webhook) -> list[dict[str, object]]:
    return [r.json for r in scene.fake.requests("POST", f"/webhooks/{hook.id}/*")]


async def test_an_imported_png_card_speaks_with_its_own_picture(scene):
    picture = image_png((10, 120, 30))
    png = card_png("chara", v2_card(), with_text_chunks(picture))
    assert (await import_card(scene, png)).startswith("Imported **Sister Vell**")

    await slash(scene, "scene start", scene.gm, name="The Shrine", persona=VELL)
    reply = await reply_to(scene, "*She lays two fingers on the steel.* It is blessed.")

    [hook] = persona_hooks(scene)
    assert hook.name == HOOK_NAME
    # The webhook was made with the picture, minus the card and every other text chunk.
    assert hook.avatar_image == picture and hook.avatar_type == "image/png"
    [create] = scene.fake.requests("POST", f"/channels/{scene.channel.id}/webhooks")
    assert create.json["avatar"] == data_uri(picture)
    assert picture_edits(scene, hook) == []
    # Both the greeting and the reply went through it, without a per-message avatar_url.
    spoken = [m for m in scene.persona_messages() if m.webhook_id and m.interaction_id is None]
    assert len(spoken) == 2 and spoken[-1].id == reply.id
    for message in spoken:
        assert message.webhook_id == hook.id
        assert message.username == "Sister Vell"
        assert message.avatar_url is None
        assert message.payload["author"]["avatar"] == hook.avatar
    sent = executes(scene, hook)
    assert len(sent) == 2 and all("avatar_url" not in body for body in sent)


async def test_a_new_picture_updates_the_same_webhook_once(scene):
    await import_card(scene, card_png("chara", v2_card(), image_png((10, 120, 30))))
    await scene.enable(cast=(VELL,))
    await reply_to(scene, "First blessing.")
    [hook] = persona_hooks(scene)
    first_hash = hook.avatar

    red = image_png((200, 10, 10))
    answer = await import_card(scene, card_png("chara", v2_card(), red), replace=True)
    assert answer.startswith("Imported **Sister Vell**")
    await reply_to(scene, "Second blessing.")
    await reply_to(scene, "Third blessing.")

    assert persona_hooks(scene) == [hook]  # no second webhook
    assert hook.avatar_image == red and hook.avatar != first_hash
    assert picture_edits(scene, hook) == [data_uri(red)]


async def test_a_webhook_found_after_a_restart_gets_the_picture_on_first_use(scene):
    # Left over from an earlier run: the bot's own webhook for the persona, with no avatar.
    hook = scene.fake.add_webhook(scene.channel.id, HOOK_NAME)
    picture = image_png((30, 30, 160))
    await import_card(scene, card_png("ccv3", v2_card(), with_text_chunks(picture)))
    await scene.enable(cast=(VELL,))

    await reply_to(scene, "You came back.")
    await reply_to(scene, "Again?")

    assert persona_hooks(scene) == [hook]
    assert scene.fake.requests("POST", f"/channels/{scene.channel.id}/webhooks") == []
    assert picture_edits(scene, hook) == [data_uri(picture)]
    assert hook.avatar_image == picture
    assert all("avatar_url" not in body for body in executes(scene, hook))


async def test_an_avatar_url_is_sent_per_message_and_a_leftover_picture_is_cleared(scene):
    hook = scene.fake.add_webhook(scene.channel.id, HOOK_NAME)
    hook.set_avatar(image_png((1, 2, 3)), "image/png")
    card = v2_card()
    card["data"]["extensions"]["ensemble"]["avatar_url"] = "https://img.example/vell.png"
    await import_card(scene, card_png("chara", card, image_png((9, 9, 9))))
    await scene.enable(cast=(VELL,))

    message = await reply_to(scene, "Peace be with you.")
    await reply_to(scene, "And with you.")

    assert message.avatar_url == "https://img.example/vell.png"
    assert picture_edits(scene, hook) == [None]
    assert hook.avatar is None


async def test_a_broken_stored_picture_is_skipped_and_logged_once(scene, caplog):
    card = dict(v2_card())
    card[AVATAR_KEY] = base64.b64encode(b"\x89PNG\r\n\x1a\n but then nothing").decode()
    await add_persona(scene, VELL, card)
    await scene.enable(cast=(VELL,))

    with caplog.at_level(logging.WARNING, logger="bot.ui.targets"):
        first = await reply_to(scene, "I still speak.")
        await reply_to(scene, "Even without a face.")

    [hook] = persona_hooks(scene)
    assert first.webhook_id == hook.id and first.username == "Sister Vell"
    assert hook.avatar is None and picture_edits(scene, hook) == []
    [create] = scene.fake.requests("POST", f"/channels/{scene.channel.id}/webhooks")
    assert "avatar" not in create.json
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.ui.targets"]
    assert len(warnings) == 1
    assert "Sister Vell speaks without its picture" in warnings[0]
    assert "PNG is corrupt" in warnings[0]


async def test_a_picture_too_large_for_a_webhook_is_skipped_and_logged_once(scene, caplog):
    noise = random.Random(7).randbytes(MAX_WEBHOOK_AVATAR_BYTES + 1000)
    ihdr = image_png()[8 : 8 + 25]
    huge = b"\x89PNG\r\n\x1a\n" + ihdr + chunk(b"IDAT", noise) + chunk(b"IEND", b"")
    card = json.loads(json.dumps(v2_card()))
    answer = await import_card(scene, card_png("chara", card, huge))
    assert answer.endswith("the avatar image.")  # the import itself keeps it
    await scene.enable(cast=(VELL,))

    with caplog.at_level(logging.WARNING, logger="bot.ui.targets"):
        await reply_to(scene, "Too grand a portrait.")
        await reply_to(scene, "Still here.")

    [hook] = persona_hooks(scene)
    assert hook.avatar is None and picture_edits(scene, hook) == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.ui.targets"]
    assert len(warnings) == 1 and f"at most {MAX_WEBHOOK_AVATAR_BYTES:,}" in warnings[0]


async def test_a_picture_discord_refuses_still_leaves_the_persona_its_webhook(scene, caplog):
    await import_card(scene, card_png("chara", v2_card(), image_png((10, 120, 30))))
    await scene.enable(cast=(VELL,))
    scene.fake.fail_next("POST", f"/channels/{scene.channel.id}/webhooks", 400, code=50035)

    with caplog.at_level(logging.WARNING, logger="bot.ui.targets"):
        first = await reply_to(scene, "The bell rings.")
        await reply_to(scene, "Twice.")

    [hook] = persona_hooks(scene)
    assert first.webhook_id == hook.id
    assert hook.avatar is None
    assert picture_edits(scene, hook) == []  # refused once: not retried every turn
    creates = scene.fake.requests("POST", f"/channels/{scene.channel.id}/webhooks")
    assert [r.status for r in creates] == [400, 200]
    assert "avatar" in creates[0].json and "avatar" not in creates[1].json
    assert any("refused the picture" in r.getMessage() for r in caplog.records)
