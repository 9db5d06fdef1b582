"""Reviewers' decisions as labeled news items: what the detector learns from besides the corpora.

Confirming an event labels every item that mentions it a launch (``tge``), rejecting it labels them ``other``; a
merge says which launch an item reports (the target's project) and takes the target's label once it is reviewed.
One example per document: a later decision replaces the earlier, except that rejecting one event does not undo the
confirmation of another event the same item reports (a roundup of several launches).

``corpus_items`` exports them in the corpora's JSON-lines shape (``train_detector --with-reviews``,
``export_reviews``).
"""
from __future__ import annotations

import json
from datetime import timezone

from api.models import Mention, ReviewedExample, TGEEvent

Review = TGEEvent.Review
LABEL_OF_REVIEW = {Review.CONFIRMED: ReviewedExample.Label.TGE, Review.REJECTED: ReviewedExample.Label.OTHER}
ID_PREFIX = "review:"


def record_review(event: TGEEvent, user) -> int:
    """Store the event's review as an example per mentioning document; returns how many were written."""
    label = LABEL_OF_REVIEW.get(event.review)
    if label is None:
        return 0
    return _record(event, Mention.objects.filter(event=event), event.review, label, user)


def record_merge(target: TGEEvent, document_ids: list[int], user) -> int:
    """Items merged into ``target`` report its launch; their label follows the target's review, else stays."""
    mentions = Mention.objects.filter(event=target, document_id__in=document_ids)
    return _record(target, mentions, Review.MERGED, LABEL_OF_REVIEW.get(target.review), user)


def _record(event: TGEEvent, mentions, decision: str, label: str | None, user) -> int:
    rows = list(mentions.select_related("document", "source"))
    existing = {e.document_id: e for e in ReviewedExample.objects.filter(document_id__in=[m.document_id for m in rows])}
    confirmed_elsewhere = set(
        TGEEvent.objects.filter(pk__in=[e.event_id for e in existing.values() if e.event_id != event.pk],
                                review=Review.CONFIRMED).values_list("pk", flat=True))
    written = 0
    for mention in rows:
        before = existing.get(mention.document_id)
        if (label == ReviewedExample.Label.OTHER and before is not None and before.label == ReviewedExample.Label.TGE
                and before.event_id in confirmed_elsewhere):
            continue  # the item still reports another, confirmed launch
        document = mention.document
        ReviewedExample.objects.update_or_create(document=document, defaults={
            "event": event, "decision": decision,
            "label": label if label is not None else (before.label if before else ""),
            "project": event.project, "ticker": event.ticker, "tge_date": mention.tge_date, "kind": mention.kind,
            "title": document.title, "text": document.text, "source": mention.source.name, "url": document.url,
            "published_at": document.published_at, "reviewed_by": user if getattr(user, "pk", None) else None,
        })
        written += 1
    return written


def corpus_items() -> list[dict]:
    """The labeled examples as corpus items (the fields of ``evaluate``'s JSONL plus ``decision``), oldest first."""
    rows = ReviewedExample.objects.exclude(label="").order_by("published_at", "pk")
    return [as_item(row) for row in rows]


def as_item(row: ReviewedExample) -> dict:
    launch = row.label == ReviewedExample.Label.TGE
    return {
        "id": f"{ID_PREFIX}{row.pk}", "title": row.title, "text": row.text, "url": row.url,
        "published_at": row.published_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "source": row.source, "label": row.label,
        "project": row.project or None if launch else None, "ticker": row.ticker or None if launch else None,
        "tge_date": row.tge_date.isoformat() if launch and row.tge_date else None,
        "kind": row.kind or None if launch else None, "decision": row.decision,
    }


def dumps(items: list[dict]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in items)
