"""The html and json kinds' pure parse functions: selectors and mappings, dates, ids, hostile bodies."""
import base64
import json
import time
from datetime import datetime, timezone

import pytest

from tgesweeper.sources.fields import parse_date
from tgesweeper.sources.html import ENVELOPE_FORMAT, HTMLError, parse_html
from tgesweeper.sources.html import validate_options as html_problems
from tgesweeper.sources.json_api import JSONSourceError, parse_json, parse_path, resolve
from tgesweeper.sources.json_api import validate_options as json_problems

FETCHED = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
PAGE_URL = "https://news.example.org/section/latest/"

LISTING = b"""<!doctype html><html><head><meta charset="utf-8"><title>Latest</title></head><body>
<nav><a href="/">Home</a></nav>
<article class="post" data-id="p-1">
  <h2><a href="../stories/orbitra-tge">Orbitra sets ORB token generation event for December 9</a></h2>
  <time datetime="2026-11-20T08:30:00Z">Nov 20</time>
  <p class="summary">Orbitra said its <b>ORB</b> token goes live next month.</p>
</article>
<article class="post" data-id="p-2">
  <h2><a href="https://other.example.org/b">Validators vote on fee change</a></h2>
  <p class="summary">A plain governance story &amp; nothing else.</p>
</article>
<article class="post"><h2>Headline without a link</h2><time datetime="not a date">?</time></article>
<article class="post"><h2><a href="javascript:alert(1)">Script link</a></h2></article>
</body></html>"""

OPTIONS = {"item": "article.post", "title": "h2", "link": "h2 a@href", "date": "time@datetime", "body": ".summary"}


def html(body=LISTING, **options):
    return parse_html(body, feed_url=PAGE_URL, fetched_at=FETCHED, options={**OPTIONS, **options})


def test_html_reads_items_with_selectors_and_resolves_relative_links():
    first, second, third, fourth = html()
    assert first.title == "Orbitra sets ORB token generation event for December 9"
    assert first.url == "https://news.example.org/section/stories/orbitra-tge"
    assert first.external_id == first.url
    assert first.text == "Orbitra said its ORB token goes live next month."
    assert first.published_at == "2026-11-20T08:30:00+00:00" and not first.date_missing
    assert second.url == "https://other.example.org/b"
    assert second.text == "A plain governance story & nothing else."
    assert second.date_missing and second.published_at == FETCHED.isoformat()
    assert third.url == "" and third.external_id.startswith("sha256:") and third.date_missing
    assert fourth.url == ""


def test_html_id_selector_on_the_item_itself_and_max_items():
    docs = html(id="@data-id", max_items=1)
    assert [d.external_id for d in docs] == ["p-1"]
    assert len(html(max_items=None)) == 4
    assert len(parse_html(LISTING, feed_url=PAGE_URL, fetched_at=FETCHED, max_items=2, options=OPTIONS)) == 2


def test_html_ids_are_stable_across_parses():
    assert [d.external_id for d in html()] == [d.external_id for d in html()]


def test_html_envelope_takes_article_text_without_page_furniture():
    article = b"""<html><head><meta property="article:published_time" content="2026-11-19T10:00:00+00:00"></head>
    <body><header>Site header</header><nav>Markets | Tech</nav>
    <div class="sidebar"><p>Subscribe</p></div>
    <div class="story"><p>Orbitra confirmed the ORB token generation event for December 9.</p>
    <p>Claims open on the same day for early testers of the network.</p></div>
    <footer>Copyright</footer><script>var tracking = 1;</script></body></html>"""
    url = "https://news.example.org/section/stories/orbitra-tge"
    envelope = json.dumps({"format": ENVELOPE_FORMAT, "listing": base64.b64encode(LISTING).decode(),
                           "articles": {url: base64.b64encode(article).decode()}}).encode()
    docs = parse_html(envelope, feed_url=PAGE_URL, fetched_at=FETCHED, options={**OPTIONS, "date": None})
    assert docs[0].text == ("Orbitra confirmed the ORB token generation event for December 9. "
                            "Claims open on the same day for early testers of the network.")
    assert docs[0].published_at == "2026-11-19T10:00:00+00:00"
    assert docs[1].text == "A plain governance story & nothing else."
    with_selector = parse_html(envelope, feed_url=PAGE_URL, fetched_at=FETCHED,
                               options={**OPTIONS, "article_body": ".story p"})
    assert with_selector[0].text == docs[0].text


@pytest.mark.parametrize("body", [b"", b"   ", b'{"not": "html"}', b"\x89PNG\r\n\x1a\n binary"])
def test_html_non_html_is_a_parse_error(body):
    with pytest.raises(HTMLError):
        html(body)


