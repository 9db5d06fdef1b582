"""Through a real worker: a story republished by another outlet (other URL, near-same text) is grouped with the
original, so the event counts two independent sources of three, and its confidence is corroborated by two."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from api.models import Mention, Source, TGEEvent
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.matching.events import MentionFacts, summarize_event
from workers import sweeps

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
STORY = ("Quillstone to launch QSN token on March 9",
         "Quillstone said its token generation event is set for March 9, with claims opening the same day.")
FEEDS = {
    "wire": (STORY[0], STORY[1], PUBLISHED),
    "daily": (STORY[0], STORY[1] + " Read more on Daily.", PUBLISHED + timedelta(hours=1)),
    "blog": ("Quillstone confirms QSN token for March 9",
             "The project's token will begin trading on March 9 on two exchanges, its team wrote.", PUBLISHED),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_syndicated_copy_is_grouped_and_corroboration_counts_independent_reports(feed_server,
                                                                                   celery_worker_process):
    sources = {}
    for name, (title, text, when) in FEEDS.items():
        feed_server.add(f"/{name}.xml", render_rss(name, [
            {"guid": name, "title": title, "description": text, "link": f"https://{name}.example.com/qsn",
             "pub_date": when}]))
        sources[name] = Source.objects.create(name=name, url=feed_server.url(f"/{name}.xml"))
    run_id = sweeps.start_sweep([s.pk for s in sources.values()])
    assert sweeps.wait_for_sweep(run_id, timeout=120), celery_worker_process.log_text()[-3000:]

    event = TGEEvent.objects.get(key="quillstone")
    mentions = {m.source.name: m for m in Mention.objects.filter(event=event).select_related("source", "document")}
    assert set(mentions) == {"wire", "daily", "blog"}
    assert mentions["wire"].copy_group == mentions["daily"].copy_group == mentions["wire"].document_id
    assert mentions["blog"].copy_group == mentions["blog"].document_id
    assert (event.mention_count, event.source_count) == (3, 2)
    by_source = summarize_event([MentionFacts(m.source.name, m.confidence, m.kind, None, m.created_at)
                                 for m in mentions.values()])
    assert by_source.independent_sources == 3 and event.confidence < by_source.confidence
