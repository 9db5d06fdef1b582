"""Celery beat holds one periodic fetch per Source, kept in step with the Source."""
import json
import os
import sys
import time

import pytest
from django.core.cache import cache
from django_celery_beat.models import PeriodicTask, PeriodicTasks
from django_celery_beat.schedulers import ModelEntry

from api.models import Source
from tests.conftest import needs_redis, purge_queues
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.local_process import LocalProcess
from tgesweeper.bench.processes import wait_until
from tgesweeper.celery import app
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


# --- when the first scheduled fetch happens ----------------------------------------------------------


def due(source: Source) -> bool:
    """What the database scheduler of a beat that reads the schedule now decides for the source's task."""
    task = PeriodicTask.objects.get(name=task_name(source.pk))
    return task.enabled and ModelEntry(task, app=app).is_due().is_due


def beat_sends(source: Source) -> None:
    """Beat sending the task: the entry moves on, and its last run is written back as beat's sync does."""
    next(ModelEntry(PeriodicTask.objects.get(name=task_name(source.pk)), app=app)).save()


def test_a_new_source_is_due_at_once_then_after_its_interval():
    source = make_source()
    assert due(source)
    beat_sends(source)
    assert not due(source)


def test_an_unrelated_save_does_not_make_a_source_due_again():
    source = make_source()
    beat_sends(source)
    source.name, source.interval_seconds = "Renamed feed", 600
    source.save()
    assert not due(source)


@pytest.mark.parametrize("created_disabled", [False, True])
def test_a_source_going_from_disabled_to_enabled_is_due_at_once(created_disabled):
    source = make_source(enabled=not created_disabled)
    if not created_disabled:
        beat_sends(source)
        source.enabled = False
        source.save()
    assert not due(source)
    source.enabled = True
    source.save()
    assert due(source)


def test_syncing_starts_an_enabled_schedule_that_never_ran():
    source = make_source()
    PeriodicTask.objects.filter(name=task_name(source.pk)).update(start_time=None)  # as written before schedules had one
    assert not due(source)
    assert sync_all_schedules() == 1
    assert due(source)


class LocalBeat(LocalProcess):
    """``celery beat`` on the database scheduler, as ``make run`` starts it, rereading the schedule every second."""

    program = "celery beat"

    def __init__(self, *, env: dict[str, str], log_path):
        super().__init__([sys.executable, "-m", "celery", "-A", "tgesweeper", "beat", "--loglevel", "INFO",
                          "--max-interval", "1"], env={**os.environ, **env}, log_path=log_path)

    def is_ready(self) -> bool:
        return "beat: Starting" in self.log_text()

    def wait_reading_changes(self, timeout: float = 30) -> None:
        """Until beat has noticed a change: the first change after its initial read only sets its baseline."""
        def noticed() -> bool:
            PeriodicTasks.update_changed()
            return "Schedule changed" in self.log_text()

        wait_until(noticed, timeout, poll=0.5, message=self.log_text()[-2000:])

    def sent(self, source: Source) -> int:
        return self.log_text().count(f"Sending due task {task_name(source.pk)} (")


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
@needs_redis
def test_beat_fetches_a_new_source_within_seconds_and_a_reenabled_one_at_once(start_worker, worker_env, feed_server,
                                                                              tmp_path):
    purge_queues()
    cache.clear()
    feed_server.add("/new.xml", render_rss("New", [{"title": "Quillstone opens claims", "guid": "new-1",
                                                     "link": "https://news.example.com/new-1"}]))
    worker = start_worker()
    with LocalBeat(env=worker_env, log_path=tmp_path / "beat.log") as beat:
        beat.wait_reading_changes()
        source = make_source(name="New feed", url=feed_server.url("/new.xml"), interval_seconds=300)
        wait_until(source.documents.exists, 30,
                   message=f"no fetch of a new source:\n{beat.log_text()[-2000:]}\n{worker.log_text()[-2000:]}")
        assert beat.sent(source) == 1

        changes = beat.log_text().count("Schedule changed")
        source.name = "New feed, renamed"
        source.save()
        wait_until(lambda: beat.log_text().count("Schedule changed") > changes, 15, message=beat.log_text()[-2000:])
        time.sleep(2)  # two more ticks of the reread schedule
        assert beat.sent(source) == 1

        source.enabled = False
        source.save()
        source.enabled = True
        source.save()
        wait_until(lambda: beat.sent(source) == 2, 15, message=beat.log_text()[-2000:])
