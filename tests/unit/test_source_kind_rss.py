"""The rss kind's pure parse against character references that name no character (hostile input)."""
from datetime import datetime, timezone

import pytest

from tgesweeper.sources import rss as rss_kind
from tgesweeper.sources.rss import defuse, parse_feed

FETCHED = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
NO_CHARACTER = ["&#xD800;", "&#xdfff;", "&#55296;", "&#0;", "&#x110000;", "&#99999999999999999999;",
                "&#" + "9" * 5000 + ";", "&#xD800"]


def rss(title: str, description: str = "text", link: str = "https://news.example.com/1") -> bytes:
    return (f'<rss version="2.0"><channel><title>c</title><item><title>{title}</title><link>{link}</link>'
            f"<description>{description}</description><guid>1</guid></item></channel></rss>").encode()


def assert_valid_utf8(documents) -> None:
    for document in documents:
        for value in document.to_dict().values():
            if isinstance(value, str):
                value.encode("utf-8")


@pytest.mark.parametrize("reference", NO_CHARACTER)
def test_a_reference_to_no_character_becomes_the_replacement_character(reference):
    """A lone surrogate used to raise UnicodeEncodeError in feedparser (past U+10FFFF: ValueError, OverflowError)."""
    [document] = parse_feed(rss(f"before {reference} after"), feed_url="https://news.example.com/feed",
                            fetched_at=FETCHED)
    assert document.title.startswith("before \ufffd") and document.title.endswith("after")
    assert_valid_utf8([document])


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;"])
def test_everywhere_in_the_feed(reference):
    atom = (f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t{reference}</title><id>urn:{reference}</id>'
            f'<link href="https://news.example.com/a{reference}"/><author><name>{reference}n</name></author>'
            f'<content type="html">&lt;p&gt;x&lt;/p&gt;{reference}</content></entry></feed>').encode()
    documents = parse_feed(atom, feed_url="https://news.example.com/feed", fetched_at=FETCHED)
    assert len(documents) == 1 and documents[0].title == "t\ufffd"
    assert_valid_utf8(documents)
    documents = parse_feed(rss("t", description=reference, link=f"https://news.example.com/{reference}"),
                           feed_url="https://news.example.com/feed", fetched_at=FETCHED)
    assert len(documents) == 1
    assert_valid_utf8(documents)


def test_references_to_characters_are_left_alone():
    [document] = parse_feed(rss("&#x41;&#233;&#x1F680;&#x000000042; &#x10FFFF;|"),
                            feed_url="https://news.example.com/feed", fetched_at=FETCHED)
    assert document.title == "Aé🚀B \U0010ffff|"
    assert defuse(b"<a>&#65;&#xE9;&amp;#xD800;</a>").endswith(b"<a>&#65;&#xE9;&amp;#xD800;</a>")  # text stays text


# --- the plain RSS 2.0 fast path reads what feedparser reads ----------------------------------------------------

def item(*fields: str, guid: str = "") -> str:
    return f"<item>{''.join(fields)}{guid}</item>"


def plain(*items: str, channel: str = "<title>c</title><link>https://news.example.com/</link>") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}{"".join(items)}'
            "</channel></rss>").encode()


