"""A poison message: a message that kills its worker every time is delivered TASK_MAX_DELIVERIES times, then
parked as a dead letter; the worker keeps serving. Real worker on Redis; the test kills the pool child itself."""
from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest

from api.models import DeadLetter, Source
from tests.conftest import needs_redis
from workers import tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]


def test_a_message_that_kills_its_worker_each_time_is_parked(feed_server, celery_worker_process):
    arrived = threading.Event()

    def hang(handler):  # the fetch sits here until the test kills the worker child running it
        arrived.set()
        feed_server.stall(handler)

    feed_server.add_route("/hang.xml", hang)
    source = Source.objects.create(name="Deadly", url=feed_server.url("/hang.xml"))
    worker = psutil.Process(celery_worker_process.process.pid)
    tasks.fetch_source.delay(source.pk)

    kills = 0
    deadline = time.monotonic() + 120
    while kills < 3 and time.monotonic() < deadline:
        assert arrived.wait(60), celery_worker_process.log_text()[-3000:]
        arrived.clear()
        for child in worker.children(recursive=True):
            os.kill(child.pid, signal.SIGKILL)
        kills += 1

    while not DeadLetter.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    letter = DeadLetter.objects.get()
    assert (letter.task_name, letter.args[0], letter.deliveries) == ("workers.tasks.fetch_source", source.pk, 3)
    assert feed_server.hits["/hang.xml"] == 3  # the fourth delivery was parked, not run
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
