"""Fetching politely and safely: the shared per-host budget, 429 → come back at the reset, the circuit breaker,
adaptive polling — against a local server on 127.0.0.1 and the real database and cache."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from kombu.transport.native_delayed_delivery import calculate_routing_key

from api.models import Document, Source, SweepSource
from api.store import start_sweep
from tgesweeper import net, throttle
from tgesweeper.bench.feedserver import render_rss
from workers import pipeline, sweeps, tasks
from workers.schedule import task_name

pytestmark = pytest.mark.django_db


def feed(*titles: str) -> bytes:
    return render_rss("Wire", [{"title": t, "link": f"https://news.example.com/{i}", "guid": f"g-{t}",
                                "description": t} for i, t in enumerate(titles)])


def answer(status: int, headers: dict[str, str] | None = None):
    def handler(h):
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


@pytest.fixture
def fresh_host_budget(config):
    """The budget key of 127.0.0.1 in the current window starts empty (other tests also fetch from 127.0.0.1)."""
    config(NEWS_SCRAPER_RATE_LIMIT=2, NEWS_SCRAPER_RATE_PERIOD=3600)
    cache.delete(throttle.window_key("host:127.0.0.1", 3600))
    yield
    cache.delete(throttle.window_key("host:127.0.0.1", 3600))


def test_two_sources_on_one_host_share_its_budget(allow_local, fresh_host_budget, feed_server):
    feed_server.add("/a.xml", feed("one"))
    feed_server.add("/b.xml", feed("two"))
    a = Source.objects.create(name="A", url=feed_server.url("/a.xml"))
    b = Source.objects.create(name="B", url=feed_server.url("/b.xml"))
    assert pipeline.fetch(a.pk, can_defer=True) and pipeline.fetch(b.pk, can_defer=True)
    with pytest.raises(net.RateLimited) as caught:
        pipeline.fetch(a.pk, can_defer=True)
    assert 0 < caught.value.retry_after <= 3600
    assert feed_server.hits["/a.xml"] + feed_server.hits["/b.xml"] == 2  # the third request never left
    a.refresh_from_db()
    assert a.failure_count == 0


def test_a_429_puts_the_fetch_off_until_the_reset_without_counting_a_failure(allow_local, feed_server, fetch_retry):
    feed_server.add_route("/busy.xml", answer(429, {"Retry-After": "120"}))
    source = Source.objects.create(name="Busy", url=feed_server.url("/busy.xml"))
    scheduled = fetch_retry
    with pytest.raises(RuntimeError, match="retry scheduled"):
        tasks.fetch_source(source.pk)
    assert 120 <= scheduled["countdown"] <= 122 and scheduled["kwargs"]["deferrals"] == 1
    assert scheduled["max_retries"] is None
    source.refresh_from_db()
    assert (source.failure_count, source.circuit_state) == (0, "closed")


def test_after_the_last_deferral_a_rate_limit_counts_as_a_failure(allow_local, feed_server, config):
    config(FETCH_MAX_DEFERRALS=0)
    feed_server.add_route("/busy.xml", answer(429, {"Retry-After": "120"}))
    source = Source.objects.create(name="Busy", url=feed_server.url("/busy.xml"))
    tasks.fetch_source(source.pk, deferrals=0)
    source.refresh_from_db()
    assert source.failure_count == 1 and "429" in source.last_error


def failing_first(times: int, then: bytes):
    """A server that answers 503 ``times`` times, then ``then``."""
    answered = []

    def handler(h):
        answered.append(1)
        if len(answered) <= times:
            return answer(503)(h)
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(then)))
        h.end_headers()
        h.wfile.write(then)

    return handler


def test_a_sweep_fetch_retried_after_transient_errors_stores_its_documents(allow_local, feed_server, config):
    """Through Celery's own retry (run in this process): each retry message carries the sweep and the attempts."""
    config(SCRAPING_RETRY_MAX_ATTEMPTS=3)
    feed_server.add_route("/shaky.xml", failing_first(2, feed("steady")))
    source = Source.objects.create(name="Shaky", url=feed_server.url("/shaky.xml"))
    _, ledger = start_sweep([source.pk])
    with sweeps.in_process():
        tasks.queue_fetch(source.pk, source.kind, ledger[source.pk])
    assert feed_server.hits["/shaky.xml"] == 3
    assert Document.objects.filter(source=source).count() == 1
    assert SweepSource.objects.get(pk=ledger[source.pk]).state == SweepSource.State.DONE


