"""A poison message: a message that kills its worker every time is delivered TASK_MAX_DELIVERIES times, then
parked as a dead letter; the worker keeps serving. Real workers; the scenario of ``benchmark faults`` (fault 3) kills
the pool child itself."""
from __future__ import annotations

import time

import psutil
import pytest
from django.conf import settings

from api.models import DeadLetter, Source
from tests.conftest import needs_redis
from tgesweeper.bench import fault_benchmark as faults
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


@pytest.fixture
def rig(tmp_path):
    """``benchmark faults``'s private broker and workers, of the kind the suite runs on (make test-rabbitmq: RabbitMQ)."""
    kind = "rabbitmq" if settings.CONFIG["CELERY_BROKER_URL"].startswith("amqp") else "redis"
    with faults.private_rig(kind, tmp_path) as rig:
        yield rig


def test_a_message_that_kills_its_worker_each_time_is_parked(rig):
    run = faults.poison_message(rig)  # killed on each of its deliveries, parked after the last, never run again
    letter = run.seen["dead_letter"]
    assert (letter.task_name, letter.deliveries) == ("workers.tasks.fetch_source", 3)
    assert run.drained(), run.worker.log_text()[-3000:]  # the load around it
    assert run.load.ledger() == {"lost": 0, "duplicated": 0, "unexpected": 0}
    worker = psutil.Process(run.worker.pid)
    assert worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE


def test_a_message_whose_task_raises_is_parked_not_dropped_and_the_worker_goes_on(feed_server, allow_local,
                                                                                  celery_worker_process):
    """Celery acks a failed task: without parking, a batch its persist could not handle (here a malformed message)
    would be gone. Parked, it waits in Dead letters; the next message is served as usual."""
    from tgesweeper.bench.feedserver import render_rss

    tasks.persist_results.delay({"batch_id": "broken:1", "source_id": 1})  # no documents, no matches
    deadline = time.monotonic() + 60
    while not DeadLetter.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    letter = DeadLetter.objects.get()
    assert letter.task_name == "workers.tasks.persist_results" and letter.args == [{"batch_id": "broken:1",
                                                                                    "source_id": 1}]
    assert letter.reason.startswith("it raised KeyError") and letter.deliveries == 1

    feed_server.add("/after.xml", render_rss("After", [{"title": "Still here", "guid": "after-1",
                                                         "link": "https://news.example.com/after"}]))
    source = Source.objects.create(name="After", url=feed_server.url("/after.xml"))
    tasks.fetch_source.delay(source.pk)
    while not source.documents.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert source.documents.count() == 1, celery_worker_process.log_text()[-3000:]
    assert DeadLetter.objects.count() == 1
