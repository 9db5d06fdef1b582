"""What a worker tells about the task it runs: log context, Sentry tags and the per-stage duration metric.

``task_prerun`` binds the task's id and name and what its message says it is about (source, sweep row, batch,
events) to every log line (structlog contextvars) and to Sentry's scope; ``task_postrun`` unbinds them and observes
the stage's duration. In the worker's main process, ``worker_ready`` serves the pool's metrics and registers with
Consul, ``worker_shutdown`` deregisters. Connected once, by ``WorkersConfig.ready``, in every Django process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sentry_sdk
import structlog
from celery import signals
from django.conf import settings

from tgesweeper import service_registry
from workers import metrics

log = logging.getLogger(__name__)
TASK_CONTEXT = ("task_id", "task_name", "stage", "source_id", "source_name", "sweep_source_id", "batch_id", "event_ids")
_started: dict[str, float] = {}
_registered: str | None = None  # this worker's Consul service id


def message_context(task_name: str, args: tuple | list, kwargs: dict) -> dict[str, Any]:
    """What a pipeline message is about, from its arguments (see workers/tasks.py for each task's)."""
    first = args[0] if args else None
    found: dict[str, Any] = {}
    if task_name.endswith(".fetch_source"):
        found["source_id"] = first if first is not None else kwargs.get("source_id")
        found["sweep_source_id"] = args[1] if len(args) > 1 else kwargs.get("sweep_source_id")
    elif isinstance(first, dict):
        for key in ("source_id", "sweep_source_id", "batch_id"):
            if first.get(key) is not None:
                found[key] = first[key]
    elif task_name.endswith(".notify") and isinstance(first, list):
        found["event_ids"] = first[:20]
    return {key: value for key, value in found.items() if value is not None}


def bind(**values: Any) -> None:
    """More context for the rest of the task (e.g. the source's name once it is read)."""
    structlog.contextvars.bind_contextvars(**values)
    for key, value in values.items():
        sentry_sdk.set_tag(key, value if isinstance(value, (str, int)) else str(value))


@signals.task_prerun.connect(dispatch_uid="tge-task-context")
def _task_started(task_id: str, task: Any, args: tuple = (), kwargs: dict | None = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    _started[task_id] = time.monotonic()
    bind(
        task_id=task_id,
        task_name=task.name,
        stage=metrics.stage_of(task.name),
        **message_context(task.name, args or (), kwargs or {}),
    )


@signals.task_postrun.connect(dispatch_uid="tge-task-context")
def _task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.STAGE_SECONDS.labels(stage=metrics.stage_of(task.name), outcome=(state or "unknown").lower()).observe(
            time.monotonic() - started
        )
    scope = sentry_sdk.get_isolation_scope()
    for key in TASK_CONTEXT:
        scope.remove_tag(key)
    structlog.contextvars.clear_contextvars()


@signals.worker_process_shutdown.connect(dispatch_uid="tge-metrics-process-dead")
def _pool_process_ended(pid: int | None = None, **_: Any) -> None:
    metrics.process_ended(pid)


@signals.worker_ready.connect(dispatch_uid="tge-metrics-exporter")
def _worker_ready(sender: Any = None, **_: Any) -> None:
    """In the worker's main process: serve the metrics, and register with Consul (checked on the metrics port)."""
    global _registered
    port = metrics.serve_worker_metrics()
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    instance = sender.hostname.replace("@", "-") if sender is not None else "worker"  # fetch@host: fetch-host
    _registered = service_registry.register(settings.CONFIG, "tge-worker", instance, port, health_path="/metrics", tags=queues)


@signals.worker_shutdown.connect(dispatch_uid="tge-consul-deregister")
def _worker_stopping(**_: Any) -> None:
    service_registry.deregister(settings.CONFIG, _registered)