def test_html_nothing_matching_the_item_selector_is_a_parse_error():
    with pytest.raises(HTMLError, match="item selector"):
        html(b"<html><body><p>Maintenance</p></body></html>")


def test_html_corrupt_envelope_is_a_parse_error():
    with pytest.raises(HTMLError, match="envelope"):
        html(b'{"format": "' + ENVELOPE_FORMAT.encode() + b'", "listing": 12}')


def test_html_deep_nesting_is_handled_in_bounded_time():
    depth = 100_000
    body = b"<html><body>" + b"<div>" * depth + b"<article class='post'><h2>Deep</h2></article>" + b"</div>" * depth
    started = time.monotonic()
    try:
        docs = html(body)
    except HTMLError:
        docs = []
    assert time.monotonic() - started < 20
    assert all(d.title == "Deep" for d in docs)


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;", "&#0;", "&#x110000;", "&#99999999999999999999;"])
def test_html_a_reference_to_no_character_is_replaced(reference):
    """lxml already replaces what no character can be (the rss kind had to learn it)."""
    body = (f"<html><body><article class='post'><h2><a href='/news/{reference}'>Launch {reference}</a></h2>"
            f"<p class='summary'>{reference}</p></article></body></html>").encode()
    [doc] = html(body)
    assert doc.title == "Launch \ufffd"
    for value in doc.to_dict().values():
        if isinstance(value, str):
            value.encode("utf-8")


def test_html_bad_options_name_the_option():
    assert html_problems({"title": "h2"}) == ["the html option 'item' is required"]
    problems = html_problems({"item": "div[", "title": "h2", "follow_links": "yes", "max_articles": 500, "colour": 1})
    assert any("'item' is not a valid CSS selector" in p for p in problems)
    assert any("'follow_links'" in p for p in problems)
    assert any("'max_articles'" in p for p in problems)
    assert "unknown html option 'colour'" in problems
    assert html_problems(OPTIONS) == []
    with pytest.raises(HTMLError, match="'title' is required"):
        parse_html(LISTING, feed_url=PAGE_URL, fetched_at=FETCHED, options={"item": "article"})


# --- json ----------------------------------------------------------------------------------------

API_URL = "https://api.exchange.example/v1/announcements?page=1"
RESPONSE = {
    "code": "000000",
    "data": {"catalogs": [
        {"catalogId": 48, "articles": [
            {"id": 901, "code": "abc123", "title": "Exchange will list Orbitra (ORB) at its TGE",
             "releaseDate": 1763633400000, "body": "<p>Deposits open <b>today</b>.</p>"},
            {"id": 902, "code": "def456", "title": "Notice on wallet maintenance", "releaseDate": "1763547000000"},
            {"id": 903, "title": "No code, no link", "releaseDate": None},
            "not an object",
            {"id": 904, "code": "ghi789", "title": {"nested": "object"}, "releaseDate": 99999999999999999},
        ]},
        {"catalogId": 49, "articles": [{"id": 905, "code": "jkl000", "title": "Second catalog item"}]},
    ]},
}
MAPPING = {"items": "data.catalogs.*.articles", "id": "id", "title": "title",
           "url": "https://www.exchange.example/en/announcement/{code}", "date": "releaseDate",
           "date_format": "epoch_ms", "body": "body"}


def parse(data=RESPONSE, **options):
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_json(body, feed_url=API_URL, fetched_at=FETCHED, options={**MAPPING, **options})


def test_json_maps_fields_templates_and_epoch_dates():
    docs = {d.external_id: d for d in parse()}
    assert set(docs) == {"901", "902", "903", "904", "905"}
    first = docs["901"]
    assert first.title == "Exchange will list Orbitra (ORB) at its TGE"
    assert first.url == "https://www.exchange.example/en/announcement/abc123"
    assert first.text == "Deposits open today ."
    assert first.published_at == "2025-11-20T10:10:00+00:00" and not first.date_missing
    assert docs["902"].published_at == "2025-11-19T10:10:00+00:00"
    assert docs["903"].url == "" and docs["903"].date_missing
    assert docs["904"].title == "" and docs["904"].date_missing  # an object is no title; an absurd date falls back


def test_json_paths_with_indexes_and_top_level_lists():
    assert parse_path("data.list[0].title") == ["data", "list", 0, "title"]
    assert parse_path("") == []
    assert resolve({"a": [{"b": 1}, {"b": 2}]}, parse_path("a.*.b")) == [1, 2]
    docs = parse([{"headline": "Top-level list item", "link": "/a/1", "at": "2026-11-20T10:00:00Z"}],
                 items="", title="headline", url="link", date="at", date_format="iso", id=None, body=None)
    assert docs[0].url == "https://api.exchange.example/a/1"
    assert docs[0].published_at == "2026-11-20T10:00:00+00:00"
    okx = {"code": "0", "data": [{"details": [{"title": "New listing", "url": "https://www.okx.example/help/x",
                                               "pTime": "1763633400000"}]}]}
    docs = parse(okx, items="data[0].details", title="title", url="url", date="pTime", id=None, body=None,
                 date_format=None)
    assert docs[0].external_id == "https://www.okx.example/help/x" and not docs[0].date_missing


