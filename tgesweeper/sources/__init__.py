"""Source kinds: each module fetches (through ``tgesweeper.net``) and parses one kind into NormalizedDocuments."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tgesweeper.sources.documents import NormalizedDocument


@dataclass(frozen=True)
class SourceKind:
    """How the pipeline reads one kind: ``parse(body, feed_url=, fetched_at=, max_items=)`` and what it raises."""

    name: str
    parse: Callable[..., list[NormalizedDocument]]
    parse_error: type[Exception]


def parser_for(kind: str) -> SourceKind:
    if kind == "rss":
        from tgesweeper.sources import rss

        return SourceKind("rss", rss.parse_feed, rss.FeedError)
    raise ValueError(f"unknown source kind {kind!r}")
