"""Publishes new and changed TGE events on the Redis pub/sub channel ``NOTIFY_CHANNEL`` (default ``tge:events``).

Each message is the event as it is now, with ``changes``: what the persist or review that set it off changed
(kinds with old and new values, from the EventChange outbox).
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache

import redis
from django.conf import settings

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


@lru_cache(maxsize=1)
def _client() -> redis.Redis | None:
    url = settings.CONFIG["REDIS_URL"]
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5) if url else None


def publish_changes(change_ids: list[int]) -> int:
    """One message per changed event, carrying its changes among ``change_ids``; returns how many were published."""
    by_event: dict[int, list[EventChange]] = {}
    for change in EventChange.objects.filter(pk__in=change_ids).order_by("pk"):
        by_event.setdefault(change.event_id, []).append(change)
    return publish_events(list(by_event), by_event)


def publish_events(event_ids: list[int], changes: dict[int, list[EventChange]] | None = None) -> int:
    client = _client()
    events = list(TGEEvent.objects.filter(pk__in=event_ids))
    if client is None:
        for event in events:
            log.info("event %s: %s (no REDIS_URL, not published)", event.pk, event)
        return 0
    channel = settings.CONFIG["NOTIFY_CHANNEL"]
    for event in events:
        client.publish(channel, json.dumps(event_message(event, (changes or {}).get(event.pk, []))))
    return len(events)
