"""Shared fixtures: config overrides, a local feed server, a real Celery worker on the test database."""
from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from tgesweeper.bench.feedserver import FeedServer
from tgesweeper.bench.local_process import database_url_for_processes
from tgesweeper.config import load_config
from tgesweeper.matching import MatchConfig


@pytest.fixture
def config(settings):
    """Call ``config(NAME=value, ...)`` to change settings.CONFIG for one test."""

    def override(**values):
        settings.CONFIG = settings.CONFIG.with_overrides(**values)
        return settings.CONFIG

    return override


@pytest.fixture(scope="session")
def match_config() -> MatchConfig:
    """The engine's configuration as shipped: the YAML's vocabulary and the KEYWORD_* defaults."""
    return MatchConfig.from_mapping(load_config({}).keyword_matching)


@pytest.fixture
def allow_local(config):
    """Local test servers live on 127.0.0.1, which the SSRF guard refuses unless told otherwise."""
    return config(SCRAPING_ALLOW_PRIVATE_NETWORKS=True)


@pytest.fixture
def feed_server():
    with FeedServer() as server:
        yield server


def redis_url() -> str:
    return django_settings.CONFIG["REDIS_URL"]


needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL); CI always has it")
needs_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                    reason="needs PostgreSQL (DATABASE_URL); CI always has it")


@pytest.fixture
def worker_env(tmp_path) -> dict[str, str]:
    """Environment for a process that must see exactly what the test sees."""
    return {
        "DATABASE_URL": database_url_for_processes(),
        "REDIS_URL": redis_url(),
        "CELERY_BROKER_URL": django_settings.CONFIG["CELERY_BROKER_URL"],
        "SCRAPING_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWS_SCRAPER_RATE_LIMIT": str(django_settings.CONFIG["NEWS_SCRAPER_RATE_LIMIT"]),
        "TGE_VAR_DIR": str(django_settings.CONFIG.var_dir),
        "APP_ENV": "test",
    }


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """``start_worker(concurrency=2, **env)``: a real ``celery worker`` with ``env`` over ``worker_env``, consuming
    every pipeline queue; each one started is stopped at teardown (if the test has not killed it)."""
    from tgesweeper.bench.local_worker import LocalWorker

    started = []

    def start(concurrency: int = 2, app: str = "tgesweeper", **env: str) -> LocalWorker:
        worker = LocalWorker(env={**worker_env, **env}, concurrency=concurrency, app=app,
                             log_path=tmp_path / f"worker-{len(started)}.log", name=f"test{len(started)}")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def purge_queues(*names: str) -> None:
    """Empty the named queues (all the app declares when none is named) on the configured broker."""
    from tgesweeper.celery import app

    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            if queue.name in names or not names:
                bound = queue.bind(conn.default_channel)
                bound.declare()  # RabbitMQ refuses to purge a queue nobody has declared yet
                bound.purge()


@pytest.fixture
def celery_worker_process(start_worker):
    """A real ``celery worker`` on the configured broker (Redis in CI), consuming every pipeline queue."""
    purge_queues()
    return start_worker()


