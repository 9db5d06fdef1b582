"""Request budgets shared by every worker: a fixed-window counter in the Django cache (Redis in production).

Minimal on purpose: one atomic INCR per request on a key that expires with its window.
"""
from __future__ import annotations

import time

from tgesweeper.counters import increment


def reserve(key: str, limit: int, period: float) -> float:
    """Spend one request of ``limit`` per ``period`` seconds under ``key``.

    Returns 0 when the request may go now, otherwise the seconds until the window resets.
    """
    now = time.time()
    counter = window_key(key, period, now)
    wait = (now // period + 1) * period - now
    used = increment(counter, timeout=max(1, int(wait) + 1))
    return 0.0 if used <= limit else wait


def window_key(key: str, period: float, now: float | None = None) -> str:
    """The cache key counting ``key``'s requests in the window that contains ``now``."""
    now = time.time() if now is None else now
    return f"throttle:{key}:{period:g}:{int(now // period)}"
