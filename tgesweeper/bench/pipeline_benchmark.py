"""End-to-end pipeline benchmark: generated feeds on 127.0.0.1 → real workers → the configured database. With
``hosts``, the workers run on hosts of their own (network namespaces, ``worker_hosts``) on a private Redis.

It counts like Jepsen's total-queue checker: every generated item carries a tag; after the sweep
drains, ``lost`` is tags never stored, ``duplicated`` is tags stored more than once, ``unexpected``
is stored rows that carry no tag of this run. All three must be 0.

Where the time went: each stage's own seconds (wall time: the ledger's fetch and parse, the batches' match and
persist), and the CPU seconds each worker used during the sweep, split into its main process (Celery's consumer:
reading the broker, handing messages to the pool, acks) and its pool (the tasks, stages included), with the peak RSS
of each process. On a machine whose cores are busy with other work stage seconds include the wait for a core; the CPU
seconds do not.
"""
from __future__ import annotations

import math
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
from django.conf import settings
from django.db.models import Count, Sum

from api.models import Document, Mention, PipelineBatch, Source, SweepSource
from tgesweeper.bench.feedserver import FeedServer, render_rss
from tgesweeper.bench.local_process import database_url_for_processes
from tgesweeper.bench.local_worker import LocalWorker, RssSampler
from tgesweeper.bench.processes import RedisServer, TcpProxy, kill_worker_holding_a_recorded_message, wait_until
from tgesweeper.bench.worker_hosts import LOOPBACK, HostNetwork, PlainHosts, worker_hosts
from tgesweeper.celery import app
from workers import sweeps

SYLLABLES = ("ka", "lo", "mi", "ra", "zen", "tor", "vi", "qua", "nex", "sol", "dra", "fen", "lum", "ori", "pax")
NOISE = (
    "{coin} price slips {pct}% as traders weigh macro data",
    "Analysts see {coin} consolidating near support after a volatile week",
    "Exchange outflows of {coin} hit a three-month high",
    "Regulators publish consultation on stablecoin reserves",
    "Spot {coin} ETF records ${amount} million in net inflows",
    "DeFi lender patches bug after ${amount} million exploit",
    "Miner revenue falls as network fees drop to yearly low",
    "Court rules on long-running exchange bankruptcy case",
)
LAUNCHES = (
    ("{name} to launch {tick} token on {date}",
     "{name} said its token generation event for the {tick} token will take place on {date}."),
    ("{name} ({tick}) token goes live as airdrop claims open",
     "The {tick} token of {name} began trading today after its token generation event."),
    ("{name} sets {tick} token generation event for {date}",
     "The {name} team confirmed the TGE of its {tick} token for {date}."),
)
COINS = ("Bitcoin", "Ether", "Solana", "XRP", "Cardano", "Dogecoin")
# --kill-host: seconds after which Redis hands the killed host's messages to the others (far above a task's run time
# at this load, well below the default hour).
KILL_VISIBILITY_TIMEOUT = 10
SWEEP_TASKS = ("workers.tasks.fetch_source", "workers.tasks.parse_payload", "workers.tasks.match_documents",
               "workers.tasks.persist_results")


def generate_items(count: int, tag: str, rng: random.Random, launch_share: float = 0.05) -> list[dict]:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    items = []
    for i in range(count):
        published = now - timedelta(minutes=i)
        if rng.random() < launch_share:
            name = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + " Network"
            tick = name[:4].upper()
            date = (published + timedelta(days=rng.randint(3, 40))).strftime("%B %-d, %Y")
            title, text = (part.format(name=name, tick=tick, date=date) for part in rng.choice(LAUNCHES))
        else:
            template = rng.choice(NOISE)
            title = template.format(coin=rng.choice(COINS), pct=rng.randint(1, 9), amount=rng.randint(5, 900))
            text = f"{title}. Market participants watched the move closely during {published:%A} trading."
        items.append({"guid": f"bench-{tag}-{i}", "title": title, "description": text,
                      "link": f"https://bench.invalid/{tag}/{i}", "pub_date": published})
    return items


