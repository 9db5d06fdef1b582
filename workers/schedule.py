"""Keeps one django-celery-beat PeriodicTask per Source, in step with the Source's interval and enabled flag."""
from __future__ import annotations

import json

from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from api.models import Source
from celeryconfig import QUEUE_BROWSER, QUEUE_FETCH
from tgesweeper import polling, sources

FETCH_TASK = "workers.tasks.fetch_source"
# A kind's fetch queue (what its SourceKind declares) -> the broker queue whose workers serve it.
FETCH_QUEUES = {sources.FETCH_QUEUE: QUEUE_FETCH, sources.BROWSER_QUEUE: QUEUE_BROWSER}


def fetch_queue(kind: str) -> str:
    """The queue the fetches of a ``kind`` source go to, as the kind declares (browser: a worker of its own).
    No kind (the source was deleted since it was picked): the fetch queue, where its fetch ends as a quiet no-op."""
    return FETCH_QUEUES[sources.kind_for(kind).queue if kind else sources.FETCH_QUEUE]


def task_name(source_id: int) -> str:
    return f"fetch source #{source_id}"


def interval_schedule(seconds: int) -> IntervalSchedule:
    """The schedule of "every ``seconds`` s". django-celery-beat puts no unique constraint on (every, period), so two
    workers moving intervals at once can each create one, and ``get_or_create`` then raises MultipleObjectsReturned
    for that interval ever after (every parse of such a source failed, and so did saving one). Equal rows are
    interchangeable: take the oldest, as django-celery-beat's own ``IntervalSchedule.from_schedule`` does."""
    found = IntervalSchedule.objects.filter(every=seconds, period=IntervalSchedule.SECONDS).order_by("pk").first()
    return found or IntervalSchedule.objects.create(every=seconds, period=IntervalSchedule.SECONDS)


def sync_source_schedule(source: Source) -> PeriodicTask:
    """A new source, or one going from disabled to enabled, is due at once, then every interval.

    django-celery-beat reckons a task that has no ``last_run_at`` from its ``start_time`` when it has one (due as soon
    as that has passed), and otherwise from its last change (due one whole interval later). So a schedule that starts
    gets ``start_time`` now and no ``last_run_at`` (so does an enabled one written before this rule that never ran);
    any other save leaves both alone and does not fire it again.
    """
    every = interval_schedule(source.poll_interval_seconds)
    name = task_name(source.pk)
    fields = {
        "task": FETCH_TASK,
        "interval": every,
        "args": json.dumps([source.pk]),
        "kwargs": json.dumps({"scheduled": True}),
        "queue": fetch_queue(source.kind),
        "enabled": source.enabled,
        "description": f"Fetch {source.name} every {source.poll_interval_seconds} s",
    }
    running = PeriodicTask.objects.filter(name=name, enabled=True).exclude(last_run_at=None, start_time=None)
    if source.enabled and not running.exists():
        fields.update(start_time=timezone.now(), last_run_at=None)
    task, _ = PeriodicTask.objects.update_or_create(name=name, defaults=fields)
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


def adapt_interval(source_id: int, *, new_items: int) -> int | None:
    """After a fetch: move the source's polling interval (``tgesweeper.polling``) and its beat schedule with it.

    Writes only when the interval changes, so a steady source costs one read per fetch.
    """
    config = settings.CONFIG
    if not config["ADAPTIVE_POLLING"]:
        return None
    source = Source.objects.filter(pk=source_id).only("interval_seconds", "adaptive_interval_seconds").first()
    if source is None or source.fixed_interval:
        return None
    current = source.poll_interval_seconds
    interval = polling.next_interval(current, new_items, low=config["ADAPTIVE_POLL_MIN_SECONDS"],
                                     high=config["ADAPTIVE_POLL_MAX_SECONDS"])
    if interval == current and source.adaptive_interval_seconds:
        return interval
    Source.objects.filter(pk=source_id).update(adaptive_interval_seconds=interval)
    every = interval_schedule(interval)
    for task in PeriodicTask.objects.filter(name=task_name(source_id)):
        task.interval = every
        task.save(update_fields=["interval"])  # save(), not update(): beat learns of the change from its signal
    return interval
