"""How numbers and counts are said, the same way in every message and view."""

from __future__ import annotations

__all__ = ["ms", "number", "plural", "size"]


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 mirror``, ``2 mirrors`` (``many``: an irregular plural)."""
    return f"{number(n)} {noun if n == 1 else many or noun + 's'}"


def number(n: int) -> str:
    # "1 240", as people write it in every locale, rather than "1,240" or "1.240".
    return f"{n:,}".replace(",", " ")


def ms(value: float | None) -> str:
    """A duration in milliseconds; ``-`` when there is none (nothing answered)."""
    return "-" if value is None else f"{value:.0f} ms"


def size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MiB"
    return f"{n / 1024:g} KiB" if n >= 1024 else plural(n, "byte")
