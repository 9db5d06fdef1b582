"""Persistence for the pipeline: every database write the stages make, each idempotent under redelivery.

Messages carry plain dicts; this module turns them into rows. ``persist_batch`` is the one transaction
that stores documents, mentions and events; claiming the batch id inside it makes a second delivery a no-op.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from api import changes, response_cache
from api.models import (
    NOT_CONFIGURED,
    Document,
    Mention,
    PipelineBatch,
    PipelineFailure,
    ShadowScore,
    Source,
    SweepRun,
    SweepSource,
    TGEEvent,
)
from tgesweeper import circuit
from tgesweeper.matching import Match, copies
from tgesweeper.matching.events import MentionFacts, event_key, summarize_event
from tgesweeper.sources.documents import NormalizedDocument

MAX_ERROR_CHARS = 2000


# --- sources -------------------------------------------------------------------------------------

def record_fetch_success(source_id: int, *, etag: str | None, last_modified: str | None,
                         cursor: str | None = None) -> None:
    """Remember what the next fetch sends back (ETag, Last-Modified, since-id cursor); the source is healthy again."""
    now = timezone.now()
    cursor_update = {"cursor": cursor[:200]} if cursor else {}
    Source.objects.filter(pk=source_id).update(
        etag=(etag or "")[:500], last_modified=(last_modified or "")[:100], **cursor_update,
        last_fetched_at=now, last_success_at=now, failure_count=0, last_error="",
        circuit_state=circuit.CLOSED, circuit_opened_at=None, next_fetch_not_before=None,
    )


def record_not_configured(source_id: int, reason: str) -> None:
    """The kind lacks a configuration variable (e.g. a token): say so, without counting a failure."""
    Source.objects.filter(pk=source_id).update(
        last_fetched_at=timezone.now(), last_error=f"{NOT_CONFIGURED}{reason}"[:MAX_ERROR_CHARS])


def record_stream_error(source_id: int, reason: str) -> None:
    """A push source's stream was lost or refused: shown as its last error (the admin's health column), without
    counting a failure — the consumer reconnects by itself, and the next list read that parses clears it."""
    Source.objects.filter(pk=source_id).update(last_error=f"stream: {reason}"[:MAX_ERROR_CHARS])


def record_fetch_failure(source_id: int, error: str) -> None:
    """Count a failed fetch (or parse); enough in a row open the source's circuit (``tgesweeper.circuit``)."""
    now = timezone.now()
    config = settings.CONFIG
    with transaction.atomic():
        source = Source.objects.select_for_update().only("failure_count", "circuit_state").filter(pk=source_id).first()
        if source is None:
            return
        failures = source.failure_count + 1
        state = circuit.state_after_failure(source.circuit_state, failures, config["CIRCUIT_BREAKER_FAILURE_THRESHOLD"])
        opening = state == circuit.OPEN and source.circuit_state != circuit.OPEN or source.circuit_state == circuit.HALF_OPEN
        resting = {"circuit_opened_at": now, "next_fetch_not_before":
                   now + timedelta(seconds=config["CIRCUIT_BREAKER_RECOVERY_TIMEOUT"])} if opening else {}
        Source.objects.filter(pk=source_id).update(
            last_fetched_at=now, last_failure_at=now, failure_count=failures, last_error=error[:MAX_ERROR_CHARS],
            circuit_state=state, **resting,
        )


def fetch_failed(source_id: int, sweep_source_id: int | None, error: str, seconds: float) -> None:
    """A fetch or parse that failed for good: counted on the source (its circuit) and ending its sweep row."""
    record_fetch_failure(source_id, error)
    mark_fetch_failed(sweep_source_id, error, seconds)


def claim_circuit_trial(source: Source) -> bool:
    """Only one worker makes the trial fetch of a resting source: the one whose update finds it unchanged."""
    now = timezone.now()
    return bool(Source.objects.filter(pk=source.pk, circuit_state=source.circuit_state,
                                      circuit_opened_at=source.circuit_opened_at).update(
        circuit_state=circuit.HALF_OPEN, circuit_opened_at=now,
        next_fetch_not_before=now + timedelta(seconds=settings.CONFIG["CIRCUIT_BREAKER_RECOVERY_TIMEOUT"])))


