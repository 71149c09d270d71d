"""`/me forget` in one process also clears what the other processes hold of the player.

Two sharded bots share one PostgreSQL memory, each with its own services (store, caches,
listening connection), as two processes would; they run in this test's event loop so the
test can wait on what each one saw. Alice plays in a guild of shard 1 (bot B), then runs
`/me forget` in a guild of shard 0 (bot A). B had her lines cached; its next request to the
model must carry no trace of them, and a fold B was running over them must save nothing.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bot import RoleplayBot
from bot.memory import ChannelConfig, NewMessage
from bot.models import AuthorKind, PlayerSheet
from bot.services import Services
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.interactions import walk_components
from tests.fakes.discord.world import Channel, User
from tests.fakes.model_server import FakeModelServer, RecordedRequest, Reply
from tests.harness import build_settings, start_bot
from tests.interactions import final_answer
from tests.memory.postgres_server import fresh_schema, postgres_url

pytestmark = pytest.mark.postgres

SECRET = "Quillfeather"
"""In Alice's lines and her sheet; never in a request once she is forgotten."""
NARRATOR = "The Narrator speaks."
OLD_RECAP = f"Alice schemed over the {SECRET} key while Bob hauled crates."
NEW_RECAP = "Bob hauled crates all night."


@dataclass
class Shards:
    fake: FakeDiscord
    model: FakeModelServer
    a: Services
    b: Services
    bot_a: RoleplayBot
    tavern_a: Channel
    tavern_b: Channel
    alice: User
    bob: User


@contextlib.asynccontextmanager
async def two_processes(tmp_path: Path, **b_settings: Any) -> AsyncIterator[Shards]:
    """Bot A runs shard 0, bot B shard 1 of one fake Discord, over one PostgreSQL schema."""
    async with (
        fresh_schema(postgres_url()) as database,
        FakeDiscord(shard_count=2) as fake,
        FakeModelServer() as model,
    ):
        owner = fake.add_user("owner")
        guild_a = fake.add_guild("Guild A", owner_id=owner.id, shard=(0, 2))
        guild_b = fake.add_guild("Guild B", owner_id=owner.id, shard=(1, 2))
        alice = fake.add_user("alice", global_name="Alice", guild_id=guild_a.id)
        fake.add_member(guild_b.id, alice.id)
        bob = fake.add_user("bob", global_name="Bob", guild_id=guild_b.id)
        tavern_a = fake.add_text_channel(guild_a.id, "tavern")
        tavern_b = fake.add_text_channel(guild_b.id, "tavern")
        # A high edit burst: no reply waits for the pacer (this test is not about pacing).
        shared = {"database": database, "shard_count": 2, "channel_edit_burst": 50}
        settings_a = build_settings(fake, model, tmp_path, shard_ids=[0], **shared)
        settings_b = build_settings(fake, model, tmp_path, shard_ids=[1], **shared, **b_settings)
        async with (
            start_bot(fake, settings_a) as (bot_a, services_a),
            start_bot(fake, settings_b) as (_, services_b),
        ):
            await bot_a.tree.sync()
            await services_b.runtime.configure(
                ChannelConfig(
                    channel_id=tavern_b.id, guild_id=guild_b.id, enabled=True, cast=("narrator",)
                )
            )
            yield Shards(fake, model, services_a, services_b, bot_a, tavern_a, tavern_b, alice, bob)


async def forget_in_a(shards: Shards) -> str:
    """Alice runs `/me forget` in guild A and confirms; returns bot A's final answer."""
    fake = shards.fake
    asked = await fake.slash("me forget", user_id=shards.alice.id, channel_id=shards.tavern_a.id)
    await fake.wait_until(lambda: final_answer(asked))
    assert asked.original_message_id is not None
    components = fake.message(asked.original_message_id).payload.get("components") or []
    button = next(c for c in walk_components(components) if c.get("label") == "Forget me")
    pressed = await fake.click(asked.original_message_id, button["custom_id"], shards.alice.id)

    def finished() -> str | None:
        answer = final_answer(pressed)
        content = str(answer[1].get("content")) if answer else ""
        return content if content.startswith("Done.") else None

    done: str = await fake.wait_until(finished, timeout=10)
    return done


async def heard_by_b(shards: Shards) -> list[int | None]:
    """What B's store reports from now on (after B's engine, which registered first)."""
    heard: list[int | None] = []
    await shards.b.store.on_forgotten(heard.append)
    return heard


def persona_lines(shards: Shards) -> list[str]:
    return [m.content for m in shards.fake.messages_in(shards.tavern_b.id) if m.webhook_id]


def is_summary_request(request: RecordedRequest) -> bool:
    messages = request.messages
    return bool(messages) and "running summary" in str(messages[0].get("content"))


