"""Fault injection: scripted failures and added latency for matching requests."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass
class FailRule:
    """Answer the next `times` matching requests with `status` (and Discord `code`)."""

    method: str | None
    path_glob: str
    status: int
    code: int | None
    message: str | None
    times: int
    retry_after: float

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        if self.method is not None and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)


@dataclass
class LatencyRule:
    """Delay matching requests by `seconds` before they are handled."""

    seconds: float
    path_glob: str
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        if self.method is not None and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)


class Faults:
    """The active failure and latency rules."""

    def __init__(self) -> None:
        self.failures: list[FailRule] = []
        self.latencies: list[LatencyRule] = []

    def take_failure(self, method: str, path: str) -> FailRule | None:
        """The first matching failure rule, consuming one of its uses."""
        for rule in self.failures:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.failures.remove(rule)
                return rule
        return None

    def delay_for(self, method: str, path: str) -> float:
        """The latency to add (the most recently added matching rule wins)."""
        for rule in reversed(self.latencies):
            if rule.matches(method, path):
                return rule.seconds
        return 0.0
