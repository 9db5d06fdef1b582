"""Publishes new and changed TGE events: appended to the event log (``api.event_log``, which clients can replay),
then on the Redis pub/sub channel ``NOTIFY_CHANNEL`` (default ``tge:events``) with the log id as ``log_id``.

Each message is the event as it is now, with ``changes``: what the persist or review that set it off changed
(kinds with old and new values, from the EventChange outbox).
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache

import redis
from django.conf import settings

from api import event_log
from api.models import EventChange, TGEEvent

log = logging.getLogger(__name__)


def event_message(event: TGEEvent, changes: list[EventChange] = ()) -> dict:
    return {
        "id": event.pk,
        "project": event.project,
        "ticker": event.ticker or None,
        "tge_date": event.tge_date.isoformat() if event.tge_date else None,
        "status": event.status,
        "chain": event.chain or None,
        "venues": event.venues,
        "confidence": round(event.confidence, 4),
        "is_candidate": event.is_candidate,
        "mention_count": event.mention_count,
        "source_count": event.source_count,
        "first_seen_at": event.first_seen_at.isoformat(),
        "last_seen_at": event.last_seen_at.isoformat(),
        "changes": [change.as_message() for change in changes],
    }


@lru_cache(maxsize=2)
def _connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _client() -> redis.Redis | None:
    url = settings.CONFIG["REDIS_URL"]
    return _connect(url) if url else None


def publish_changes(change_ids: list[int]) -> int:
    """One message per changed event, carrying its changes among ``change_ids``; returns how many were published."""
    by_event: dict[int, list[EventChange]] = {}
    for change in EventChange.objects.filter(pk__in=change_ids).order_by("pk"):
        by_event.setdefault(change.event_id, []).append(change)
    return publish_events(list(by_event), by_event)


def publish_events(event_ids: list[int], changes: dict[int, list[EventChange]] | None = None) -> int:
    """Log and publish each event, in id order; returns how many were logged. Without REDIS_URL the log is the
    database table and there is no pub/sub channel."""
    client = _client()
    channel = settings.CONFIG["NOTIFY_CHANNEL"]
    events = list(TGEEvent.objects.filter(pk__in=event_ids).order_by("pk"))
    for event in events:
        message = event_message(event, (changes or {}).get(event.pk, []))
        log_id = event_log.append(message)
        if client is None:
            log.info("event %s: %s (logged as %s; no REDIS_URL, no pub/sub)", event.pk, event, log_id)
        else:
            client.publish(channel, json.dumps({**message, "log_id": log_id}))
    return len(events)
