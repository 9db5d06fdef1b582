"""The sweep ledger under redelivery: a parse delivered again (acks are late) must not finish its source early.

Each test drives the stage functions in this process in the order a crashed and restarted worker would run them:
parse, some of its batches persisted, the same parse message again, the rest persisted.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from api import store
from api.models import Document, PipelineBatch, Source, SweepSource
from tgesweeper.bench.feedserver import render_rss
from workers import pipeline, sweeps

pytestmark = pytest.mark.django_db

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
ITEMS = 8
BATCH_SIZE = 2  # 8 items: four batches, A B C D


def feed() -> bytes:
    return render_rss("Ledger wire", [
        {"guid": f"ledger-{i}", "title": f"Quillstone Network update {i}", "link": f"https://wire.example.com/{i}",
         "description": f"Quillstone Network shares update {i} on the QSN token generation event.",
         "pub_date": PUBLISHED} for i in range(ITEMS)
    ])


@pytest.fixture
def source(allow_local, config, feed_server):
    config(SCRAPING_BATCH_SIZE=BATCH_SIZE)
    feed_server.add("/ledger.xml", feed())
    return Source.objects.create(name="Ledger wire", url=feed_server.url("/ledger.xml"))


def sweep_of(source: Source) -> tuple[int, int, dict]:
    """A sweep of one source, fetched: its run id, ledger row id and the parse message."""
    run_id, ledger = store.start_sweep([source.pk])
    payload = pipeline.fetch(source.pk, sweep_source_id=ledger[source.pk])
    assert payload is not None
    return run_id, ledger[source.pk], payload


def persist(*batches: dict) -> None:
    for batch in batches:
        pipeline.persist(pipeline.match(batch, source_name="Ledger wire"))


def ids(batches: list[dict]) -> list[str]:
    return [b["batch_id"] for b in batches]


def ledger_row(sweep_source_id: int) -> tuple[str, int, int, int]:
    row = SweepSource.objects.get(pk=sweep_source_id)
    return row.state, row.batches_expected, row.batches_done, row.documents_new


def test_a_redelivered_parse_does_not_finish_the_source_before_its_last_batch(source):
    run_id, sweep_source_id, payload = sweep_of(source)
    first = pipeline.parse(payload)
    assert len(first) == 4
    a, b, c, d = first
    persist(a)  # A stored; B is in flight when the parse worker dies and its message comes back

    again = pipeline.parse(payload)
    assert ids(again) == ids([b, c, d])  # the documents not yet stored, in the same batches
    assert ledger_row(sweep_source_id) == (SweepSource.State.PARSED, 4, 1, ITEMS)

    persist(b, again[1])  # B (the first delivery's copy), C (the second's)
    assert ledger_row(sweep_source_id) == (SweepSource.State.PARSED, 4, 3, ITEMS)
    assert not store.sweep_finished(run_id)
    assert sweeps.progress(run_id) == sweeps.Progress(1, 0, 4, 3)

    persist(again[0], c)  # second copies of B and C: duplicates, counted once
    assert ledger_row(sweep_source_id) == (SweepSource.State.PARSED, 4, 3, ITEMS)
    assert not store.sweep_finished(run_id)

    persist(again[2])  # D, the last one
    assert ledger_row(sweep_source_id) == (SweepSource.State.DONE, 4, 4, ITEMS)
    assert store.sweep_finished(run_id)
    assert sweeps.progress(run_id) == sweeps.Progress(1, 1, 4, 4)
    assert Document.objects.filter(source=source).count() == ITEMS

    persist(d)  # the first delivery's D, late: nothing changes
    assert ledger_row(sweep_source_id) == (SweepSource.State.DONE, 4, 4, ITEMS)


def test_a_parse_redelivered_after_every_batch_was_stored_keeps_the_ledger(source):
    run_id, sweep_source_id, payload = sweep_of(source)
    persist(*pipeline.parse(payload))
    assert ledger_row(sweep_source_id) == (SweepSource.State.DONE, 4, 4, ITEMS)

    assert pipeline.parse(payload) == []  # everything is stored: nothing to publish
    assert ledger_row(sweep_source_id) == (SweepSource.State.DONE, 4, 4, ITEMS)
    assert store.sweep_finished(run_id)
    assert sweeps.progress(run_id) == sweeps.Progress(1, 1, 4, 4)


def test_a_redelivered_parse_of_a_source_with_nothing_new_stays_done(source):
    outside = pipeline.fetch(source.pk)  # a scheduled fetch stored every item before the sweep
    persist(*pipeline.parse(outside))
    run_id, ledger = store.start_sweep([source.pk])
    payload = {**outside, "sweep_source_id": ledger[source.pk]}  # the same feed, read again in the sweep

    for _ in range(2):  # the parse, then its redelivery
        assert pipeline.parse(payload) == []
        assert ledger_row(ledger[source.pk]) == (SweepSource.State.DONE, 0, 0, 0)
        assert store.sweep_finished(run_id)
    assert sweeps.progress(run_id) == sweeps.Progress(1, 1, 0, 0)


def test_a_batch_another_pipeline_stored_first_counts_for_the_sweep(source):
    run_id, sweep_source_id, payload = sweep_of(source)
    in_sweep = pipeline.parse(payload)
    scheduled = pipeline.parse({**payload, "sweep_source_id": None})  # a scheduled fetch read the same items
    assert ids(scheduled) == ids(in_sweep)

    persist(*scheduled[:3])  # claimed outside the sweep
    persist(*in_sweep[:3])  # the sweep's copies are duplicates, yet its batches are stored
    assert ledger_row(sweep_source_id) == (SweepSource.State.PARSED, 4, 3, ITEMS)
    assert not store.sweep_finished(run_id)

    persist(in_sweep[3])
    assert ledger_row(sweep_source_id) == (SweepSource.State.DONE, 4, 4, ITEMS)
    assert store.sweep_finished(run_id)
    assert PipelineBatch.objects.filter(sweep_source_id=sweep_source_id).count() == 1


def test_a_redelivery_after_items_were_stored_elsewhere_expects_its_own_batches(source):
    """The first delivery recorded A B C D, published A and B, and died; meanwhile another pipeline stored one of C's
    items, so the redelivery batches the rest differently. The source finishes on the redelivery's batches."""
    run_id, sweep_source_id, payload = sweep_of(source)
    a, b, c, d = pipeline.parse(payload)
    persist(a)
    taken = c["documents"][0]
    Document.objects.create(source=source, external_id=taken["external_id"], url=taken["url"], title=taken["title"],
                            published_at=PUBLISHED, content_hash="stored by a scheduled fetch")

    again = pipeline.parse(payload)
    assert set(ids(again)).isdisjoint(ids([c, d]))  # C and D will never be published under their first ids
    assert ledger_row(sweep_source_id) == (SweepSource.State.PARSED, 1 + len(again), 1, ITEMS)

    persist(b, *again)
    assert ledger_row(sweep_source_id)[:3] == (SweepSource.State.DONE, 1 + len(again), 1 + len(again))
    assert store.sweep_finished(run_id)
    assert Document.objects.filter(source=source).count() == ITEMS