def record_failures(source_id: int | None, stage: str, failures: Iterable[dict]) -> None:
    PipelineFailure.objects.bulk_create(
        PipelineFailure(source_id=source_id, stage=stage, external_id=str(f.get("external_id", ""))[:500],
                        error=str(f.get("error", ""))[:MAX_ERROR_CHARS])
        for f in failures
    )


def unseen(source_id: int, documents: Sequence[NormalizedDocument]) -> list[NormalizedDocument]:
    """Drop documents this source already stored, so an item seen before is not matched again."""
    seen = set(
        Document.objects.filter(source_id=source_id, external_id__in=[d.external_id for d in documents])
        .values_list("external_id", flat=True)
    )
    return [d for d in documents if d.external_id not in seen]


# --- sweep ledger ----------------------------------------------------------------------------------

def start_sweep(source_ids: Iterable[int]) -> tuple[int, dict[int, int]]:
    """Open a sweep; returns its id and the ledger row id for each source."""
    run = SweepRun.objects.create()
    SweepSource.objects.bulk_create(SweepSource(run=run, source_id=sid) for sid in source_ids)
    return run.pk, dict(SweepSource.objects.filter(run=run).values_list("source_id", "id"))


def mark_fetch_failed(sweep_source_id: int | None, error: str, fetch_seconds: float) -> None:
    if sweep_source_id:
        SweepSource.objects.filter(pk=sweep_source_id).update(
            state=SweepSource.State.FAILED, error=error[:MAX_ERROR_CHARS], fetch_seconds=fetch_seconds
        )


def mark_not_modified(sweep_source_id: int | None, fetch_seconds: float) -> None:
    if sweep_source_id:
        SweepSource.objects.filter(pk=sweep_source_id).update(
            state=SweepSource.State.DONE, not_modified=True, fetch_seconds=fetch_seconds
        )


def mark_parsed(sweep_source_id: int | None, *, documents_new: int, batch_ids: Sequence[str], fetch_seconds: float,
                parse_seconds: float) -> None:
    """Record the batches a parse publishes. Call it before they are published.

    A parse may be delivered again (tasks are acked late). The latest delivery's batches cover every document not yet
    stored, so they replace the recorded batches not yet stored; those already stored stay counted. A source is DONE
    when every batch it still expects is stored, even if the dead delivery never published some of its batches.
    """
    if not sweep_source_id:
        return
    with transaction.atomic():
        row = (SweepSource.objects.select_for_update().filter(pk=sweep_source_id)
               .values_list("expected_batch_ids", "documents_new").first())
        if row is None:
            return
        recorded, counted = row
        stored = set(PipelineBatch.objects.filter(batch_id__in=[*recorded, *batch_ids]).values_list("batch_id", flat=True))
        expected = list(dict.fromkeys([*(b for b in recorded if b in stored), *batch_ids]))
        done = sum(b in stored for b in expected)
        SweepSource.objects.filter(pk=sweep_source_id).update(
            state=SweepSource.State.DONE if done == len(expected) else SweepSource.State.PARSED,
            expected_batch_ids=expected, batches_expected=len(expected), batches_done=done,
            documents_new=max(counted, documents_new),  # a redelivery sees fewer new documents than the first parse
            fetch_seconds=fetch_seconds, parse_seconds=parse_seconds,
        )


def _count_batch_done(sweep_source_id: int | None) -> None:
    """After a batch of this source was stored (by this delivery or another): recount, and finish the source.

    Runs inside the persist transaction; the row lock orders the recounts of one source, so the last one sees every
    other's committed batch.
    """
    if not sweep_source_id:
        return
    row = (SweepSource.objects.select_for_update().filter(pk=sweep_source_id)
           .values_list("state", "expected_batch_ids").first())
    if row is None:
        return
    state, expected = row
    if not expected:  # no parse recorded batch ids (a row from before migration 0008): leave its counters alone
        return
    done = _batches_stored(expected)
    finished = state == SweepSource.State.PARSED and done == len(expected)
    SweepSource.objects.filter(pk=sweep_source_id).update(
        batches_done=done, **({"state": SweepSource.State.DONE} if finished else {}))


