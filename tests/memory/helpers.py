"""Small builders shared by the memory-store tests."""

from bot.memory import NewMessage
from bot.models import AuthorKind

GUILD = 500
CHANNEL = 600
OTHER_CHANNEL = 601


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def human(
    discord_id: int,
    text: str = "hello",
    *,
    author_id: int = 7,
    author_name: str = "Aria",
    channel_id: int = CHANNEL,
    reply_to_discord_id: int | None = None,
    ooc: bool = False,
    created_at: float | None = None,
) -> NewMessage:
    return NewMessage(
        channel_id=channel_id,
        guild_id=GUILD,
        discord_id=discord_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        kind=AuthorKind.HUMAN,
        reply_to_discord_id=reply_to_discord_id,
        ooc=ooc,
        created_at=created_at,
    )
