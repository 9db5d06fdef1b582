"""html and json sources end to end: a local server, the real pipeline in process, rows in the database.

Every text here is invented for the tests.
"""
import io
import json
from datetime import datetime, timezone

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from api.models import Document, Source, SweepSource
from tests.conftest import sweep_in_process
from tgesweeper.sources import kind_for

pytestmark = pytest.mark.django_db

HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json"
FETCHED = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
HTML_OPTIONS = {"item": "li.story", "title": ".headline", "link": "a@href", "date": "time@datetime",
                "body": ".teaser"}


def listing(*stories: tuple[str, str, str]) -> bytes:
    items = "".join(
        f'<li class="story"><a href="{link}"><span class="headline">{title}</span></a>'
        f'<time datetime="2026-11-20T09:00:00Z">yesterday</time><p class="teaser">{teaser}</p></li>'
        for link, title, teaser in stories)
    return (f"<!doctype html><html><head><title>Wire</title></head><body><header><nav><a href='/'>Home</a></nav>"
            f"</header><main><ul>{items}</ul></main><footer>About us</footer></body></html>").encode()


def article(text: str) -> bytes:
    return (f"<html><body><nav>Markets Tech Opinion</nav><aside><p>Newsletter sign-up</p></aside>"
            f"<div class='story-body'><p>{text}</p><p>More details will follow next week.</p></div>"
            f"<footer>All rights reserved</footer></body></html>").encode()


STORY_A = ("/news/orbitra", "Orbitra to launch ORB token on December 9, 2026",
           "Orbitra confirmed its ORB token generation event.")
STORY_B = ("/news/fees", "Validators approve lower network fees", "A routine governance vote passed.")
STORY_C = ("/news/harbor", "Harborline (HBL) token goes live as airdrop claims open",
           "Harborline's HBL token began trading today.")


def html_source(feed_server, name="wire", path="/wire/", body=None, **options) -> Source:
    if body is not None:
        feed_server.add(path, body, HTML_TYPE)
    return Source.objects.create(name=name, kind=Source.Kind.HTML, url=feed_server.url(path),
                                 options={**HTML_OPTIONS, **options})


# --- html ------------------------------------------------------------------------------------------

def test_html_listing_is_stored_then_not_read_twice(feed_server, allow_local):
    source = html_source(feed_server, body=listing(STORY_A, STORY_B))
    row = sweep_in_process(source)["wire"]
    assert row.state == SweepSource.State.DONE, row.error
    docs = {d.title: d for d in Document.objects.filter(source=source)}
    assert set(docs) == {STORY_A[1], STORY_B[1]}
    orbitra = docs[STORY_A[1]]
    assert orbitra.url == feed_server.url("/news/orbitra")
    assert orbitra.text == STORY_A[2]
    assert orbitra.published_at == datetime(2026, 11, 20, 9, tzinfo=timezone.utc) and not orbitra.date_missing

    assert sweep_in_process(source)["wire"].not_modified  # the stored ETag brought a 304
    Source.objects.filter(pk=source.pk).update(etag="", last_modified="")
    again = sweep_in_process(source)["wire"]
    assert again.state == SweepSource.State.DONE and again.documents_new == 0
    assert Document.objects.filter(source=source).count() == 2
    assert feed_server.hits["/wire/"] == 3


