"""The event log keeps what the live stream published, in order, under ids a client resumes from; on Redis (a Stream)
and on the embedded default (a table), through the same functions."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import redis

from api import event_log
from api.models import EventChange, TGEEvent
from tests.conftest import needs_redis, redis_url
from workers import pipeline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["table", pytest.param("redis", marks=needs_redis)])
def log_backend(request, config):
    """The log on each backend; on Redis a stream of the test's own (streams, like channels, are shared by all dbs)."""
    if request.param == "table":
        config(REDIS_URL="")
        yield "table"
        return
    stream = f"test:event-log:{uuid.uuid4().hex}"
    config(EVENT_LOG_STREAM=stream)
    yield "redis"
    redis.Redis.from_url(redis_url()).delete(stream)


def test_appended_messages_come_back_in_order_after_any_id(log_backend):
    start = event_log.last_id()
    ids = [event_log.append({"n": n}) for n in range(5)]
    assert sorted(ids, key=event_log.id_key) == ids and len(set(ids)) == 5
    assert event_log.id_key(start) < event_log.id_key(ids[0])
    assert event_log.last_id() == ids[-1]
    assert event_log.read_since(start, 100) == [(i, {"n": n}) for n, i in enumerate(ids)]
    assert event_log.read_since(ids[1], 2) == [(ids[2], {"n": 2}), (ids[3], {"n": 3})]
    assert event_log.read_since(ids[-1], 100) == []
    assert event_log.read_since(None, 100)[-5:] == [(i, {"n": n}) for n, i in enumerate(ids)]


def test_wait_since_returns_what_another_thread_appends_while_it_waits(log_backend):
    start = event_log.last_id()
    appended = []

    def later():
        time.sleep(0.5)
        appended.append(event_log.append({"late": True}))

    writer = threading.Thread(target=later)
    began = time.monotonic()
    writer.start()
    found = event_log.wait_since(start, 10, 10)
    writer.join()
    assert found == [(appended[0], {"late": True})]
    assert time.monotonic() - began < 5


def test_wait_since_gives_up_after_its_timeout(log_backend):
    start = event_log.last_id()
    began = time.monotonic()
    assert event_log.wait_since(start, 0.6, 10) == []
    assert 0.5 <= time.monotonic() - began < 3


def test_the_log_is_capped_and_says_when_a_client_missed_trimmed_messages(log_backend, config):
    config(EVENT_LOG_MAXLEN=10)
    first = event_log.append({"n": 0})
    ids = [event_log.append({"n": n}) for n in range(1, 250)]
    kept = event_log.read_since(None, 1000)
    assert 10 <= len(kept) < 250, "capped near EVENT_LOG_MAXLEN, approximately"
    assert [i for i, _ in kept] == ids[-len(kept):]
    assert event_log.lost_since(first)
    assert not event_log.lost_since(ids[-2])
    assert not event_log.lost_since(kept[0][0])


@pytest.mark.parametrize("hostile", ["", "abc", "-1", "1-", "1-2-3", "1.5", " 1", "\x00", "9" * 21,
                                     f"{2**64}-0", f"0-{2**64}", "1-1\n", "１２"])
def test_a_malformed_id_is_refused_by_name(hostile):
    with pytest.raises(event_log.BadLogId):
        event_log.id_key(hostile)


def test_the_largest_id_reads_nothing_after_it(log_backend):
    event_log.append({"n": 1})
    largest = f"{2**64 - 1}-{2**64 - 1}"
    assert event_log.read_since(largest, 10) == []
    assert event_log.wait_since(largest, 0.3, 10) == []


def test_notify_logs_each_event_with_the_message_it_publishes(log_backend):
    event = TGEEvent.objects.create(key="quillstone|qsn", project="Quillstone", ticker="QSN", confidence=0.93,
                                    is_candidate=False, published=True)
    change = EventChange.objects.create(event=event, kind=EventChange.Kind.NEW)
    start = event_log.last_id()
    pipeline.notify([change.pk])
    [(log_id, message)] = event_log.read_since(start, 10)
    assert (message["id"], message["project"], message["ticker"]) == (event.pk, "Quillstone", "QSN")
    assert [c["kind"] for c in message["changes"]] == ["new"]


@needs_redis
def test_the_pub_sub_message_carries_its_log_id(config):
    stream, channel = f"test:event-log:{uuid.uuid4().hex}", f"test:events:{uuid.uuid4().hex}"
    config(EVENT_LOG_STREAM=stream, NOTIFY_CHANNEL=channel)
    event = TGEEvent.objects.create(key="ferrowind", project="Ferrowind", ticker="FWD", confidence=0.9)
    change = EventChange.objects.create(event=event, kind=EventChange.Kind.NEW)
    subscriber = redis.Redis.from_url(redis_url()).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(channel)
    try:
        time.sleep(0.1)
        pipeline.notify([change.pk])
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = subscriber.get_message(timeout=0.5)
        [(log_id, logged)] = event_log.read_since(None, 10)
    finally:
        subscriber.close()
        redis.Redis.from_url(redis_url()).delete(stream)
    body = json.loads(message["data"])
    assert body == {**logged, "log_id": log_id}
