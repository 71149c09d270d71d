"""Leases: one holder per name, expiry, renewal, release, across separate connections."""

from bot.memory import Store

from .helpers import FakeClock


async def test_one_holder_at_a_time(store: Store) -> None:
    assert await store.try_acquire_lease("channel:600", "bot-a", 30) is True
    assert await store.try_acquire_lease("channel:600", "bot-b", 30) is False
    assert await store.try_acquire_lease("channel:600", "bot-a", 30) is True
    assert await store.try_acquire_lease("channel:601", "bot-b", 30) is True


async def test_expired_lease_can_be_taken(store: Store, clock: FakeClock) -> None:
    await store.try_acquire_lease("channel:600", "bot-a", 30)
    clock.advance(29.9)
    assert await store.try_acquire_lease("channel:600", "bot-b", 30) is False
    clock.advance(0.1)
    assert await store.try_acquire_lease("channel:600", "bot-b", 30) is True
    assert await store.renew_lease("channel:600", "bot-a", 30) is False


async def test_renew_extends_and_release_frees(store: Store, clock: FakeClock) -> None:
    await store.try_acquire_lease("channel:600", "bot-a", 30)
    clock.advance(20)
    assert await store.renew_lease("channel:600", "bot-a", 30) is True
    clock.advance(20)
    assert await store.try_acquire_lease("channel:600", "bot-b", 30) is False

    assert await store.release_lease("channel:600", "bot-b") is False
    assert await store.release_lease("channel:600", "bot-a") is True
    assert await store.release_lease("channel:600", "bot-a") is False
    assert await store.renew_lease("channel:600", "bot-a", 30) is False
    assert await store.try_acquire_lease("channel:600", "bot-b", 30) is True


async def test_two_connections_share_leases(store: Store, reopen) -> None:
    async with reopen() as other_process:
        assert await store.try_acquire_lease("channel:600", "bot-a", 30) is True
        assert await other_process.try_acquire_lease("channel:600", "bot-b", 30) is False
        assert await store.release_lease("channel:600", "bot-a") is True
        assert await other_process.try_acquire_lease("channel:600", "bot-b", 30) is True
