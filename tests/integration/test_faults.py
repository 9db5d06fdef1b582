"""Faults on real processes (a worker killed mid-persist, the broker restarted, PostgreSQL away): a celery worker on
a private broker — a ``redis-server``, or a RabbitMQ node with a private ``redis-server`` as cache — and the test
database, tagged feeds served on 127.0.0.1, and the Jepsen-style ledger of ``tgesweeper.bench.pipeline_benchmark``
(lost, duplicated, unexpected) once the sweep has drained. A persist is caught mid-transaction by a row lock the test
holds on the one event its batch must update, so a kill or a cut lands inside persist, not at a time one hopes for."""
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
from tests.processes import (
    RabbitMQServer,
    RedisServer,
    RowLock,
    TcpProxy,
    kill_processes,
    process_with_local_port,
    wait_until,
    worker_processes,
)
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


class RedisBroker:
    """The private redis-server as broker (and cache)."""

    def __init__(self, server: RedisServer):
        self.server, self.url = server, server.url

    def holds(self, task: str) -> bool:
        return task in held_by_broker(self.server.client())

    def holds_nothing(self) -> bool:
        return not held_by_broker(self.server.client())

    def wait_for_redelivery(self, visibility_timeout: float) -> None:
        """Messages of a dead worker stay unacked in Redis until the visibility timeout has passed."""
        client = self.server.client()
        assert client.hlen("unacked")
        oldest = min(score for _, score in client.zrange("unacked_index", 0, -1, withscores=True))
        wait_until(lambda: time.time() > oldest + visibility_timeout + 0.5, visibility_timeout + 10)

    def settle(self, task: str) -> None:
        """Wait until the broker holds nothing but ``task``'s message (unacked: it is running): with acks_late no other
        task runs then, nothing is pushed and so nothing popped. kombu's Redis transport records a message as unacked
        only after its BRPOP returned: a message popped in the instant its worker dies is lost (the gap
        docs/operations.md describes). The kill tests settle first, so that they prove the recovery they are about,
        not that gap (a pause does not close it: it holds back the worker's own HSET of the popped message too)."""
        client = self.server.client()
        wait_until(lambda: held_by_broker(client) == [task], 30, message=f"the broker holds more than {task}")

    def quiesce(self, seconds: float) -> None:
        """Serve no command for ``seconds`` (CLIENT PAUSE ALL: nothing is pushed or popped), and wait until the replies
        Redis has already sent have reached their workers. kombu's Redis transport records a message as unacked only
        after its BRPOP returned: a message popped in the instant a worker or Redis dies is lost (the gap
        docs/operations.md describes). A planned restart pauses clients first; the tests do so before a fault, so that
        they prove the recovery they are about, not that gap."""
        self.server.client().execute_command("CLIENT", "PAUSE", str(int(seconds * 1000)), "ALL")
        time.sleep(1.0)

    def stop(self) -> None:
        self.quiesce(10)
        self.server.stop()

    def start(self) -> None:
        self.server.start()


class RabbitMQBroker:
    """A private RabbitMQ node as broker (the private redis-server stays the cache)."""

    def __init__(self, server: RabbitMQServer):
        self.server, self.url = server, server.url

    def _held(self) -> dict[str, int]:
        """Pipeline queues and the delayed-delivery queues where a retry waits out its countdown, by depth."""
        return {name: depth for name, depth in self.server.queue_depths().items()
                if name in PIPELINE_QUEUES or name.startswith("celery_delayed_")}

    def holds(self, task: str) -> bool:
        held = self._held()
        return held.get(app.conf.task_routes[task]["queue"], 0) > 0 or any(
            depth for name, depth in held.items() if name.startswith("celery_delayed_"))

    def holds_nothing(self) -> bool:
        return not any(self._held().values())

    def wait_for_redelivery(self, visibility_timeout: float) -> None:
        """Nothing to wait for: RabbitMQ hands a message back the moment its consumer's connection drops."""

    def settle(self, task: str) -> None:
        """Nothing to wait for: a message RabbitMQ delivered stays unacked on the broker, whatever the moment of a
        crash."""

    def quiesce(self, seconds: float) -> None:
        """Nothing to do: a message RabbitMQ delivered stays unacked on the broker, whatever the moment of a crash."""

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request, private_redis):
    if request.param == "redis":
        yield RedisBroker(private_redis)
        return
    if not RabbitMQServer.installed():
        pytest.skip("rabbitmq-server is not installed (.ci/run installs it)")
    with RabbitMQServer() as server:
        yield RabbitMQBroker(server)


