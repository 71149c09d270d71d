"""A fake Discord (REST v10 + gateway v10) that real, unmodified discord.py 2.7 runs against.

The test-harness manual. Everything runs in-process on 127.0.0.1 (port 0): aiohttp serves REST
under `/api/v10`, the gateway websocket at `/gateway/` and attachment bytes at `/attachments/`.

Quick start
-----------
    from tests.fakes.discord import FakeDiscord, running

    async def test_hello():
        async with FakeDiscord() as fake:
            scene = fake.seed()  # guild "Tavern", #roleplay, alice, bob, OtherBot
            bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05,
                               allowed_mentions=discord.AllowedMentions.none())
            async with running(fake, bot):  # login + connect(reconnect=False) + ready
                await fake.user_says(scene.channel.id, scene.alice.id, "hi")
                await fake.wait_until(lambda: fake.last_message(scene.channel.id).author_id
                                      == fake.bot_user.id)

`running(fake, client)` patches `discord.http.Route.BASE = fake.api_base` and
`DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)` (restored on exit; use
`pointed_at(fake)` for just the patch), logs in with `fake.token`, and raises the client's own
error (LoginFailure, ConnectionClosed 4014...) instead of hanging. Those attributes are
process-global: run one FakeDiscord at a time (any number of clients may share it). Always build
test bots with `guild_ready_timeout=0.05` (discord.py waits 2 s otherwise). A production factory
can take `fake.api_base` / `fake.gateway_url` / `fake.token` from settings instead.

`FakeDiscord(token="fake-bot-token", bot_name="Ensemble", approved_intents=PRIVILEGED_INTENTS,
shard_count=1, heartbeat_interval_ms=41250, ack_deadline=3.0, token_lifetime=900.0)`; also
`start()`/`stop()` instead of `async with`. `stop()` closes every websocket (1001) first.

World and builders (sync; do them before `running` or announce them afterwards)
---------------------------------------------------------------------------------
Every id is a real time-based snowflake. The bot user's id is also the application id; an
"app-owner" user owns the application and, by default, every guild (owner = all permissions).
`add_guild(name, owner_id=, shard=(id, count), everyone_permissions=, bot_permissions=)` makes
@everyone (id == guild id), a managed bot role (`DEFAULT_BOT_PERMISSIONS`: send, threads,
history, MANAGE_MESSAGES/WEBHOOKS/THREADS; no admin) and adds the bot. Then `add_user(name,
bot=, guild_id=, roles=)`, `add_member`, `add_role`, `add_text_channel`, `add_thread`,
`dm_channel(user_id)`, `add_webhook`, `set_overwrite(channel, role_or_user_id, allow=, deny=)`
and `deny_bot(channel_id, Permission.MANAGE_WEBHOOKS)` (-> `create_webhook` gets 403 50013).
Permissions are computed like Discord (roles, then @everyone/role/member overwrites; threads use
their parent's). After the bot is connected, `announce_guild/channel/role/member(...)` dispatch
GUILD_CREATE / CHANNEL_CREATE or THREAD_CREATE / GUILD_ROLE_CREATE / GUILD_MEMBER_ADD.
`fake.world` exposes the raw state (users, guilds, channels, webhooks, messages).

Gateway
-------
HELLO (heartbeat_interval 41250 ms; `heartbeat_interval_ms=` to change), HEARTBEAT_ACK,
IDENTIFY -> READY (`application`, `shard` when sent, `resume_gateway_url`) + one GUILD_CREATE
per guild with channels, active threads, roles and member_count. Members in GUILD_CREATE follow
Discord: all of them only with the GUILD_PRESENCES intent, else just the bot; with GUILD_MEMBERS
discord.py chunks via op 8, which is answered. Intents gate events (GUILD_MESSAGES, DIRECT_
MESSAGES, typing, GUILD_MEMBERS...); without MESSAGE_CONTENT, other users' guild messages arrive
with empty content/embeds/attachments/components unless they mention the bot (a pinging reply
to the bot counts); DMs and the bot's own messages are always readable. REST reads are redacted
the same way when the application is not approved for MESSAGE_CONTENT. A privileged intent
missing from `FakeDiscord(approved_intents=...)` (default: all three approved) closes with
4014; a wrong token with 4004. Sharding: `FakeDiscord(shard_count=N)` is what `GET /gateway/bot`
advertises; each session only gets guilds/events with `(guild_id >> 22) % count == shard_id`
(DMs go to shard 0); `add_guild(shard=(id, count))` picks an id on that shard. AutoShardedBot
and re-IDENTIFY after `invalidate_session()` run `before_identify_hook`, which sleeps 5 s
unless the test bot overrides it. Control: `reconnect()` (op 7; discord.py RESUMEs and missed
events are replayed), `close_gateway(code)` (4000 -> resume; 4004/4014... fatal),
`invalidate_session(resumable=False)` (op 9), `gateway_down()` (closes every websocket with
4000 and answers new upgrades 503 until `gateway_up()`), `push(event, data, guild_id=)` for raw
events,
`sessions`, `wait_for_sessions(n)`, `dispatched(event)` (what each session received, as
`SentEvent`s) and `gateway_frames_received(op)`. A client closing with 1000/1001 ends its
session (as on Discord); any other drop leaves it resumable, with events buffered meanwhile.

Actors (async; each stores state, dispatches the event and waits until it is on the wire)
-------------------------------------------------------------------------------------------
`user_says(channel_id, user_id, content, mentions=(), reply_to=None, ping_reply=True,
attachments=(), embeds=())` -> message dict (`<@id>` in content mentions like Discord;
attachments are `serve_attachment(...)` dicts or `(filename, bytes)`), `user_edits(message_id,
content)`, `user_deletes(message_id)` (any message, the bot's too: later edits get 404 10008),
`user_types`, `user_creates_thread`, `proxy_says(channel_id, name, content, avatar_url=,
replaces=original_id, system="PluralKit")` (a webhook message from another bot's webhook; the
original is deleted afterwards), `delete_webhook(webhook_id)`, `serve_attachment(name, bytes)`,
`admin_sets_age_restricted(channel_id, nsfw)` (CHANNEL_UPDATE; `add_text_channel(..., nsfw=True)`
makes one age-restricted from the start).
Interactions (return a live `FakeInteraction`): `slash("cmd [group] [sub]", user_id=,
channel_id=, options={...})` (the command must be registered, e.g. by `tree.sync()`; option
values are str/int/float/bool, user/role/channel ids, attachment dicts or `(name, bytes)`;
`resolved` is filled in; refuses what Discord's client would not send: unknown options, missing
required ones, default_member_permissions the user lacks, wrong context), `autocomplete(cmd,
focused=, value=, ...)` (choices land in `.autocomplete_choices`), `message_command(name,
message_id=, user_id=)`, `user_command(name, target_id=, user_id=, channel_id=)`,
`click(message_id, custom_id, user_id, values=None)` (the component must exist and be enabled)
and `submit_modal(custom_id, {input_custom_id: value}, user_id, channel_id)` (mirrors the layout
of the modal the bot showed).

Interactions on the REST side
-----------------------------
Callbacks answer 200 + `{"interaction", "resource"}` (discord.py sends with_response=1). Types
1, 4, 5, 6, 7, 8, 9 are accepted where Discord accepts them. Later than `ack_deadline` (3 s on
the fake clock) -> 404 10062; a second callback -> 400 40060. `@original` and followups work
for `token_lifetime` (15 min) then 401 50027; a followup before any ack is 404 10015. A defer
(5) creates a LOADING (flag 128) placeholder that the first `@original` edit or the first
followup fills (Discord's legacy behaviour); after 6/7, `@original` is the clicked message.
Ephemeral (flag 64) messages are stored (see `.flags`) but never dispatched nor listed by GET.
Use `advance_clock(seconds)` to miss the ack or expire the token without sleeping.
`interaction_responses(id)` lists every call (`InteractionCall`: kind, body, status, at).

REST coverage and errors
------------------------
users/@me, users/{id}, oauth2/applications/@me, gateway(/bot), guilds/{g} (+/roles, /channels,
/members/{u}, /webhooks), users/@me/channels (DMs), channels/{c} and its messages (POST JSON or
multipart, GET list with limit/before/after/around, GET/PATCH/DELETE one), typing, threads (with
and without a starter message; THREAD_CREATE), pins, thread-members/@me, webhooks (create, list,
get, modify by id or by token, delete, execute with wait/thread_id/username/avatar_url, message
GET/PATCH/DELETE with thread_id; an `avatar` on create/modify must be a `data:image/...;base64,`
URI whose bytes match its type, else 50035; `webhook.avatar_image`/`avatar_type` keep it and
webhook objects carry its hash), interaction callbacks/@original/followups, channel PATCH (name,
topic, slowmode; thread archive/lock/auto-archive -> THREAD_UPDATE), application commands
(PUT/GET/POST/DELETE, global and guild; names, descriptions and options validated like Discord;
context menu names may hold capitals and spaces), attachment bytes. Everything the bot or its
webhooks create is dispatched back (MESSAGE_CREATE/UPDATE/DELETE), so a bot answering itself
shows up.
Errors are Discord-shaped: 404 10003/10004/10007/10008/10013/10015/10062/10063, 400 40060, 400
50035 (content > 2000, embed limits incl. 6000 total and 10 embeds, bad webhook usernames
"clyde"/"discord", bad command definitions, unknown reply target), 400 50006 (empty message),
400 50024, 401 50027, 403 50001/50005/50013, 401 for a bad bot token. Anything else: JSON 404
naming the route. Mentions honour `allowed_mentions` (defaults: parse everything for bot
messages, users only for webhooks/interactions; @everyone needs MENTION_EVERYONE), so
`payload["mentions"]`/`["mention_everyone"]` show who got pinged.

Rate limits (OFF by default, so unrelated tests never wait)
-----------------------------------------------------------
`rate_limit(limit=5, window=5.0, headers=True, interactions=True, webhook_channel_limit=0,
webhook_channel_window=60.0)` limits message create/edit/delete per channel (bot routes and
webhook execute/edit/delete into that channel share the bucket; `interactions=True` also counts
followup/@original writes). With headers,
responses carry X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket and discord.py waits
pre-emptively (zero 429s for one sequential stream); `headers=False` sends none, so 429s
(JSON `retry_after`, `global: false`, `Retry-After` and `Via` headers) surprise discord.py, which
sleeps and retries. `rate_limit_hits` counts the 429s served; `rate_limit_off()` disables.
Use short windows in tests (e.g. limit=2, window=0.15).
`rate_limit(..., webhook_channel_limit=6, webhook_channel_window=3.0)` adds Discord's hidden
per-channel webhook limit (about 30 per 60 s in production): webhook executes and edits into one
channel (a thread counts on its own) are capped at that many in any span of the window (sliding),
on top of the shared bucket. Its 429s carry `Via`, `Retry-After` and JSON `retry_after` but no
X-RateLimit-* headers, even in headers mode, and count in `rate_limit_hits`.

Faults
------
`fail_next(method|None, path_glob, status, code=None, times=1, message=None, retry_after=0.05)`
answers matching requests with that error (globs match the path below /api/v10 with fnmatch,
`*` crosses `/`: "/channels/*/messages"); note discord.py sleeps 1 s before retrying a
500/502/504, and retries injected 429s. `latency(seconds, path_glob="*", method=None)` delays
requests (0 removes it). `user_deletes` and `delete_webhook` pull things out from under the bot.

Queries
-------
`requests(method, path_glob, status=)` -> `RecordedRequest`s (method, path, query, json or
decoded payload_json, files, status, response JSON, route template, headers (token redacted),
response_headers, `at` = time.monotonic() on arrival). `messages_in(channel_id)`,
`last_message`, `message(id)` -> `StoredMessage` (live `payload`, `content`, `content_history`,
`edit_count`, `username`, `avatar_url`, `webhook_id`, `flags`, `components`, `embeds`,
`attachments`, `allowed_mentions` as last sent, `deleted`). `commands(guild_id)`,
`interaction(id)`. Waiting: `await wait_until(pred, timeout=5)` re-checks on every change and
every 10 ms and raises TimeoutError listing recent requests; `await wait_for_request(pred,
method=, path_glob=, status=, timeout=)` returns the first matching request, past or future
(filter on `r.at` for "after now"). If the fake itself crashes on a request it answers 400
with code -1 (never a 5xx, which discord.py would retry with sleeps) and keeps the traceback in
`internal_errors`; a fixture can assert that list is empty at teardown.

Not modelled (they hit the JSON 404): reactions, bulk delete, forums, voice, presences, stickers,
invites, audit logs, the global 50/s limit, member/role edits beyond the announce helpers.
"""

from .builders import Seed
from .harness import pointed_at, running
from .intents import PRIVILEGED_INTENTS, Intent
from .interactions import FakeInteraction, InteractionCall
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, Permission
from .recording import RecordedFile, RecordedRequest
from .server import FakeDiscord
from .world import Channel, Guild, Member, Role, StoredMessage, User, Webhook

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "PRIVILEGED_INTENTS",
    "Channel",
    "FakeDiscord",
    "FakeInteraction",
    "Guild",
    "Intent",
    "InteractionCall",
    "Member",
    "Permission",
    "RecordedFile",
    "RecordedRequest",
    "Role",
    "Seed",
    "StoredMessage",
    "User",
    "Webhook",
    "pointed_at",
    "running",
]
