"""What reviewers do to events: confirm, reject, merge. The pipeline keeps recomputing facts; review stays.

Each action records what it changed (``api.changes``) in its transaction and, once committed, asks the pipeline to
notify it (the live stream and alerts).
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from api import changes
from api.models import Mention, TGEEvent
from api.store import events_changed, refresh_event
from workers import enqueue


def set_review(event_id: int, review: str, user) -> TGEEvent:
    with transaction.atomic():
        event = TGEEvent.objects.select_for_update().get(pk=event_id)
        if event.review == TGEEvent.Review.MERGED:
            raise ValidationError({"review": [f"Event {event.pk} was merged into {event.merged_into_id}; review that one."]})
        before = changes.snapshot(event)
        event.review, event.reviewed_at = review, timezone.now()
        event.reviewed_by = user if getattr(user, "pk", None) else None
        event.published = event.compute_published()
        event.save(update_fields=["review", "reviewed_at", "reviewed_by", "published"])
        events_changed()
        if before["review"] != review:
            _notify(changes.record(event, before, [review], reviewed_by=event.reviewed_by))
    return event


def _notify(recorded) -> None:
    if recorded:
        ids = [change.pk for change in recorded]
        transaction.on_commit(lambda: enqueue.notify_changes(ids))


def merge_events(source_id: int, target_id: int, user) -> TGEEvent:
    """Move ``source``'s mentions to ``target``; later mentions of ``source``'s key follow (``merged_into``)."""
    if source_id == target_id:
        raise ValidationError({"into": ["An event cannot be merged into itself."]})
    with transaction.atomic():
        locked = {e.pk: e for e in TGEEvent.objects.select_for_update().filter(pk__in=[source_id, target_id]).order_by("key")}
        if target_id not in locked:
            raise ValidationError({"into": [f"No event with id {target_id}."]})
        source, target = locked[source_id], locked[target_id]
        if target.review == TGEEvent.Review.MERGED:
            raise ValidationError({"into": [f"Event {target.pk} was itself merged into {target.merged_into_id}."]})
        if source.review == TGEEvent.Review.MERGED:
            raise ValidationError({"id": [f"Event {source.pk} was already merged into {source.merged_into_id}."]})
        taken = set(Mention.objects.filter(event=target).values_list("document_id", flat=True))
        Mention.objects.filter(event=source, document_id__in=taken).delete()
        Mention.objects.filter(event=source).update(event=target)
        TGEEvent.objects.filter(merged_into=source).update(merged_into=target)
        source.review, source.merged_into, source.published = TGEEvent.Review.MERGED, target, False
        source.reviewed_at = timezone.now()
        source.reviewed_by = user if getattr(user, "pk", None) else None
        source.mention_count = source.source_count = 0
        source.save()
        before = changes.snapshot(target)
        refresh_event(target)
        events_changed()
        _notify(changes.record(target, before, reviewed_by=source.reviewed_by))
    return target
