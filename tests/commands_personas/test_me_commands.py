"""/me set, show, clear and forget, end to end, down to the bytes of the database file."""

from __future__ import annotations

from pathlib import Path

from bot.models import PlayerSheet
from tests.commands_personas.helpers import wait_for_stored
from tests.interactions import press, slash


async def test_set_stores_a_global_sheet_the_engine_uses(scene):
    answer = await slash(
        scene,
        "me set",
        scene.alice,
        name="  Ser Alys  ",
        description="A knight with a rusty visor.",
        avatar_url="https://img.example/alys.png",
    )

    assert answer.ephemeral
    assert answer.content == "Saved your sheet (everywhere)."
    embed = answer.body["embeds"][0]
    assert embed["title"] == "Ser Alys"
    assert embed["thumbnail"]["url"] == "https://img.example/alys.png"
    expected = PlayerSheet(
        scene.alice.id, "Ser Alys", "A knight with a rusty visor.", "https://img.example/alys.png"
    )
    assert await scene.services.store.get_sheet(scene.alice.id, None) == expected
    assert await scene.services.store.get_sheet(scene.alice.id, 424242) == expected


async def test_the_new_sheet_reaches_the_prompt_at_once(scene):
    await scene.enable(cast=("narrator",))
    await scene.say(scene.alice, "I push the door open.")
    await wait_for_stored(scene, 1)
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    assert "Ser Alys" not in str(turn.prompt.messages)  # the engine has cached "Alice"

    await slash(scene, "me set", scene.alice, name="Ser Alys", description="A rusty knight.")

    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    sheets = [m for m in turn.prompt.messages if m["role"] == "user_system"]
    assert sheets == [{"role": "user_system", "name": "Ser Alys", "content": "A rusty knight."}]


async def test_a_server_sheet_wins_here_and_show_says_which_is_used(scene):
    await slash(scene, "me set", scene.alice, name="Alys", description="Everywhere.")
    await slash(
        scene, "me set", scene.alice, name="Lady Alys", description="Here only.", where="server"
    )

    shown = await slash(scene, "me show", scene.alice)

    assert shown.ephemeral
    assert shown.content == "The personas know you as: (elsewhere you are **Alys**)"
    embed = shown.body["embeds"][0]
    assert (embed["title"], embed["description"]) == ("Lady Alys", "Here only.")
    assert embed["footer"]["text"] == "Player sheet · this server only"
    assert (await scene.services.store.get_sheet(scene.alice.id, None)).name == "Alys"


async def test_show_without_a_sheet_explains_how_to_make_one(scene):
    shown = await slash(scene, "me show", scene.bob)
    assert shown.ephemeral
    assert shown.content.startswith("You have no character sheet yet")
    assert "/me set" in shown.content


INVALID_SHEETS = [
    ({"name": "   "}, "Your character's name must be 1–64 characters; it is 0."),
    ({"name": "N" * 65}, "Your character's name must be 1–64 characters; it is 65."),
    ({"description": "d" * 2001}, "The description is 2,001 characters; the limit is 2,000."),
    ({"avatar_url": "javascript:alert(1)"}, "The avatar must be an http:// or https://"),
    ({"avatar_url": "https://"}, "The avatar must be an http:// or https://"),
]


async def test_set_refuses_an_invalid_sheet_and_keeps_nothing(scene):
    for options, expected in INVALID_SHEETS:
        values = {"name": "Alys", "description": "A knight.", **options}
        answer = await slash(scene, "me set", scene.alice, **values)
        assert answer.ephemeral
        assert answer.content.startswith(expected), answer.content
        assert await scene.services.store.get_sheet(scene.alice.id, scene.guild.id) is None


async def test_clear_removes_the_sheet_of_the_chosen_scope(scene):
    await slash(scene, "me set", scene.alice, name="Alys", description="Here.", where="server")

    wrong = await slash(scene, "me clear", scene.alice)
    assert wrong.content == (
        "You have no sheet everywhere. You do have one for this server: "
        "use `where: this server only`."
    )
    cleared = await slash(scene, "me clear", scene.alice, where="server")

    assert cleared.ephemeral
    assert cleared.content == "Cleared your sheet (this server only)."
    assert await scene.services.store.get_sheet(scene.alice.id, scene.guild.id) is None


def database_bytes(scene) -> bytes:
    path = Path(scene.settings.database)
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_forget_asks_first_then_leaves_none_of_the_players_text_in_the_file(scene):
    store = scene.services.store
    await scene.enable(cast=("narrator",))
    await slash(scene, "me set", scene.alice, name="Quillon Vexmarrow", description="SHEETSECRET")
    await slash(
        scene, "me set", scene.alice, name="Quillon", description="GUILDSECRET", where="server"
    )
    await scene.say(scene.alice, "MESSAGESECRET whispered by the fire.")
    await scene.say(scene.bob, "BOBSTAYS loudly at the bar.")
    await wait_for_stored(scene, 2)
    await store.add_pin(scene.channel.id, "PINSECRET about Quillon", scene.alice.id)
    before = database_bytes(scene)
    assert b"MESSAGESECRET" in before
    assert b"SHEETSECRET" in before

    question = await slash(scene, "me forget", scene.alice)
    assert question.ephemeral
    assert "in every server, for good" in question.content
    assert await store.get_sheet(scene.alice.id, None) is not None  # nothing happens yet

    done = await press(
        scene,
        question.message_id,
        "Forget me",
        scene.alice,
        until=lambda i: any(c.kind == "edit_original" for c in i.calls),
    )

    assert done.content.startswith("Done. Erased 1 message, 2 sheets and 1 pin,")
    after = database_bytes(scene)
    for secret in (b"MESSAGESECRET", b"SHEETSECRET", b"GUILDSECRET", b"PINSECRET", b"Vexmarrow"):
        assert secret not in after, secret
    assert b"BOBSTAYS" in after  # other players' lines are untouched
    assert await store.get_sheet(scene.alice.id, scene.guild.id) is None
    turn = await scene.services.runtime.preview(scene.channel.id, "narrator")
    assert "MESSAGESECRET" not in str(turn.prompt.messages)


async def test_forget_can_be_cancelled(scene):
    await slash(scene, "me set", scene.alice, name="Alys", description="Kept.")
    question = await slash(scene, "me forget", scene.alice)
    done = await press(scene, question.message_id, "Cancel", scene.alice)
    assert done.content == "Cancelled; nothing was changed."
    assert await scene.services.store.get_sheet(scene.alice.id, None) is not None


async def test_me_is_open_to_everyone_with_described_options(scene):
    me = next(c for c in scene.fake.commands() if c["name"] == "me")
    assert me.get("default_member_permissions") is None
    subcommands = {o["name"]: o for o in me["options"]}
    assert set(subcommands) == {"set", "show", "clear", "forget"}
    for sub in subcommands.values():
        assert 0 < len(sub["description"]) <= 100
        assert all(option["description"] for option in sub.get("options") or [])
    where = next(o for o in subcommands["set"]["options"] if o["name"] == "where")
    assert [c["value"] for c in where["choices"]] == ["global", "server"]
