"""Choosing between M2-her's roleplay roles and plain roles, with automatic fallback."""

from __future__ import annotations

import logging
from typing import Literal

from bot.llm.errors import LLMError
from bot.models import Dialect

log = logging.getLogger(__name__)

DialectSetting = Literal["auto", "native", "flat"]
"""`native` and `flat` are fixed; `auto` starts native and falls back to flat once."""

_ROLE_REJECTION_STATUSES = (400, 500)
_ROLE_REJECTION_CODES = (2013, 1000)


def is_role_rejection(error: BaseException) -> bool:
    """Whether an error before the first token looks like the endpoint refusing M2-her's roles.

    HTTP 400 / MiniMax 2013 are the documented "invalid params" answers; HTTP 500 / MiniMax
    1000 is what the CN endpoint was seen returning for `user_system`/`group`/`sample_*`
    (m2her-api.md §4). Any error after text was shown is never a rejection.
    """
    if not isinstance(error, LLMError) or error.partial:
        return False
    return error.status in _ROLE_REJECTION_STATUSES or error.code in _ROLE_REJECTION_CODES


class DialectPolicy:
    """Which dialect to render requests in now; remembers a fallback to flat for good."""

    __slots__ = ("_fell_back", "_setting")

    def __init__(self, setting: DialectSetting = "auto") -> None:
        if setting not in ("auto", "native", "flat"):
            raise ValueError(f"unknown dialect setting {setting!r}")
        self._setting: DialectSetting = setting
        self._fell_back = False

    @property
    def setting(self) -> DialectSetting:
        """The configured value: auto, native or flat."""
        return self._setting

    @property
    def current(self) -> Dialect:
        """The dialect the next request should use."""
        if self._setting == "flat" or self._fell_back:
            return "flat"
        return "native"

    def should_fall_back(self, error: BaseException) -> bool:
        """Whether to re-send this failed native request as flat (auto mode, first time only)."""
        return self._setting == "auto" and not self._fell_back and is_role_rejection(error)

    def remember_flat(self) -> None:
        """Use flat from now on (auto mode only; fixed settings are never overridden)."""
        if self._setting == "auto" and not self._fell_back:
            self._fell_back = True
            log.warning("The model endpoint rejected M2-her's roleplay roles; using flat roles now")

    def __repr__(self) -> str:
        return f"DialectPolicy(setting={self._setting!r}, current={self.current!r})"
