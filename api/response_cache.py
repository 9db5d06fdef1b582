"""Cached API answers (CACHE_TTL_SECONDS) under a version number that any change to events bumps.

Bumping one counter invalidates every cached list and search at once without knowing their keys; old
entries simply expire. Hits and misses are counted for ``system/metrics``.
"""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from tgesweeper.counters import increment

VERSION_KEY = "api:events-version"
HITS_KEY, MISSES_KEY = "api:cache-hits", "api:cache-misses"


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def invalidate_events() -> None:
    increment(VERSION_KEY, timeout=None, start=1)  # a missing version reads as 1 (``_version``)


def key_for(request_path: str, query: str, body: bytes = b"") -> str:
    digest = hashlib.sha256(f"{request_path}?{query}\n".encode() + body).hexdigest()[:40]
    return f"api:resp:{_version()}:{digest}"


def get(key: str):
    value = cache.get(key)
    increment(HITS_KEY if value is not None else MISSES_KEY, timeout=None)
    return value


def put(key: str, data) -> None:
    ttl = settings.CONFIG["CACHE_TTL_SECONDS"]
    if ttl:
        cache.set(key, data, timeout=ttl)


def hit_rate() -> dict:
    hits, misses = int(cache.get(HITS_KEY) or 0), int(cache.get(MISSES_KEY) or 0)
    total = hits + misses
    return {"hits": hits, "misses": misses, "hit_rate": round(hits / total, 4) if total else None}