def test_html_follows_only_new_article_links_and_keeps_their_text(feed_server, allow_local):
    feed_server.add(STORY_A[0], article("Orbitra confirmed the ORB token generation event for December 9, 2026."),
                    HTML_TYPE)
    feed_server.add(STORY_B[0], article("Validators approved a lower base fee in a routine vote."), HTML_TYPE)
    feed_server.add(STORY_C[0], article("Harborline's HBL token went live today as airdrop claims opened."),
                    HTML_TYPE)
    metadata = ("http://169.254.169.254/latest/meta-data/", "Item linking to a private address", "Kept as listed.")
    source = html_source(feed_server, body=listing(STORY_A, STORY_B, metadata), follow_links=True,
                         article_body=".story-body p")

    assert sweep_in_process(source)["wire"].state == SweepSource.State.DONE
    texts = dict(Document.objects.filter(source=source).values_list("title", "text"))
    assert texts[STORY_A[1]] == ("Orbitra confirmed the ORB token generation event for December 9, 2026. "
                                 "More details will follow next week.")
    assert "Newsletter" not in texts[STORY_B[1]] and "Markets" not in texts[STORY_B[1]]
    assert texts[metadata[1]] == "Kept as listed."  # the private link was refused, the item kept its teaser
    assert feed_server.hits[STORY_A[0]] == feed_server.hits[STORY_B[0]] == 1
    assert Source.objects.get(pk=source.pk).cursor.startswith("link:")

    feed_server.add("/wire/", listing(STORY_C, STORY_A, STORY_B, metadata), HTML_TYPE)
    row = sweep_in_process(source)["wire"]
    assert row.state == SweepSource.State.DONE and row.documents_new == 1
    assert feed_server.hits[STORY_C[0]] == 1
    assert feed_server.hits[STORY_A[0]] == feed_server.hits[STORY_B[0]] == 1  # above the cursor only
    assert "went live today" in Document.objects.get(source=source, title=STORY_C[1]).text

    assert sweep_in_process(source)["wire"].not_modified
    assert feed_server.hits[STORY_C[0]] == 1


def test_html_without_an_article_selector_takes_the_main_text(feed_server, allow_local):
    feed_server.add(STORY_A[0], article("Orbitra confirmed the ORB token generation event."), HTML_TYPE)
    source = html_source(feed_server, body=listing(STORY_A), follow_links=True, max_articles=5)
    assert sweep_in_process(source)["wire"].state == SweepSource.State.DONE
    assert Document.objects.get(source=source).text == ("Orbitra confirmed the ORB token generation event. "
                                                        "More details will follow next week.")


def test_html_follows_at_most_max_articles_links(feed_server, allow_local):
    for story in (STORY_A, STORY_B, STORY_C):
        feed_server.add(story[0], article(f"Full text of {story[1]}."), HTML_TYPE)
    source = html_source(feed_server, body=listing(STORY_A, STORY_B, STORY_C), follow_links=True, max_articles=1)
    assert sweep_in_process(source)["wire"].state == SweepSource.State.DONE
    assert [feed_server.hits[s[0]] for s in (STORY_A, STORY_B, STORY_C)] == [1, 0, 0]
    texts = dict(Document.objects.filter(source=source).values_list("title", "text"))
    assert texts[STORY_A[1]].startswith("Full text of") and texts[STORY_B[1]] == STORY_B[2]


def test_html_catches_up_oldest_first_when_more_new_links_than_max_articles(feed_server, allow_local):
    for story in (STORY_A, STORY_B, STORY_C):
        feed_server.add(story[0], article(f"Full text of {story[1]}."), HTML_TYPE)
    source = html_source(feed_server, body=listing(STORY_A), follow_links=True, max_articles=1)
    assert sweep_in_process(source)["wire"].state == SweepSource.State.DONE

    feed_server.add("/wire/", listing(STORY_C, STORY_B, STORY_A), HTML_TYPE)
    assert sweep_in_process(source)["wire"].documents_new == 1  # B, the older new story; C waits, unstored
    assert [feed_server.hits[s[0]] for s in (STORY_A, STORY_B, STORY_C)] == [1, 1, 0]
    assert not Document.objects.filter(source=source, title=STORY_C[1]).exists()

    assert sweep_in_process(source)["wire"].documents_new == 1  # no ETag was kept, so the listing is read again
    assert [feed_server.hits[s[0]] for s in (STORY_A, STORY_B, STORY_C)] == [1, 1, 1]
    texts = dict(Document.objects.filter(source=source).values_list("title", "text"))
    assert all(texts[s[1]] == f"Full text of {s[1]}. More details will follow next week."
               for s in (STORY_A, STORY_B, STORY_C))
    assert sweep_in_process(source)["wire"].not_modified


