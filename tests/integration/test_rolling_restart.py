"""A rollout restarts the workers one at a time: SIGTERM (Celery's warm shutdown: running tasks finish, unstarted
messages go back to the broker) and a new worker in its place. Under a running `benchmark pipeline`, nothing is lost
and nothing is stored twice. Real processes: the benchmark command, and workers started and stopped by the test."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from api.models import Document
from tests.conftest import needs_redis
from tgesweeper.bench.local_process import ROOT
from tgesweeper.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]
DOCS = 8000


def stored() -> int:
    return Document.objects.filter(external_id__startswith="bench-").count()


def test_workers_restarted_one_at_a_time_under_load_lose_and_duplicate_nothing(start_worker, worker_env, tmp_path):
    with app.connection_for_write() as conn:
        for queue in app.amqp.queues.values():
            queue.bind(conn.default_channel).purge()
    worker = start_worker(concurrency=2)
    with (tmp_path / "benchmark.log").open("w") as log:
        benchmark = subprocess.Popen(
            [sys.executable, "manage.py", "benchmark", "pipeline", "--docs", str(DOCS), "--per-feed", "200",
             "--use-running-workers", "--json"],
            cwd=ROOT, env={**worker_env, "NEWS_SCRAPER_RATE_LIMIT": "100000"}, stdout=subprocess.PIPE, stderr=log,
            text=True)
    restarts = []
    try:
        for threshold in (0.15, 0.4, 0.65):
            while stored() < DOCS * threshold and benchmark.poll() is None:
                time.sleep(0.2)
            if benchmark.poll() is not None:
                break
            worker.process.send_signal(signal.SIGTERM)  # the main process: a warm shutdown, as Kubernetes sends it
            worker.process.wait(timeout=120)
            restarts.append((stored(), worker.process.returncode))
            worker = start_worker(concurrency=2)
        out, _ = benchmark.communicate(timeout=600)
    finally:
        if benchmark.poll() is None:
            benchmark.kill()
    result = json.loads(out.strip().splitlines()[-1])
    print(f"restarts at (documents stored, exit code): {restarts}; benchmark: {result}")
    assert len(restarts) >= 2, (restarts, result)
    assert all(code == 0 for _, code in restarts), restarts  # each stopped by its warm shutdown, not killed
    assert result["finished"] and (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0), result
    assert benchmark.returncode == 0