PLAIN_FEEDS = {
    "entities, markup and CDATA": plain(item(
        "<title>  AT&amp;T &lt;b&gt;bold&lt;/b&gt; x </title><link> /rel </link>",
        "<description><![CDATA[<p>Hi &amp; <b>there</b></p><script>x</script>]]></description>",
        "<author>joe@example.com (Joe Doe)</author><pubDate>Fri, 20 Nov 2026 10:00:00 +0100</pubDate>",
        guid="<guid>https://news.example.com/g/1</guid>")),
    "double escapes and references": plain(item("<title>T &amp;amp; x &#233; &#x1F680;</title>",
                                                "<description>plain &amp;lt; text</description>",
                                                guid='<guid isPermaLink="false">id2</guid>')),
    "a guid that is the link": plain(item("<title>a</title>", guid="<guid>https://news.example.com/g/3</guid>"),
                                     item("<title>b</title>", guid="<guid>http:///news.example.com/g/4</guid>"),
                                     item("<title>c</title>", guid='<guid isPermaLink="True">https://g/5</guid>'),
                                     item("<title>d</title>", guid="<guid>relative/6</guid>")),
    "a link's query and references": plain(item("<title>q</title>",
                                                 "<link>https://a.example/?a=1&amp;amp;b=2&amp;c;d&amp;lt;x</link>")),
    "mojibake and windows-1252 controls": plain(item("<title>caf\u00c3\u00a9 &#147;q&#148; \u0093x\u0094</title>",
                                                     "<description>&#128; \u00c3\u00a9t\u00c3\u00a9</description>",
                                                     "<author>Ren\u00c3\u00a9e</author>")),
    "dates of every zone form, and absurd ones": plain(*(
        item(f"<title>d{n}</title><pubDate>{date}</pubDate>", guid=f"<guid>d{n}</guid>")
        for n, date in enumerate(["20 Nov 2026 10:00 -0800", "Fri, 20 Nov 2026 10:00:00 UT",
                                  "Fri, 20 Nov 2026 10:00:00 UTC", "Fri, 20 Nov 2026 10:00:00 Z",
                                  "Fri, 20 Nov 2036 10:00:00 GMT", "Fri, 20 Nov 1990 10:00:00 GMT"]))),
    "empty fields, duplicates, ignored fields and an image": plain(
        item("<title></title><description></description>", guid="<guid></guid>"),
        item("<title>dup</title><category>c</category><comments>https://c</comments>", guid="<guid>same</guid>"),
        item("<title>dup 2</title>", guid="<guid>same</guid>"),
        item("<title>x</title><link>javascript:alert(1)</link>"),
        channel="<title>c</title><image><url>https://i</url><title>img</title><link>https://l</link></image>"),
}
NOT_PLAIN_FEEDS = {
    "a namespace": b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item><title>a</title>'
                   b"<dc:creator>x</dc:creator></item></channel></rss>",
    "RSS 0.91": b'<rss version="0.91"><channel><item><title>a</title></item></channel></rss>',
    "an undefined entity": plain(item("<title>a &nbsp; b</title>")),
    "a date feedparser reads its own way": plain(item("<title>a</title><pubDate>Fri, 20 Nov 2026 10:00:00 EST"
                                                      "</pubDate>")),
    "a zone of -0000": plain(item("<title>a</title><pubDate>Fri, 20 Nov 2026 10:00:00 -0000</pubDate>")),
    "an impossible date": plain(item("<title>a</title><pubDate>Fri, 31 Feb 2026 10:00:00 GMT</pubDate>")),
    "xml:base": b'<rss version="2.0"><channel xml:base="http://base/"><item><title>x</title><link>rel</link></item>'
                b"</channel></rss>",
    "an element the fast path does not read": plain(item("<title>a</title><source url='https://s'>S</source>")),
    "an enclosure": plain(item("<title>a</title><enclosure url='https://s/a.mp3' length='1' type='audio/mpeg'/>")),
    "a field twice": plain(item("<title>a</title><title>b</title>")),
    "markup inside a field": plain(item("<title>a <b>b</b></title>")),
}


def parse_both(body: bytes, monkeypatch) -> tuple[list, list]:
    fast = parse_feed(body, feed_url="https://news.example.com/feed/", fetched_at=FETCHED)
    with monkeypatch.context() as patched:
        patched.setattr(rss_kind, "_plain_rss_entries", lambda data: None)
        slow = parse_feed(body, feed_url="https://news.example.com/feed/", fetched_at=FETCHED)
    return fast, slow


@pytest.mark.parametrize("body", PLAIN_FEEDS.values(), ids=PLAIN_FEEDS)
def test_a_plain_rss_feed_takes_the_fast_path_and_reads_as_feedparser_reads_it(body, monkeypatch):
    assert rss_kind._plain_rss_entries(rss_kind.defuse(body)) is not None
    fast, slow = parse_both(body, monkeypatch)
    assert fast and [d.to_dict() for d in fast] == [d.to_dict() for d in slow]


@pytest.mark.parametrize("body", NOT_PLAIN_FEEDS.values(), ids=NOT_PLAIN_FEEDS)
def test_anything_else_goes_to_feedparser(body, monkeypatch):
    assert rss_kind._plain_rss_entries(rss_kind.defuse(body)) is None
    fast, slow = parse_both(body, monkeypatch)
    assert [d.to_dict() for d in fast] == [d.to_dict() for d in slow]


def test_the_generated_benchmark_feed_is_plain():
    import random

    from tgesweeper.bench.feedserver import render_rss
    from tgesweeper.bench.pipeline_benchmark import generate_items

    body = render_rss("bench", generate_items(200, "t", random.Random(1)))
    entries = rss_kind._plain_rss_entries(rss_kind.defuse(body))
    assert entries is not None and len(entries) == 200
    assert len(parse_feed(body, feed_url="https://news.example.com/feed/", fetched_at=FETCHED)) == 200
