"""Source kinds: each module fetches (through ``tgesweeper.net``) and parses one kind into NormalizedDocuments.

A kind is two plain functions the pipeline calls: ``fetch(spec, policy)`` in the fetch stage (all network I/O)
and ``parse(body, feed_url=, fetched_at=, max_items=, options=)`` in the parse stage (pure, no I/O). The pipeline
hands them a ``SourceSpec`` snapshot, never an ORM row, so this package stays free of Django.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from tgesweeper import net
from tgesweeper.sources.documents import NormalizedDocument


@dataclass(frozen=True)
class SourceSpec:
    """What a fetch needs to know about one Source row (``options`` is the row's per-kind ``settings``)."""

    id: int
    name: str
    kind: str
    url: str = ""
    query: str = ""
    options: dict = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    cursor: str = ""


@dataclass(frozen=True)
class Fetched:
    """One fetch's outcome. ``body`` None means "nothing new" (304, or no new items since ``cursor``)."""

    url: str
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True)
class SourceKind:
    name: str
    fetch: Callable[[SourceSpec, net.FetchPolicy], Fetched]
    parse: Callable[..., list[NormalizedDocument]]
    parse_error: type[Exception]


def fetch_url(spec: SourceSpec, policy: net.FetchPolicy) -> Fetched:
    """The fetch of every kind that reads one URL: one conditional GET through the HTTP chokepoint."""
    result = net.fetch(spec.url, policy=policy, etag=spec.etag or None, last_modified=spec.last_modified or None)
    return Fetched(url=result.url, body=None if result.not_modified else result.body, etag=result.etag,
                   last_modified=result.last_modified)


# kind name -> module in this package that defines ``KIND: SourceKind``
_MODULES = {
    "rss": "rss",
    "html": "html",
    "json": "json_api",
    "x": "x_api",
    "browser": "browser",
}
KINDS = tuple(_MODULES)


def kind_for(kind: str) -> SourceKind:
    """The SourceKind for a Source's ``kind`` (imported on first use: a worker loads only what it reads)."""
    try:
        module = _MODULES[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}") from None
    return importlib.import_module(f"tgesweeper.sources.{module}").KIND