def test_a_retry_because_the_database_was_away_is_not_a_failed_fetch_attempt(allow_local, feed_server, config):
    config(SCRAPING_RETRY_MAX_ATTEMPTS=3)
    feed_server.add_route("/down.xml", answer(503))
    source = Source.objects.create(name="Down", url=feed_server.url("/down.xml"))
    with sweeps.in_process():
        tasks.fetch_source.apply(args=(source.pk,), retries=2)  # two outage retries happened before this run
    assert feed_server.hits["/down.xml"] == 3  # still three fetch attempts
    source.refresh_from_db()
    assert source.failure_count == 1 and "503" in source.last_error


def test_five_failures_open_the_circuit_and_recovery_closes_it(allow_local, feed_server, config):
    config(CIRCUIT_BREAKER_FAILURE_THRESHOLD=5, CIRCUIT_BREAKER_RECOVERY_TIMEOUT=60)
    feed_server.add_route("/flaky.xml", answer(500))
    source = Source.objects.create(name="Flaky", url=feed_server.url("/flaky.xml"))
    for _ in range(5):
        assert pipeline.fetch(source.pk, final_attempt=True) is None
    source.refresh_from_db()
    assert (source.failure_count, source.circuit_state) == (5, "open")
    assert source.next_fetch_not_before > timezone.now() + timedelta(seconds=50)

    _, ledger = start_sweep([source.pk])
    assert pipeline.fetch(source.pk, sweep_source_id=ledger[source.pk]) is None
    assert feed_server.hits["/flaky.xml"] == 5  # the sixth fetch was not attempted
    assert "circuit open" in SweepSource.objects.get(pk=ledger[source.pk]).error

    Source.objects.filter(pk=source.pk).update(circuit_opened_at=timezone.now() - timedelta(seconds=61))
    feed_server.add_route("/flaky.xml", answer(503))
    pipeline.fetch(source.pk, final_attempt=True)  # the trial fails: open again, for another 60 s
    source.refresh_from_db()
    assert (source.circuit_state, feed_server.hits["/flaky.xml"]) == ("open", 6)

    Source.objects.filter(pk=source.pk).update(circuit_opened_at=timezone.now() - timedelta(seconds=61))
    feed_server.remove_route("/flaky.xml")
    feed_server.add("/flaky.xml", feed("back"))
    payload = pipeline.fetch(source.pk, final_attempt=True)
    pipeline.parse(payload)
    source.refresh_from_db()
    assert (source.circuit_state, source.failure_count, source.circuit_opened_at) == ("closed", 0, None)


def test_only_one_worker_makes_the_trial_fetch(allow_local, feed_server):
    feed_server.add("/calm.xml", feed("calm"))
    opened = timezone.now() - timedelta(seconds=120)
    source = Source.objects.create(name="Calm", url=feed_server.url("/calm.xml"))
    Source.objects.filter(pk=source.pk).update(circuit_state="open", circuit_opened_at=opened, failure_count=5)
    stale = Source.objects.get(pk=source.pk)  # what a second worker read before the first claimed the trial
    assert pipeline.circuit_refusal(Source.objects.get(pk=source.pk)) is None
    assert "another worker" in pipeline.circuit_refusal(stale)