async def test_the_other_process_drops_the_forgotten_players_cached_lines(tmp_path):
    async with two_processes(tmp_path) as shards:
        fake, model, store_b = shards.fake, shards.model, shards.b.store
        model.default_reply = lambda request: Reply(text=NARRATOR)
        await store_b.save_sheet(
            PlayerSheet(shards.alice.id, "Lyra", f"A bard who hides the {SECRET} key."), None
        )
        heard = await heard_by_b(shards)
        tavern = shards.tavern_b.id
        await fake.user_says(tavern, shards.alice.id, f"Narrator, guard the {SECRET} key.")
        await fake.wait_until(lambda: len(persona_lines(shards)) == 1, timeout=10)
        await fake.user_says(tavern, shards.bob.id, "Narrator, I haul the crates.")
        await fake.wait_until(lambda: len(persona_lines(shards)) == 2, timeout=10)
        assert SECRET in str(model.requests[-1].messages)  # B has her lines and sheet cached
        # The newest line is the persona's: B's turn catch-up sees nothing new after the forget.
        assert (await store_b.window(tavern, limit=1))[0].kind is AuthorKind.PERSONA

        answer = await forget_in_a(shards)

        assert answer.startswith("Done. Erased 1 message, 1 sheet and 0 pins,")
        await fake.wait_until(lambda: shards.alice.id in heard, timeout=10)
        asked = len(model.requests)
        await fake.user_says(tavern, shards.bob.id, "Narrator, and now?")
        await fake.wait_until(lambda: len(persona_lines(shards)) == 3, timeout=10)
        after = model.requests[asked:]
        assert len(after) == 1
        request = str(after[0].messages)
        assert "Narrator, and now?" in request and "I haul the crates." in request
        assert SECRET not in request
        assert "Lyra" not in request


async def test_a_fold_running_in_the_other_process_saves_nothing_of_the_player(tmp_path):
    async with two_processes(tmp_path, history_tokens=1000) as shards:
        fake, model = shards.fake, shards.model
        store_b, runtime_b = shards.b.store, shards.b.runtime
        tavern = shards.tavern_b.id

        def replies(request: RecordedRequest) -> Reply:
            if is_summary_request(request) and SECRET in str(request.messages):
                # Streams a word, then waits: Alice is forgotten in the other process meanwhile.
                return Reply(text=OLD_RECAP, stall_after=1, stall_seconds=8.0)
            if is_summary_request(request):
                return Reply(text=NEW_RECAP)
            return Reply(text=NARRATOR)

        model.default_reply = replies
        heard = await heard_by_b(shards)
        lines = [(shards.alice, f"I hide the {SECRET} key under board {n}. " * 3) for n in range(8)]
        lines += [(shards.bob, f"Bob hauls crates, load {n} of many. " * 4) for n in range(40)]
        for n, (user, text) in enumerate(lines):
            await runtime_b.memory.remember(
                NewMessage(
                    channel_id=tavern,
                    guild_id=shards.tavern_b.guild_id,
                    discord_id=50_000 + n,
                    author_id=user.id,
                    author_name=user.global_name or user.username,
                    text=text,
                )
            )
        await fake.user_says(tavern, shards.bob.id, "Narrator, how goes the night?")
        summary_request = await fake.wait_until(
            lambda: next(
                (r for r in model.requests if is_summary_request(r) and r.first_token_at), None
            ),
            timeout=10,
        )
        assert SECRET in str(summary_request.messages)
        assert tavern in runtime_b.folding_now()

        answer = await forget_in_a(shards)

        assert "No scene summary had been written from your messages." in answer
        await fake.wait_until(lambda: shards.alice.id in heard, timeout=10)
        await fake.wait_until(
            lambda: tavern not in runtime_b.folding_now() and summary_request.finished_at,
            timeout=15,
        )
        assert summary_request.client_gone  # B gave up the fold when it heard
        assert await store_b.summary_history(tavern, limit=50) == []
        asked = len(model.requests)
        await fake.user_says(tavern, shards.bob.id, "Narrator, and now?")
        await fake.wait_until(
            lambda: any(
                not is_summary_request(r) and "and now?" in str(r.messages)
                for r in model.requests[asked:]
            ),
            timeout=10,
        )
        for request in model.requests[asked:]:
            assert SECRET not in str(request.messages)


OLD_SHEET = "A bard with a silver lute."
NEW_SHEET = "A bard with a golden harp."


async def test_a_sheet_set_in_one_process_is_what_the_other_sends_next(tmp_path):
    async with two_processes(tmp_path) as shards:
        fake, model = shards.fake, shards.model
        model.default_reply = lambda request: Reply(text=NARRATOR)
        await shards.a.store.save_sheet(PlayerSheet(shards.alice.id, "Lyra", OLD_SHEET), None)
        tavern = shards.tavern_b.id
        await fake.user_says(tavern, shards.alice.id, "Narrator, I tune my instrument.")
        await fake.wait_until(lambda: len(persona_lines(shards)) == 1, timeout=10)
        assert OLD_SHEET in str(model.requests[-1].messages)  # B has her sheet cached
        heard: list[int | None] = []
        await shards.b.store.on_sheet_changed(heard.append)

        asked = await fake.slash(
            "me set",
            user_id=shards.alice.id,
            channel_id=shards.tavern_a.id,
            options={"name": "Lyra", "description": NEW_SHEET},
        )
        await fake.wait_until(lambda: final_answer(asked), timeout=10)
        answer = final_answer(asked)
        assert answer is not None and "Saved your sheet" in str(answer[1].get("content"))
        await fake.wait_until(lambda: shards.alice.id in heard, timeout=10)
        before = len(model.requests)
        await fake.user_says(tavern, shards.bob.id, "Narrator, what does Lyra carry?")
        await fake.wait_until(lambda: len(persona_lines(shards)) == 2, timeout=10)
        request = str(model.requests[before:][0].messages)
        assert NEW_SHEET in request
        assert OLD_SHEET not in request
