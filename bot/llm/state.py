"""Small persisted runtime state (the dialect choice): a store protocol and an in-memory one."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["MemoryStateStore", "StateStore", "as_state_store"]


@runtime_checkable
class StateStore(Protocol):
    """Where small pieces of runtime state survive a restart (the memory's `Store` is one)."""

    async def get_state(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        ...

    async def set_state(self, key: str, value: str | None) -> None:
        """Store `value` under `key`; None deletes it."""
        ...


class MemoryStateStore:
    """A `StateStore` in a dict: for tests, and for stores that cannot persist state."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get_state(self, key: str) -> str | None:
        """The value stored under `key`, or None."""
        return self.values.get(key)

    async def set_state(self, key: str, value: str | None) -> None:
        """Store `value` under `key`; None deletes it."""
        if value is None:
            self.values.pop(key, None)
        else:
            self.values[key] = value


def as_state_store(candidate: object) -> StateStore | None:
    """`candidate` if it can keep runtime state (has `get_state`/`set_state`), else None."""
    return candidate if isinstance(candidate, StateStore) else None
