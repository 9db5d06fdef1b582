"""Detection delay of a push source: a fake exchange announcement stream on 127.0.0.1 → ``manage.py consume_push`` →
a real worker → the configured database. Each announcement's delay runs from its publication at the server to its
document being stored (the persist transaction's clock); every announcement is tagged, so lost and duplicated are
counted as ``benchmark pipeline`` counts them.
"""
from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db.models import Count

from api.models import Document, Mention, Source
from tgesweeper.bench.local_worker import LocalWorker
from tgesweeper.bench.pipeline_benchmark import LAUNCHES, SYLLABLES
from tgesweeper.bench.push_server import AnnouncementServer, LocalPushConsumer


def launch_announcement(ident: str, n: int) -> dict:
    """A launch announcement (each a different project) with the id ``ident``."""
    name = "".join(SYLLABLES[(n // len(SYLLABLES) ** k) % len(SYLLABLES)] for k in range(3)).capitalize() + " Network"
    date = f"December {2 + n % 27}, 2026"
    title, body = (part.format(name=name, tick=name[:4].upper(), date=date) for part in LAUNCHES[n % len(LAUNCHES)])
    return {"id": ident, "title": title, "body": body, "releaseDate": int(time.time() * 1000)}


def run_push_benchmark(messages: int = 20, *, interval: float = 0.25, concurrency: int = 2, timeout: float = 120.0,
                       worker_env: dict[str, str] | None = None) -> dict:
    if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
        raise RuntimeError("the benchmark serves its stream on 127.0.0.1: set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
    tag = uuid.uuid4().hex[:8]
    warm_up = [f"push-{tag}-warm-{n}" for n in range(2 * concurrency)]
    measured = [f"push-{tag}-{n}" for n in range(messages)]
    env = {**(worker_env or {}), "PUSH_RECONNECT_BASE_DELAY": "0.2", "PUSH_RECONNECT_MAX_DELAY": "2",
           "PUSH_SOURCES_REFRESH": "0.5"}
    with AnnouncementServer() as exchange, tempfile.TemporaryDirectory(prefix="tge-push-bench-") as tmp:
        source = Source.objects.create(name=f"bench push {tag}", kind="websocket", url=exchange.list_url,
                                       options=exchange.source_options(), interval_seconds=86400)
        worker = LocalWorker(env=env, concurrency=concurrency, log_path=Path(tmp) / "worker.log", name="bench-push")
        consumer = LocalPushConsumer(env=env, log_path=Path(tmp) / "push.log")
        stored = Document.objects.filter(source=source)
        try:
            worker.start()
            consumer.start()
            exchange.wait_for_subscribers()
            # Each worker process builds its match engine on its first batch (~1 s, once in its life).
            for n, ident in enumerate(warm_up):
                exchange.publish(launch_announcement(ident, 10_000 + n))
            _wait(lambda: stored.filter(external_id__in=warm_up).count() == len(warm_up), timeout)
            for n, ident in enumerate(measured):
                exchange.publish(launch_announcement(ident, n))
                time.sleep(interval)
            finished = _wait(lambda: stored.filter(external_id__in=measured).count() >= len(measured), timeout)
            time.sleep(1.0)  # anything handed off twice would be stored by now
        finally:
            consumer.stop()
            worker.stop()
        rows = list(stored.filter(external_id__in=measured).values_list("external_id", "fetched_at"))
        delays = sorted(at.timestamp() - exchange.published_at[ident] for ident, at in rows)
        distinct = {ident for ident, _ in rows}
        mentions = Mention.objects.filter(source=source, document__external_id__in=measured)
        twice = mentions.values("document").annotate(n=Count("pk")).filter(n__gt=1).count()
        result = {
            "messages": messages, "interval_seconds": interval, "worker_processes": concurrency, "finished": finished,
            "published_to_persisted_ms": {
                "p50": round(statistics.median(delays) * 1000) if delays else None,
                "p95": round(delays[max(0, -(-len(delays) * 95 // 100) - 1)] * 1000) if delays else None,
                "max": round(delays[-1] * 1000) if delays else None,
            },
            "events": mentions.values("event").distinct().count(),
            "lost": messages - len(distinct),
            "duplicated": len(rows) - len(distinct) + twice,
            "unexpected": stored.exclude(external_id__in=measured + warm_up).count(),
            "stream_connections": exchange.connections,
        }
        source.delete()
    return result


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