# --- json ------------------------------------------------------------------------------------------

JSON_OPTIONS = {"items": "data.list", "id": "id", "title": "title", "url": "https://exchange.example/a/{slug}",
                "date": "published", "date_format": "epoch_ms", "body": "summary"}
ANNOUNCEMENTS = {"code": 0, "data": {"list": [
    {"id": 71, "slug": "orbitra-orb", "title": "Exchange will list Orbitra (ORB) at its token generation event",
     "published": 1795165200000, "summary": "Trading opens on December 9, 2026."},
    {"id": 72, "slug": "maintenance", "title": "Scheduled wallet maintenance", "published": 1795078800000},
]}}


def json_source(feed_server, name="exchange", path="/api/announcements", body=None, **options) -> Source:
    if body is not None:
        feed_server.add(path, body if isinstance(body, bytes) else json.dumps(body).encode(), JSON_TYPE)
    return Source.objects.create(name=name, kind=Source.Kind.JSON, url=feed_server.url(path),
                                 options={**JSON_OPTIONS, **options})


def test_json_endpoint_is_stored_then_not_read_twice(feed_server, allow_local):
    source = json_source(feed_server, body=ANNOUNCEMENTS)
    row = sweep_in_process(source)["exchange"]
    assert row.state == SweepSource.State.DONE, row.error
    orbitra = Document.objects.get(source=source, external_id="71")
    assert orbitra.url == "https://exchange.example/a/orbitra-orb"
    assert orbitra.text == "Trading opens on December 9, 2026."
    assert orbitra.published_at == datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
    assert Document.objects.filter(source=source).count() == 2

    assert sweep_in_process(source)["exchange"].not_modified
    Source.objects.filter(pk=source.pk).update(etag="", last_modified="")
    assert sweep_in_process(source)["exchange"].documents_new == 0
    newer = {"code": 0, "data": {"list": [{"id": 73, "slug": "harbor", "title": "Harborline listing"},
                                          *ANNOUNCEMENTS["data"]["list"]]}}
    feed_server.add("/api/announcements", json.dumps(newer).encode(), JSON_TYPE)
    assert sweep_in_process(source)["exchange"].documents_new == 1
    assert Document.objects.filter(source=source).count() == 3


HOSTILE = [
    ("html", b"\x89PNG\r\n\x1a\n\x00\x00 binary", {}, "parse: the page is not HTML"),
    ("html", b"<html><body><div><p>Unclosed <b>tags <li>everywhere", {}, "parse: no element on the page matches"),
    ("html", b"<html><body>" + b"<div>" * 50_000 + b"deep", {}, "parse: no element on the page matches"),
    ("html", listing(STORY_A), {"item": None, "title": None}, "parse: the html option 'item' is required"),
    ("json", b"<html><body>Access denied</body></html>", {}, "parse: the response is not JSON"),
    ("json", b"[" * 200_000 + b"]" * 200_000, {}, "parse: the JSON is nested too deeply"),
    ("json", json.dumps({"code": 100001, "msg": "busy"}).encode(), {}, "parse: the items path 'data.list' is not in"),
    ("json", json.dumps(ANNOUNCEMENTS).encode(), {"items": "data"}, "parse: the items path 'data' leads to dict"),
    ("json", json.dumps(ANNOUNCEMENTS).encode(), {"title": None}, "parse: the json option 'title' is required"),
]


@pytest.mark.parametrize("kind, body, options, message", HOSTILE)
def test_a_hostile_page_or_endpoint_ends_as_an_error_on_its_source_while_others_work(feed_server, good, kind, body,
                                                                                    options, message):
    make = html_source if kind == "html" else json_source
    broken = make(feed_server, name="broken", path="/broken/", body=body, **options)
    broken.options = {k: v for k, v in broken.options.items() if v is not None}
    broken.save()
    rows = sweep_in_process(broken, good)
    assert rows["broken"].state == SweepSource.State.FAILED
    assert rows["broken"].error.startswith(message), rows["broken"].error
    stored = Source.objects.get(pk=broken.pk)
    assert stored.last_error.startswith(message) and stored.failure_count == 1
    assert rows["good"].state == SweepSource.State.DONE
    assert Document.objects.filter(source=good).count() == 1
    assert not Document.objects.filter(source=broken).exists()


