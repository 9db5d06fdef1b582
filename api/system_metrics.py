"""What ``GET /api/v1/system/metrics`` and Prometheus' ``/metrics`` report, computed in one place.

Counting rows and asking workers for a ping cost real time, so the result is cached for METRICS_TTL seconds:
a dashboard polling every second costs one computation per interval, whoever asks, and never waits for it.
"""
from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from api import response_cache
from api.models import DeadLetter, Document, EventChange, PipelineBatch, PipelineFailure, Source, TGEEvent
from tgesweeper import throttle
from tgesweeper.celery import app

log = logging.getLogger(__name__)
METRICS_TTL = 10
STALE_TTL = 300
CACHE_KEY, REFRESH_LOCK = "api:system-metrics", "api:system-metrics:refreshing"


def queue_names() -> tuple[str, ...]:
    """Every queue the Celery app declares (celeryconfig.task_queues: the pipeline's five, ``alerts`` and ``browser``)."""
    return tuple(queue.name for queue in app.conf.task_queues)


def collect_metrics() -> dict:
    """Fresh for METRICS_TTL seconds; after that the last figures are served while one thread recomputes them
    (asking workers for a ping alone takes a second, which no dashboard request should wait for)."""
    entry = cache.get(CACHE_KEY)
    if entry is None:
        return _compute()
    if time.time() >= entry["fresh_until"] and cache.add(REFRESH_LOCK, 1, timeout=30):
        threading.Thread(target=_refresh_in_background, name="metrics-refresh", daemon=True).start()
    return entry["data"]


def _compute() -> dict:
    now = timezone.now()
    data = {
        "generated_at": now.isoformat(),
        "documents": {f"last_{m}_minutes": Document.objects.filter(fetched_at__gte=now - timedelta(minutes=m)).count()
                      for m in (5, 60)},
        "events": _events(now),
        "errors": _errors(now),
        "queues": queue_depths(),
        "sources": _sources(),
        "cache": response_cache.hit_rate(),
        "rate_limits": _rate_limits(),
        "workers": workers_online(),
        "dead_letters": DeadLetter.objects.filter(requeued_at__isnull=True).count(),
        "series": _series(now),
    }
    cache.set(CACHE_KEY, {"data": data, "fresh_until": time.time() + METRICS_TTL}, timeout=STALE_TTL)
    return data


MAX_DELAY_SAMPLES = 5000


def _series(now) -> dict:
    """What the dashboard's Metrics page charts: events per day by status (14 days), documents fetched per hour,
    failures per source and the publication → persisted delay per hour (24 h)."""
    day_ago = now - timedelta(hours=24)
    per_day = (TGEEvent.objects.filter(published=True, first_seen_at__gte=now - timedelta(days=14))
               .annotate(day=TruncDate("first_seen_at")).values("day", "status").annotate(count=Count("id"))
               .order_by("day", "status"))
    per_hour = (Document.objects.filter(fetched_at__gte=day_ago).annotate(hour=TruncHour("fetched_at"))
                .values("hour").annotate(count=Count("id")).order_by("hour"))
    item_failures = dict(PipelineFailure.objects.filter(created_at__gte=day_ago, source__isnull=False)
                         .values_list("source__name").annotate(n=Count("id")).values_list("source__name", "n"))
    fetch_failures = dict(Source.objects.filter(failure_count__gt=0).values_list("name", "failure_count"))
    failing = sorted(set(item_failures) | set(fetch_failures),
                     key=lambda name: -(item_failures.get(name, 0) + fetch_failures.get(name, 0)))[:15]
    return {
        "events_per_day": [{"day": row["day"].isoformat(), "status": row["status"], "count": row["count"]}
                           for row in per_day],
        "documents_per_hour": [{"hour": row["hour"].isoformat(), "count": row["count"]} for row in per_hour],
        "errors_per_source": [{"source": name, "item_failures": item_failures.get(name, 0),
                               "fetch_failures": fetch_failures.get(name, 0)} for name in failing],
        "delay_per_hour": _delay_per_hour(day_ago),
    }


def _delay_per_hour(since) -> list[dict]:
    """Median seconds from publication to persisted, per hour persisted: the changes persist recorded (the newest
    publication among the batch's documents about the event → the change's commit); reviews are left out."""
    rows = (EventChange.objects.filter(created_at__gte=since, published_at__isnull=False).exclude(batch_id="")
            .order_by("-created_at").values_list("created_at", "published_at")[:MAX_DELAY_SAMPLES])
    hours: dict = defaultdict(list)
    for stored, published in rows:
        hours[stored.replace(minute=0, second=0, microsecond=0)].append(max(0.0, (stored - published).total_seconds()))
    return [{"hour": hour.isoformat(), "median_seconds": round(statistics.median(delays), 1), "count": len(delays)}
            for hour, delays in sorted(hours.items())]


def _refresh_in_background() -> None:
    try:
        _compute()
    except Exception:
        log.exception("recomputing system metrics failed; the last figures stay in place")
    finally:
        cache.delete(REFRESH_LOCK)
        connections.close_all()


def _events(now) -> dict:
    counts = TGEEvent.objects.aggregate(
        published=Count("id", filter=Q(published=True)),
        candidates=Count("id", filter=Q(is_candidate=True, review=TGEEvent.Review.UNREVIEWED)),
        found_last_60_minutes=Count("id", filter=Q(first_seen_at__gte=now - timedelta(hours=1))),
    )
    return counts