def _batches_stored(batch_ids: Sequence[str]) -> int:
    """How many of these batches have been persisted, whichever delivery or sweep claimed them."""
    return PipelineBatch.objects.filter(batch_id__in=batch_ids).count() if batch_ids else 0


def sweep_finished(run_id: int) -> bool:
    pending = SweepSource.objects.filter(run_id=run_id).exclude(state__in=[SweepSource.State.DONE, SweepSource.State.FAILED])
    if pending.exists():
        return False
    SweepRun.objects.filter(pk=run_id, finished_at__isnull=True).update(finished_at=timezone.now())
    return True


# --- the persist transaction -------------------------------------------------------------------------

@dataclass(frozen=True)
class PersistOutcome:
    duplicate: bool
    documents: int
    mentions: int
    changed_event_ids: list[int]
    change_ids: list[int]  # the EventChange rows of the batch (a duplicate's: those its first delivery recorded)


def persist_batch(batch: dict) -> PersistOutcome:
    """Store one matched batch: documents, mentions and their events, all or nothing, once.

    ``batch`` is the match stage's message: ``batch_id``, ``source_id``, ``sweep_source_id``,
    ``documents`` (NormalizedDocument dicts) and ``matches`` (per document: None, a Match dict, or a list of them
    when it reports several launches), and optionally ``shadow`` (the shadow model's score per document).
    """
    started = timezone.now()
    with transaction.atomic():
        _, claimed = PipelineBatch.objects.get_or_create(
            batch_id=batch["batch_id"],
            defaults={"source_id": batch["source_id"], "sweep_source_id": batch.get("sweep_source_id"),
                      "documents": len(batch["documents"]), "match_seconds": batch.get("match_seconds", 0.0)},
        )
        if not claimed:  # stored already (a redelivery, or another pipeline read the same items): counts all the same
            _count_batch_done(batch.get("sweep_source_id"))
            return PersistOutcome(duplicate=True, documents=0, mentions=0, changed_event_ids=[],
                                  change_ids=changes.of_batch(batch["batch_id"]))

        doc_ids = _store_documents(batch["source_id"], batch["documents"])
        _store_shadow_scores(batch, doc_ids)
        found = [
            (doc_ids[d["external_id"]], Match.from_dict(m))
            for d, entry in zip(batch["documents"], batch["matches"], strict=True)
            if entry is not None and d["external_id"] in doc_ids
            for m in (entry if isinstance(entry, list) else [entry])
        ]
        matched = {doc_id for doc_id, _ in found}
        signatures = {doc_ids[d["external_id"]]: copies.signature(d["title"], d["text"]) for d in batch["documents"]
                      if doc_ids.get(d["external_id"]) in matched}
        mentions, changed, change_ids = _store_mentions(batch, found, signatures) if found else (0, [], [])
        PipelineBatch.objects.filter(pk=batch["batch_id"]).update(
            mentions=mentions, persist_seconds=(timezone.now() - started).total_seconds()
        )
        _count_batch_done(batch.get("sweep_source_id"))
    return PersistOutcome(duplicate=False, documents=len(doc_ids), mentions=mentions, changed_event_ids=changed,
                          change_ids=change_ids)


_DOCUMENT_COLUMNS = ("source_id", "external_id", "url", "title", "text", "author", "lang", "published_at",
                     "date_missing", "fetched_at", "content_hash", "matched")


