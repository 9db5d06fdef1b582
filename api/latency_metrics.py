"""Latency histograms for Prometheus, computed from the database at scrape time.

Workers are separate processes (prefork), so a histogram observed in one would need prometheus_client's multiprocess
mode and a shared directory; the times are in the rows already (EventChange: published, fetched, persisted; Delivery:
created, attempted, delivered), so ``/metrics`` counts them when scraped. The counts only grow while rows are kept.
"""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from api.models import Delivery, EventChange

PERSIST_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 24 * 3600)
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800)


def histogram(queryset, label: str, start: str, end: str, buckets: tuple[float, ...]) -> dict[str, tuple[list, float]]:
    """Per ``label`` value: cumulative bucket counts (ending with +Inf) and the sum in seconds of ``end − start``."""
    took = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    counts = {f"le_{i}": Count("pk", filter=Q(took__lte=timedelta(seconds=b))) for i, b in enumerate(buckets)}
    rows = (queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).annotate(took=took)
            .values(label).annotate(total=Count("pk"), seconds=Sum("took"), **counts))
    result = {}
    for row in rows:
        cumulative = [(str(float(b)), row[f"le_{i}"]) for i, b in enumerate(buckets)] + [("+Inf", row["total"])]
        seconds = row["seconds"].total_seconds() if row["seconds"] is not None else 0.0
        result[row[label] or "unknown"] = (cumulative, seconds)
    return result


class LatencyCollector(Collector):
    def collect(self):
        persisted = HistogramMetricFamily(
            "tge_publication_to_persisted_seconds", "From a source's publication time to the change persisted",
            labels=["source_kind"])
        for kind, (buckets, total) in histogram(EventChange.objects.exclude(batch_id=""), "source_kind",
                                                "published_at", "created_at", PERSIST_BUCKETS).items():
            persisted.add_metric([kind], buckets, total)
        yield persisted
        delivered = HistogramMetricFamily(
            "tge_persisted_to_delivered_seconds", "From a change persisted to its alert delivered",
            labels=["channel_kind"])
        for kind, (buckets, total) in histogram(Delivery.objects.filter(state=Delivery.State.DELIVERED),
                                                "channel__kind", "change__created_at", "delivered_at",
                                                DELIVERY_BUCKETS).items():
            delivered.add_metric([kind], buckets, total)
        yield delivered
