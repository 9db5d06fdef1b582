"""Celery tasks: one per pipeline stage, each calling one function of ``workers.pipeline`` and sending on.

Tasks are thin on purpose: the work is in plain functions that tests and benchmarks call directly.
Delivery is at-least-once; the persist transaction makes a redelivered batch a no-op. Every task retries with
backoff while the database, the broker or the cache is unreachable (``PipelineTask``).
"""
from __future__ import annotations

import logging
import math

from django.conf import settings

from api import live_stream, retention
from api.models import Source
from celeryconfig import QUEUE_PERSIST
from tgesweeper import net
from tgesweeper.celery import app
from workers import pipeline
from workers.schedule import fetch_queue
from workers.task_base import PipelineTask

log = logging.getLogger(__name__)
FETCH_TIME_LIMIT = 90  # the fetch task's hard time limit, s
RETRY_MARGIN = FETCH_TIME_LIMIT + 30  # the retried fetch's own run, plus slack for the worker to take the message


def retry_countdown(seconds: float) -> int:
    """``seconds`` as a retry's countdown (a fetch's or an alert's): whole seconds, rounded up, and at most
    CELERY_VISIBILITY_TIMEOUT − RETRY_MARGIN (at least 1 s).

    Whole seconds because RabbitMQ's native delayed delivery (quorum queues, Celery 5.5+) counts in whole seconds:
    Celery truncates a countdown with ``int()`` and raises on one under a second, so ``retry`` rejects the message
    and the retry is lost (a jittered backoff is often under a second). Rounded up, no retry comes back before the
    wait it asked for (a server's ``Retry-After``) on any broker; a wait of 0 is an immediate retry.

    The worker that receives a message with an ETA holds it unacked until the ETA has passed and the task has run;
    Redis gives a message unacked for longer than the visibility timeout to another worker, so a longer countdown
    would run twice, and a year-long one (a server's ``Retry-After: 99999999999``) be redelivered every timeout
    forever: no countdown or ETA may be longer than that timeout. A longer wait asked for is cut to the cap
    (the retry then counts as one more deferral or attempt, so a server that keeps asking ends as a recorded failure);
    a wait that is not a finite number (never from ``net.parse_retry_after``) also gets the cap.
    """
    ceiling = max(1, math.floor(settings.CONFIG["CELERY_VISIBILITY_TIMEOUT"] - RETRY_MARGIN))
    if not math.isfinite(seconds) or seconds > ceiling:
        return ceiling
    return max(0, math.ceil(seconds))


def queue_fetches(runs: dict[int, int | None], connection=None) -> None:
    """A fetch of each source (its id -> its sweep row, or None outside a sweep) on the queue its kind declares."""
    kinds = dict(Source.objects.filter(pk__in=list(runs)).values_list("pk", "kind"))
    for source_id, sweep_source_id in runs.items():
        queue_fetch(source_id, kinds.get(source_id, ""), sweep_source_id, connection=connection)


def queue_fetch(source_id: int, kind: str, sweep_source_id: int | None = None, connection=None) -> None:
    """``connection``: a broker connection other than the app's (tests with a broker of their own)."""
    fetch_source.apply_async((source_id, sweep_source_id), queue=fetch_queue(kind), connection=connection)


@app.task(bind=True, base=PipelineTask, name="workers.tasks.fetch_source", soft_time_limit=75,
          time_limit=FETCH_TIME_LIMIT)