def test_adaptive_polling_follows_what_the_source_publishes(allow_local, feed_server, config):
    config(ADAPTIVE_POLLING=True, ADAPTIVE_POLL_MIN_SECONDS=60, ADAPTIVE_POLL_MAX_SECONDS=3600)
    feed_server.add("/news.xml", feed("first", "second"))
    source = Source.objects.create(name="News", url=feed_server.url("/news.xml"), interval_seconds=300)

    pipeline.parse(pipeline.fetch(source.pk))
    source.refresh_from_db()
    assert source.adaptive_interval_seconds == 150
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 150

    assert pipeline.fetch(source.pk) is None  # 304: nothing new
    source.refresh_from_db()
    assert source.adaptive_interval_seconds == 225
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 225


def test_adaptive_polling_moves_onto_an_interval_that_two_workers_created_twice(allow_local, feed_server, config):
    """IntervalSchedule has no unique (every, period): two workers moving sources to 150 s at once left two rows
    (tests/integration/test_host_budget_across_workers.py), and every later move to 150 s, or save of a source
    polled every 150 s, raised MultipleObjectsReturned."""
    config(ADAPTIVE_POLLING=True, ADAPTIVE_POLL_MIN_SECONDS=60, ADAPTIVE_POLL_MAX_SECONDS=3600)
    first = IntervalSchedule.objects.create(every=150, period=IntervalSchedule.SECONDS)
    IntervalSchedule.objects.create(every=150, period=IntervalSchedule.SECONDS)  # the racing worker's
    feed_server.add("/news.xml", feed("first", "second"))
    source = Source.objects.create(name="News", url=feed_server.url("/news.xml"), interval_seconds=300)

    pipeline.parse(pipeline.fetch(source.pk))
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval == first
    Source.objects.create(name="Also 150", url=feed_server.url("/other.xml"), interval_seconds=150)
    assert PeriodicTask.objects.filter(interval=first).count() == 2


def test_adaptive_polling_can_be_switched_off(allow_local, feed_server, config):
    config(ADAPTIVE_POLLING=False)
    feed_server.add("/news.xml", feed("first"))
    source = Source.objects.create(name="News", url=feed_server.url("/news.xml"), interval_seconds=300)
    pipeline.parse(pipeline.fetch(source.pk))
    source.refresh_from_db()
    assert source.adaptive_interval_seconds is None
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 300


def test_an_exchange_list_polled_every_15_s_keeps_its_interval_and_asks_conditionally(allow_local, feed_server, config):
    """An interval under ADAPTIVE_POLL_MIN_SECONDS is the operator's choice: empty polls do not stretch it."""
    config(ADAPTIVE_POLLING=True, ADAPTIVE_POLL_MIN_SECONDS=60, ADAPTIVE_POLL_MAX_SECONDS=3600)
    listing = b'{"data": {"articles": [{"id": 1, "title": "Kalomi (KALO) listing"}]}}'
    feed_server.add("/announcements", listing, "application/json")
    source = Source.objects.create(name="Exchange", kind="json", url=feed_server.url("/announcements"),
                                   interval_seconds=15, options={"items": "data.articles", "title": "title", "id": "id"})
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 15

    pipeline.parse(pipeline.fetch(source.pk))
    for _ in range(3):
        assert pipeline.fetch(source.pk) is None  # 304: nothing new
    assert feed_server.not_modified["/announcements"] == 3
    source.refresh_from_db()
    assert source.adaptive_interval_seconds is None and source.poll_interval_seconds == 15
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 15

    source.interval_seconds = 60  # at the floor: adaptive again, and the empty polls stretch it
    source.save()
    pipeline.fetch(source.pk)
    source.refresh_from_db()
    assert source.adaptive_interval_seconds == 90


# --- a server's Retry-After never puts a fetch off past the broker's visibility timeout ----------------