# --- the REST API: who calls it, and objects every endpoint can act on ---------------------------------

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def fresh_cache():
    """The response cache and the throttle counters live in the shared test cache: each test starts empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def reader():
    """An API key without a user: may read, never staff."""
    from rest_framework.test import APIClient

    from api.keys import create_key

    _, raw = create_key("reader")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


@pytest.fixture
def staff_user():
    from django.contrib.auth.models import User

    return User.objects.create_user("ops", password=STAFF_PASSWORD, is_staff=True)


@pytest.fixture
def staff(staff_user):
    from rest_framework.test import APIClient

    from api.keys import create_key

    _, raw = create_key("ops key", staff_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def queued_sweeps(monkeypatch) -> list[int]:
    """The ids that "sweep now" queued, recorded instead of sent to the broker."""
    queued: list[int] = []
    monkeypatch.setattr("workers.enqueue.queue_fetches", lambda ids: queued.extend(ids) or len(ids))
    return queued


@pytest.fixture
def api_objects(db):
    """One of each thing the API shows: a source, a document from it, an event it mentions, and a second event."""
    from datetime import date, datetime, timezone
    from types import SimpleNamespace

    from api.models import Document, Mention, Source, TGEEvent

    source = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    event = TGEEvent.objects.create(key="quillstone", project="Quillstone", ticker="QSN", confidence=0.95,
                                    is_candidate=False, published=True, tge_date=date(2026, 12, 4))
    other = TGEEvent.objects.create(key="ferrowind", project="Ferrowind", ticker="FWD", confidence=0.9,
                                    is_candidate=False, published=True)
    document = Document.objects.create(source=source, external_id="1", title="Quillstone TGE", content_hash="x",
                                       published_at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    Mention.objects.create(event=event, document=document, source=source, kind="scheduled", confidence=0.95)
    return SimpleNamespace(source=source, document=document, event=event, other_event=other)


@pytest.fixture
def fetch_retry(monkeypatch) -> dict:
    """``fetch_source.retry`` faked: the dict gets its arguments and the ETA of the message Celery would build from
    them (a countdown of inf raises OverflowError right there, a huge one gives an ETA years away). The task then
    raises RuntimeError("retry scheduled") where Celery would raise Retry."""
    from datetime import datetime

    from workers import tasks

    scheduled: dict = {}

    def fake_retry(**kwargs):
        scheduled.update(kwargs)
        message = tasks.fetch_source.app.amqp.as_task_v2(
            "retry-id", tasks.fetch_source.name, kwargs["args"], kwargs["kwargs"], countdown=kwargs["countdown"])
        scheduled["eta"] = datetime.fromisoformat(message.headers["eta"])
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(tasks.fetch_source, "retry", fake_retry)
    return scheduled


def sweep_in_process(*sources) -> dict:
    """One sweep of these sources through the whole pipeline in this process; each source's ledger row by name."""
    from api.models import SweepSource
    from workers import sweeps

    with sweeps.in_process():
        run_id = sweeps.start_sweep([s.pk for s in sources])
    assert sweeps.wait_for_sweep(run_id, timeout=0)
    return {row.source.name: row for row in SweepSource.objects.filter(run_id=run_id).select_related("source")}


@pytest.fixture
def good(feed_server, allow_local):
    """An ordinary RSS source that must keep working next to a broken one."""
    from datetime import datetime, timezone

    from api.models import Source
    from tgesweeper.bench.feedserver import render_rss

    feed_server.add("/good.xml", render_rss("Good", [{"guid": "good-1", "title": "Regulators publish guidance",
                                                      "description": "Plain news.",
                                                      "pub_date": datetime(2026, 11, 20, tzinfo=timezone.utc)}]))
    return Source.objects.create(name="good", url=feed_server.url("/good.xml"))


# --- the served site: uvicorn with Django, the dashboard and its live channel ------------------------------------

@pytest.fixture
def live_channels(config) -> dict[str, str]:
    """Pub/sub channels and event-log stream of this test alone (Redis channels are shared by every database
    number), for this process and the ones the test starts."""
    import secrets

    suffix = secrets.token_hex(4)
    names = {"NOTIFY_CHANNEL": f"test:events:{suffix}", "LIVE_SOCKET_CHANNEL": f"test:live:{suffix}",
             "EVENT_LOG_STREAM": f"test:events:log:{suffix}"}
    config(**names)
    return names


@pytest.fixture
def start_web(worker_env, live_channels, tmp_path):
    """``start_web(**env)``: the whole site under uvicorn (``make run``'s web process) on the test database, with
    this test's channels; stopped at teardown."""
    from tgesweeper.bench.local_web import LocalWeb

    started = []

    def start(**env: str) -> LocalWeb:
        web = LocalWeb(env={**worker_env, **live_channels, **env}, log_path=tmp_path / f"web-{len(started)}.log")
        started.append(web)
        return web.start()

    yield start
    for web in started:
        web.stop()
