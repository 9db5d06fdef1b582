"""The rss kind's pure parse against character references that name no character (hostile input)."""
from datetime import datetime, timezone

import pytest

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
