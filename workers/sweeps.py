"""Sweeps on demand (``manage.py sweep``, demo, benchmark): start one with a ledger and watch it finish."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from api import store
from api.models import SweepRun, SweepSource, TGEEvent
from tgesweeper.celery import app
from workers.tasks import queue_fetches


def broker_configured() -> bool:
    """A real broker with workers behind it: Redis (or an explicit CELERY_BROKER_URL)."""
    return bool(settings.CONFIG["CELERY_BROKER_URL"] or settings.CONFIG["REDIS_URL"])


@contextmanager
def in_process() -> Iterator[None]:
    """Run the whole chain synchronously in this process (no broker, no worker)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def start_sweep(source_ids: list[int], connection=None) -> int:
    run_id, ledger = store.start_sweep(source_ids)
    queue_fetches(ledger, connection=connection)
    return run_id


@dataclass(frozen=True)
class Progress:
    sources_total: int
    sources_finished: int
    batches_expected: int
    batches_done: int


def progress(run_id: int) -> Progress:
    rows = list(SweepSource.objects.filter(run_id=run_id).values_list("state", "batches_expected", "batches_done"))
    finished = sum(1 for state, *_ in rows if state in (SweepSource.State.DONE, SweepSource.State.FAILED))
    return Progress(len(rows), finished, sum(r[1] for r in rows), sum(r[2] for r in rows))


def wait_for_sweep(run_id: int, *, timeout: float, on_progress: Callable[[Progress], None] | None = None,
                   poll: float = 0.2) -> bool:
    """Poll the ledger until every source finished; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if on_progress:
            on_progress(progress(run_id))
        if store.sweep_finished(run_id):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)


def sweep_results(run_id: int) -> tuple[list[SweepSource], list[TGEEvent]]:
    """Each source's outcome, and the events that gained a mention since the sweep started."""
    run = SweepRun.objects.get(pk=run_id)
    sources = list(SweepSource.objects.filter(run=run).select_related("source").order_by("source__name"))
    events = list(
        TGEEvent.objects.filter(mentions__created_at__gte=run.started_at).distinct().order_by("-confidence", "project")
    )
    return sources, events