# --- saving sources and the shipped exchange examples ----------------------------------------------

@pytest.mark.parametrize("kind, options, missing", [
    (Source.Kind.HTML, {}, "'item'"),
    (Source.Kind.HTML, {"item": "li"}, "'title'"),
    (Source.Kind.JSON, {"title": "t"}, "'items'"),
    (Source.Kind.JSON, {"items": "data", "title": "t", "url": 5}, "'url'"),
])
def test_saving_a_source_without_its_kinds_options_names_the_option(kind, options, missing):
    with pytest.raises(ValidationError) as caught:
        Source(name="incomplete", kind=kind, url="http://93.184.215.14/x", options=options).full_clean()
    assert any(missing in message for message in caught.value.message_dict["options"])


def test_a_complete_source_saves():
    Source(name="ok", kind=Source.Kind.JSON, url="http://93.184.215.14/x", options=JSON_OPTIONS).full_clean()


EXCHANGE_SAMPLES = {
    "Binance new listings": {"code": "000000", "data": {"catalogs": [{"catalogId": 48, "articles": [
        {"id": 1, "code": "c0ffee", "title": "Exchange Will List Orbitra (ORB)", "releaseDate": 1795165200000}]}]}},
    "OKX new listings": {"code": "0", "data": [{"totalPage": "1", "details": [
        {"annType": "announcements-new-listings", "title": "Exchange to list Orbitra (ORB) for spot trading",
         "url": "https://www.okx.com/help/orbitra", "pTime": "1795165200000"}]}]},
    "Bybit new listings": {"retCode": 0, "result": {"total": 1, "list": [
        {"title": "New listing: ORB/USDT", "description": "Orbitra spot trading opens soon.",
         "url": "https://announcements.bybit.com/en/article/orbitra", "publishTime": 1795165200000,
         "dateTimestamp": 1795165200000}]}},
    "KuCoin new listings": {"code": "200000", "data": {"totalNum": 1, "items": [
        {"annId": 9, "annTitle": "Orbitra (ORB) Gets Listed", "annDesc": "Deposits open now.",
         "annUrl": "https://www.kucoin.com/announcement/orbitra", "cTime": 1795165200000}]}},
}


def load() -> str:
    out = io.StringIO()
    call_command("load_sources", stdout=out)
    return out.getvalue()


def test_load_sources_ships_the_exchange_examples_disabled_with_working_mappings():
    load()
    exchanges = {s.name: s for s in Source.objects.filter(kind=Source.Kind.JSON)}
    assert set(EXCHANGE_SAMPLES) <= set(exchanges)
    for name, sample in EXCHANGE_SAMPLES.items():
        source = exchanges[name]
        assert not source.enabled and source.options
        docs = kind_for("json").parse(json.dumps(sample).encode(), feed_url=source.url, fetched_at=FETCHED,
                                      options=source.options)
        assert len(docs) == 1 and "ORB" in docs[0].title + docs[0].text, name
        assert docs[0].url.startswith("https://") and not docs[0].date_missing, name
    assert Source.objects.get(name="CoinDesk").enabled


def test_load_sources_never_switches_off_a_source_enabled_in_the_admin():
    load()
    Source.objects.filter(name="Binance new listings").update(enabled=True)
    load()
    assert Source.objects.get(name="Binance new listings").enabled
    assert not Source.objects.get(name="OKX new listings").enabled


def test_the_yaml_can_switch_an_exchange_source_on(monkeypatch):
    load()
    entries = [{**e, "enabled": True} if e["name"] == "KuCoin new listings" else e
               for e in settings.CONFIG.default_sources]
    monkeypatch.setattr(type(settings.CONFIG), "default_sources", property(lambda config: entries))
    load()
    assert Source.objects.get(name="KuCoin new listings").enabled
