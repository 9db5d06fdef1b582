"""Browser sources' fetches go to the browser queue (sweeps and beat); every other kind to fetch."""
from __future__ import annotations

from django_celery_beat.models import PeriodicTask

from api.models import Source
from tgesweeper.celery import app
from workers import enqueue, sweeps, tasks
from workers.schedule import task_name


def test_sweeps_send_browser_fetches_to_their_own_queue(db, monkeypatch):
    feed = Source.objects.create(name="Feed", kind="rss", url="https://example.com/feed.xml")
    page = Source.objects.create(name="Launchpad", kind="browser", url="https://example.com/launches")
    sent = []
    monkeypatch.setattr(tasks.fetch_source, "apply_async", lambda args, queue, **options: sent.append((args[0], queue)))

    enqueue.queue_fetches([feed.pk, page.pk])
    sweeps.start_sweep([page.pk])

    assert sent[:2] == [(feed.pk, "fetch"), (page.pk, "browser")]
    assert sent[2] == (page.pk, "browser")


def test_beat_schedules_browser_fetches_on_the_browser_queue(db):
    page = Source.objects.create(name="Launchpad", kind="browser", url="https://example.com/launches")
    feed = Source.objects.create(name="Feed", kind="rss", url="https://example.com/feed.xml")
    assert PeriodicTask.objects.get(name=task_name(page.pk)).queue == "browser"
    assert PeriodicTask.objects.get(name=task_name(feed.pk)).queue == "fetch"


def test_the_browser_queue_is_declared():
    assert "browser" in {queue.name for queue in app.conf.task_queues}
