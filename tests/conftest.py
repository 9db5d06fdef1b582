"""Shared fixtures: config overrides, a local feed server, a real Celery worker on the test database."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tgesweeper.feedserver import FeedServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def config(settings):
    """Call ``config(NAME=value, ...)`` to change settings.CONFIG for one test."""

    def override(**values):
        settings.CONFIG = settings.CONFIG.with_overrides(**values)
        return settings.CONFIG

    return override


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


def database_url_for_processes() -> str:
    """The URL of the database pytest-django created, for processes the tests start."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


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
    from workers.local_worker import LocalWorker

    started = []

    def start(concurrency: int = 2, **env: str) -> LocalWorker:
        worker = LocalWorker(env={**worker_env, **env}, concurrency=concurrency,
                             log_path=tmp_path / f"worker-{len(started)}.log", name=f"test{len(started)}")
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker_process(start_worker):
    """A real ``celery worker`` on the configured broker (Redis in CI), consuming every pipeline queue."""
    from tgesweeper.celery import app

    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue.bind(conn.default_channel).purge()
    return start_worker()