def _store_documents(source_id: int, documents: list[dict]) -> dict[str, int]:
    """Insert the batch's new documents; returns the id of each of its documents, new or stored before.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per chunk (PostgreSQL and SQLite both have it) gives the ids of
    the rows it stored; only documents stored before (a redelivered or re-read batch) take a SELECT. The ORM's
    ``bulk_create`` cannot return ids when it ignores conflicts, and building a model per row was a third of persist's
    CPU."""
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    rows = [
        (source_id, d["external_id"], d["url"], d["title"], d["text"], d["author"], d.get("lang", ""),
         adapt(datetime.fromisoformat(d["published_at"])), d.get("date_missing", False), now,
         d.get("content_hash") or NormalizedDocument.from_dict(d).content_hash, False)
        for d in documents
    ]
    fields = [field for field in Document._meta.concrete_fields if field.column in _DOCUMENT_COLUMNS]
    size = max(1, connection.ops.bulk_batch_size(fields, rows))
    quote = connection.ops.quote_name
    insert = (f"INSERT INTO {quote(Document._meta.db_table)} ({', '.join(map(quote, _DOCUMENT_COLUMNS))}) VALUES "
              "{values} ON CONFLICT (source_id, external_id) DO NOTHING RETURNING external_id, id")
    row_marks = "(" + ", ".join(["%s"] * len(_DOCUMENT_COLUMNS)) + ")"
    ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            cursor.execute(insert.format(values=", ".join([row_marks] * len(chunk))),
                           [value for row in chunk for value in row])
            ids.update(cursor.fetchall())
    stored_before = [d["external_id"] for d in documents if d["external_id"] not in ids]
    if stored_before:
        ids.update(Document.objects.filter(source_id=source_id, external_id__in=stored_before)
                   .values_list("external_id", "id"))
    return ids


def _store_shadow_scores(batch: dict, doc_ids: dict[str, int]) -> None:
    """The shadow model's scores (``pipeline.shadow_score``): stored, never turned into mentions or events."""
    scores = [(doc_ids[d["external_id"]], s) for d, s in zip(batch["documents"], batch.get("shadow") or (), strict=False)
              if s and d["external_id"] in doc_ids]
    ShadowScore.objects.bulk_create(
        [ShadowScore(document_id=doc_id, model_version=str(s["model_version"])[:64], probability=s["probability"],
                     confidence=s.get("confidence"), project=(s.get("project") or "")[:200]) for doc_id, s in scores],
        ignore_conflicts=True)


def _store_mentions(batch: dict, found: list[tuple[int, Match]],
                    signatures: dict[int, bytes]) -> tuple[int, list[int], list[int]]:
    source_id = batch["source_id"]
    keys = {event_key(m.project, m.ticker): m for _, m in found}
    # Insert and lock in key order so two persist workers touching the same events cannot deadlock.
    TGEEvent.objects.bulk_create(
        [TGEEvent(key=key, project=m.project[:200], ticker=(m.ticker or "")[:20]) for key, m in sorted(keys.items())],
        ignore_conflicts=True,
    )
    events = {e.key: e for e in TGEEvent.objects.select_for_update().filter(key__in=list(keys)).order_by("key")}
    events = _follow_merges(events)
    before = {e.pk: changes.snapshot(e) for e in events.values()}

    now = timezone.now()
    created = Mention.objects.bulk_create(
        [
            Mention(
                event=events[event_key(m.project, m.ticker)], document_id=doc_id, source_id=source_id, kind=m.kind,
                tge_date=m.tge_date,
                chain=(m.chain or "")[:60], venues=list(m.venues), matched_terms=list(m.matched_terms),
                snippet=m.snippet, confidence=m.confidence, model_version=m.model_version[:64], created_at=now,
                copy_signature=signatures[doc_id],
            )
            for doc_id, m in found
        ],
        ignore_conflicts=True,
    )
    Document.objects.filter(pk__in=[doc_id for doc_id, _ in found]).update(matched=True)

    unique = {e.pk: e for e in events.values()}
    refresh_events(unique.values())
    timing = _publication_times(batch, found, events)
    source_kind = Source.objects.filter(pk=source_id).values_list("kind", flat=True).first() or ""
    recorded = [
        change for pk, event in unique.items()
        for change in changes.record(event, before[pk], batch_id=batch["batch_id"], source_kind=source_kind,
                                     published_at=timing.get(pk), fetched_at=_when(batch.get("fetched_at")),
                                     matched_at=_when(batch.get("matched_at")))
    ]
    changed = sorted({c.event_id for c in recorded})
    if changed:
        events_changed()
    return len(created), changed, [c.pk for c in recorded]


