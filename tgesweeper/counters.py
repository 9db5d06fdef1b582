"""Counters in the shared cache (Redis in production): request budgets, failed logins, deliveries of a message,
cache hits and version numbers all count the same way, here.
"""
from __future__ import annotations

from django.core.cache import cache


def increment(key: str, *, timeout: float | None, start: int = 0) -> int:
    """Add one to the counter under ``key`` and return its new value.

    A missing (or expired) counter counts on from ``start``: it is created holding ``start + 1``, expiring
    ``timeout`` seconds later (None: never). On Redis each step is atomic and an increment keeps the expiry,
    so processes counting at once never lose a count and a window runs from its first count.
    """
    try:
        return cache.incr(key)
    except ValueError:  # no such counter yet, or it has just expired
        pass
    if cache.add(key, start + 1, timeout=timeout):
        return start + 1
    return cache.incr(key)  # another process created it in between
