"""Concurrent fetching, measured: slow feeds on 127.0.0.1 → a threaded fetch worker (as compose runs it) and the
CPU-stage workers → the configured database.

Every feed answers only after ``delay`` seconds, so a fetch worker that runs its fetches one by one would reach one
source per ``delay``; 20 threads should keep about 20 requests in flight. The server counts what is in flight (the
proof is measured where the requests arrive, not where they leave), each source's answer time is kept, and the
time from a feed's answer to its batch being persisted shows whether parse and match kept up while the fetches
waited. RSS is sampled for every worker process during the run.
"""
from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from django.conf import settings
from django.db.models import Avg, Max

from api.models import PipelineBatch, Source, SweepSource
from tgesweeper.bench.feedserver import RSS_TYPE, FeedServer, render_rss
from tgesweeper.bench.local_worker import LocalWorker, RssSampler
from tgesweeper.bench.pipeline_benchmark import count_ledger, generate_items
from workers import sweeps

# The workers compose runs (docker-compose.yml): fetch on 20 threads, parse+match and persist+notify apart.
FETCH_QUEUES, CPU_QUEUES, IO_QUEUES = ("fetch",), ("parse", "match"), ("persist", "notify", "alerts")


class InFlight:
    """Requests being answered right now: the maximum, and the time-weighted mean between the first arrival and the
    last answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.max = 0
        self._area = 0.0
        self._first: float | None = None
        self._last = 0.0

    def _step(self, delta: int) -> None:
        with self._lock:
            t = time.monotonic()
            if self._first is None:
                self._first = self._last = t
            self._area += self.now * (t - self._last)
            self._last = t
            self.now += delta
            self.max = max(self.max, self.now)

    def enter(self) -> None:
        self._step(+1)

    def leave(self) -> None:
        self._step(-1)

    @property
    def span(self) -> float:
        """Seconds from the first arrival to the last answer."""
        with self._lock:
            return self._last - (self._first or self._last)

    @property
    def mean(self) -> float:
        span = self.span
        with self._lock:
            return self._area / span if span else 0.0


class SlowFeeds:
    """Feeds on a FeedServer that each answer after ``delay`` seconds; ``answered[path]`` is when (time.time())."""

    def __init__(self, server: FeedServer, delay: float) -> None:
        self.server, self.delay = server, delay
        self.in_flight = InFlight()
        self.answered: dict[str, float] = {}

    def add(self, path: str, body: bytes) -> str:
        def answer(handler: BaseHTTPRequestHandler) -> None:
            self.in_flight.enter()
            try:
                if self.server.stopping.wait(self.delay):
                    return
                handler.send_response(200)
                handler.send_header("Content-Type", RSS_TYPE)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                self.answered[path] = time.time()
            finally:
                self.in_flight.leave()

        self.server.add_route(path, answer)
        return self.server.url(path)


def run_fetch_benchmark(sources: int = 200, *, delay: float = 1.0, items_per_feed: int = 10, threads: int = 20,
                        cpu_concurrency: int = 1, io_concurrency: int = 1, timeout: float = 600.0,
                        worker_env: dict[str, str] | None = None) -> dict:
    if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
        raise RuntimeError("the benchmark serves feeds on 127.0.0.1: set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
    tag = uuid.uuid4().hex[:8]
    items = generate_items(sources * items_per_feed, tag, random.Random(tag))
    with FeedServer() as server, tempfile.TemporaryDirectory(prefix="tge-fetch-bench-") as tmp:
        feeds = SlowFeeds(server, delay)
        rows, path_of = [], {}
        for n in range(sources):
            path = f"/slow/{tag}/{n}.xml"
            url = feeds.add(path, render_rss(f"Slow feed {n}", items[n * items_per_feed:(n + 1) * items_per_feed]))
            row = Source.objects.create(name=f"bench {tag} #{n}", url=url, enabled=False)
            rows.append(row)
            path_of[row.pk] = path
        # Every feed is on one host (127.0.0.1): the benchmark sets that host's budget above what it sends, as an
        # operator would for a host that allows it; the per-host budget is not what is measured here.
        env = {**(worker_env or {}), "NEWS_SCRAPER_RATE_LIMIT": "100000"}
        workers = {
            "fetch": LocalWorker(env=env, queues=FETCH_QUEUES, pool="threads", concurrency=threads,
                                 log_path=Path(tmp) / "fetch.log", name="bench-fetch"),
            "cpu": LocalWorker(env=env, queues=CPU_QUEUES, concurrency=cpu_concurrency,
                               log_path=Path(tmp) / "cpu.log", name="bench-cpu"),
            "io": LocalWorker(env=env, queues=IO_QUEUES, concurrency=io_concurrency,
                              log_path=Path(tmp) / "io.log", name="bench-io"),
        }
        try:
            for worker in workers.values():
                worker.start()
            with RssSampler(workers) as rss:
                started = time.monotonic()
                run_id = sweeps.start_sweep([row.pk for row in rows])
                finished = sweeps.wait_for_sweep(run_id, timeout=timeout, poll=0.1)
                wall = time.monotonic() - started
                rss.sample()
        finally:
            for worker in workers.values():
                worker.stop()
        result = {
            "sources": sources, "delay_seconds": delay, "fetch_threads": threads, "finished": finished,
            "seconds": round(wall, 2), "sources_per_sec": round(sources / wall, 2),
            "fetching": {"seconds": round(feeds.in_flight.span, 2),
                         "sources_per_sec": round(len(feeds.answered) / feeds.in_flight.span, 2)
                         if feeds.in_flight.span else None},
            "in_flight": {"max": feeds.in_flight.max, "mean": round(feeds.in_flight.mean, 1)},
            **_latencies(run_id, rows, path_of, feeds.answered),
            **count_ledger(rows, tag, sources * items_per_feed),
            "failed_sources": SweepSource.objects.filter(run_id=run_id, state=SweepSource.State.FAILED).count(),
            "rss_mb": {name: round(peak / 2**20, 1) for name, peak in sorted(rss.peak.items())},
            "cpu_seconds": {name: round(used, 1) for name, used in sorted(rss.cpu.items())},
        }
        Source.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return result


def _latencies(run_id: int, rows: list[Source], path_of: dict[int, str], answered: dict[str, float]) -> dict:
    """Feed answered → its batch persisted, per batch: what a starved parse or match stage would stretch (it includes
    the wait in the parse, match and persist queues behind the other sources' batches)."""
    batches = PipelineBatch.objects.filter(sweep_source__run_id=run_id)
    waits = sorted(
        persisted.timestamp() - answered[path_of[source_id]]
        for source_id, persisted in batches.values_list("source_id", "persisted_at")
        if path_of.get(source_id) in answered
    )
    timing = batches.aggregate(match=Avg("match_seconds"), match_max=Max("match_seconds"),
                               persist=Avg("persist_seconds"))
    ledger = SweepSource.objects.filter(run_id=run_id).aggregate(fetch=Avg("fetch_seconds"), parse=Avg("parse_seconds"))
    return {
        "answered_to_persisted_ms": {
            "p50": round(statistics.median(waits) * 1000) if waits else None,
            "p95": round(waits[min(len(waits) - 1, int(len(waits) * 0.95))] * 1000) if waits else None,
            "max": round(waits[-1] * 1000) if waits else None,
        },
        "match_ms_per_batch": {"mean": _ms(timing["match"]), "max": _ms(timing["match_max"])},
        "mean_stage_ms": {"fetch": _ms(ledger["fetch"]), "parse": _ms(ledger["parse"]),
                          "match": _ms(timing["match"]), "persist": _ms(timing["persist"])},
    }


def _ms(seconds: float | None) -> float:
    return round((seconds or 0) * 1000, 1)
