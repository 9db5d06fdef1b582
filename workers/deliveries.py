"""Poison messages: a message whose task kills its worker every time is parked, not redelivered forever.

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

log = logging.getLogger(__name__)
TTL = 24 * 3600


def _key(task_id: str) -> str:
    return f"deliveries:{task_id}"


def count_delivery(task_id: str) -> int:
    if cache.add(_key(task_id), 1, timeout=TTL):
        return 1
    try:
        return cache.incr(_key(task_id))
    except ValueError:
        cache.add(_key(task_id), 1, timeout=TTL)
        return 1


class PoisonGuardedTask(Task):
    """Base of the pipeline's tasks (``app.task(base=PoisonGuardedTask)``)."""

    def __call__(self, *args, **kwargs):
        task_id = self.request.id
        if task_id and not self.request.is_eager:
            deliveries = count_delivery(task_id)
            if deliveries > settings.CONFIG["TASK_MAX_DELIVERIES"]:
                park(self.name, task_id, args, kwargs, deliveries - 1)
                cache.delete(_key(task_id))
                return None
        return super().__call__(*args, **kwargs)

    def after_return(self, status, retval, task_id, args, kwargs, einfo) -> None:
        if task_id:
            cache.delete(_key(task_id))


def park(task_name: str, task_id: str, args, kwargs, deliveries: int) -> None:
    from api.models import DeadLetter

    log.error("parking %s[%s]: its worker died on each of %d deliveries", task_name, task_id, deliveries)
    DeadLetter.objects.get_or_create(task_id=task_id, defaults={
        "task_name": task_name, "args": list(args), "kwargs": dict(kwargs), "deliveries": deliveries,
        "reason": f"the worker running it died on each of {deliveries} deliveries (killed, out of memory or over "
                  f"the hard time limit)",
    })
