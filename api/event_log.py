"""The durable, replayable log of what the live stream published: a Redis Stream, or a database table without Redis.

Pub/sub forgets whatever a subscriber misses while away; this log keeps the last ``EVENT_LOG_MAXLEN`` messages
(approximately: Redis trims whole nodes, the table trims every ``TRIM_EVERY`` appends), each under an id a client
can resume from. Both backends give ids in Redis Stream form (``<ms>-<seq>`` on Redis, ``<row id>-0`` on the table):
increasing in the order the messages were appended, compared as integer pairs (``id_key``), never as strings.

- ``append(message) -> id``
- ``read_since(last_id, limit) -> [(id, message)]``: what came after ``last_id`` (``None``: from the oldest kept)
- ``wait_since(last_id, timeout_s, limit)``: the same, waiting up to ``timeout_s`` for something new (XREAD BLOCK;
  short polls of the table)
- ``last_id()``: where a client that wants only what comes next starts
- ``lost_since(last_id)``: whether the log may have trimmed something that came after ``last_id`` (the client missed
  it). When unsure it says yes (on Redis when ``last_id`` was itself the newest trimmed; on the table when the
  database skipped ids): the client reloads for nothing, which is safe

Redis is used when REDIS_URL is set; the table (``EventLogEntry``) is the embedded default's log, for one machine.
"""
from __future__ import annotations

import json
import re
import time
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection, transaction

from api.models import EventLogEntry

MAX_PART = 2**64 - 1  # Redis Stream ids are two unsigned 64-bit integers
_ID = re.compile(r"\A([0-9]{1,20})(?:-([0-9]{1,20}))?\Z")
TRIM_EVERY = 100
POLL_SECONDS = 0.25
MAX_WAIT_SECONDS = 60.0
FIELD = "message"


class BadLogId(ValueError):
    """A ``since`` / ``Last-Event-ID`` that is not a log id."""


def id_key(log_id: str) -> tuple[int, int]:
    """``"1718000000000-3"`` → ``(1718000000000, 3)``; ``"42"`` → ``(42, 0)``. Anything else raises ``BadLogId``."""
    found = _ID.match(log_id) if isinstance(log_id, str) else None
    if not found:
        raise BadLogId("A log id is <integer> or <integer>-<integer>, as sent in the stream's id: lines.")
    ms, seq = int(found.group(1)), int(found.group(2) or 0)
    if ms > MAX_PART or seq > MAX_PART:
        raise BadLogId(f"A log id's parts are at most {MAX_PART}.")
    return ms, seq


def _format(key: tuple[int, int]) -> str:
    return f"{key[0]}-{key[1]}"


def append(message: dict) -> str:
    return _backend().append(message)


def read_since(last_id: str | None, limit: int = 100) -> list[tuple[str, dict]]:
    return _backend().read_since(None if last_id is None else id_key(last_id), limit)


def wait_since(last_id: str | None, timeout_s: float, limit: int = 100) -> list[tuple[str, dict]]:
    after = None if last_id is None else id_key(last_id)
    return _backend().wait_since(after, min(max(timeout_s, 0.0), MAX_WAIT_SECONDS), limit)


def last_id() -> str:
    """The newest id in the log, or ``"0-0"`` when it is empty: what comes after it is news."""
    return _backend().last_id()


def lost_since(last_id: str) -> bool:
    return _backend().lost_since(id_key(last_id))


def _backend():
    url = settings.CONFIG["REDIS_URL"]
    return _RedisLog(url, settings.CONFIG["EVENT_LOG_STREAM"]) if url else _TableLog()


@lru_cache(maxsize=4)
def _redis(url: str, socket_timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=5, decode_responses=True)


class _RedisLog:
    def __init__(self, url: str, stream: str):
        self.client, self.stream = _redis(url, 5.0), stream
        self.blocking = _redis(url, MAX_WAIT_SECONDS + 10)

    def append(self, message: dict) -> str:
        return self.client.xadd(self.stream, {FIELD: json.dumps(message)},
                                maxlen=settings.CONFIG["EVENT_LOG_MAXLEN"], approximate=True)

    def read_since(self, after, limit):
        start = "-" if after is None else "(" + _format(after)
        if after is not None and after == (MAX_PART, MAX_PART):
            return []  # nothing can come after the largest id ("(" of it is an error in Redis)
        return self._decode(self.client.xrange(self.stream, min=start, max="+", count=limit))

    def wait_since(self, after, timeout_s, limit):
        found = self.read_since(after, limit)
        if found or timeout_s <= 0:
            return found
        answer = self.blocking.xread({self.stream: _format(after or (0, 0))}, count=limit,
                                     block=max(1, int(timeout_s * 1000)))
        return self._decode(answer[0][1]) if answer else []

    def last_id(self) -> str:
        newest = self.client.xrevrange(self.stream, count=1)
        return newest[0][0] if newest else "0-0"

    def lost_since(self, after) -> bool:
        """Trimming keeps no id of what it removed, only the first entry kept and how many were ever added."""
        try:
            info = self.client.xinfo_stream(self.stream)
        except redis.ResponseError:  # no such key: nothing was ever kept, so nothing was trimmed
            return False
        if after < id_key(info.get("max-deleted-entry-id") or "0-0"):  # XDEL by hand
            return True
        trimmed = int(info.get("entries-added") or 0) > int(info.get("length") or 0)
        first = info.get("recorded-first-entry-id") or "0-0"
        return trimmed and after < id_key(first)

    @staticmethod
    def _decode(entries) -> list[tuple[str, dict]]:
        return [(entry_id, json.loads(fields[FIELD])) for entry_id, fields in entries]


class _TableLog:
    """One machine's log in the database. Appends are serialized (SQLite writes one at a time; PostgreSQL is told
    to by a table lock) so that an id is never committed after a larger one a reader may already have passed."""

    def append(self, message: dict) -> str:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {EventLogEntry._meta.db_table} IN EXCLUSIVE MODE")
            entry = EventLogEntry.objects.create(message=message)
            if entry.pk % TRIM_EVERY == 0:
                EventLogEntry.objects.filter(pk__lte=entry.pk - settings.CONFIG["EVENT_LOG_MAXLEN"]).delete()
        return _format((entry.pk, 0))

    def read_since(self, after, limit):
        rows = EventLogEntry.objects.order_by("pk")
        if after is not None:
            rows = rows.filter(pk__gt=min(after[0], 2**63 - 1))
        return [(_format((pk, 0)), message) for pk, message in rows.values_list("pk", "message")[:limit]]

    def wait_since(self, after, timeout_s, limit):
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.read_since(after, limit)
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def last_id(self) -> str:
        newest = EventLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        return _format((newest or 0, 0))

    def lost_since(self, after) -> bool:
        """Rows are trimmed oldest first: something after ``after`` is gone when the oldest kept row is not the next."""
        oldest = EventLogEntry.objects.order_by("pk").values_list("pk", flat=True).first()
        return oldest is not None and after[0] < oldest - 1
