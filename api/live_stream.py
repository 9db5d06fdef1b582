"""Publishes new and changed TGE events: appended to the event log (``api.event_log``, which clients can replay),
then on the Redis pub/sub channel ``NOTIFY_CHANNEL`` (default ``tge:events``) with the log id as ``log_id``."""
from __future__ import annotations

import json
import logging
from functools import lru_cache

import redis
from django.conf import settings

from api import event_log
from api.models import TGEEvent

log = logging.getLogger(__name__)


def event_message(event: TGEEvent) -> dict:
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
    }


@lru_cache(maxsize=2)
def _connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _client() -> redis.Redis | None:
    url = settings.CONFIG["REDIS_URL"]
    return _connect(url) if url else None


def publish_events(event_ids: list[int]) -> int:
    """Log and publish each event, in id order; returns how many were logged. Without REDIS_URL the log is the
    database table and there is no pub/sub channel."""
    client = _client()
    channel = settings.CONFIG["NOTIFY_CHANNEL"]
    events = list(TGEEvent.objects.filter(pk__in=event_ids).order_by("pk"))
    for event in events:
        message = event_message(event)
        log_id = event_log.append(message)
        if client is None:
            log.info("event %s: %s (logged as %s; no REDIS_URL, no pub/sub)", event.pk, event, log_id)
        else:
            client.publish(channel, json.dumps({**message, "log_id": log_id}))
    return len(events)
