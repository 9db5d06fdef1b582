"""What the web app may ask of the pipeline: fetch sources now ("Sweep now") and send parked messages again.

The one module of ``workers`` that ``api`` imports; everything else flows from the pipeline to the store.
"""
from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from api.models import DeadLetter, Source
from tgesweeper.celery import app
from workers.tasks import queue_fetch


def queue_fetches(source_ids: list[int]) -> int:
    """Fetch these sources now, outside their schedule and any sweep ledger."""
    kinds = dict(Source.objects.filter(pk__in=source_ids).values_list("pk", "kind"))
    for source_id in source_ids:
        queue_fetch(source_id, kinds.get(source_id, ""))
    return len(source_ids)


def requeue(letters: QuerySet[DeadLetter]) -> int:
    """Send parked messages again, as new messages, once each (after the cause is fixed); returns how many."""
    count = 0
    for letter in letters.filter(requeued_at__isnull=True):
        app.send_task(letter.task_name, args=letter.args, kwargs=letter.kwargs)
        letter.requeued_at = timezone.now()
        letter.save(update_fields=["requeued_at"])
        count += 1
    return count
