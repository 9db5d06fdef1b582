"""Adaptive polling: how long to wait before the next fetch, from what the last fetches found.

Multiplicative steps keep it simple and stable: a fetch with new items halves the interval, an empty one
grows it by half, always within [low, high]. A busy feed converges to ``low`` in a few fetches; a quiet
one drifts to ``high`` and costs the publisher little.
"""
from __future__ import annotations


def next_interval(current: int, new_items: int, *, low: int, high: int) -> int:
    value = current / 2 if new_items > 0 else current * 1.5
    return int(min(high, max(low, round(value))))
