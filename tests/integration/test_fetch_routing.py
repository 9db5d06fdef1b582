"""Browser sources' fetches go to the browser queue (sweeps and beat); every other kind to fetch. Each kind declares its
queue, budget and settings; the workers can serve every kind the model offers."""
from __future__ import annotations

from django_celery_beat.models import PeriodicTask

from api.models import Source
from tgesweeper import net
from tgesweeper.celery import app
from tgesweeper.sources import kind_for
from workers import enqueue, pipeline, sweeps, tasks
from workers.schedule import fetch_queue, task_name


def test_sweeps_send_browser_fetches_to_their_own_queue(db, monkeypatch):
    feed = Source.objects.create(name="Feed", kind="rss", url="https://example.com/feed.xml")
    page = Source.objects.create(name="Launchpad", kind="browser", url="https://example.com/launches")
    sent = []
    monkeypatch.setattr(tasks.fetch_source, "apply_async", lambda args, queue, **options: sent.append((args[0], queue)))

    enqueue.queue_fetches([feed.pk, page.pk])
    sweeps.start_sweep([page.pk])

    assert sent[:2] == [(feed.pk, "fetch"), (page.pk, "browser")]
    assert sent[2] == (page.pk, "browser")


def test_a_source_deleted_before_its_fetch_is_queued_is_still_queued_as_a_quiet_no_op(db, monkeypatch):
    """Sweep now on a source another request just deleted: the fetch goes to the fetch queue and ends there quietly."""
    gone = Source.objects.create(name="Gone", kind="browser", url="https://example.com/launches")
    gone_id = gone.pk
    gone.delete()
    sent = []
    monkeypatch.setattr(tasks.fetch_source, "apply_async", lambda args, queue, **options: sent.append((args[0], queue)))
    assert enqueue.queue_fetches([gone_id]) == 1
    assert sent == [(gone_id, "fetch")]


def test_beat_schedules_browser_fetches_on_the_browser_queue(db):
    page = Source.objects.create(name="Launchpad", kind="browser", url="https://example.com/launches")
    feed = Source.objects.create(name="Feed", kind="rss", url="https://example.com/feed.xml")
    assert PeriodicTask.objects.get(name=task_name(page.pk)).queue == "browser"
    assert PeriodicTask.objects.get(name=task_name(feed.pk)).queue == "fetch"


def test_the_browser_queue_is_declared():
    assert "browser" in {queue.name for queue in app.conf.task_queues}


def test_every_kind_the_model_offers_has_a_served_queue_a_budget_and_its_settings(db, config):
    """What a kind declares is all the workers need: a kind with a queue no worker serves, a budget without limits
    or a setting that does not exist fails here, not at its first fetch."""
    config(X_BEARER_TOKEN="token")
    declared = {queue.name for queue in app.conf.task_queues}
    for value in Source.Kind.values:
        kind = kind_for(value)
        assert kind.name == value
        assert fetch_queue(value) in declared
        policy = pipeline.fetch_policy(kind)
        assert isinstance(policy, net.FetchPolicy) and policy.before_request is not None
        assert set(pipeline.kind_config(kind)) == set(kind.config_keys)
    assert pipeline.kind_config(kind_for("x"))["X_BEARER_TOKEN"] == "token"
