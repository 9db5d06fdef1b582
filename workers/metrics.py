"""The pipeline's own Prometheus metrics, counted where the work happens: in the worker processes.

Celery's prefork pool runs tasks in child processes, each with its own memory, so the metrics use prometheus_client's
multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder of the worker's own, set before the worker
starts), every pool process writes its figures there, and the worker's main process serves all of them together on
``WORKER_METRICS_PORT`` at ``/metrics`` (``serve_worker_metrics``). Prometheus scrapes each worker there
(deploy/prometheus/prometheus.yml). Without the folder a process counts in its own memory (tests, ``make demo``).

The web's ``/metrics`` serves the figures read from the database and the broker (queue depths, dead letters,
circuits: api/system_metrics.py), which are the same whichever process asks.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, start_http_server

from tgesweeper import net

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

STAGE_SECONDS = Histogram(
    "tge_stage_duration_seconds",
    "Time a pipeline task took, by stage (fetch, parse, match, persist, notify)",
    ["stage", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
FETCHES = Counter(
    "tge_fetches_total", "Fetches of a source by outcome (ok, not_modified, error, skipped)", ["source_id", "outcome"]
)
FETCH_ERRORS = Counter("tge_fetch_errors_total", "Failed fetches and parses of a source by reason", ["source_id", "reason"])
DOCUMENTS_PARSED = Counter("tge_documents_parsed_total", "Documents read from a source's fetched bodies", ["source_id"])
DOCUMENTS_NEW = Counter("tge_documents_new_total", "Documents not seen before, sent on to the match stage", ["source_id"])
MATCHES = Counter("tge_matches_total", "Documents the engine matched as TGE mentions", ["source_id"])
EVENTS_CHANGED = Counter("tge_events_changed_total", "TGE events created or changed by stored batches")
DOCUMENTS_STORED = Counter("tge_documents_stored_total", "Documents stored by the persist stage", ["source_id"])
EVENTS_PUBLISHED = Counter("tge_events_notified_total", "Events published on the live channel")
DEAD_LETTERS = Counter("tge_dead_letters_parked_total", "Messages parked as dead letters, by task", ["task"])
PUBLICATION_DELAY = Histogram(
    "tge_publication_to_persisted_seconds",
    "From a document's publication time to its storage",
    buckets=(30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 7 * 86400),
)


def stage_of(task_name: str) -> str:
    """``workers.tasks.fetch_source`` → ``fetch``."""
    return task_name.rsplit(".", 1)[-1].split("_", 1)[0]


def fetch_error_reason(exc: BaseException) -> str:
    """A short, bounded label for a failed fetch: the kind of error, or the HTTP status class."""
    if isinstance(exc, net.HTTPStatusError):
        return "rate_limited" if isinstance(exc, net.RateLimited) else f"http_{exc.status // 100}xx"
    return {
        net.FetchTimeout: "timeout",
        net.ConnectionFailed: "connection",
        net.BodyTooLarge: "too_large",
        net.BlockedURL: "blocked",
        net.NotConfigured: "not_configured",
    }.get(type(exc), "other")


def observe_publication_delays(published: list[str | None], stored_at: datetime) -> None:
    for value in published:
        if value:
            delay = (stored_at - datetime.fromisoformat(value)).total_seconds()
            if delay >= 0:  # a date in the future (a scheduled post, a wrong clock) says nothing about our delay
                PUBLICATION_DELAY.observe(delay)


def process_ended(pid: int | None) -> None:
    """A pool process ended: its live gauges go (counters and histograms stay summed in the folder)."""
    if os.environ.get(MULTIPROC_ENV) and pid:
        multiprocess.mark_process_dead(pid)


def serve_worker_metrics() -> int | None:
    """In the worker's main process: serve every pool process's metrics on WORKER_METRICS_PORT. Returns the port."""
    port = settings.CONFIG["WORKER_METRICS_PORT"]
    if not port:
        return None
    if not os.environ.get(MULTIPROC_ENV):
        log.warning(
            "WORKER_METRICS_PORT is set but %s is not: the pool processes' metrics cannot be gathered, not serving them",
            MULTIPROC_ENV,
        )
        return None
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr="0.0.0.0", registry=registry)
    log.info("worker metrics served on port %s at /metrics", port)
    return port
