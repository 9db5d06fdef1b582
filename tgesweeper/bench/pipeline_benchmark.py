"""End-to-end pipeline benchmark: generated feeds on 127.0.0.1 → real workers → the configured database.

It counts like Jepsen's total-queue checker: every generated item carries a tag; after the sweep
drains, ``lost`` is tags never stored, ``duplicated`` is tags stored more than once, ``unexpected``
is stored rows that carry no tag of this run. All three must be 0.

Where the time went: each stage's own seconds (wall time: the ledger's fetch and parse, the batches' match and
persist), and the CPU seconds the worker used during the sweep, split into its main process (Celery's consumer:
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Sum

from api.models import Document, Mention, PipelineBatch, Source, SweepSource
from tgesweeper.bench.feedserver import FeedServer, render_rss
from tgesweeper.bench.local_worker import LocalWorker, RssSampler
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
                           timeout: float = 1800.0, keep: bool = False, worker_env: dict[str, str] | None = None) -> dict:
    if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
        raise RuntimeError("the benchmark serves feeds on 127.0.0.1: set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    items = generate_items(docs, tag, rng)
    per_feed = min(per_feed, settings.CONFIG["SCRAPING_MAX_ITEMS"])
    feeds = [items[i * per_feed:(i + 1) * per_feed] for i in range(math.ceil(docs / per_feed))]

    with FeedServer() as server, tempfile.TemporaryDirectory(prefix="tge-bench-") as tmp:
        sources = []
        for n, feed_items in enumerate(feeds):
            server.add(f"/bench/{tag}/{n}.xml", render_rss(f"Benchmark feed {n}", feed_items))
            sources.append(Source.objects.create(name=f"bench {tag} #{n}", url=server.url(f"/bench/{tag}/{n}.xml"),
                                                 enabled=False))
        # All generated feeds share one host (127.0.0.1); the per-host politeness budget is not what is measured.
        worker_env = {"NEWS_SCRAPER_RATE_LIMIT": "100000", **(worker_env or {})}
        worker = LocalWorker(env=worker_env, concurrency=concurrency, log_path=Path(tmp) / "worker.log", name="bench")
        if spawn_worker:
            worker.start()
        try:
            with RssSampler({"worker": worker}) as processes:
                started = time.monotonic()
                run_id = sweeps.start_sweep([s.pk for s in sources])
                finished = sweeps.wait_for_sweep(run_id, timeout=timeout, poll=0.1)
                wall = time.monotonic() - started
                processes.sample()
        finally:
            worker.stop()
        result = _measure(run_id, sources, tag, docs, wall, finished)
        result.update(_worker_figures(processes))
        if not keep:
            Source.objects.filter(pk__in=[s.pk for s in sources]).delete()
    return result


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
