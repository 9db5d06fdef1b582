"""Keeps one django-celery-beat PeriodicTask per Source, in step with the Source's interval and enabled flag."""
from __future__ import annotations

import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from api.models import Source

FETCH_TASK = "workers.tasks.fetch_source"
BROWSER_QUEUE = "browser"  # celeryconfig.QUEUE_BROWSER


def fetch_queue(kind: str) -> str:
    """Browser sources render in Chromium, heavy and slow: their fetches go to a low-concurrency worker of their own."""
    return BROWSER_QUEUE if kind == "browser" else "fetch"


def task_name(source_id: int) -> str:
    return f"fetch source #{source_id}"


def sync_source_schedule(source: Source) -> PeriodicTask:
    every, _ = IntervalSchedule.objects.get_or_create(every=source.interval_seconds, period=IntervalSchedule.SECONDS)
    task, _ = PeriodicTask.objects.update_or_create(
        name=task_name(source.pk),
        defaults={
            "task": FETCH_TASK,
            "interval": every,
            "args": json.dumps([source.pk]),
            "kwargs": json.dumps({"scheduled": True}),
            "queue": fetch_queue(source.kind),
            "enabled": source.enabled,
            "description": f"Fetch {source.name} every {source.interval_seconds} s",
        },
    )
    if source.periodic_task_id != task.pk:
        Source.objects.filter(pk=source.pk).update(periodic_task=task)
        source.periodic_task = task
    return task


def sync_all_schedules() -> int:
    """Bring every Source's periodic task in step (after bulk loads that bypass signals); drop orphans."""
    sources = list(Source.objects.all())
    for source in sources:
        sync_source_schedule(source)
    keep = {task_name(s.pk) for s in sources}
    PeriodicTask.objects.filter(task=FETCH_TASK).exclude(name__in=keep).delete()
    return len(sources)


def on_source_saved(sender, instance: Source, raw: bool = False, **kwargs) -> None:
    if not raw:
        sync_source_schedule(instance)


def on_source_deleted(sender, instance: Source, **kwargs) -> None:
    PeriodicTask.objects.filter(name=task_name(instance.pk)).delete()