def assert_under_the_visibility_timeout(scheduled: dict) -> None:
    visibility = settings.CONFIG["CELERY_VISIBILITY_TIMEOUT"]
    assert scheduled["eta"] - timezone.now() < timedelta(seconds=visibility), "Redis would redeliver it meanwhile"
    assert 0 < scheduled["countdown"] <= visibility - tasks.RETRY_MARGIN  # room for the retried fetch to run


@pytest.mark.parametrize("retry_after", ["inf", "99999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_429_asking_for_forever_is_put_off_at_most_until_the_cap(allow_local, feed_server, fetch_retry, retry_after):
    scheduled = fetch_retry
    feed_server.add_route("/busy.xml", answer(429, {"Retry-After": retry_after}))
    source = Source.objects.create(name="Busy", url=feed_server.url("/busy.xml"))
    with pytest.raises(RuntimeError, match="retry scheduled"):
        tasks.fetch_source(source.pk)
    assert_under_the_visibility_timeout(scheduled)
    assert scheduled["kwargs"]["deferrals"] == 1 and isinstance(scheduled["exc"], net.RateLimited)
    source.refresh_from_db()
    assert (source.failure_count, source.last_error) == (0, "")


def test_a_503_asking_for_a_wait_of_centuries_spends_an_attempt_and_comes_back_at_the_cap(
        allow_local, feed_server, fetch_retry, config):
    scheduled = fetch_retry
    config(SCRAPING_RETRY_MAX_ATTEMPTS=3, CELERY_VISIBILITY_TIMEOUT=600)
    feed_server.add_route("/down.xml", answer(503, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}))
    source = Source.objects.create(name="Down", url=feed_server.url("/down.xml"))
    with pytest.raises(RuntimeError, match="retry scheduled"):
        tasks.fetch_source(source.pk)
    assert_under_the_visibility_timeout(scheduled)
    assert scheduled["countdown"] == 600 - tasks.RETRY_MARGIN
    assert scheduled["kwargs"]["failed_attempts"] == 1


def test_a_server_that_keeps_asking_for_forever_ends_as_a_recorded_failure(allow_local, feed_server, config):
    config(FETCH_MAX_DEFERRALS=2)
    feed_server.add_route("/busy.xml", answer(429, {"Retry-After": "99999999999"}))
    source = Source.objects.create(name="Busy", url=feed_server.url("/busy.xml"))
    _, ledger = start_sweep([source.pk])
    tasks.fetch_source(source.pk, ledger[source.pk], deferrals=2)
    source.refresh_from_db()
    assert source.failure_count == 1 and "429" in source.last_error and "put off too often" in source.last_error
    row = SweepSource.objects.get(pk=ledger[source.pk])
    assert row.state == SweepSource.State.FAILED and "429" in row.error


@pytest.mark.parametrize(("asked", "given"), [(float("inf"), 3480), (float("nan"), 3480), (1e11, 3480), (3480.0, 3480),
                                              (3479.2, 3480), (120.5, 121), (-3.0, 0), (0.0, 0)])
def test_retry_countdown_is_bounded_below_the_visibility_timeout(config, asked, given):
    config(CELERY_VISIBILITY_TIMEOUT=3600)
    assert tasks.retry_countdown(asked) == given


@pytest.mark.parametrize("asked", [1e-9, 0.2, 0.999])
def test_a_sub_second_wait_is_a_countdown_of_a_whole_second(config, asked):
    """RabbitMQ's native delayed delivery counts whole seconds and refuses a countdown under one (the retry was lost:
    tests/integration/test_alerts.py on RabbitMQ); rounded up, never earlier than asked."""
    countdown = tasks.retry_countdown(asked)
    assert countdown == 1 and isinstance(countdown, int)
    assert calculate_routing_key(countdown, "alerts").endswith(".1.alerts")  # what Celery then sends to RabbitMQ


def test_retry_countdown_is_at_least_a_second_under_a_tiny_visibility_timeout(config):
    config(CELERY_VISIBILITY_TIMEOUT=5)
    assert tasks.retry_countdown(1e11) == 1.0