def _publication_times(batch: dict, found: list[tuple[int, Match]], events: dict[str, TGEEvent]) -> dict[int, datetime]:
    """Per event, the newest publication time among the batch's documents that mention it (publication → alert)."""
    published = {d["external_id"]: d["published_at"] for d in batch["documents"]}
    by_doc = dict(Document.objects.filter(pk__in=[doc_id for doc_id, _ in found]).values_list("pk", "external_id"))
    times: dict[int, datetime] = {}
    for doc_id, match in found:
        when = _when(published.get(by_doc.get(doc_id)))
        event = events[event_key(match.project, match.ticker)]
        if when is not None and (event.pk not in times or when > times[event.pk]):
            times[event.pk] = when
    return times


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _follow_merges(events: dict[str, TGEEvent]) -> dict[str, TGEEvent]:
    """A key whose event was merged by a reviewer sends its new mentions to the event it was merged into."""
    for _ in range(5):  # merges may chain (A into B, B into C); a reviewer cannot make a loop (see merge_events)
        targets = {e.merged_into_id for e in events.values() if e.merged_into_id}
        if not targets:
            return events
        locked = {e.pk: e for e in TGEEvent.objects.select_for_update().filter(pk__in=targets).order_by("key")}
        events = {key: locked.get(e.merged_into_id, e) if e.merged_into_id else e for key, e in events.items()}
    return events


def events_changed() -> None:
    """Cached API answers about events are stale from now on (after this transaction commits)."""
    transaction.on_commit(response_cache.invalidate_events)


_RECOMPUTED_FIELDS = ("date_sequence", "confidence", "status", "tge_date", "chain", "venues", "mention_count",
                      "source_count", "first_seen_at", "last_seen_at", "is_candidate", "published")


def refresh_event(event: TGEEvent) -> None:
    """Recompute an event from all its mentions (``refresh_events``)."""
    refresh_events([event])


def refresh_events(events: Iterable[TGEEvent]) -> None:
    """Recompute events from all their mentions: counts never drift, whatever was redelivered. Syndicated copies
    among them are grouped first (``copies.group_copies``, oldest report first), so corroboration counts independent
    reports. Three queries whatever the number of events (their mentions, the copy groups that moved, the events)."""
    events = list(events)
    mentions: dict[int, list[tuple]] = {event.pk: [] for event in events}
    for row in (Mention.objects.filter(event__in=list(mentions))
                .order_by("document__published_at", "document_id")
                .values_list("event_id", "source__name", "confidence", "kind", "tge_date", "created_at", "chain",
                             "venues", "pk", "document_id", "copy_signature", "copy_group")):
        mentions[row[0]].append(row[1:])
    moved = []
    for event in events:
        rows = mentions[event.pk]
        groups = copies.group_copies([(row[8], bytes(row[9] or b"")) for row in rows])
        moved += [Mention(pk=row[7], copy_group=groups[row[8]]) for row in rows if row[10] != groups[row[8]]]
        _recompute(event, rows, groups)
    Mention.objects.bulk_update(moved, ["copy_group"])
    TGEEvent.objects.bulk_update(events, _RECOMPUTED_FIELDS)


def _recompute(event: TGEEvent, rows: list[tuple], groups: dict) -> None:
    facts = [
        MentionFacts(source=src, confidence=conf, kind=kind, tge_date=tge_date, seen_at=seen, chain=chain or None,
                     venues=tuple(venues or ()), copy_group=groups[doc_id])
        for src, conf, kind, tge_date, seen, chain, venues, _, doc_id, _, _ in rows
    ]
    summary = summarize_event(facts)
    if event.tge_date is not None and summary.tge_date != event.tge_date:
        event.date_sequence += 1  # the date moved: calendars replace the entry they hold (SEQUENCE)
    event.confidence = summary.confidence
    event.status = summary.status
    event.tge_date = summary.tge_date
    event.chain = (summary.chain or "")[:60]
    event.venues = list(summary.venues)
    event.mention_count = len(rows)
    event.source_count = summary.independent_sources
    event.first_seen_at = min((row[4] for row in rows), default=event.first_seen_at)
    event.last_seen_at = max((row[4] for row in rows), default=event.last_seen_at)
    event.is_candidate = summary.confidence < settings.CONFIG["KEYWORD_MIN_CONFIDENCE"]
    event.published = event.compute_published()
