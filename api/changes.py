"""The outbox of event changes: what a persist or a review did to an event, recorded as EventChange rows inside the
transaction that did it, so notify and alerts learn it even if the process dies right after the commit."""
from __future__ import annotations

from datetime import datetime

from api.models import EventChange, TGEEvent

Kind = EventChange.Kind


def snapshot(event: TGEEvent) -> dict:
    """The facts of an event that a change is about (what ``old`` and ``new`` hold)."""
    return {"tge_date": event.tge_date.isoformat() if event.tge_date else None, "status": event.status,
            "confidence": round(event.confidence, 4), "mention_count": event.mention_count,
            "is_candidate": event.is_candidate, "published": event.published, "review": event.review}


def kinds_between(before: dict, after: dict) -> list[str]:
    """The change kinds from one snapshot to the next; ``updated`` when only other facts moved, none when nothing did.

    An event without mentions before is new (the persist inserted it); its first date is part of being new."""
    if before == after:
        return []
    if before["mention_count"] == 0 and before["review"] == TGEEvent.Review.UNREVIEWED:
        return [Kind.NEW]
    kinds = []
    if before["tge_date"] != after["tge_date"]:
        kinds.append(Kind.DATE_SET if before["tge_date"] is None else Kind.DATE_CHANGED)
    if after["status"] != before["status"] and after["status"] in (Kind.POSTPONED, Kind.LIVE):
        kinds.append(after["status"])
    return kinds or [Kind.UPDATED]


def record(event: TGEEvent, before: dict, kinds: list[str] | None = None, *, batch_id: str = "", reviewed_by=None,
           source_kind: str = "", published_at: datetime | None = None,
           fetched_at: datetime | None = None, matched_at: datetime | None = None) -> list[EventChange]:
    """Store the changes from ``before`` to the event as it is now (``kinds`` given, or computed)."""
    after = snapshot(event)
    kinds = kinds_between(before, after) if kinds is None else kinds
    return EventChange.objects.bulk_create(
        EventChange(event=event, kind=kind, old=before, new=after, batch_id=batch_id, reviewed_by=reviewed_by,
                    source_kind=source_kind, published_at=published_at, fetched_at=fetched_at,
                    matched_at=matched_at)
        for kind in kinds
    )


def of_batch(batch_id: str) -> list[int]:
    """The changes a stored batch made: what a redelivered persist notifies again."""
    return list(EventChange.objects.filter(batch_id=batch_id).order_by("pk").values_list("pk", flat=True))
