"""notify publishes changed events, with what changed, on the Redis channel; two beats cannot fetch one source twice
per interval."""
import json
import time
from datetime import date

import pytest
import redis
from django.core.cache import cache

from api import changes
from api.models import Source, TGEEvent
from tests.conftest import needs_redis, redis_url
from workers import pipeline

pytestmark = pytest.mark.django_db


@needs_redis
def test_notify_publishes_each_changed_event_as_json_with_what_changed(config):
    channel = config(NOTIFY_CHANNEL=f"tge:events:test:{time.monotonic_ns()}")["NOTIFY_CHANNEL"]
    event = TGEEvent.objects.create(key="quillstone|qsn", project="Quillstone", ticker="QSN", confidence=0.93,
                                    is_candidate=False, mention_count=2, source_count=2)
    before = changes.snapshot(event)
    event.tge_date = date(2026, 12, 4)
    recorded = changes.record(event, before, batch_id="b1")
    client = redis.Redis.from_url(redis_url())
    subscriber = client.pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(channel)
    time.sleep(0.1)
    assert pipeline.notify([c.pk for c in recorded]) == []  # no subscriptions: nothing to deliver
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = subscriber.get_message(timeout=0.5)
    subscriber.close()
    body = json.loads(message["data"])
    assert (body["id"], body["project"], body["ticker"], body["confidence"]) == (event.pk, "Quillstone", "QSN", 0.93)
    assert [(c["kind"], c["old"]["tge_date"], c["new"]["tge_date"]) for c in body["changes"]] == [
        ("date_set", None, "2026-12-04")]


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
