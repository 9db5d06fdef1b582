"""What the web app may ask of the pipeline: fetch sources now ("Sweep now"), send parked messages again, notify a
reviewer's changes and send alerts again.

The one module of ``workers`` that ``api`` imports; everything else flows from the pipeline to the store.
"""
from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from api.models import DeadLetter
from tgesweeper.celery import app
from workers import tasks


def queue_fetches(source_ids: list[int]) -> int:
    """Fetch these sources now, outside their schedule and any sweep ledger."""
    tasks.queue_fetches(dict.fromkeys(source_ids))
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


def notify_changes(change_ids: list[int]) -> None:
    """Publish and alert these recorded changes (a review's)."""
    tasks.notify.delay(change_ids=change_ids)


def send_deliveries(delivery_ids: list[int]) -> None:
    """Send these alert deliveries (a resend, or new ones a review planned)."""
    for delivery_id in delivery_ids:
        tasks.deliver_alert.delay(delivery_id)
