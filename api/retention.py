"""Document retention: documents fetched longer ago than DOCUMENT_RETENTION_DAYS go, except those behind a mention
(the evidence an event rests on stays as long as the event). Run daily by beat (``workers.tasks.prune_documents``,
``celeryconfig.beat_schedule``) and by hand as ``manage.py prune``.

A pruned document is forgotten: a source that still lists it would store it again as new (and prune it again a
retention period later), which is why the default keeps 90 days, far longer than a feed keeps an item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from api.models import Document

BATCH = 2000  # rows per DELETE: short transactions, no long lock on the table


@dataclass(frozen=True)
class Pruned:
    cutoff: datetime
    deleted: int
    kept: int  # older than the cutoff, kept because they support an event


def prune_documents(days: int, *, now: datetime | None = None) -> Pruned | None:
    """Delete the old documents no mention points at; None when retention is off (``days`` 0)."""
    if days <= 0:
        return None
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Document.objects.filter(fetched_at__lt=cutoff)
    doomed = old.filter(mentions__isnull=True)
    deleted = 0
    while ids := list(doomed.values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            # A mention stored since the ids were read keeps its document: checked again inside the DELETE.
            count, _ = Document.objects.filter(pk__in=ids, mentions__isnull=True).delete()
        deleted += count
    return Pruned(cutoff=cutoff, deleted=deleted, kept=old.count())