@pytest.mark.parametrize("body, message", [
    (b"<html>rate limited</html>", "not JSON"),
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not JSON"),
    (b'{"code": "100001", "msg": "system busy"}', "items path"),
    (b'{"data": {"catalogs": {"articles": 5}}}', "items path"),
    (b"1" * 10_000, "not JSON"),
])
def test_json_hostile_bodies_are_parse_errors(body, message):
    with pytest.raises(JSONSourceError, match=message):
        parse(body)


def test_json_items_path_to_an_object_is_a_parse_error():
    with pytest.raises(JSONSourceError, match="not a list"):
        parse({"data": {"list": {"title": "x"}}}, items="data.list")


def test_json_bad_mapping_names_the_option():
    assert json_problems({"title": "t"}) == [
        "the json option 'items' is required (the path to the list of items; \"\" for the top level)"]
    problems = json_problems({"items": "a..b", "title": 3, "url": "https://x/{a b}", "date_format": "weird"})
    assert any("'items'" in p for p in problems)
    assert any("'title' must be a path string" in p for p in problems)
    assert any("'url'" in p for p in problems)
    assert any("'date_format'" in p for p in problems)
    assert json_problems(MAPPING) == []
    with pytest.raises(JSONSourceError, match="'title' is required"):
        parse_json(b"[]", feed_url=API_URL, fetched_at=FETCHED, options={"items": ""})


def test_json_lone_surrogates_are_dropped_from_every_field():
    """JSON may escape a lone surrogate ("\\ud800"): a str UTF-8 cannot encode. In a URL template it raised
    UnicodeEncodeError from quote(); in a plain URL it reached the database, which refuses it."""
    body = (b'{"data": {"catalogs": [{"articles": ['
            b'{"id": 1, "code": "x\\ud800", "title": "Launch \\ud800", "body": "\\udfff text", "releaseDate": 1}, '
            b'{"id": "\\ud800", "code": "\\ud800", "title": "only a surrogate code"}]}]}}')
    first, second = parse(body)
    assert (first.external_id, first.title, first.text) == ("1", "Launch", "text")
    assert first.url == "https://www.exchange.example/en/announcement/x"
    assert second.url == "" and second.external_id.startswith("sha256:")
    docs = parse(b'{"data": {"catalogs": [{"articles": [{"title": "t", "link": "https://e.example/a\\udc00"}]}]}}',
                 url="link", id="link")
    assert docs[0].url == "https://e.example/a" and docs[0].external_id == docs[0].url
    for doc in (first, second, *docs):
        for value in doc.to_dict().values():
            if isinstance(value, str):
                value.encode("utf-8")


@pytest.mark.parametrize("value, date_format, expected", [
    ("Nov 20", "auto", "2026-11-20T00:00:00+00:00"),
    ("2 hours ago", "auto", "2026-11-21T10:00:00+00:00"),
    ("2026-11-20T10:00:00+02:00", "iso", "2026-11-20T08:00:00+00:00"),
    (1795165200, "auto", "2026-11-20T09:00:00+00:00"),
    ("1795165200000", "epoch_ms", "2026-11-20T09:00:00+00:00"),
    ("20.11.2026 09:00", "%d.%m.%Y %H:%M", "2026-11-20T09:00:00+00:00"),
])
def test_dates_in_every_supported_form(value, date_format, expected):
    when, missing = parse_date(value, FETCHED, date_format)
    assert when.isoformat() == expected and not missing


@pytest.mark.parametrize("value, date_format", [
    ("Dec 30", "auto"), ("words", "auto"), ("1795165200000", "iso"), ("12", "epoch_ms"), (None, "auto"),
    ({"a": 1}, "auto"), ("9" * 400, "epoch_s"), ("2026-11-20", "%d/%m/%Y"),
])
def test_missing_absurd_or_misformatted_dates_fall_back_to_fetch_time(value, date_format):
    assert parse_date(value, FETCHED, date_format) == (FETCHED, True)


def test_a_blank_html_selector_is_refused_by_name():
    problems = html_problems({"item": "article", "title": "h2", "link": "  "})
    assert problems == ["the html option 'link' must not be blank (leave it out for its default)"]


def test_a_blank_json_path_other_than_items_is_refused_by_name():
    problems = json_problems({"items": "", "title": "name", "url": " "})
    assert "the json option 'url' must not be blank (leave it out for its default)" in problems
    assert not any("'items'" in problem for problem in problems)