@pytest.fixture
def worker_on(start_worker, private_redis, broker):
    def start(**env: str):
        return start_worker(REDIS_URL=private_redis.url, CELERY_BROKER_URL=broker.url,
                            SCRAPING_BATCH_SIZE=str(BATCH_SIZE), **env)

    return start


def test_fault_1_kill_9_of_a_worker_child_mid_persist(feed_server, broker, worker_on):
    """Fault 1: the child running persist dies inside the transaction; the batch is redelivered and stored once."""
    load = tagged_load(feed_server, feeds=1, per_feed=60)
    event = launch_event()
    worker = worker_on()
    with lock_event(event) as lock:
        run_id = sweep(load, broker.url)
        _, port = persist_waiting(lock)
        child = process_with_local_port(worker.process.pid, port)
        assert child is not None and child.pid != worker.process.pid
        kill_processes([child])
    assert_drained(run_id, load, worker)
    log = worker.log_text()
    assert f"pid:{child.pid} exited with 'signal 9 (SIGKILL)'" in log
    assert len(log_lines(log, "Task workers.tasks.persist_results[", "] received")) == load.batches + 1  # one twice


def test_fault_2_kill_9_of_the_whole_worker(feed_server, broker, worker_on):
    """Fault 2: main process and children die; their unacked messages come back (on Redis after the visibility
    timeout, on RabbitMQ as soon as the dead worker's connection drops)."""
    load = tagged_load(feed_server, feeds=1, per_feed=60)
    event = launch_event()
    worker = worker_on(CELERY_VISIBILITY_TIMEOUT="3")
    with lock_event(event) as lock:
        run_id = sweep(load, broker.url)
        _, port = persist_waiting(lock)
        assert process_with_local_port(worker.process.pid, port) is not None
        broker.settle("workers.tasks.persist_results")
        kill_processes(worker_processes(worker.process.pid))
    wait_until(lambda: broker.holds("workers.tasks.persist_results"), 10, message="the broker lost the persist")
    broker.wait_for_redelivery(3)

    successor = worker_on(CELERY_VISIBILITY_TIMEOUT="3")
    assert_drained(run_id, load, successor)
    wait_until(broker.holds_nothing, 10, message="messages left in the broker")  # notify may still run


def test_fault_4_broker_restarted_under_load(feed_server, broker, worker_on):
    """Fault 4: the broker (on Redis, the cache too) restarts while batches flow; nothing is lost, duplicated or
    unexpected."""
    load = tagged_load(feed_server, feeds=6, per_feed=100)
    worker = worker_on(CELERY_VISIBILITY_TIMEOUT="5")
    run_id = sweep(load, broker.url)
    wait_until(lambda: load.stored() > 0, 60, message="nothing stored")
    broker.stop()
    stored_at_restart = load.stored()
    time.sleep(1.5)
    broker.start()
    assert 0 < stored_at_restart < load.docs
    assert_drained(run_id, load, worker)
    assert "Connection to broker lost" in worker.log_text()


def test_fault_5_postgresql_unavailable_for_a_while(feed_server, broker, worker_on):
    """Fault 5: the worker's database goes away mid-persist for a few seconds; persist retries with backoff,
    nothing of the batch is kept uncommitted, and the pipeline catches up once the database is back."""
    real = urlsplit(database_url_for_processes())
    with TcpProxy((real.hostname, real.port or 5432)) as proxy:
        proxied = urlunsplit(real._replace(netloc=real.netloc.replace(f":{real.port}", f":{proxy.port}")))
        load = tagged_load(feed_server, feeds=1, per_feed=60)
        event = launch_event()
        worker = worker_on(DATABASE_URL=proxied)
        with lock_event(event) as lock:
            run_id = sweep(load, broker.url)
            persist_waiting(lock)
            proxy.cut()
        wait_until(lambda: log_lines(worker.log_text(), "workers.tasks.persist_results[", "retry: Retry in",
                                     "OperationalError"), 20, message="persist did not retry")
        # The transaction died with its connection: nothing of it is committed, and its message is not acked.
        assert not Document.objects.filter(source__in=load.sources, title=LAUNCH[0]).exists()
        wait_until(lambda: broker.holds("workers.tasks.persist_results"), 5,
                   message="the persist message left the broker before its batch was committed")
        time.sleep(3)  # the database stays away while the retries back off
        proxy.restore()
        assert_drained(run_id, load, worker)


