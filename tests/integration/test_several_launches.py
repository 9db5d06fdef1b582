"""Through a real worker: an exchange notice listing three new tokens and a roundup each become several events,
each with its own mention of the one document; an item about one launch still makes one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from api.models import Mention, Source, TGEEvent
from tgesweeper.bench.feedserver import render_rss
from workers import sweeps

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_several_launches_in_one_item_become_several_events_each_with_its_mention(feed_server, celery_worker_process):
    feed_server.add("/several.xml", render_rss("Wire", [
        {"guid": "notice", "title": "Kestrel Exchange will list Quillstone (QSN), Ferrowind (FWD) and Maravel (MRV) "
                                    "with seed tag applied", "description": "Deposits open today.",
         "link": "https://wire.example.com/notice", "pub_date": PUBLISHED},
        {"guid": "roundup", "title": "Token launches this week: Tessaline TGE set for Monday; Orbelle token goes live "
                                     "Tuesday", "description": "", "link": "https://wire.example.com/roundup",
         "pub_date": PUBLISHED},
        {"guid": "single", "title": "Caskwood (CWK) token goes live", "description": "Trading opened today.",
         "link": "https://wire.example.com/single", "pub_date": PUBLISHED},
    ]))
    source = Source.objects.create(name="Wire", url=feed_server.url("/several.xml"))
    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120), celery_worker_process.log_text()[-3000:]

    def events_of(guid: str) -> set[str]:
        return set(Mention.objects.filter(document__external_id=guid).values_list("event__key", flat=True))

    assert events_of("notice") == {"quillstone", "ferrowind", "maravel"}
    assert events_of("roundup") == {"tessaline", "orbelle"}
    assert events_of("single") == {"caskwood"}
    assert TGEEvent.objects.get(key="ferrowind").ticker == "FWD"
    assert all(e.mention_count == 1 and e.published for e in TGEEvent.objects.filter(key__in=["quillstone", "maravel"]))
