"""Faults on real processes (a worker killed mid-persist, Redis restarted, PostgreSQL away): a celery worker on a
private ``redis-server`` and the test database, tagged feeds served on 127.0.0.1, and the Jepsen-style ledger of
``tgesweeper.bench.pipeline_benchmark`` (lost, duplicated, unexpected) once the sweep has drained. A persist is caught
mid-transaction by a row lock the test holds on the one event its batch must update, so a kill or a cut lands inside
persist, not at a time one hopes for."""
from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db.models import Sum

from api.models import Document, Mention, PipelineBatch, Source, SweepSource, TGEEvent
from celeryconfig import PIPELINE_QUEUES
from tests.conftest import database_url_for_processes, needs_postgres, needs_redis
from tests.processes import RedisServer, RowLock, TcpProxy, kill_processes, process_with_local_port, wait_until, worker_processes
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.pipeline_benchmark import count_ledger, generate_items
from tgesweeper.celery import app
from tgesweeper.matching import MatchInput
from tgesweeper.matching.events import event_key
from workers import pipeline, sweeps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, needs_redis, needs_postgres]

BATCH_SIZE = 10
LAUNCH = ("Quillstone Network to launch QSN token on December 4, 2026",
          "Quillstone Network said the token generation event for its QSN token will take place on December 4, 2026.")
NOTHING_WRONG = {"lost": 0, "duplicated": 0, "unexpected": 0}


@dataclass
class Load:
    tag: str
    sources: list[Source]
    docs: int
    batches: int

    def ledger(self) -> dict:
        counts = count_ledger(self.sources, self.tag, self.docs)
        return {key: counts[key] for key in NOTHING_WRONG}

    def stored(self) -> int:
        return Document.objects.filter(source__in=self.sources).count()


