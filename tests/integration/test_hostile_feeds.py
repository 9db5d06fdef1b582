"""Hostile feeds end in a clear error on their Source, in bounded time, and lose nothing else."""
import dataclasses
import time
from datetime import datetime, timezone
from unittest.mock import Mock

import pytest
from django.db import OperationalError

from api.models import Document, Source, SweepSource
from tests.conftest import sweep_in_process
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.sources import rss
from workers import pipeline

pytestmark = pytest.mark.django_db

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<rss version="2.0"><channel><title>&f;</title><item><title>&f;</title><guid>bomb</guid></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title>
<item><title>leak &secret;</title><guid>xxe</guid><description>&secret;</description></item></channel></rss>"""

GOOD = render_rss("Good", [{"guid": "good-1", "title": "Regulators publish guidance", "description": "Plain news.",
                            "pub_date": datetime(2026, 11, 20, tzinfo=timezone.utc)}])


def hostile(feed_server, name: str, body: bytes) -> Source:
    feed_server.add(f"/{name}.xml", body)
    return Source.objects.create(name=name, url=feed_server.url(f"/{name}.xml"))


def test_entity_expansion_never_expands_and_the_good_feed_still_lands(feed_server, good):
    bomb = hostile(feed_server, "bomb", BILLION_LAUGHS)
    started = time.monotonic()
    rows = sweep_in_process(bomb, good)
    assert time.monotonic() - started < 10
    assert rows["bomb"].state in (SweepSource.State.DONE, SweepSource.State.FAILED)
    for document in Document.objects.filter(source=bomb):
        assert len(document.title) + len(document.text) < 1000  # the DTD was cut, nothing expanded
    assert Document.objects.filter(source=good).count() == 1


def test_external_entities_never_leak_local_files(feed_server, good):
    xxe = hostile(feed_server, "xxe", EXTERNAL_ENTITY)
    sweep_in_process(xxe, good)
    for document in Document.objects.all():
        assert "root:" not in document.title + document.text


def test_malformed_xml_is_a_clear_parse_error(feed_server, good):
    broken = hostile(feed_server, "broken", b"\x89PNG\r\n this is not a feed { <<")
    rows = sweep_in_process(broken, good)
    assert rows["broken"].state == SweepSource.State.FAILED
    assert rows["broken"].error.startswith("parse:")
    assert Document.objects.filter(source=good).count() == 1


def test_a_body_over_the_cap_is_cut_with_a_clear_error(feed_server, good, config):
    config(SCRAPING_MAX_BYTES=4096)
    huge = hostile(feed_server, "huge", b"<rss>" + b" " * 100_000 + b"</rss>")
    rows = sweep_in_process(huge, good)
    assert rows["huge"].state == SweepSource.State.FAILED
    assert rows["huge"].error.startswith("fetch:")
    assert Document.objects.filter(source=good).count() == 1


def test_nul_bytes_and_bad_dates_are_cleaned_and_flagged(feed_server, allow_local):
    body = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title>'
            b"<item><title>Nul\x00 title</title><guid>n1</guid><pubDate>not a date</pubDate>"
            b"<description>text\x00here</description></item></channel></rss>")
    source = hostile(feed_server, "nul", body)
    rows = sweep_in_process(source)
    assert rows["nul"].state == SweepSource.State.DONE, rows["nul"].error
    document = Document.objects.get(source=source)
    assert "\x00" not in document.title + document.text
    assert document.date_missing


def test_a_private_address_is_refused_at_fetch_time_without_the_test_setting(feed_server):
    feed_server.add("/internal.xml", GOOD)
    source = Source.objects.create(name="internal", url=feed_server.url("/internal.xml"))
    rows = sweep_in_process(source)
    assert rows["internal"].state == SweepSource.State.FAILED
    assert feed_server.hits["/internal.xml"] == 0


SURROGATE_REFERENCE = (b'<rss version="2.0"><channel><title>s</title><item><title>Launch &#xD800; day</title>'
                       b"<guid>s1</guid><description>&#55296; &#0; &#x110000;</description></item></channel></rss>")


def test_a_reference_to_a_lone_surrogate_is_replaced_and_the_feed_lands(feed_server, good):
    """It used to raise UnicodeEncodeError in the parse task: no error recorded, the sweep row 'queued' forever."""
    surrogate = hostile(feed_server, "surrogate", SURROGATE_REFERENCE)
    rows = sweep_in_process(surrogate, good)
    assert rows["surrogate"].state == SweepSource.State.DONE, rows["surrogate"].error
    document = Document.objects.get(source=surrogate)
    assert document.title == "Launch \ufffd day" and document.text == "\ufffd \ufffd \ufffd"
    surrogate.refresh_from_db()
    assert surrogate.failure_count == 0
    assert Document.objects.filter(source=good).count() == 1


def test_anything_a_kind_parse_raises_is_recorded_and_the_sweep_finishes(feed_server, good, monkeypatch, caplog):
    """A gap in a kind's checks fails its source (logged with the traceback), not the parse task."""
    real = rss.KIND

    def parse(body, **kwargs):
        if b"unforeseen" in body:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real.parse(body, **kwargs)

    monkeypatch.setattr(rss, "KIND", dataclasses.replace(real, parse=parse))
    odd = hostile(feed_server, "odd", render_rss("Odd", [{"guid": "o1", "title": "unforeseen"}]))
    rows = sweep_in_process(odd, good)
    assert rows["odd"].state == SweepSource.State.FAILED
    assert rows["odd"].error.startswith("parse: unexpected UnicodeEncodeError: 'utf-8' codec can't encode")
    odd.refresh_from_db()
    assert odd.failure_count == 1 and odd.last_error == rows["odd"].error
    assert not Document.objects.filter(source=odd).exists()
    assert rows["good"].state == SweepSource.State.DONE and Document.objects.filter(source=good).count() == 1
    [record] = [r for r in caplog.records if r.name == "workers.pipeline" and r.exc_info]
    assert record.levelname == "ERROR" and "rss parse of source" in record.getMessage()


def test_a_database_outage_during_parse_is_retried_not_recorded(feed_server, allow_local, monkeypatch):
    """An outage is never the source's fault: it propagates, and the task's autoretry takes it."""
    monkeypatch.setattr(rss, "KIND", dataclasses.replace(rss.KIND, parse=Mock(side_effect=OperationalError("gone"))))
    source = hostile(feed_server, "outage", GOOD)
    payload = pipeline.fetch(source.pk)
    with pytest.raises(OperationalError):
        pipeline.parse(payload)
    source.refresh_from_db()
    assert (source.failure_count, source.last_error) == (0, "")
