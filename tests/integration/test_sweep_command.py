"""``manage.py sweep`` run as a user runs it: its exit status says whether every requested source was swept."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from api.models import Source
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.local_process import ROOT, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def sweep(worker_env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **worker_env, "SCRAPING_RETRY_MAX_ATTEMPTS": "1"}
    command = [sys.executable, "manage.py", "sweep", "--in-process", *(arg for name in names for arg in ("--source", name))]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def sources(feed_server):
    feed_server.add("/ok.xml", render_rss("Up", [{"title": "Quillstone opens claims", "guid": "up-1",
                                                   "link": "https://news.example.com/up-1"}]))
    Source.objects.create(name="Up", url=feed_server.url("/ok.xml"))
    Source.objects.create(name="Down", url=f"http://127.0.0.1:{free_port()}/feed.xml")  # refuses connections


def test_a_sweep_where_a_source_failed_exits_non_zero_naming_it(worker_env, sources):
    done = sweep(worker_env, "Up", "Down")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CommandError: 1 of 2 source(s) failed: Down" in done.stderr
    assert Source.objects.get(name="Up").documents.count() == 1  # the other source was swept all the same
    assert Source.objects.get(name="Down").failure_count == 1


def test_a_sweep_where_every_source_failed_exits_non_zero(worker_env, sources):
    done = sweep(worker_env, "Down")
    assert done.returncode == 1 and "1 of 1 source(s) failed: Down" in done.stderr, done.stdout + done.stderr


def test_a_sweep_where_every_source_passed_exits_zero(worker_env, sources):
    done = sweep(worker_env, "Up")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed" not in done.stdout + done.stderr