def tagged_load(feed_server, *, feeds: int, per_feed: int) -> Load:
    """Feeds of tagged items; the first item of the first feed announces the launch of the locked event."""
    tag = uuid.uuid4().hex[:8]
    items = generate_items(feeds * per_feed, tag, random.Random(tag), launch_share=0.02)
    items[0] = {**items[0], "title": LAUNCH[0], "description": LAUNCH[1]}
    sources = []
    for n in range(feeds):
        path = f"/fault/{tag}/{n}.xml"
        feed_server.add(path, render_rss(f"Fault feed {n}", items[n * per_feed:(n + 1) * per_feed]))
        sources.append(Source.objects.create(name=f"fault {tag} #{n}", url=feed_server.url(path), enabled=False))
    return Load(tag, sources, len(items), feeds * -(-per_feed // BATCH_SIZE))


def launch_event() -> TGEEvent:
    """The event of LAUNCH, made beforehand so the test can lock its row: persist of the first batch waits there."""
    found = pipeline.engine().match(MatchInput(title=LAUNCH[0], text=LAUNCH[1]))
    return TGEEvent.objects.create(key=event_key(found.project, found.ticker), project=found.project,
                                   ticker=found.ticker or "")


def lock_event(event: TGEEvent) -> RowLock:
    return RowLock(database_url_for_processes(), "SELECT id FROM api_tgeevent WHERE id = %s FOR UPDATE", (event.pk,))


def persist_waiting(lock: RowLock) -> tuple[int, int]:
    """Wait until a persist transaction is blocked on the locked event row; its (backend pid, client port)."""
    backend, port, query = lock.wait_for_waiter(60)
    assert '"api_tgeevent"' in query and "FOR UPDATE" in query, query  # _store_mentions, after the documents
    return backend, port


def held_by_broker(broker) -> list[str]:
    """Tasks of the messages Redis still holds: unacked (running, or waiting for a retry's countdown) or queued."""
    unacked = [json.loads(entry)[0] for entry in broker.hvals("unacked")]
    queued = [json.loads(entry) for queue in PIPELINE_QUEUES for entry in broker.lrange(queue, 0, -1)]
    return [message["headers"]["task"] for message in unacked + queued]


def log_lines(log: str, *parts: str) -> list[str]:
    return [line for line in log.splitlines() if all(part in line for part in parts)]


def sweep(load: Load, broker_url: str) -> int:
    with app.connection_for_write(broker_url) as conn:
        return sweeps.start_sweep([s.pk for s in load.sources], connection=conn)


def assert_drained(run_id: int, load: Load, worker, timeout: float = 60) -> None:
    """The sweep finished; every tagged item is stored once, every batch counted once, events not double counted."""
    assert sweeps.wait_for_sweep(run_id, timeout=timeout, poll=0.1), worker.log_text()[-4000:]
    assert load.ledger() == NOTHING_WRONG
    ledger = SweepSource.objects.filter(run_id=run_id).aggregate(expected=Sum("batches_expected"),
                                                                  done=Sum("batches_done"))
    assert ledger["done"] == ledger["expected"] == load.batches
    assert PipelineBatch.objects.filter(source__in=load.sources).count() == load.batches
    event = TGEEvent.objects.get(ticker="QSN")
    assert (event.mention_count, event.source_count) == (1, 1)
    assert TGEEvent.objects.aggregate(n=Sum("mention_count"))["n"] == Mention.objects.count()


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own (appendonly, fsync always): the test may kill and restart it."""
    with RedisServer(tmp_path / "redis", appendonly=True) as server:
        yield server


@pytest.fixture
def worker_on(start_worker, private_redis):
    def start(**env: str):
        return start_worker(REDIS_URL=private_redis.url, CELERY_BROKER_URL=private_redis.url,
                            SCRAPING_BATCH_SIZE=str(BATCH_SIZE), **env)

    return start


def test_fault_1_kill_9_of_a_worker_child_mid_persist(feed_server, private_redis, worker_on):
    """Fault 1: the child running persist dies inside the transaction; the batch is redelivered and stored once."""
    load = tagged_load(feed_server, feeds=1, per_feed=60)
    event = launch_event()
    worker = worker_on()
    with lock_event(event) as lock:
        run_id = sweep(load, private_redis.url)
        _, port = persist_waiting(lock)
        child = process_with_local_port(worker.process.pid, port)
        assert child is not None and child.pid != worker.process.pid
        kill_processes([child])
    assert_drained(run_id, load, worker)
    log = worker.log_text()
    assert f"pid:{child.pid} exited with 'signal 9 (SIGKILL)'" in log
    assert len(log_lines(log, "Task workers.tasks.persist_results[", "] received")) == load.batches + 1  # one twice


def test_fault_2_kill_9_of_the_whole_worker(feed_server, private_redis, worker_on):
    """Fault 2: main process and children die; their unacked messages come back after the visibility timeout."""
    load = tagged_load(feed_server, feeds=1, per_feed=60)
    event = launch_event()
    worker = worker_on(CELERY_VISIBILITY_TIMEOUT="3")
    with lock_event(event) as lock:
        run_id = sweep(load, private_redis.url)
        _, port = persist_waiting(lock)
        assert process_with_local_port(worker.process.pid, port) is not None
        kill_processes(worker_processes(worker.process.pid))
    broker = private_redis.client()
    assert "workers.tasks.persist_results" in held_by_broker(broker) and broker.hlen("unacked")
    oldest = min(score for _, score in broker.zrange("unacked_index", 0, -1, withscores=True))
    wait_until(lambda: time.time() > oldest + 3.5, 10)

    successor = worker_on(CELERY_VISIBILITY_TIMEOUT="3")
    assert_drained(run_id, load, successor)
    wait_until(lambda: not held_by_broker(broker), 10, message="messages left in Redis")  # notify may still run


def test_fault_4_redis_restarted_under_load(feed_server, private_redis, worker_on):
    """Fault 4: the broker (and cache) restarts while batches flow; nothing is lost, duplicated or unexpected.
    The restart pauses clients first (CLIENT PAUSE ALL), then SIGTERM: with a bare SIGTERM (or kill -9) Redis may
    not send the reply of a BRPOP it served in its last loop turn, and that message, popped but never delivered, is
    lost to kombu's Redis transport (seen in about 1 restart in 20 under this load)."""
    load = tagged_load(feed_server, feeds=6, per_feed=100)
    worker = worker_on(CELERY_VISIBILITY_TIMEOUT="5")
    run_id = sweep(load, private_redis.url)
    wait_until(lambda: load.stored() > 0, 60, message="nothing stored")
    private_redis.client().execute_command("CLIENT", "PAUSE", "10000", "ALL")  # nothing more is pushed or popped
    time.sleep(0.3)  # replies already served reach their workers
    private_redis.stop()
    stored_at_restart = load.stored()
    time.sleep(1.5)
    private_redis.start()
    assert 0 < stored_at_restart < load.docs
    assert_drained(run_id, load, worker)
    assert "Connection to broker lost" in worker.log_text()


def test_fault_5_postgresql_unavailable_for_a_while(feed_server, private_redis, worker_on):
    """Fault 5: the worker's database goes away mid-persist for a few seconds; persist retries with backoff,
    nothing of the batch is kept uncommitted, and the pipeline catches up once the database is back."""
    real = urlsplit(database_url_for_processes())
    with TcpProxy((real.hostname, real.port or 5432)) as proxy:
        proxied = urlunsplit(real._replace(netloc=real.netloc.replace(f":{real.port}", f":{proxy.port}")))
        load = tagged_load(feed_server, feeds=1, per_feed=60)
        event = launch_event()
        worker = worker_on(DATABASE_URL=proxied)
        with lock_event(event) as lock:
            run_id = sweep(load, private_redis.url)
            persist_waiting(lock)
            proxy.cut()
        wait_until(lambda: log_lines(worker.log_text(), "workers.tasks.persist_results[", "retry: Retry in",
                                     "OperationalError"), 20, message="persist did not retry")
        # The transaction died with its connection: nothing of it is committed, and its message is not acked.
        assert not Document.objects.filter(source__in=load.sources, title=LAUNCH[0]).exists()
        wait_until(lambda: "workers.tasks.persist_results" in held_by_broker(private_redis.client()), 5,
                   message="the persist message left Redis before its batch was committed")
        time.sleep(3)  # the database stays away while the retries back off
        proxy.restore()
        assert_drained(run_id, load, worker)


