"""Source kinds: each module fetches (through ``tgesweeper.net``) and parses one kind into NormalizedDocuments.

Each module declares everything the rest of the project needs to know about its kind in its ``KIND``, a
``SourceKind`` (the registry below finds it by name), so nothing outside the module branches on kind names: its
``fetch(spec, policy, config)`` for the fetch stage (all network I/O), its ``parse(body, feed_url=, fetched_at=,
max_items=, options=)`` for the parse stage (pure, no I/O), the options it accepts, whether it reads the Source's URL,
its fetch queue, the request budget its requests spend and the settings its fetch reads. The pipeline hands a kind
a ``SourceSpec`` snapshot, never an ORM row, and those settings' values, so this package stays free of Django.
Helpers every kind shares (text and URL cleaning, dates, size limits) are in ``fields``.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from tgesweeper import net
from tgesweeper.sources.documents import NormalizedDocument


@dataclass(frozen=True)
class SourceSpec:
    """What a fetch needs to know about one Source row (``options`` is the row's per-kind ``options``)."""

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


# Fetch queues, by logical name (the workers map them to their broker queues).
FETCH_QUEUE = "fetch"
BROWSER_QUEUE = "browser"
NO_CONFIG: Mapping[str, object] = MappingProxyType({})


class InvalidOptions(ValueError):
    """Options (or a query) the kind cannot use. ``problems`` maps ``"options"`` or ``"query"`` to messages, each
    naming the option it is about."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        super().__init__("; ".join(message for messages in problems.values() for message in messages))


NO_OPTIONS_SCHEMA = MappingProxyType({"type": "object", "maxProperties": 0, "description": "this kind takes no options"})


def no_options(options: dict, query: str) -> dict[str, list[str]]:
    """For kinds configured by their URL alone (rss): an option would be ignored, so it is refused."""
    return {"options": [f"unknown option {name!r} (this kind takes none)" for name in sorted(options)]}


@dataclass(frozen=True)
class SourceKind:
    """One kind's declaration: the pipeline, the workers and the app's checks ask it instead of testing names."""

    name: str
    fetch: Callable[[SourceSpec, net.FetchPolicy, Mapping[str, object]], Fetched]
    parse: Callable[..., list[NormalizedDocument]]
    parse_error: type[Exception]
    # (options, query) -> {"options" | "query": [problem, ...]}: pure, so a save can check what a fetch will need.
    option_problems: Callable[[dict, str], dict[str, list[str]]] = no_options
    # The JSON schema of the options ``option_problems`` accepts, for the API's schema; kept beside the checks so
    # the two change together.
    options_schema: Mapping[str, object] = field(default_factory=lambda: NO_OPTIONS_SCHEMA, hash=False)
    reads_url: bool = True  # False: the kind reads an API of its own and the Source's URL is unused
    queue: str = FETCH_QUEUE
    # None: each host has its own request budget. A name: every request of the kind spends one shared budget (an
    # API's quota); the workers know its limits.
    budget: str | None = None
    config_keys: tuple[str, ...] = ()  # the settings ``fetch`` reads from its ``config`` argument
    # A push kind: the stream URL (ws/wss) its options name, which a long-lived consumer holds open; None for kinds
    # that are only polled. The URL gets the same host rule as the Source's URL.
    stream_url: Callable[[dict], str] | None = None
    # A kind whose API has one stream per app for all its sources (X's filtered stream), which the push consumer
    # holds: whether a source's options ask to be read from it. None: no such stream.
    app_stream: Callable[[dict], bool] | None = None

    def check_options(self, options: object, query: str = "") -> None:
        """Raise InvalidOptions unless the kind can fetch and parse with ``options`` and ``query``."""
        if not isinstance(options, dict):
            raise InvalidOptions({"options": ["Options must be a JSON object."]})
        nulls = [f"the option {name!r} is null: leave it out for its default" for name, value in options.items()
                 if value is None]
        if nulls:  # every kind reads a null option as a missing one; the schema allows neither
            raise InvalidOptions({"options": nulls})
        problems = {name: found for name, found in self.option_problems(options, query or "").items() if found}
        if problems:
            raise InvalidOptions(problems)


def fetch_url(spec: SourceSpec, policy: net.FetchPolicy, config: Mapping[str, object] = NO_CONFIG) -> Fetched:
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
    "websocket": "websocket",
}


def kind_for(kind: str) -> SourceKind:
    """The SourceKind for a Source's ``kind`` (imported on first use: a worker loads only what it reads)."""
    try:
        module = _MODULES[kind]
    except KeyError:
        raise ValueError(f"unknown source kind {kind!r}") from None
    return importlib.import_module(f"tgesweeper.sources.{module}").KIND
