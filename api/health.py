"""Liveness and readiness probes: ready means the database, Redis (when configured) and the broker answer.

They are open (orchestrators probe without credentials), so a failed check shows only the error's type; the
message, which can name hosts and users, goes to the log.
"""
from __future__ import annotations

import logging

from django.db import connection
from django.http import JsonResponse

log = logging.getLogger(__name__)


def _failure(name: str, exc: Exception) -> str:
    log.warning("readiness: %s unavailable: %s: %s", name, type(exc).__name__, exc)
    return type(exc).__name__


def live(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # report, never raise: this is the probe
        return _failure("database", exc)
    return None


def _check_broker() -> str | None:
    from tgesweeper.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return _failure("broker", exc)
    return None


def _check_redis() -> str | None:
    from django.conf import settings

    if not settings.CONFIG["REDIS_URL"]:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.CONFIG["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return _failure("redis", exc)
    return None


def ready(request):
    checks = {"database": _check_database(), "redis": _check_redis(), "broker": _check_broker()}
    ok = not any(checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": {k: v or "ok" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)
