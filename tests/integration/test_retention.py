"""Retention: `manage.py prune` deletes old documents that support no event and prints the counts; beat runs it
daily."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from api.models import Document, Mention, Source, TGEEvent
from tgesweeper.celery import app
from workers import tasks

pytestmark = pytest.mark.django_db


def document(source: Source, external_id: str, age_days: float) -> Document:
    return Document.objects.create(source=source, external_id=external_id, title=external_id, content_hash=external_id,
                                   fetched_at=timezone.now() - timedelta(days=age_days),
                                   published_at=timezone.now() - timedelta(days=age_days))


@pytest.fixture
def documents():
    source = Source.objects.create(name="Wire", url="https://news.example.com/rss")
    event = TGEEvent.objects.create(key="quillstone", project="Quillstone", confidence=0.9)
    old_evidence = document(source, "old-evidence", 200)
    Mention.objects.create(event=event, document=old_evidence, source=source, kind="scheduled", confidence=0.9)
    document(source, "old-1", 200)
    document(source, "old-2", 91)
    document(source, "recent", 10)
    return source


def remaining() -> set[str]:
    return set(Document.objects.values_list("external_id", flat=True))


def test_prune_deletes_old_documents_but_keeps_the_evidence_of_events(documents):
    out = StringIO()
    call_command("prune", stdout=out)
    assert remaining() == {"old-evidence", "recent"}
    assert out.getvalue().startswith("deleted 2 documents fetched before ")
    assert out.getvalue().rstrip().endswith("kept 1 older ones that support an event")

    again = StringIO()
    call_command("prune", "--days", "5", stdout=again)
    assert remaining() == {"old-evidence"} and "deleted 1 documents" in again.getvalue()


def test_zero_days_keeps_everything(documents, config):
    config(DOCUMENT_RETENTION_DAYS=0)
    out = StringIO()
    call_command("prune", stdout=out)
    assert len(remaining()) == 4 and "retention is off" in out.getvalue()


def test_the_daily_task_prunes_with_the_setting(documents, config):
    config(DOCUMENT_RETENTION_DAYS=30)
    tasks.prune_documents.apply()
    assert remaining() == {"old-evidence", "recent"}


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection, as beat does between ticks
def test_beat_writes_the_daily_prune_into_its_schedule():
    DatabaseScheduler(app=app, lazy=False)
    task = PeriodicTask.objects.get(name="prune documents")
    assert task.task == "workers.tasks.prune_documents" and task.queue == "persist"
    assert (task.crontab.hour, task.crontab.minute) == ("3", "30")
    assert tasks.prune_documents.queue == "persist"