def _errors(now) -> dict:
    since = now - timedelta(hours=1)
    failures = PipelineFailure.objects.filter(created_at__gte=since).count()
    processed = PipelineBatch.objects.filter(persisted_at__gte=since).aggregate(n=Sum("documents"))["n"] or 0
    failing = Source.objects.filter(enabled=True, failure_count__gt=0).count()
    enabled = Source.objects.filter(enabled=True).count()
    return {
        "item_failures_last_60_minutes": failures,
        "item_error_rate_last_60_minutes": round(failures / (processed + failures), 4) if processed + failures else 0.0,
        "sources_failing": failing,
        "source_error_rate": round(failing / enabled, 4) if enabled else 0.0,
    }


def _sources() -> list[dict]:
    return [
        {"id": s.pk, "name": s.name, "kind": s.kind, "enabled": s.enabled, "circuit_state": s.circuit_state,
         "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
         "failure_count": s.failure_count, "last_error": s.last_error[:200]}
        for s in Source.objects.only("name", "kind", "enabled", "circuit_state", "last_success_at", "failure_count",
                                     "last_error").order_by("name")[:500]
    ]


def _rate_limits() -> dict:
    """Quota spent in the current window (the X API's is the scarce one: 450 requests per 15 minutes)."""

    limit, window = settings.CONFIG["X_RATE_LIMIT_REQUESTS"], settings.CONFIG["X_RATE_LIMIT_WINDOW"]
    used = int(cache.get(throttle.window_key("x-api", window)) or 0)
    return {"x_api": {"used": used, "limit": limit, "window_seconds": window}}


def queue_depths() -> dict[str, int | None]:
    """Messages waiting per queue, read from the broker (None when it cannot be asked)."""
    queues = queue_names()
    depths: dict[str, int | None] = {}
    try:
        with app.connection_for_read() as conn:
            channel = conn.default_channel
            for name in queues:
                try:
                    depths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # a queue nobody declared yet
                    depths[name] = 0
    except Exception as exc:  # the broker is down: say so, never fail the endpoint
        log.warning("queue depths unavailable: %s", exc)
        return dict.fromkeys(queues)
    return depths


def workers_online() -> dict:
    """Workers that answered a ping within a second (Redis broker; the embedded SQL broker cannot broadcast)."""
    if not app.conf.broker_url.startswith(("redis", "rediss")):
        return {"count": None, "names": [], "note": "needs the Redis broker"}
    try:
        replies = app.control.inspect(timeout=1.0).ping() or {}
    except Exception as exc:
        return {"count": None, "names": [], "note": f"ping failed: {exc}"}
    return {"count": len(replies), "names": sorted(replies)}


CIRCUIT_VALUE = {Source.Circuit.OPEN: 1.0, Source.Circuit.HALF_OPEN: 0.5, Source.Circuit.CLOSED: 0.0}


class SweeperCollector(Collector):
    """Prometheus view of the same figures (scraped at ``/metrics``)."""

    def collect(self):
        data = collect_metrics()
        docs = GaugeMetricFamily("tge_documents_fetched", "Documents fetched in the window", labels=["window"])
        for key, value in data["documents"].items():
            docs.add_metric([key.removeprefix("last_")], value)
        yield docs
        events = GaugeMetricFamily("tge_events", "TGE events by state", labels=["state"])
        for key, value in data["events"].items():
            events.add_metric([key], value)
        yield events
        yield GaugeMetricFamily("tge_item_error_rate", "Share of items that failed in the last hour",
                                value=data["errors"]["item_error_rate_last_60_minutes"])
        yield GaugeMetricFamily("tge_sources_failing", "Enabled sources whose last fetch failed",
                                value=data["errors"]["sources_failing"])
        queues = GaugeMetricFamily("tge_queue_depth", "Messages waiting per queue", labels=["queue"])
        for name, depth in data["queues"].items():
            if depth is not None:
                queues.add_metric([name], depth)
        yield queues
        health = GaugeMetricFamily("tge_source_failures", "Consecutive failed fetches per source", labels=["source"])
        info = GaugeMetricFamily("tge_source_info", "1 per enabled source: its id (the workers' source_id label), "
                                 "name and kind", labels=["source_id", "source", "kind"])
        circuits = GaugeMetricFamily("tge_source_circuit_open", "1 while an enabled source's circuit is open, 0.5 "
                                     "half-open, 0 closed", labels=["source_id", "source"])
        for source in data["sources"]:
            health.add_metric([source["name"]], source["failure_count"])
            if source["enabled"]:
                info.add_metric([str(source["id"]), source["name"], source["kind"]], 1)
                circuits.add_metric([str(source["id"]), source["name"]], CIRCUIT_VALUE.get(source["circuit_state"], 0))
        yield from (health, info, circuits)
        yield GaugeMetricFamily("tge_dead_letters", "Parked messages not requeued yet", value=data["dead_letters"])
        hits = CounterMetricFamily("tge_api_cache", "API response cache lookups", labels=["result"])
        hits.add_metric(["hit"], data["cache"]["hits"])
        hits.add_metric(["miss"], data["cache"]["misses"])
        yield hits
        quota = data["rate_limits"]["x_api"]
        yield GaugeMetricFamily("tge_x_api_requests_used", "X API requests spent in the current window",
                                value=quota["used"])
        if data["workers"]["count"] is not None:
            yield GaugeMetricFamily("tge_workers_online", "Celery workers that answered a ping",
                                    value=data["workers"]["count"])
