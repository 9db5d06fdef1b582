"""Celery tasks: one per pipeline stage, each calling one function of ``workers.pipeline`` and sending on.

Tasks are thin on purpose: the work is in plain functions that tests and benchmarks call directly.
Delivery is at-least-once; the persist transaction makes a redelivered batch a no-op. Every task retries with
backoff while the database, the broker or the cache is unreachable (``PipelineTask``).
"""
from __future__ import annotations

from django.conf import settings

from tgesweeper import net
from tgesweeper.celery import app
from workers import pipeline
from workers.schedule import fetch_queue
from workers.task_base import PipelineTask


def queue_fetch(source_id: int, kind: str, sweep_source_id: int | None = None, connection=None) -> None:
    """``connection``: a broker connection other than the app's (tests with a broker of their own)."""
    fetch_source.apply_async((source_id, sweep_source_id), queue=fetch_queue(kind), connection=connection)


@app.task(bind=True, base=PipelineTask, name="workers.tasks.fetch_source", soft_time_limit=75, time_limit=90)
def fetch_source(self, source_id: int, sweep_source_id: int | None = None, scheduled: bool = False,
                 deferrals: int = 0, failed_attempts: int = 0) -> None:
    """Retries are Celery's (the worker never sleeps). The message counts its failed fetch attempts and its deferrals
    (a spent rate limit) itself: a retry because the database or the broker was away is neither."""
    config = settings.CONFIG
    again = {"sweep_source_id": sweep_source_id, "scheduled": scheduled, "deferrals": deferrals,
             "failed_attempts": failed_attempts}
    try:
        payload = pipeline.fetch(source_id, sweep_source_id=sweep_source_id, scheduled=scheduled,
                                 final_attempt=failed_attempts + 1 >= config["SCRAPING_RETRY_MAX_ATTEMPTS"],
                                 can_defer=deferrals < config["FETCH_MAX_DEFERRALS"])
    except net.RateLimited as exc:  # come back when the budget or the server's quota resets
        countdown = (exc.retry_after if exc.retry_after is not None else config["SCRAPING_RETRY_MAX_DELAY"]) + 1
        raise self.retry(exc=exc, countdown=countdown, max_retries=None, args=(source_id,),
                         kwargs={**again, "deferrals": deferrals + 1}) from None
    except net.FetchError as exc:  # transient, with attempts left (pipeline.fetch decided)
        countdown = net.backoff_delay(failed_attempts, base=config["SCRAPING_RETRY_BASE_DELAY"],
                                      cap=config["SCRAPING_RETRY_MAX_DELAY"], retry_after=exc.retry_after)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None, args=(source_id,),
                         kwargs={**again, "failed_attempts": failed_attempts + 1}) from None
    if payload:
        parse_payload.delay(payload)


@app.task(base=PipelineTask, name="workers.tasks.parse_payload")
def parse_payload(payload: dict) -> None:
    for batch in pipeline.parse(payload):
        match_documents.delay(batch)


@app.task(base=PipelineTask, name="workers.tasks.match_documents")
def match_documents(batch: dict) -> None:
    persist_results.delay(pipeline.match(batch))


@app.task(base=PipelineTask, name="workers.tasks.persist_results")
def persist_results(batch: dict) -> None:
    changed = pipeline.persist(batch)
    if changed:
        notify.delay(changed)


@app.task(base=PipelineTask, name="workers.tasks.notify")
def notify(event_ids: list[int]) -> None:
    pipeline.notify(event_ids)