def fetch_source(self, source_id: int, sweep_source_id: int | None = None, scheduled: bool = False,
                 deferrals: int = 0, failed_attempts: int = 0, claimed: bool = False) -> None:
    """Retries are Celery's (the worker never sleeps). The message counts its failed fetch attempts and its deferrals
    (a spent rate limit) itself: a retry because the database or the broker was away is neither.

    Beat sends ``scheduled=True``; the run claims the source for its interval on its first delivery, and its retries
    say ``claimed`` so they are not refused as a second run of the same interval."""
    config = settings.CONFIG
    again = {"sweep_source_id": sweep_source_id, "scheduled": scheduled, "deferrals": deferrals,
             "failed_attempts": failed_attempts, "claimed": scheduled}
    try:
        payload = pipeline.fetch(source_id, sweep_source_id=sweep_source_id, scheduled=scheduled,
                                 run_id=self.request.id, claimed=claimed,
                                 final_attempt=failed_attempts + 1 >= config["SCRAPING_RETRY_MAX_ATTEMPTS"],
                                 can_defer=deferrals < config["FETCH_MAX_DEFERRALS"])
    except net.RateLimited as exc:  # come back when the budget or the server's quota resets
        wanted = (exc.retry_after if exc.retry_after is not None else config["SCRAPING_RETRY_MAX_DELAY"]) + 1
        countdown = _bounded(wanted, source_id, exc)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None, args=(source_id,),
                         kwargs={**again, "deferrals": deferrals + 1}) from None
    except net.FetchError as exc:  # transient, with attempts left (pipeline.fetch decided)
        countdown = _bounded(net.backoff_delay(failed_attempts, base=config["SCRAPING_RETRY_BASE_DELAY"],
                                               cap=config["SCRAPING_RETRY_MAX_DELAY"], retry_after=exc.retry_after),
                             source_id, exc)
        raise self.retry(exc=exc, countdown=countdown, max_retries=None, args=(source_id,),
                         kwargs={**again, "failed_attempts": failed_attempts + 1}) from None
    if payload:
        parse_payload.delay(payload)


def _bounded(wanted: float, source_id: int, exc: net.FetchError) -> float:
    countdown = retry_countdown(wanted)
    if countdown < wanted:
        log.warning("source %s: %s; coming back in %.0fs instead, under the broker's visibility timeout",
                    source_id, exc.reason, countdown)
    return countdown


@app.task(base=PipelineTask, name="workers.tasks.parse_payload")
def parse_payload(payload: dict) -> None:
    for batch in pipeline.parse(payload):
        match_documents.delay(batch)


@app.task(base=PipelineTask, name="workers.tasks.match_documents")
def match_documents(batch: dict) -> None:
    persist_results.delay(pipeline.match(batch))


@app.task(base=PipelineTask, name="workers.tasks.persist_results")
def persist_results(batch: dict) -> None:
    change_ids = pipeline.persist(batch)
    if change_ids:
        notify.delay(change_ids=change_ids)


@app.task(base=PipelineTask, name="workers.tasks.notify")
def notify(event_ids: list[int] | None = None, change_ids: list[int] | None = None) -> None:
    """``change_ids``: EventChange rows. ``event_ids``: a message from before the outbox, published as it was."""
    if event_ids:
        live_stream.publish_events(event_ids)
    for delivery_id in pipeline.notify(change_ids or []):
        deliver_alert.delay(delivery_id)


@app.task(bind=True, base=PipelineTask, name="workers.tasks.deliver_alert", soft_time_limit=150, time_limit=180)
def deliver_alert(self, delivery_id: int) -> None:
    """Send one alert; the delivery row counts the attempts, so a retry here is only "come back in so many seconds"."""
    wait = pipeline.deliver(delivery_id)
    if wait is not None:
        raise self.retry(countdown=retry_countdown(wait), max_retries=None)


@app.task(name="workers.tasks.prune_documents", queue=QUEUE_PERSIST, time_limit=1800, soft_time_limit=1700)
def prune_documents() -> None:
    """Daily (celeryconfig.beat_schedule): the retention of api/retention.py."""
    pruned = retention.prune_documents(settings.CONFIG["DOCUMENT_RETENTION_DAYS"])
    if pruned is not None:
        log.info("pruned %d documents fetched before %s; kept %d that support an event", pruned.deleted,
                 pruned.cutoff.isoformat(), pruned.kept)
