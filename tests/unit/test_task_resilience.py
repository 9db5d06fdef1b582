"""What the fault tests (tests/integration/test_faults.py) found, pinned in the small."""
import uuid
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable
from kombu.transport import redis as redis_transport
from redis.exceptions import ConnectionError as RedisConnectionError

from tgesweeper.celery import app
from workers import task_base, tasks


def test_a_retry_is_not_counted_as_a_delivery_that_killed_its_worker():
    task_id = uuid.uuid4().hex
    assert [task_base.count_delivery(task_id) for _ in range(2)] == [1, 2]
    tasks.persist_results.on_retry(OperationalError("database away"), task_id, (), {}, None)
    assert task_base.count_delivery(task_id) == 1
    task_base.forget_deliveries(task_id)


@pytest.mark.parametrize("task", [tasks.fetch_source, tasks.parse_payload, tasks.match_documents,
                                  tasks.persist_results, tasks.notify])
def test_every_stage_retries_while_the_database_broker_or_cache_is_away(task):
    assert {OperationalError, BrokerUnavailable, RedisConnectionError} <= set(task.autoretry_for)
    assert task.retry_backoff and task.max_retries


def test_publishing_waits_out_a_broker_restart():
    policy = app.conf.task_publish_retry_policy
    assert policy["max_retries"] * policy["interval_max"] >= 30


@pytest.mark.parametrize("connection", [None, SimpleNamespace(client=None)])
def test_a_closed_redis_channel_raises_a_connection_error(connection):
    with pytest.raises(RedisConnectionError):
        redis_transport.Channel._connparams(SimpleNamespace(connection=connection))
