"""The base of every pipeline task: it rides out outages and parks poison messages.

Outages: while PostgreSQL, the broker or the cache is unreachable a task retries with backoff instead of failing
(a failed task is acked, and its batch would be gone).

Poison messages: a message whose task kills its worker every time is parked, not redelivered forever; so is a
message whose task raised what it does not retry (a bug, a malformed message, an outage outlasting its retries),
which Celery would otherwise ack and drop.

With ``acks_late`` and ``reject_on_worker_lost`` a message comes back whenever the worker running it dies —
right for a crash that happens once, a loop for one that happens every time. Each delivery increments a
counter per task id in the shared cache before the task runs; any normal end (success, retry, failure)
clears it. Only a delivery that took its worker down leaves it standing, and after TASK_MAX_DELIVERIES
of those the message goes to the DeadLetter table (admin: Dead letters) instead of running again.
"""
from __future__ import annotations

import logging

from celery import Task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisUnavailable
from redis.exceptions import TimeoutError as RedisTimeout

from api.models import DeadLetter
from tgesweeper.counters import increment
from workers.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)
TTL = 24 * 3600
CACHE_UNAVAILABLE = (RedisUnavailable, RedisTimeout)
# PostgreSQL, the broker or the cache restarting: the task is retried with backoff, never failed (and so acked).
UNAVAILABLE = (OperationalError, InterfaceError, BrokerUnavailable, *CACHE_UNAVAILABLE)


def _key(task_id: str) -> str:
    return f"deliveries:{task_id}"


def count_delivery(task_id: str) -> int:
    return increment(_key(task_id), timeout=TTL)


def forget_deliveries(task_id: str | None) -> None:
    if task_id:
        try:
            cache.delete(_key(task_id))
        except CACHE_UNAVAILABLE:  # the count expires with its TTL
            log.warning("cannot clear the delivery count of %s: cache unreachable", task_id)


class PipelineTask(Task):
    """Base of the pipeline's tasks (``app.task(base=PipelineTask)``): outage retries + poison guard."""

    autoretry_for = UNAVAILABLE
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 10

    def __call__(self, *args, **kwargs):
        task_id = self.request.id
        if task_id and not self.request.is_eager:
            try:
                deliveries = count_delivery(task_id)
            except CACHE_UNAVAILABLE:  # no count while the cache is away; the task runs (and retries if it must)
                log.warning("cannot count the deliveries of %s[%s]: cache unreachable", self.name, task_id)
                deliveries = 1
            if deliveries > settings.CONFIG["TASK_MAX_DELIVERIES"]:
                park(self.name, task_id, args, kwargs, deliveries - 1,
                     reason=f"the worker running it died on each of {deliveries - 1} deliveries (killed, out of "
                            f"memory or over the hard time limit)")
                forget_deliveries(task_id)
                return None
        return super().__call__(*args, **kwargs)

    def after_return(self, status, retval, task_id, args, kwargs, einfo) -> None:
        forget_deliveries(task_id)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Park the message instead of losing it: it waits in Dead letters to be requeued once the cause is fixed."""
        if self.request.is_eager:  # in-process runs (make demo, a sweep without a broker) raise to their caller
            return
        try:
            park(self.name, task_id, args, kwargs, 1, reason=f"it raised {type(exc).__name__}: {exc}"[:2000])
        except Exception:  # the database may be what failed; the log keeps the message
            log.exception("could not park %s[%s] args=%r kwargs=%r", self.name, task_id, args, kwargs)

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        """A retry is a normal end (Celery calls no ``after_return`` for it): not a delivery that killed its worker."""
        forget_deliveries(task_id)


def park(task_name: str, task_id: str, args, kwargs, deliveries: int, *, reason: str) -> None:
    log.error("parking %s[%s]: %s", task_name, task_id, reason)
    DEAD_LETTERS.labels(task=task_name).inc()
    DeadLetter.objects.get_or_create(task_id=task_id, defaults={
        "task_name": task_name, "args": list(args), "kwargs": dict(kwargs), "deliveries": deliveries,
        "reason": reason,
    })
