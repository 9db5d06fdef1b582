"""Counters in the shared cache (Redis in production): request budgets, failed logins, deliveries of a message,
cache hits and version numbers all count the same way, here.
"""
from __future__ import annotations

import time

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache


def backend() -> BaseCache:
    """The cache backend itself (``django.core.cache.cache`` is a proxy to it, never a RedisCache)."""
    return caches[DEFAULT_CACHE_ALIAS]


def increment(key: str, *, timeout: float | None, start: int = 0) -> int:
    """Add one to the counter under ``key`` and return its new value.

    A missing (or expired) counter counts on from ``start``: it is created holding ``start + 1``, expiring
    ``timeout`` seconds later (None: never). On Redis each step is atomic and an increment keeps the expiry,
    so processes counting at once never lose a count and a window runs from its first count.
    """
    cache = backend()
    try:
        value = cache.incr(key)
    except ValueError:  # no such counter yet, or it has just expired
        pass
    else:
        _keep_expiry(cache, key)
        return value
    if cache.add(key, start + 1, timeout=timeout):
        if not isinstance(cache, RedisCache):
            cache.set(_deadline_key(key), None if timeout is None else time.time() + timeout, timeout=timeout)
        return start + 1
    value = cache.incr(key)  # another process created it in between
    _keep_expiry(cache, key)
    return value


def _deadline_key(key: str) -> str:
    return f"{key}:expires-at"


def _keep_expiry(cache: BaseCache, key: str) -> None:
    """Django's generic ``incr`` (the embedded file cache) writes the new value with the cache's default timeout:
    a version number meant to live for ever would vanish after it, a lockout window would restart. Put back the
    expiry the counter was created with (kept beside it). Redis keeps it by itself."""
    if isinstance(cache, RedisCache):
        return
    deadline = cache.get(_deadline_key(key), 0)
    if deadline == 0:  # created before its deadline was kept: leave it as it is
        return
    cache.touch(key, timeout=None if deadline is None else max(0.001, deadline - time.time()))
