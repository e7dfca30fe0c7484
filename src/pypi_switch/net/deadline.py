"""One wall-clock deadline for a whole run: every request, every phase, under one clock."""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["Deadline"]


@dataclass(frozen=True)
class Deadline:
    """``seconds`` after ``start`` (both on the monotonic clock).

    Per-request socket timeouts are not a deadline: a server dripping one byte a second
    never trips a per-read timeout. Everything that waits asks ``remaining()`` instead.
    """

    start: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic(), seconds)

    @property
    def at(self) -> float:
        return self.start + self.seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def elapsed(self) -> float:
        return time.monotonic() - self.start
