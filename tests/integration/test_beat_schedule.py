"""Celery beat holds one periodic fetch per Source, kept in step with the Source."""
import json

import pytest
from django_celery_beat.models import PeriodicTask

from api.models import Source
from workers.schedule import sync_all_schedules, task_name

pytestmark = pytest.mark.django_db


def make_source(**fields) -> Source:
    values = {"name": "Example feed", "url": "https://news.example.com/rss", "interval_seconds": 300, **fields}
    return Source.objects.create(**values)


def test_it_creates_a_periodic_fetch_for_a_new_source():
    source = make_source()
    task = PeriodicTask.objects.get(name=task_name(source.pk))
    assert task.task == "workers.tasks.fetch_source"
    assert json.loads(task.args) == [source.pk]
    assert json.loads(task.kwargs) == {"scheduled": True}
    assert (task.interval.every, task.interval.period) == (300, "seconds")
    assert task.enabled
    source.refresh_from_db()
    assert source.periodic_task_id == task.pk


def test_it_follows_interval_edits():
    source = make_source()
    source.interval_seconds = 90
    source.save()
    assert PeriodicTask.objects.get(name=task_name(source.pk)).interval.every == 90


def test_it_disables_and_reenables_with_the_source():
    source = make_source()
    source.enabled = False
    source.save()
    assert not PeriodicTask.objects.get(name=task_name(source.pk)).enabled
    source.enabled = True
    source.save()
    assert PeriodicTask.objects.get(name=task_name(source.pk)).enabled


def test_it_removes_the_task_with_the_source():
    source = make_source()
    name = task_name(source.pk)
    source.delete()
    assert not PeriodicTask.objects.filter(name=name).exists()


def test_sync_all_repairs_sources_written_around_the_signals():
    kept = make_source()
    Source.objects.bulk_create([Source(name="Bulk", url="https://bulk.example.com/rss", interval_seconds=60)])
    PeriodicTask.objects.filter(name=task_name(kept.pk)).update(enabled=False)
    orphan = PeriodicTask.objects.create(name=task_name(99999), task="workers.tasks.fetch_source",
                                         interval=PeriodicTask.objects.get(name=task_name(kept.pk)).interval)
    assert sync_all_schedules() == 2
    bulk = Source.objects.get(name="Bulk")
    assert PeriodicTask.objects.get(name=task_name(bulk.pk)).interval.every == 60
    assert PeriodicTask.objects.get(name=task_name(kept.pk)).enabled
    assert not PeriodicTask.objects.filter(pk=orphan.pk).exists()
