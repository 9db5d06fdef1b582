"""What the fault tests (tests/integration/test_faults.py) found, pinned in the small."""
import uuid

import pytest
from django.db import OperationalError
from kombu import Connection, Producer
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError

from tgesweeper.celery import app
from workers import pipeline, task_base, tasks


def test_a_retry_is_not_counted_as_a_delivery_that_killed_its_worker():
    task_id = uuid.uuid4().hex
    assert [task_base.count_delivery(task_id) for _ in range(2)] == [1, 2]
    tasks.persist_results.on_retry(OperationalError("database away"), task_id, (), {}, None)
    assert task_base.count_delivery(task_id) == 1
    task_base.forget_deliveries(task_id)


STAGES = [(tasks.fetch_source, "fetch", (1,)), (tasks.parse_payload, "parse", ({},)),
          (tasks.match_documents, "match", ({},)), (tasks.persist_results, "persist", ({},)),
          (tasks.notify, "notify", ()), (tasks.deliver_alert, "deliver", (1,))]
NEXT = {"fetch": tasks.parse_payload, "parse": tasks.match_documents, "match": tasks.persist_results,
        "persist": tasks.notify, "notify": tasks.deliver_alert}
# What each stage function gives back once the outage is over, and what its task then sends on.
RETURNS = {"parse": [{"stage": "parse"}], "notify": [7], "deliver": None}
SENT = {"notify": [7], "deliver": []}


@pytest.mark.parametrize("task, stage, args", STAGES, ids=[stage for _, stage, _ in STAGES])
@pytest.mark.parametrize("outage", [OperationalError("database away"), BrokerUnavailable("broker away"),
                                    RedisConnectionError("cache away")], ids=["database", "broker", "cache"])
def test_every_stage_runs_again_after_the_database_broker_or_cache_was_away(monkeypatch, task, stage, args, outage):
    calls = []

    def away_once(*_args, **_kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise outage
        return RETURNS.get(stage, {"stage": stage})

    sent = []
    monkeypatch.setattr(pipeline, stage, away_once)
    if stage in NEXT:
        monkeypatch.setattr(NEXT[stage], "delay", lambda *args, **kwargs: sent.extend([*args, *kwargs.values()]))
    result = task.apply(args=args)  # eagerly: a retry runs at once, in this process
    assert result.successful() and len(calls) == 2
    assert sent == SENT.get(stage, [{"stage": stage}])


def test_publishing_waits_out_a_broker_restart():
    policy = app.conf.task_publish_retry_policy
    assert policy["max_retries"] * policy["interval_max"] >= 30


@pytest.mark.parametrize("route", [{"routing_key": "never-consumed"},
                                   {"exchange": "persist", "routing_key": "persist"}], ids=["queue", "exchange"])
def test_publishing_on_a_channel_closed_by_a_lost_connection_raises_a_connection_error(route):
    """kombu may publish on a channel it already closed after a Redis restart, straight to a queue or through an
    exchange (as every stage publishes the next, reading the exchange's type from the channel's broker state): a
    connection error (retried) must come out, not an AttributeError that fails the task or stops the worker."""
    with Connection(app.conf.broker_url) as connection:
        if not connection.transport_cls.startswith("redis"):
            pytest.skip("the Redis transport's behaviour (CI always has Redis)")
        channel = connection.channel()
        producer = Producer(channel)
        channel.close()
        with pytest.raises(RedisConnectionError):
            producer.publish({"stage": "persist"}, **route)
