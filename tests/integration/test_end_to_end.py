"""The whole chain on real processes: a local feed → a Celery worker on the broker → rows in the database."""
from datetime import datetime, timezone

import pytest

from api.models import Document, EventChange, Mention, Source, SweepSource, TGEEvent
from tgesweeper.bench.feedserver import render_rss
from workers import sweeps

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
ITEMS = [
    ("Quillstone Network to launch QSN token on December 4, 2026",
     "Quillstone Network said the token generation event for its QSN token will take place on December 4, 2026."),
    ("Ferrowind (FWD) token goes live as airdrop claims open",
     "Ferrowind's FWD token began trading today after its token generation event; users can claim the airdrop."),
    ("Bitcoin slips below $88,000 as traders wait for jobs data", "The largest cryptocurrency fell 2% in Asia."),
    ("Regulators publish new stablecoin reserve guidance", "Issuers must publish monthly attestations."),
    ("Miner revenue falls to a yearly low", "Fees dropped as on-chain activity cooled."),
]


def feed() -> bytes:
    return render_rss("Local wire", [
        {"guid": f"e2e-{i}", "title": title, "description": text, "link": f"https://wire.example.com/{i}",
         "pub_date": PUBLISHED} for i, (title, text) in enumerate(ITEMS)
    ])


def counts():
    return Document.objects.count(), Mention.objects.count(), TGEEvent.objects.count()


def test_a_sweep_through_a_real_worker_stores_events_once(feed_server, celery_worker_process):
    feed_server.add("/wire.xml", feed())
    source = Source.objects.create(name="Local wire", url=feed_server.url("/wire.xml"))

    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120), celery_worker_process.log_text()[-3000:]

    assert Document.objects.filter(source=source).count() == len(ITEMS)
    projects = {e.ticker: e for e in TGEEvent.objects.all()}
    assert {"QSN", "FWD"} <= set(projects), celery_worker_process.log_text()[-3000:]
    assert projects["QSN"].tge_date.isoformat() == "2026-12-04"
    change = EventChange.objects.get(event=projects["QSN"], kind="new")  # each stage's time, in order
    assert change.published_at <= change.fetched_at <= change.matched_at <= change.created_at
    assert not Document.objects.get(external_id="e2e-2").matched
    first = counts()

    # Again: the server answers 304 to the stored ETag, so nothing is parsed.
    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=60)
    assert SweepSource.objects.get(run_id=run_id).not_modified
    assert counts() == first

    # Again without the validators: a full fetch whose items were all seen adds nothing.
    Source.objects.filter(pk=source.pk).update(etag="", last_modified="")
    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=60)
    assert SweepSource.objects.get(run_id=run_id).documents_new == 0
    assert counts() == first
    assert feed_server.hits["/wire.xml"] == 3
