"""The per-host fetch budget is one budget for every worker: two real worker processes (two worker nodes) on one
broker and one database sweep many sources of one host, and the host never gets more than NEWS_SCRAPER_RATE_LIMIT
requests in a window of NEWS_SCRAPER_RATE_PERIOD, counted where the requests arrive (a local server on 127.0.0.1)."""
from __future__ import annotations

import math
import time
from collections import Counter

import pytest

from api.models import Source, SweepSource
from tests.conftest import needs_redis, purge_queues
from tgesweeper.bench.feedserver import render_rss
from workers import sweeps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis]

LIMIT, PERIOD, SOURCES = 3, 5, 9  # three windows' worth of requests, all to 127.0.0.1


def wait_for_a_fresh_window(margin: float = 0.5) -> None:
    """The sweep starts just after a window opens, so its first burst of requests lands in one window."""
    into = time.time() % PERIOD
    if into > margin:
        time.sleep(PERIOD - into)


def test_two_workers_never_send_one_host_more_than_its_budget_per_window(start_worker, feed_server):
    for i in range(SOURCES):
        feed_server.add(f"/feed-{i}.xml", render_rss(f"Wire {i}", [{"title": f"Plain news {i}", "guid": f"b-{i}"}]))
    sources = [Source.objects.create(name=f"Wire {i}", url=feed_server.url(f"/feed-{i}.xml")) for i in range(SOURCES)]
    purge_queues()
    budget = {"NEWS_SCRAPER_RATE_LIMIT": str(LIMIT), "NEWS_SCRAPER_RATE_PERIOD": str(PERIOD)}
    workers = [start_worker(concurrency=2, **budget), start_worker(concurrency=2, **budget)]

    wait_for_a_fresh_window()
    run_id = sweeps.start_sweep([s.pk for s in sources])
    finished = sweeps.wait_for_sweep(run_id, timeout=SOURCES / LIMIT * PERIOD + 60)
    logs = "\n".join(worker.log_text()[-3000:] for worker in workers)
    assert finished, logs
    assert set(SweepSource.objects.filter(run_id=run_id).values_list("state", flat=True)) == {"done"}, logs

    arrivals = sorted(at for at, _ in feed_server.requests)
    assert len(arrivals) == SOURCES  # each source fetched once: a put-off fetch never left
    # The windows tgesweeper/throttle.py counts in. A put-off fetch comes back a second or two after the next window
    # opens (its countdown is the wait plus 1 s), far from that window's end: it arrives in the window it spent.
    per_window = Counter(int(at // PERIOD) for at in arrivals)
    assert max(per_window.values()) <= LIMIT, sorted(per_window.items())
    assert len(per_window) >= math.ceil(SOURCES / LIMIT)
    fetched = [sum("workers.tasks.fetch_source[" in line and "succeeded" in line
                   for line in worker.log_text().splitlines()) for worker in workers]
    assert sum(fetched) == SOURCES and min(fetched) >= 1, fetched  # both fetched: one budget across them
