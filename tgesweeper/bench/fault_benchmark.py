"""Faults of the reliability list on real processes under load, one row each (``benchmark faults``).

Each fault gets a fresh private broker — a ``redis-server`` (broker and cache), or a RabbitMQ node with a private
``redis-server`` as cache — real ``celery worker`` processes on the configured PostgreSQL database, and feeds of tagged
items served on 127.0.0.1. After the fault the sweep drains and the ledger of ``pipeline_benchmark`` counts like
Jepsen's total-queue checker: ``lost`` (tags never stored), ``duplicated`` (stored or mentioned twice), ``unexpected``
(stored rows of the load's sources without a tag). ``recover_seconds`` runs from the fault's first blow (the kill, the
stop, the cut; for a planted bug, the sweep's start) to the last batch of the sweep stored.

A persist is caught mid-transaction by a row lock held on the one event its batch must update, so a kill or a cut lands
inside persist, not at a time one hopes for. ``tests/integration/test_faults.py`` runs the same scenarios and checks
more of what they leave behind.
"""
from __future__ import annotations

import json
import os
import random
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import psutil
from celery import Celery
from django.conf import settings
from django_celery_beat.models import PeriodicTask

from api.models import DeadLetter, Document, PipelineFailure, Source, SweepRun, TGEEvent
from celeryconfig import PIPELINE_QUEUES, WORKER_QUEUES
from tgesweeper.bench.fake_x_api import TOKEN as X_TOKEN
from tgesweeper.bench.fake_x_api import FakeXAPI, reset_in
from tgesweeper.bench.feedserver import FeedServer, render_rss
from tgesweeper.bench.latency_benchmark import LocalBeat
from tgesweeper.bench.local_process import database_url_for_processes
from tgesweeper.bench.local_worker import LocalWorker
from tgesweeper.bench.pipeline_benchmark import SYLLABLES, count_ledger, generate_items
from tgesweeper.bench.processes import (
    RabbitMQServer,
    RedisServer,
    RowLock,
    TcpProxy,
    kill_processes,
    process_with_local_port,
    wait_until,
    worker_processes,
)
from tgesweeper.celery import app
from tgesweeper.matching import MatchInput
from tgesweeper.matching.events import event_key
from tgesweeper.sources.x_api import DEFAULT_MAX_RESULTS as X_PAGE
from workers import pipeline, sweeps
from workers.schedule import FETCH_TASK

BATCH_SIZE = 10
POISON = "[fault 9: raises in match]"  # the planted bug of ``item_fault`` raises on an item whose title has it
PERSIST = "workers.tasks.persist_results"
COUNTED = ("lost", "duplicated", "unexpected")


# --- the load -------------------------------------------------------------------------------------------------------

@dataclass
class Load:
    """Tagged feed items on the feed server, one disabled Source per feed. The first item announces ``launch``, a
    project of the load's own, whose event a fault may lock beforehand."""

    tag: str
    sources: list[Source]
    docs: int
    batches: int
    launch: tuple[str, str] = ("", "")
    id_prefix: str | None = None  # of the items' external ids, when they are not generated feed items
    made_events: list[int] = field(default_factory=list)

    def ledger(self) -> dict[str, int]:
        counts = count_ledger(self.sources, self.tag, self.docs, id_prefix=self.id_prefix)
        return {key: counts[key] for key in COUNTED}

    def stored(self) -> int:
        return Document.objects.filter(source__in=self.sources).count()

    def launch_event(self) -> TGEEvent:
        """The event of ``launch``, made beforehand so its row can be locked: persist of the first batch waits there."""
        found = pipeline.engine().match(MatchInput(title=self.launch[0], text=self.launch[1]))
        assert found is not None, f"the engine sees no launch in {self.launch[0]!r}"
        event = TGEEvent.objects.create(key=event_key(found.project, found.ticker), project=found.project,
                                        ticker=found.ticker or "")
        self.made_events.append(event.pk)
        return event

    def remove(self) -> None:
        """Everything the load left in the database: its sources (their documents, mentions, batches, ledger rows go
        with them), its sweep runs, failures and dead letters, and the events only its documents mention (or that it
        made beforehand and nothing mentions)."""
        ids = [s.pk for s in self.sources]
        runs = list(SweepRun.objects.filter(sources__source_id__in=ids).values_list("pk", flat=True).distinct())
        events = [*TGEEvent.objects.filter(mentions__source_id__in=ids).values_list("pk", flat=True).distinct(),
                  *self.made_events]
        PipelineFailure.objects.filter(source_id__in=ids).delete()
        DeadLetter.objects.filter(args__0__in=ids).delete()
        Source.objects.filter(pk__in=ids).delete()
        SweepRun.objects.filter(pk__in=runs).delete()
        TGEEvent.objects.filter(pk__in=events, mentions__isnull=True).delete()


