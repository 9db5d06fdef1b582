"""Every kind reads a link by the same rule (one helper): absolute http(s), controls dropped, ends trimmed."""
import html
import json
from datetime import datetime, timezone

import pytest

from tgesweeper.sources import kind_for

NOW = datetime(2025, 3, 10, tzinfo=timezone.utc)
PAGE = "https://news.example/launches/"


def links_read_by_every_kind(link: str) -> dict[str, str]:
    escaped = html.escape(link)
    feed = f'<rss version="2.0"><channel><item><title>T</title><link>{escaped}</link></item></channel></rss>'
    page = f'<html><body><article><h2>T</h2><a href="{escaped}">more</a></article></body></html>'
    items = json.dumps({"items": [{"title": "T", "url": link}]})
    parsed = {
        "rss": kind_for("rss").parse(feed.encode(), feed_url=PAGE, fetched_at=NOW),
        "html": kind_for("html").parse(page.encode(), feed_url=PAGE, fetched_at=NOW,
                                       options={"item": "article", "title": "h2"}),
        "json": kind_for("json").parse(items.encode(), feed_url=PAGE, fetched_at=NOW,
                                       options={"items": "items", "title": "title", "url": "url"}),
        "browser": kind_for("browser").parse(page.encode(), feed_url=PAGE, fetched_at=NOW),
    }
    return {kind: documents[0].url for kind, documents in parsed.items()}


@pytest.mark.parametrize(("link", "url"), [
    ("../a/b", "https://news.example/a/b"),
    ("  /token-launch\n  ", "https://news.example/token-launch"),
    ("/a/b\tc", "https://news.example/a/bc"),
    ("/lumen tge", "https://news.example/lumen tge"),
    ("//cdn.example/p", "https://cdn.example/p"),
    ("java\nscript:alert(1)", ""),
    ("data:text/html,hi", ""),
    ("mailto:team@news.example", ""),
    ("/" + "a" * 2100, ""),
])
def test_every_kind_reads_a_link_the_same_way(link, url):
    assert links_read_by_every_kind(link) == dict.fromkeys(("rss", "html", "json", "browser"), url)
