"""Liveness and readiness probes: ready means the database, the cache and the broker in use answer, and Redis when
REDIS_URL is set (the live stream publishes there).

Each check names what is configured (``"cache": "filebased: ok"``, ``"broker": "sqla+sqlite: ok"``,
``"redis": "not configured"``) so the answer says what was checked, not what a deployment might have.
They are open (orchestrators probe without credentials), so a failed check shows only the error's type; the
message, which can name hosts and users, goes to the log.
"""
from __future__ import annotations

import logging
import uuid

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

from tgesweeper.celery import app

log = logging.getLogger(__name__)

NOT_CONFIGURED = "not configured"


def live(request):
    return JsonResponse({"status": "ok"})


def _probe(name: str, backend: str, check) -> tuple[str, bool]:
    """``("<backend>: ok", True)``, or the error's type in place of ok; never raises: this is the probe."""
    try:
        check()
    except Exception as exc:
        log.warning("readiness: %s (%s) unavailable: %s: %s", name, backend, type(exc).__name__, exc)
        return f"{backend}: {type(exc).__name__}", False
    return f"{backend}: ok", True


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key, token = "health:probe", uuid.uuid4().hex
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
        raise RuntimeError("the cache did not return what was just stored")


def _broker() -> None:
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _redis() -> None:
    redis.Redis.from_url(settings.CONFIG["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2).ping()


def _module(dotted: str) -> str:
    """``django.core.cache.backends.filebased.FileBasedCache`` → ``filebased``; an engine path → its last part."""
    parts = dotted.split(".")
    return parts[-2] if parts[-1][:1].isupper() else parts[-1]


def checks() -> tuple[dict[str, str], bool]:
    results = {
        "database": _probe("database", _module(settings.DATABASES["default"]["ENGINE"]), _database),
        "cache": _probe("cache", _module(settings.CACHES["default"]["BACKEND"]), _cache),
        "broker": _probe("broker", app.conf.broker_url.split("://", 1)[0], _broker),
        "redis": _probe("redis", "redis", _redis) if settings.CONFIG["REDIS_URL"] else (NOT_CONFIGURED, True),
    }
    return {name: text for name, (text, _) in results.items()}, all(ok for _, ok in results.values())


def ready(request):
    found, ok = checks()
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": found}, status=200 if ok else 503)