def tagged_load(rig: Rig, *, feeds: int, per_feed: int, launch_share: float = 0.0,
                poison: bool = False) -> Load:
    """``feeds`` feeds of ``per_feed`` tagged items; with ``poison`` the last item's title carries the planted bug's
    marker (``POISON``)."""
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    items = generate_items(feeds * per_feed, tag, rng, launch_share=launch_share)
    name = "".join(rng.choice(SYLLABLES) for _ in range(4)).capitalize() + " Network"
    ticker = name[:4].upper()
    launch = (f"{name} to launch {ticker} token on December 4, 2026",
              f"{name} said the token generation event for its {ticker} token will take place on December 4, 2026.")
    items[0] = {**items[0], "title": launch[0], "description": launch[1]}
    if poison:
        items[-1] = {**items[-1], "title": f"{items[-1]['title']} {POISON}"}
    sources = []
    for n in range(feeds):
        path = f"/fault/{tag}/{n}.xml"
        rig.feeds.add(path, render_rss(f"Fault feed {n}", items[n * per_feed:(n + 1) * per_feed]))
        sources.append(Source.objects.create(name=f"fault {tag} #{n}", url=rig.feeds.url(path), enabled=False))
    load = Load(tag, sources, len(items), feeds * -(-per_feed // BATCH_SIZE), launch)
    rig.loads.append(load)
    return load


def lock_event(event: TGEEvent) -> RowLock:
    return RowLock(database_url_for_processes(), "SELECT id FROM api_tgeevent WHERE id = %s FOR UPDATE", (event.pk,))


def persist_waiting(lock: RowLock) -> tuple[int, int]:
    """Wait until a persist transaction is blocked on the locked event row; its (backend pid, client port)."""
    backend, port, query = lock.wait_for_waiter(60)
    assert '"api_tgeevent"' in query and "FOR UPDATE" in query, query  # _store_mentions, after the documents
    return backend, port


def log_lines(log: str, *parts: str) -> list[str]:
    return [line for line in log.splitlines() if all(part in line for part in parts)]


# --- the brokers ----------------------------------------------------------------------------------------------------

def held_by_broker(broker) -> list[str]:
    """Tasks of the messages Redis still holds: unacked (running, or waiting for a retry's countdown) or queued."""
    unacked = [json.loads(entry)[0] for entry in broker.hvals("unacked")]
    queued = [json.loads(entry) for queue in PIPELINE_QUEUES for entry in broker.lrange(queue, 0, -1)]
    return [message["headers"]["task"] for message in unacked + queued]


class Broker(Protocol):
    url: str

    def holds(self, task: str) -> bool: ...
    def holds_nothing(self) -> bool: ...
    def wait_for_redelivery(self, visibility_timeout: float) -> None: ...
    def settle(self, task: str) -> None: ...
    def stop(self) -> None: ...
    def start(self) -> None: ...


BRPOP_SECONDS = 1  # how long kombu's Redis transport waits in one BRPOP


class RedisBroker:
    """A private redis-server as broker (and cache)."""

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
        entries: Any = client.zrange("unacked_index", 0, 0, withscores=True)  # the oldest, with its score
        oldest = float(entries[0][1])
        wait_until(lambda: time.time() > oldest + visibility_timeout + 0.5, visibility_timeout + 10)

    def settle(self, task: str) -> None:
        """Wait until the broker holds nothing but ``task``'s message (unacked: it is running): with acks_late no other
        task runs then, nothing is pushed and so nothing popped. kombu's Redis transport records a message as unacked
        only after its BRPOP returned: a message popped in the instant its worker dies is lost (the gap
        docs/operations.md describes). The kill faults settle first, so that they prove the recovery they are about,
        not that gap (a pause does not close it: it holds back the worker's own HSET of the popped message too)."""
        client = self.server.client()
        wait_until(lambda: held_by_broker(client) == [task], 30, message=f"the broker holds more than {task}")

    def stop(self) -> None:
        """A planned restart: the workers stop taking messages first, so that none is popped in the instant Redis
        goes away (the gap of ``settle``; a CLIENT PAUSE would hold back the worker's own record of a message it had
        just popped). What runs meanwhile goes on; what is queued or unacked is in the AOF."""
        self._consumers("cancel_consumer")
        time.sleep(BRPOP_SECONDS + 1)  # a pop already waiting ends; a message it returns is put back
        self.server.stop()

    def start(self) -> None:
        self.server.start()
        self._consumers("add_consumer")

    def _consumers(self, command: str) -> None:
        """The rig's worker (fault 4 starts one) stops (``cancel_consumer``) or starts again (``add_consumer``)
        taking each of its queues; asked until it answers (after a restart, once it has reconnected), and no longer:
        the load must still flow when Redis stops. The control commands go through an app of this broker's own: the
        app's mailbox publishes on its configured broker whatever connection it is given."""
        control_app = Celery("tgesweeper", set_as_current=False)
        control_app.config_from_object("celeryconfig")
        control_app.conf.broker_url = self.url
        control = getattr(control_app.control, command)
        with control_app.connection_for_write() as connection:
            unreachable = connection.connection_errors + connection.channel_errors

        def answered(queue: str) -> bool:
            try:
                return bool(control(queue, reply=True, timeout=1, limit=1))
            except unreachable:  # Redis is still starting
                return False

        try:
            for queue in WORKER_QUEUES:
                wait_until(lambda queue=queue: answered(queue), 60, message=f"no worker answered {command} {queue}")
        finally:
            control_app.close()


class RabbitMQBroker:
    """A private RabbitMQ node as broker (a private redis-server stays the cache)."""

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

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


# --- the faults -----------------------------------------------------------------------------------------------------

StartWorker = Callable[..., LocalWorker]


@dataclass
class Rig:
    """What a fault runs on. ``start_worker(app="tgesweeper", **env)`` starts a real worker (two pool processes) on
    the rig's broker, with the private redis-server as cache, batches of BATCH_SIZE and ``env`` on top."""

    broker: Broker
    feeds: FeedServer
    start_worker: StartWorker
    stack: ExitStack  # what a fault starts on the side (a TCP proxy, beats) lives until the workers have stopped
    loads: list[Load] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # the workers' environment (broker, cache, database)
    directory: Path = Path(tempfile.gettempdir())  # logs

    def sweep(self, sources: list[Source]) -> int:
        """A sweep of ``sources``, sent on the rig's broker; its run id."""
        with app.connection_for_write(self.broker.url) as conn:
            return sweeps.start_sweep([s.pk for s in sources], connection=conn)


@dataclass
class FaultRun:
    """A fault under way: its load and sweep, the worker that is to drain it, when the fault struck, and what the
    scenario saw on the way (``seen``)."""

    load: Load
    run_id: int | None  # the sweep to wait for; None: wait until the load is stored
    worker: LocalWorker
    struck: float
    seen: dict = field(default_factory=dict)
    recovered: float | None = None  # when the fault was over, if not when the load is drained
    check: Callable[[], None] | None = None  # what must hold once drained, beyond the ledger (raises if not)

    def drained(self, timeout: float = 120.0) -> bool:
        if self.run_id is None:
            deadline = time.monotonic() + timeout
            while self.load.stored() < self.load.docs and time.monotonic() < deadline:
                time.sleep(0.1)
            return self.load.stored() >= self.load.docs
        return sweeps.wait_for_sweep(self.run_id, timeout=timeout, poll=0.1)


def kill_worker_child_mid_persist(rig: Rig, *, docs: int = 60) -> FaultRun:
    """Fault 1: the pool child running persist dies inside the transaction; the batch is redelivered."""
    load = tagged_load(rig, feeds=1, per_feed=docs, launch_share=0.02)
    event = load.launch_event()
    worker = rig.start_worker()
    with lock_event(event) as lock:
        run_id = rig.sweep(load.sources)
        _, port = persist_waiting(lock)
        child = process_with_local_port(worker.pid, port)
        assert child is not None and child.pid != worker.pid, "persist is not running in a pool child"
        struck = time.monotonic()
        kill_processes([child])
    return FaultRun(load, run_id, worker, struck, {"child_pid": child.pid, "event": event})


def kill_whole_worker(rig: Rig, *, docs: int = 60) -> FaultRun:
    """Fault 2: main process and children die mid-persist; their unacked messages come back (on Redis after the
    visibility timeout, on RabbitMQ as soon as the dead worker's connection drops) to a successor worker."""
    load = tagged_load(rig, feeds=1, per_feed=docs, launch_share=0.02)
    event = load.launch_event()
    worker = rig.start_worker(CELERY_VISIBILITY_TIMEOUT="3")
    with lock_event(event) as lock:
        run_id = rig.sweep(load.sources)
        _, port = persist_waiting(lock)
        assert process_with_local_port(worker.pid, port) is not None
        rig.broker.settle(PERSIST)
        struck = time.monotonic()
        kill_processes(worker_processes(worker.pid))
    wait_until(lambda: rig.broker.holds(PERSIST), 10, message="the broker lost the persist")
    rig.broker.wait_for_redelivery(3)
    successor = rig.start_worker(CELERY_VISIBILITY_TIMEOUT="3")
    return FaultRun(load, run_id, successor, struck, {"event": event})


def poison_message(rig: Rig, *, docs: int = 60) -> FaultRun:
    """Fault 3: a fetch that kills its worker every time (here: the pool child is killed each time it arrives)
    is delivered TASK_MAX_DELIVERIES times, then parked as a dead letter; the load around it is stored."""
    arrived = threading.Event()

    def hang(handler):  # the fetch sits here until its pool child is killed
        arrived.set()
        rig.feeds.stall(handler)

    load = tagged_load(rig, feeds=2, per_feed=max(1, docs // 2))
    path = f"/fault/{load.tag}/deadly.xml"
    rig.feeds.add_route(path, hang)
    deadly = Source.objects.create(name=f"fault {load.tag} deadly", url=rig.feeds.url(path), enabled=False)
    deliveries = settings.CONFIG["TASK_MAX_DELIVERIES"]
    worker = rig.start_worker()
    main = psutil.Process(worker.pid)
    run_id = rig.sweep(load.sources)
    with app.connection_for_write(rig.broker.url) as conn:  # outside the sweep: a parked fetch never finishes a source
        app.send_task("workers.tasks.fetch_source", args=[deadly.pk], connection=conn)
    load.sources.append(deadly)  # removed with the load; it stores nothing, so the ledger is unchanged
    struck = 0.0
    for _ in range(deliveries):
        if not arrived.wait(60):
            raise AssertionError(f"the deadly fetch did not come back:\n{worker.log_text()[-3000:]}")
        arrived.clear()
        struck = struck or time.monotonic()
        for child in main.children(recursive=True):
            if any(c.raddr and c.raddr[1] == rig.feeds.port for c in child.net_connections(kind="tcp")):
                os.kill(child.pid, signal.SIGKILL)
    wait_until(lambda: DeadLetter.objects.filter(args__0=deadly.pk).exists(), 60,
               message="the poison message was not parked")
    letter = DeadLetter.objects.get(args__0=deadly.pk)
    assert (letter.task_name, letter.deliveries) == ("workers.tasks.fetch_source", deliveries), letter
    assert rig.feeds.hits[path] == deliveries, "the parked message was run once more"
    return FaultRun(load, run_id, worker, struck, {"dead_letter": letter})


def restart_broker(rig: Rig, *, docs: int = 600) -> FaultRun:
    """Fault 4: the broker (on Redis, the cache too) restarts while batches flow."""
    load = tagged_load(rig, feeds=6, per_feed=max(1, docs // 6), launch_share=0.02)
    worker = rig.start_worker(CELERY_VISIBILITY_TIMEOUT="5")
    run_id = rig.sweep(load.sources)
    wait_until(lambda: load.stored() > 0, 60, message="nothing stored")
    struck = time.monotonic()
    rig.broker.stop()
    stored_at_restart = load.stored()
    time.sleep(1.5)
    rig.broker.start()
    return FaultRun(load, run_id, worker, struck, {"stored_at_restart": stored_at_restart})


def cut_postgresql(rig: Rig, *, docs: int = 60, outage: float = 3.0) -> FaultRun:
    """Fault 5: the worker's database goes away mid-persist for ``outage`` seconds; persist retries with backoff,
    nothing of the batch is committed and its message stays on the broker until the database is back."""
    proxy = rig.stack.enter_context(TcpProxy(database_url_for_processes()))
    load = tagged_load(rig, feeds=1, per_feed=docs, launch_share=0.02)
    event = load.launch_event()
    worker = rig.start_worker(DATABASE_URL=proxy.url)
    with lock_event(event) as lock:
        run_id = rig.sweep(load.sources)
        persist_waiting(lock)
        struck = time.monotonic()
        proxy.cut()
    wait_until(lambda: log_lines(worker.log_text(), f"{PERSIST}[", "retry: Retry in", "OperationalError"), 20,
               message="persist did not retry")
    committed = Document.objects.filter(source__in=load.sources, title=load.launch[0]).exists()
    assert not committed, "the cut transaction committed its documents"
    wait_until(lambda: rig.broker.holds(PERSIST), 5,
               message="the persist message left the broker before its batch was committed")
    time.sleep(max(0.0, outage - (time.monotonic() - struck)))  # the database stays away while the retries back off
    proxy.restore()
    return FaultRun(load, run_id, worker, struck, {"event": event})


def two_beats(rig: Rig, *, docs: int = 60, interval: int = 5, intervals: int = 3) -> FaultRun:
    """Fault 6: two ``celery beat`` processes by mistake, both on the database's schedule. The load's one source is
    enabled with an ``interval``-second schedule (adaptive polling off); while both beats run for ``intervals``
    intervals the source is fetched at most once an interval (the claim in the cache), the second beat's runs are
    skipped, and every item is stored once. Recovery counts from the start of the beats to the load stored."""
    others = PeriodicTask.objects.filter(enabled=True, task=FETCH_TASK).count()
    if others:
        raise RuntimeError(f"fault 6 runs two beats, which would fetch the {others} enabled sources of this database "
                           "too: run it on a database of its own, or leave it out with --faults")
    load = tagged_load(rig, feeds=1, per_feed=docs)
    source, path = load.sources[0], urlsplit(load.sources[0].url).path
    source.enabled, source.interval_seconds = True, interval
    source.save()  # its PeriodicTask follows; an interval under ADAPTIVE_POLL_MIN_SECONDS is never adapted
    worker = rig.start_worker(ADAPTIVE_POLLING="false")
    beats = [LocalBeat(env={**os.environ, **rig.env, "ADAPTIVE_POLLING": "false"}, log_path=rig.directory / f"beat-{n}.log",
                       pidfile=rig.directory / f"beat-{n}.pid") for n in range(2)]
    struck = time.monotonic()
    for beat in beats:
        rig.stack.callback(beat.stop)
        beat.start()
    before = rig.feeds.hits[path]  # the first beat may have fetched already
    wait_until(lambda: load.stored() >= load.docs, 60, message="the beats' fetch stored nothing")
    recovered = time.monotonic()
    time.sleep(interval * intervals + 2)
    for beat in beats:
        beat.stop()
    fetched = rig.feeds.hits[path] - before
    skipped = log_lines(worker.log_text(), "already fetched in this interval")
    assert 1 <= fetched <= intervals + 1, f"{fetched} fetches in {intervals} intervals of two beats"
    assert skipped, "no second run was skipped: did both beats send?"
    return FaultRun(load, None, worker, struck, {"fetched": fetched, "skipped": len(skipped)}, recovered=recovered)


def slow_source(rig: Rig, *, docs: int = 60, deadline: float = 2.0, rest: float = 3.0) -> FaultRun:
    """Fault 7: one feed of the load answers 1 byte/s. Each fetch ends at the total deadline (SCRAPING_TIMEOUT, here
    ``deadline``, one attempt a sweep) while the other feed is stored; CIRCUIT_BREAKER_FAILURE_THRESHOLD failed sweeps
    open its circuit, the next sweep does not fetch it, and once it answers again and the circuit has rested
    (``rest`` s) the trial fetch stores it and closes the circuit. Recovery counts from the moment it answers again."""
    per_feed = max(1, docs // 2)
    load = tagged_load(rig, feeds=2, per_feed=per_feed)
    slow, path = load.sources[1], urlsplit(load.sources[1].url).path
    rig.feeds.add_route(path, lambda handler: rig.feeds.stall(handler, every=1.0))
    worker = rig.start_worker(SCRAPING_TIMEOUT=str(deadline), SCRAPING_RETRY_MAX_ATTEMPTS="1",
                              CIRCUIT_BREAKER_RECOVERY_TIMEOUT=str(rest))
    threshold = settings.CONFIG["CIRCUIT_BREAKER_FAILURE_THRESHOLD"]
    for n in range(threshold + 1):
        started = time.monotonic()
        run_id = rig.sweep(load.sources if n == 0 else [slow])
        if not sweeps.wait_for_sweep(run_id, timeout=deadline + 30, poll=0.1):
            raise AssertionError(f"sweep {n + 1} of the slow source did not finish:\n{worker.log_text()[-3000:]}")
        slow.refresh_from_db()
        if n < threshold:
            assert time.monotonic() - started < deadline + 10, "the fetch outlived its deadline by far"
            assert slow.failure_count == n + 1, (n, slow.failure_count, slow.last_error)
    assert slow.circuit_state == "open" and rig.feeds.hits[path] == threshold, "the open circuit let a fetch through"
    assert load.stored() == per_feed, "the other feed was not stored meanwhile"
    rig.feeds.remove_route(path)
    struck = time.monotonic()
    wait_until(lambda: (time.time() - slow.circuit_opened_at.timestamp()) > rest + 0.2, rest + 5)
    run_id = rig.sweep([slow])

    def closed_again() -> None:
        slow.refresh_from_db()
        assert (slow.circuit_state, slow.failure_count) == ("closed", 0), (slow.circuit_state, slow.failure_count)

    return FaultRun(load, run_id, worker, struck, check=closed_again)


def x_answers_429(rig: Rig, *, docs: int = 60, reset: float = 6.0) -> FaultRun:
    """Fault 8: the X API (a local fake) answers 429 with ``x-rate-limit-reset`` ``reset`` s away. The fetch is put
    off to the reset as a retry with a countdown (the worker never sleeps on it: the task ends at once) and stores the
    tweets once the API answers again. Recovery counts from the first 429."""
    api = rig.stack.enter_context(FakeXAPI())
    tag = uuid.uuid4().hex[:8]
    first = random.Random(tag).randrange(10**8, 10**9)
    count = min(docs, X_PAGE)
    api.add_user("101", "faultwire")
    for i in range(count):
        api.tweet(int(f"{first}{i:04d}"), "101", f"Fault wire {tag} note {i}: markets were quiet on the day.")
    source = Source.objects.create(name=f"fault {tag} x", kind="x", enabled=False)
    load = Load(tag, [source], count, -(-count // BATCH_SIZE), id_prefix=f"x:{first}")
    rig.loads.append(load)
    worker = rig.start_worker(X_BEARER_TOKEN=X_TOKEN, X_API_BASE_URL=api.base_url)
    api.rate_limit_reset = reset_in(int(reset))
    run_id = rig.sweep([source])
    wait_until(lambda: api.log, 30, message="the X API was never asked")
    struck = time.monotonic()
    wait_until(lambda: log_lines(worker.log_text(), "fetch_source[", "retry: Retry in"), 10,
               message="the 429 was not put off as a retry")
    asked = len(api.log)
    wait_until(lambda: time.time() >= api.rate_limit_reset, reset + 5)
    assert len(api.log) == asked, "the X API was asked again before its reset"
    api.rate_limit_reset = None

    def no_failure() -> None:
        source.refresh_from_db()
        assert source.failure_count == 0, f"a 429 counted as a failure: {source.last_error}"

    return FaultRun(load, run_id, worker, struck, check=no_failure)


def item_raises_in_match(rig: Rig, *, docs: int = 60) -> FaultRun:
    """Fault 9: one item of a batch raises in match (a planted bug, ``item_fault``); it is recorded as a pipeline
    failure with its error and stored without a launch; the rest of its batch persists."""
    load = tagged_load(rig, feeds=1, per_feed=docs, launch_share=0.02, poison=True)
    worker = rig.start_worker(app="tgesweeper.bench.item_fault", TGE_FAULT_ITEM_MARKER=POISON)
    struck = time.monotonic()

    def failure_recorded() -> None:
        """Persist records a batch's failures just after its transaction commits: the sweep may finish first."""
        poisoned = f"bench-{load.tag}-{load.docs - 1}"
        failures = PipelineFailure.objects.filter(source__in=load.sources, stage="match", external_id=poisoned,
                                                  error__startswith="RuntimeError: injected fault")
        wait_until(failures.exists, 10, message="the item that raised was not recorded as a pipeline failure")

    return FaultRun(load, rig.sweep(load.sources), worker, struck, check=failure_recorded)


FAULTS: dict[int, tuple[str, Callable[..., FaultRun]]] = {
    1: ("1 kill -9 of a worker child mid-persist", kill_worker_child_mid_persist),
    2: ("2 kill -9 of the whole worker mid-persist", kill_whole_worker),
    3: ("3 poison message (kills its worker each time)", poison_message),
    4: ("4 broker restarted under load", restart_broker),
    5: ("5 PostgreSQL cut mid-persist for 3 s", cut_postgresql),
    6: ("6 two beats at once", two_beats),
    7: ("7 a source answering 1 byte/s (deadline, breaker)", slow_source),
    8: ("8 X answering 429 until its reset", x_answers_429),
    9: ("9 one item raises in match", item_raises_in_match),
}
# --- the harness ----------------------------------------------------------------------------------------------------

@contextmanager
def private_rig(broker: str, directory: Path) -> Iterator[Rig]:
    """A fresh private broker and cache, a feed server, and workers on them that are stopped at the end."""
    started: list[LocalWorker] = []
    loads: list[Load] = []
    with ExitStack() as stack:
        @stack.callback  # last, once the workers are gone
        def remove_loads() -> None:
            for load in loads:
                load.remove()

        cache = stack.enter_context(RedisServer(directory / "redis", appendonly=True))
        if broker == "rabbitmq":
            if not RabbitMQServer.installed():
                raise RuntimeError("rabbitmq-server is not installed (.ci/run installs it)")
            rig_broker: Broker = RabbitMQBroker(stack.enter_context(RabbitMQServer()))
        else:
            rig_broker = RedisBroker(cache)
        feeds = stack.enter_context(FeedServer())
        base_env = {
            "DATABASE_URL": database_url_for_processes(), "REDIS_URL": cache.url, "CELERY_BROKER_URL": rig_broker.url,
            "SCRAPING_ALLOW_PRIVATE_NETWORKS": "true", "NEWS_SCRAPER_RATE_LIMIT": "100000",
            "SCRAPING_BATCH_SIZE": str(BATCH_SIZE), "TGE_VAR_DIR": str(settings.CONFIG.var_dir),
        }

        def start_worker(app: str = "tgesweeper", **env: str) -> LocalWorker:
            n = len(started)
            worker = LocalWorker(env={**base_env, **env}, concurrency=2, app=app, name=f"faults{n}",
                                 log_path=directory / f"worker-{n}.log")
            started.append(worker)
            return worker.start()

        side = stack.enter_context(ExitStack())  # a fault's own servers (a TCP proxy), closed after the workers stop

        @stack.callback
        def stop_workers() -> None:
            for worker in started:
                worker.stop()

        yield Rig(rig_broker, feeds, start_worker, side, loads, base_env, directory)


def run_fault(number: int, broker: str = "redis", *, docs: int | None = None) -> dict:
    """One row: the fault's load swept through it on a private rig, drained, counted, and removed again. A load that
    never drains is counted as it stands, with ``recover_seconds`` None (it did not recover)."""
    name, scenario = FAULTS[number]
    with tempfile.TemporaryDirectory(prefix="tge-faults-") as tmp, private_rig(broker, Path(tmp)) as rig:
        run = scenario(rig, **({"docs": docs} if docs else {}))
        finished = run.drained()
        recovered = (run.recovered or time.monotonic()) - run.struck
        if finished and run.check:
            run.check()
        return {"fault": name, "sent": run.load.docs, "stored": run.load.stored(), **run.load.ledger(),
                "recover_seconds": round(recovered, 1) if finished else None}


def run_fault_benchmark(broker: str = "redis", faults: list[int] | None = None, *, docs: int | None = None,
                        progress: Callable[[dict], None] | None = None) -> list[dict]:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("the fault benchmark locks rows and cuts connections of PostgreSQL: set DATABASE_URL to a "
                           "PostgreSQL database")
    rows = []
    for number in faults or list(FAULTS):
        rows.append(run_fault(number, broker, docs=docs))
        if progress:
            progress(rows[-1])
    return rows
