"""A scheduled run (beat's message for a Source) claims its source for the interval once, on its first delivery; its
retries, its rate-limit deferrals and a redelivery after its worker died belong to it, so what the run ends in is
recorded on the Source. Real worker on Redis; the messages are exactly what the Source's PeriodicTask makes beat send."""
from __future__ import annotations

import json
import os
import signal
import threading

import psutil
import pytest
from django.core.cache import cache
from django_celery_beat.models import PeriodicTask

from api.models import Source
from tests.conftest import needs_redis, purge_queues
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.local_process import free_port
from tgesweeper.bench.processes import wait_until
from tgesweeper.celery import app
from workers.schedule import task_name

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]

FEED = render_rss("Wire", [{"title": "Quillstone opens claims", "guid": "sched-1", "link": "https://news.example.com/1"}])
FAST_RETRIES = {"SCRAPING_RETRY_MAX_ATTEMPTS": "2", "SCRAPING_RETRY_BASE_DELAY": "0", "SCRAPING_RETRY_MAX_DELAY": "0"}


@pytest.fixture
def worker(start_worker):
    """``worker(**env)``: a real worker on empty queues and a cache without fetch claims."""
    def start(**env):
        purge_queues()
        cache.clear()
        return start_worker(**env)

    return start


def send_as_beat(source: Source) -> str:
    """What beat sends when the Source's periodic task is due: its task, args, kwargs and queue. Returns the task id."""
    task = PeriodicTask.objects.get(name=task_name(source.pk))
    return app.send_task(task.task, args=json.loads(task.args), kwargs=json.loads(task.kwargs), queue=task.queue).id


def ended(worker, task_id: str) -> bool:
    """The run's last message ended (succeeded or failed; a retry logs neither)."""
    return any(f"[{task_id}] {end}" in worker.log_text() for end in ("succeeded", "raised"))


def test_scheduled_runs_that_fail_are_recorded_and_open_the_circuit(worker):
    """The source refuses connections: each run's first attempt fails, its retry (claimed already) fails for good
    and is recorded. A second beat message in the same interval is refused; after the threshold the circuit opens."""
    threshold = 2
    celery_worker = worker(**FAST_RETRIES, CIRCUIT_BREAKER_FAILURE_THRESHOLD=str(threshold))
    closed = f"http://127.0.0.1:{free_port()}/feed.xml"
    source = Source.objects.create(name="Closed port", url=closed, interval_seconds=10)  # a claim of 8 s

    first = send_as_beat(source)
    wait_until(lambda: ended(celery_worker, first), 60, message=celery_worker.log_text()[-3000:])
    source.refresh_from_db()
    assert source.failure_count == 1, celery_worker.log_text()[-3000:]
    assert source.last_error.startswith("fetch: ") and source.last_fetched_at is not None
    assert celery_worker.log_text().count(f"[{first}] retry") == 1  # two attempts: SCRAPING_RETRY_MAX_ATTEMPTS

    same_interval = send_as_beat(source)
    wait_until(lambda: ended(celery_worker, same_interval), 60, message=celery_worker.log_text()[-3000:])
    source.refresh_from_db()
    assert source.failure_count == 1  # a second run within the interval did not fetch

    wait_until(lambda: cache.get(f"fetch-claim:{source.pk}") is None, 15, message="the claim outlived its interval")
    next_interval = send_as_beat(source)
    wait_until(lambda: ended(celery_worker, next_interval), 60, message=celery_worker.log_text()[-3000:])
    source.refresh_from_db()
    assert (source.failure_count, source.circuit_state) == (threshold, "open")
    assert source.next_fetch_not_before is not None


def refusing_once(status: int, headers: dict[str, str]):
    """A feed route that answers ``status`` with ``headers`` to its first request and the feed to every other."""
    answers = []

    def handler(request):
        answers.append(1)
        body, code, sent = (b"", status, headers) if len(answers) == 1 else (FEED, 200, {})
        request.send_response(code)
        for name, value in {**sent, "Content-Type": "application/rss+xml"}.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def test_a_scheduled_run_put_off_by_a_rate_limit_fetches_when_it_comes_back(worker, feed_server):
    feed_server.add_route("/busy.xml", refusing_once(429, {"Retry-After": "1"}))
    celery_worker = worker()
    source = Source.objects.create(name="Busy once", url=feed_server.url("/busy.xml"), interval_seconds=300)
    send_as_beat(source)
    wait_until(lambda: source.documents.exists(), 60, message=celery_worker.log_text()[-3000:])
    assert feed_server.hits["/busy.xml"] == 2
    source.refresh_from_db()
    assert (source.failure_count, source.last_error) == (0, "")


def test_a_scheduled_run_whose_fetch_failed_comes_back_after_a_backoff_under_a_second(worker, feed_server):
    """The backoff (full jitter up to SCRAPING_RETRY_BASE_DELAY) is under a second: RabbitMQ's native delayed delivery
    refused such a countdown and the retry, and so the run, was lost (``workers.tasks.retry_countdown``)."""
    feed_server.add_route("/flaky.xml", refusing_once(503, {}))
    celery_worker = worker(SCRAPING_RETRY_BASE_DELAY="0.5")
    source = Source.objects.create(name="Flaky once", url=feed_server.url("/flaky.xml"), interval_seconds=300)
    run = send_as_beat(source)
    wait_until(lambda: source.documents.exists(), 30, message=celery_worker.log_text()[-3000:])
    assert feed_server.hits["/flaky.xml"] == 2
    assert celery_worker.log_text().count(f"[{run}] retry") == 1
    source.refresh_from_db()
    assert (source.failure_count, source.last_error) == (0, "")


def test_a_scheduled_run_redelivered_after_its_worker_died_still_holds_its_claim(worker, feed_server):
    arrived = threading.Event()
    answers = []

    def hang_once(handler):  # the first fetch sits here until the test kills the worker child running it
        answers.append(1)
        if len(answers) > 1:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml")
            handler.send_header("Content-Length", str(len(FEED)))
            handler.end_headers()
            handler.wfile.write(FEED)
            return
        arrived.set()
        feed_server.stall(handler)

    feed_server.add_route("/crash.xml", hang_once)
    celery_worker = worker()
    source = Source.objects.create(name="Crashing worker", url=feed_server.url("/crash.xml"), interval_seconds=300)
    run = send_as_beat(source)
    assert arrived.wait(60), celery_worker.log_text()[-3000:]
    for child in psutil.Process(celery_worker.process.pid).children(recursive=True):
        os.kill(child.pid, signal.SIGKILL)

    wait_until(lambda: source.documents.exists(), 60, message=celery_worker.log_text()[-3000:])
    assert feed_server.hits["/crash.xml"] == 2
    assert cache.get(f"fetch-claim:{source.pk}") == run
    again = send_as_beat(source)  # another run in the same interval is still refused
    wait_until(lambda: ended(celery_worker, again), 60, message=celery_worker.log_text()[-3000:])
    assert feed_server.hits["/crash.xml"] == 2
