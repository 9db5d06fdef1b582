"""Publication → alert, measured: launch items appear one by one on a local feed at random moments; the real beat and
workers poll it, process each item and send its alert to a local receiver that verifies the Standard Webhooks
signature. Latency runs from the moment an item appeared on the feed to the moment its alert arrived.

Stages per alert (from the rows the pipeline writes): waiting for the poll (publication → the fetch that read it
ended), processing (fetch end → change persisted), delivery (persisted → alert received); the pipeline's own part is
fetch end → alert received. ``lost``: items whose alert never came; ``duplicated``: alerts beyond one per item.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django_celery_beat.models import PeriodicTask

from api.channels import new_secret
from api.keys import create_key
from api.models import ApiKey, Channel, Delivery, Mention, Source, Subscription, TGEEvent
from tgesweeper.bench.feedserver import FeedServer, render_rss
from tgesweeper.bench.local_process import LocalProcess
from tgesweeper.bench.local_worker import LocalWorker
from tgesweeper.bench.pipeline_benchmark import LAUNCHES, SYLLABLES
from tgesweeper.bench.webhook_receiver import WebhookReceiver
from tgesweeper.celery import app
from tgesweeper.matching import known_tokens
from workers.schedule import FETCH_TASK

CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"


class LocalBeat(LocalProcess):
    """``celery -A tgesweeper beat`` (the database scheduler: every enabled source's schedule)."""

    program = "celery beat"

    def __init__(self, *, env: dict[str, str], log_path: Path, pidfile: Path):
        super().__init__([sys.executable, "-m", "celery", "-A", "tgesweeper", "beat", "--loglevel",
                          "INFO", "--pidfile", str(pidfile)], env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return "beat: Starting" in self.log_text()


def launch_item(tag: str, index: int, rng: random.Random, published: datetime, taken: set[str]) -> dict:
    """A launch of a project of its own: its ticker (what the event key is made of) is in ``taken`` of no other item,
    and never that of a token that already trades (PAXG...), which the engine rightly reads as old news."""
    while True:
        name = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + f" {index} Network"
        tick = "".join(rng.choice(CONSONANTS) for _ in range(4))  # no word ("SCAM") that the engine reads as one
        if tick not in taken and known_tokens.lookup(name, tick) is None and tick not in known_tokens.BY_TICKER:
            taken.add(tick)
            break
    date = (published + timedelta(days=rng.randint(5, 40))).strftime("%B %-d, %Y")
    title, text = (part.format(name=name, tick=tick, date=date) for part in rng.choice(LAUNCHES))
    return {"guid": f"latency-{tag}-{index}", "title": title, "description": text,
            "link": f"https://bench.invalid/latency/{tag}/{index}", "pub_date": published}


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def run_latency_benchmark(items: int, *, interval: int = 10, concurrency: int = 2, seed: str | None = None,
                          settle: float | None = None, worker_env: dict[str, str] | None = None) -> dict:
    if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
        raise RuntimeError("the benchmark serves its feed and receiver on 127.0.0.1: set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
    tag = seed or uuid.uuid4().hex[:8]
    rng = random.Random(tag)
    others = PeriodicTask.objects.filter(enabled=True, task=FETCH_TASK).count()
    env = {"ADAPTIVE_POLLING": "false", "NEWS_SCRAPER_RATE_LIMIT": "100000", "SCRAPING_ALLOW_PRIVATE_NETWORKS": "true",
           **(worker_env or {})}
    published: dict[str, float] = {}
    with FeedServer() as feed, WebhookReceiver() as receiver, tempfile.TemporaryDirectory(prefix="tge-latency-") as tmp:
        path = f"/latency/{tag}.xml"
        feed.add(path, render_rss("Latency feed", []))
        key, _ = create_key(f"latency benchmark {tag}")
        subscription = Subscription.objects.create(name=f"latency {tag}", owner_key=key, secret=new_secret(),
                                                   change_kinds=["new"], include_candidates=True)
        Channel.objects.create(subscription=subscription, kind=Channel.Kind.WEBHOOK, url=receiver.url("/alerts"))
        receiver.verify_with("/alerts", subscription.secret)
        worker = LocalWorker(env=env, concurrency=concurrency, log_path=Path(tmp) / "worker.log", name="latency")
        beat = LocalBeat(env={**os.environ, **env}, log_path=Path(tmp) / "beat.log",
                         pidfile=Path(tmp) / "beat.pid")
        source = None
        taken: set[str] = set()
        try:
            worker.start()
            source = Source.objects.create(name=f"latency {tag}", url=feed.url(path), interval_seconds=interval)
            beat.start()
            time.sleep(interval)  # the first (empty) poll and the schedule settle
            shown: list[dict] = []
            for index in range(items):
                time.sleep(rng.uniform(0, interval))  # ~2 items per polling interval, at random moments
                now = datetime.now(timezone.utc)
                item = launch_item(tag, index, rng, now, taken)
                shown.append(item)
                feed.add(path, render_rss("Latency feed", list(reversed(shown))))
                published[item["link"]] = now.timestamp()
            wait = settle if settle is not None else 2 * interval + 15
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and len(_alerts_by_item(receiver)) < items:
                time.sleep(0.2)
            time.sleep(2)  # anything arriving late would be a duplicate
        finally:
            beat.stop()
            worker.stop()
        result = _measure(receiver, published, source, interval, others)
        _clean_up(source, key)
    return result


def _alerts_by_item(receiver: WebhookReceiver) -> dict[str, list]:
    by_item: dict[str, list] = {}
    for received in receiver.at("/alerts"):
        links = {s["url"] for s in received.json()["data"]["sources"]}
        for link in links:
            by_item.setdefault(link, []).append(received)
    return by_item


def _measure(receiver: WebhookReceiver, published: dict[str, float], source: Source | None, interval: int,
             other_schedules: int) -> dict:
    by_item = _alerts_by_item(receiver)
    deliveries = {d.pk: d for d in Delivery.objects.filter(channel__url=receiver.url("/alerts")).select_related("change")}
    end_to_end: list[float] = []
    pipeline: list[float] = []
    stages: dict[str, list[float]] = {"poll_wait": [], "processing": [], "delivery": []}
    for link, at in published.items():
        alerts = by_item.get(link)
        if not alerts:
            continue
        first = min(alerts, key=lambda r: r.at)
        end_to_end.append(first.at - at)
        delivery = deliveries.get(int(first.headers["webhook-id"].removeprefix("msg_")))
        if delivery is None or delivery.change.fetched_at is None:
            continue
        fetched, persisted = delivery.change.fetched_at.timestamp(), delivery.change.created_at.timestamp()
        pipeline.append(first.at - fetched)
        stages["poll_wait"].append(fetched - at)
        stages["processing"].append(persisted - fetched)
        stages["delivery"].append(first.at - persisted)
    received = receiver.at("/alerts")

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        "items": len(published),
        "interval_s": interval,
        "alerts": len(received),
        "p50_ms": ms(percentile(end_to_end, 0.50)),
        "p95_ms": ms(percentile(end_to_end, 0.95)),
        "p99_ms": ms(percentile(end_to_end, 0.99)),
        "mean_ms": ms(statistics.fmean(end_to_end)) if end_to_end else None,
        "pipeline_p50_ms": ms(percentile(pipeline, 0.50)),
        "pipeline_p95_ms": ms(percentile(pipeline, 0.95)),
        "stages_p50_ms": {name: ms(percentile(values, 0.50)) for name, values in stages.items()},
        "stages_p95_ms": {name: ms(percentile(values, 0.95)) for name, values in stages.items()},
        "lost": sum(1 for link in published if link not in by_item),
        "lost_items": [link for link in published if link not in by_item],
        "duplicated": sum(len(alerts) - 1 for alerts in by_item.values()),
        "unverified": sum(1 for r in received if r.verified is not True),
        "other_schedules": other_schedules,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "broker": app.conf.broker_url.split(":", 1)[0],
    }


def _clean_up(source: Source | None, key: ApiKey) -> None:
    """Remove what the run made: its events (and their changes, deliveries), source, subscription and key."""
    if source is not None:
        TGEEvent.objects.filter(pk__in=Mention.objects.filter(source=source).values("event_id")).delete()
        source.delete()
    Subscription.objects.filter(owner_key=key).delete()
    key.delete()