def run_pipeline_benchmark(docs: int, *, per_feed: int = 500, concurrency: int = 2, spawn_worker: bool = True,
                           timeout: float = 1800.0, keep: bool = False, worker_env: dict[str, str] | None = None,
                           hosts: int = 0, kill_host: bool = False) -> dict:
    """With ``hosts``, each of that many worker hosts (``worker_hosts``) runs a worker of ``concurrency`` processes;
    ``kill_host`` kills the first host's worker (``kill -9``) once a third of the documents are stored."""
    if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
        raise RuntimeError("the benchmark serves feeds on 127.0.0.1: set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
    if kill_host and hosts < 2:
        raise RuntimeError("--kill-host needs --hosts 2 or more: another host drains what the killed one held")
    if hosts and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("--hosts reaches the database over the network: set DATABASE_URL to a PostgreSQL database")
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    items = generate_items(docs, tag, rng)
    per_feed = min(per_feed, settings.CONFIG["SCRAPING_MAX_ITEMS"])
    feeds = [items[i * per_feed:(i + 1) * per_feed] for i in range(math.ceil(docs / per_feed))]
    # All generated feeds share one host; the per-host politeness budget is not what is measured.
    worker_env = {"NEWS_SCRAPER_RATE_LIMIT": "100000", **(worker_env or {})}

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tge-bench-")))
        sources: list[Source] = []
        if not keep:
            stack.callback(lambda: Source.objects.filter(pk__in=[s.pk for s in sources]).delete())  # after the workers
        rig: Rig
        if hosts:
            rig = stack.enter_context(host_rig(hosts, tmp, concurrency, worker_env, kill_host))
        else:
            rig = stack.enter_context(local_rig(tmp, concurrency, worker_env, spawn_worker))
        for n, feed_items in enumerate(feeds):
            rig.feeds.add(f"/bench/{tag}/{n}.xml", render_rss(f"Benchmark feed {n}", feed_items))
            sources.append(Source.objects.create(name=f"bench {tag} #{n}", url=rig.feeds.url(f"/bench/{tag}/{n}.xml"),
                                                 enabled=False))
        processes = stack.enter_context(RssSampler(rig.named_workers()))
        started, cpu_started = time.monotonic(), psutil.Process().cpu_times()
        with app.connection_for_write(rig.broker_url) as conn:
            run_id = sweeps.start_sweep([s.pk for s in sources], connection=conn)
        killed = None
        if kill_host:
            stored = Document.objects.filter(source__in=sources)
            wait_until(lambda: stored.count() >= docs // 3, timeout, message="a third of the documents stored")
            rig.observe()
            killed = rig.kill(0)
        finished = sweeps.wait_for_sweep(run_id, timeout=timeout, poll=0.1)
        wall = time.monotonic() - started
        processes.sample()
        if killed:
            killed["recover_seconds"] = round(time.monotonic() - killed.pop("at"), 1)
        rig.observe()
        for worker in rig.workers:
            worker.stop()
        cpu = psutil.Process().cpu_times()  # the feed server (and the hosts' forwarders) run in this process
        return {**_measure(run_id, sources, tag, docs, wall, finished), **_worker_figures(processes),
                "benchmark_process_cpu_seconds": round(cpu.user + cpu.system - cpu_started.user - cpu_started.system, 1),
                **rig.report(killed)}


@dataclass
class Rig:
    """The feed server, the broker the sweep is sent to (None: the configured one) and the workers that drain it."""

    feeds: FeedServer
    broker_url: str | None
    workers: list[LocalWorker]

    def named_workers(self) -> dict[str, LocalWorker]:
        return {"worker": self.workers[0]}

    def observe(self) -> None:
        """Note what the run shows while it runs (the hosts' connections)."""

    def kill(self, n: int) -> dict:
        raise RuntimeError("only worker hosts are killed")

    def report(self, killed: dict | None) -> dict:
        """What the rig adds to the result."""
        return {}


@contextmanager
def local_rig(directory: Path, concurrency: int, env: dict[str, str], spawn_worker: bool) -> Iterator[Rig]:
    """One worker on this machine (or none: the running ones), on the configured broker and database."""
    with FeedServer() as feeds:
        worker = LocalWorker(env=env, concurrency=concurrency, log_path=directory / "worker.log", name="bench")
        if spawn_worker:
            worker.start()
        try:
            yield Rig(feeds, None, [worker])
        finally:
            worker.stop()


@dataclass
class HostRig(Rig):
    """Workers on hosts of their own, their private broker, the forwarder to the database (None: reached directly), and
    the client addresses the broker has seen."""

    network: HostNetwork | PlainHosts
    broker: RedisServer
    database: TcpProxy | None
    seen_by_broker: set[str] = field(default_factory=set)

    def named_workers(self) -> dict[str, LocalWorker]:
        return {host.label: worker for host, worker in zip(self.network.hosts, self.workers, strict=True)}

    def observe(self) -> None:
        """The client addresses the broker sees now (a killed host's are gone afterwards)."""
        self.seen_by_broker |= {client["addr"].rsplit(":", 1)[0] for client in self.broker.client().client_list()}

    def kill(self, n: int) -> dict:
        """``kill -9`` of host ``n``'s worker while it holds a message the broker recorded as unacked (never inside
        the Redis transport's gap), which the broker then hands to another host after the visibility timeout."""
        processes, held = kill_worker_holding_a_recorded_message(self.workers[n].pid, self.broker.client(),
                                                                 SWEEP_TASKS)
        return {"host": self.network.hosts[n].label, "processes": len(processes), "at": time.monotonic(),
                "held": f"{held.task}[{held.task_id}]", "task_id": held.task_id,
                "visibility_timeout": KILL_VISIBILITY_TIMEOUT}

    def ran(self, task_id: str) -> list[str]:
        """The hosts whose worker finished task ``task_id``."""
        return [host.label for host, worker in zip(self.network.hosts, self.workers, strict=True)
                if f"[{task_id}] succeeded in " in worker.log_text()]

    def report(self, killed: dict | None) -> dict:
        by_host = {}
        for host, worker in zip(self.network.hosts, self.workers, strict=True):
            by_host[host.label] = {
                "address": host.address, "namespace": host.namespace or "-",
                "broker_saw_it": host.address in self.seen_by_broker,
                "database_connections": self.database.peers[host.address] if self.database else "direct",
                "tasks_run": worker.log_text().count(" succeeded in "),
                "killed": bool(killed and killed["host"] == host.label),
            }
        if killed:
            task_id = killed.pop("task_id")
            killed["ran_again_on"] = ", ".join(self.ran(task_id)) or "nobody"
        return {"network": self.network.description, "hosts": by_host, **({"killed": killed} if killed else {}),
                "broker": "redis (a private redis-server)"}


@contextmanager
def host_rig(count: int, directory: Path, concurrency: int, env: dict[str, str], kill_host: bool) -> Iterator[HostRig]:
    """``count`` worker hosts, a private redis-server (broker and cache), the feed server and a forwarder to the
    configured PostgreSQL, all listening on the hosts' bridge; removed again on the way out, an error or Ctrl-C too."""
    with ExitStack() as stack:
        network = stack.enter_context(worker_hosts(count))
        namespaced = network.gateway != LOOPBACK
        broker = stack.enter_context(RedisServer(directory / "redis", also_on=(network.gateway,) if namespaced else ()))
        feeds = stack.enter_context(FeedServer(network.gateway))
        database_url = database_url_for_processes()
        proxy = None
        if namespaced:
            proxy = stack.enter_context(TcpProxy(database_url, host=network.gateway))
            database_url = proxy.url
        broker_url = f"redis://{network.gateway}:{broker.port}/0"
        host_env = {**env, "DATABASE_URL": database_url, "REDIS_URL": broker_url, "CELERY_BROKER_URL": broker_url,
                    "SCRAPING_ALLOW_PRIVATE_NETWORKS": "true"}
        if kill_host:  # the killed host's messages come back to the others after this many seconds
            host_env["CELERY_VISIBILITY_TIMEOUT"] = str(KILL_VISIBILITY_TIMEOUT)
        workers = [LocalWorker(env=host_env, concurrency=concurrency, log_path=directory / f"worker-{n + 1}.log",
                               name=f"host{n + 1}", run_in=host.run_in) for n, host in enumerate(network.hosts)]

        @stack.callback
        def stop_workers() -> None:
            for worker in workers:
                worker.stop()

        with ThreadPoolExecutor(len(workers)) as pool:
            list(pool.map(LocalWorker.start, workers))
        yield HostRig(feeds, broker.url, workers, network, broker, proxy)


def count_ledger(sources: list[Source], tag: str, docs: int, *, id_prefix: str | None = None) -> dict:
    """Jepsen's total-queue count over the documents of ``sources``: ``lost``, ``duplicated``, ``unexpected``. An item
    is tagged when its external id starts with ``id_prefix`` (by default the generated items' ``bench-TAG-``)."""
    stored = Document.objects.filter(source__in=sources)
    tagged = stored.filter(external_id__startswith=id_prefix or f"bench-{tag}-")
    distinct = tagged.values("external_id").distinct().count()
    mentions = Mention.objects.filter(source__in=sources)
    duplicate_mentions = mentions.values("document_id").annotate(n=Count("pk")).filter(n__gt=1).count()
    return {
        "mentions": mentions.count(),
        "lost": docs - distinct,
        "duplicated": tagged.count() - distinct + duplicate_mentions,
        "unexpected": stored.count() - tagged.count(),
    }


def _measure(run_id: int, sources: list[Source], tag: str, docs: int, wall: float, finished: bool) -> dict:
    ledger = SweepSource.objects.filter(run_id=run_id).aggregate(fetch=Sum("fetch_seconds"), parse=Sum("parse_seconds"))
    batches = PipelineBatch.objects.filter(sweep_source__run_id=run_id).aggregate(
        match=Sum("match_seconds"), persist=Sum("persist_seconds"), n=Count("pk"))
    return {
        "docs": docs,
        "finished": finished,
        "seconds": round(wall, 3),
        "docs_per_min": round(docs / wall * 60) if wall else None,
        "batches": batches["n"],
        "stage_seconds_total": {
            "fetch": round(ledger["fetch"] or 0, 3), "parse": round(ledger["parse"] or 0, 3),
            "match": round(batches["match"] or 0, 3), "persist": round(batches["persist"] or 0, 3),
        },
        **count_ledger(sources, tag, docs),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "broker": _broker_scheme(),
    }


def _worker_figures(processes: RssSampler) -> dict:
    """Peak RSS and CPU seconds of each worker process during the sweep (none with ``--use-running-workers``)."""
    if not processes.cpu:
        return {}
    cpu = processes.cpu_since_start()
    return {
        "worker_cpu_seconds": {name: round(used, 2) for name, used in sorted(cpu.items())},
        "rss_mb": {name: round(peak / 2**20, 1) for name, peak in sorted(processes.peak.items())},
    }


def _broker_scheme() -> str:
    return app.conf.broker_url.split(":", 1)[0]
