"""notify publishes events on the Redis channel; two beats cannot fetch one source twice per interval."""
import json
import time
import uuid

import pytest
import redis
from django.core.cache import cache

from api.models import Source, TGEEvent
from tests.conftest import needs_redis, redis_url
from workers import pipeline

pytestmark = pytest.mark.django_db


@needs_redis
def test_notify_publishes_each_event_as_json_on_the_channel(settings, config):
    unique = uuid.uuid4().hex  # channels and streams are shared by every Redis db, so by tests running elsewhere
    config(NOTIFY_CHANNEL=f"test:events:{unique}", EVENT_LOG_STREAM=f"test:events:log:{unique}")
    event = TGEEvent.objects.create(key="quillstone|qsn", project="Quillstone", ticker="QSN", confidence=0.93,
                                    is_candidate=False, mention_count=2, source_count=2)
    client = redis.Redis.from_url(redis_url())
    subscriber = client.pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(settings.CONFIG["NOTIFY_CHANNEL"])
    time.sleep(0.1)
    assert pipeline.notify([event.pk]) == 1
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = subscriber.get_message(timeout=0.5)
    subscriber.close()
    client.delete(settings.CONFIG["EVENT_LOG_STREAM"])
    body = json.loads(message["data"])
    assert (body["id"], body["project"], body["ticker"], body["confidence"]) == (event.pk, "Quillstone", "QSN", 0.93)


def test_a_second_beat_does_not_fetch_a_source_again_within_its_interval(feed_server, allow_local):
    cache.clear()
    feed_server.add("/f.xml", b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    source = Source.objects.create(name="f", url=feed_server.url("/f.xml"), interval_seconds=300)
    assert pipeline.fetch(source.pk, scheduled=True) is not None
    assert pipeline.fetch(source.pk, scheduled=True) is None
    assert feed_server.hits["/f.xml"] == 1


def test_a_disabled_source_is_not_fetched_by_its_schedule(feed_server, allow_local):
    cache.clear()
    feed_server.add("/off.xml", b"<rss/>")
    source = Source.objects.create(name="off", url=feed_server.url("/off.xml"), enabled=False)
    assert pipeline.fetch(source.pk, scheduled=True) is None
    assert feed_server.hits["/off.xml"] == 0
