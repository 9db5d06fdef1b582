"""A worker process keeps its database connection from task to task (as Django keeps one across requests) instead
of opening a new PostgreSQL connection, and so a new server process, for every task."""
import random
import uuid

import pytest

from api.models import Source
from tests.conftest import needs_postgres, purge_queues
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.local_process import database_url_for_processes
from tgesweeper.bench.pipeline_benchmark import generate_items
from tgesweeper.bench.processes import TcpProxy
from workers import sweeps

pytestmark = [pytest.mark.services, needs_postgres, pytest.mark.django_db(transaction=True)]


def test_a_worker_runs_many_tasks_on_a_connection_per_process(feed_server, start_worker):
    with TcpProxy(database_url_for_processes()) as proxy:
        tag = uuid.uuid4().hex[:8]
        feed_server.add(f"/db/{tag}.xml", render_rss("Connections", generate_items(60, tag, random.Random(tag))))
        source = Source.objects.create(name=f"connections {tag}", url=feed_server.url(f"/db/{tag}.xml"), enabled=False)
        purge_queues()
        worker = start_worker(concurrency=2, DATABASE_URL=proxy.url, SCRAPING_BATCH_SIZE="10")
        assert sweeps.wait_for_sweep(sweeps.start_sweep([source.pk]), timeout=60)
        tasks = worker.log_text().count(" succeeded in ")
        assert tasks >= 14  # a fetch, a parse, six matches, six persists
        assert sum(proxy.peers.values()) <= 3, f"{sum(proxy.peers.values())} connections for {tasks} tasks"
