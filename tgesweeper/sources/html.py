"""HTML listing pages (plus, optionally, the article pages they link to) -> NormalizedDocument list.

Options (``Source.options``)::

    {"item": "article.post",        # required: one element per news item on the listing page
     "title": "h2",                 # required: field selectors inside the item (see below)
     "link": "a@href",              # default "a@href"; relative links are resolved against the page URL
     "date": "time@datetime", "date_format": "auto",   # auto | iso | epoch_s | epoch_ms | a strptime pattern
     "body": ".summary", "author": ".byline", "id": "@data-id",
     "follow_links": false,         # also fetch each item's page and take its text as the body
     "article_body": "div.content", # where that text is; without it the largest block of paragraphs is taken
     "article_date": "time@datetime",   # used when the listing gives no date
     "max_articles": 20, "max_items": 100}

A field selector is a CSS selector, optionally followed by ``@attribute``; ``@attribute`` alone reads the
item element itself, and an empty selector its text. ``body`` joins the text of every match, the other
fields read the first.

``fetch`` does all the I/O: the listing through one conditional GET and, with ``follow_links``, up to
``max_articles`` article pages, packed with the listing into one JSON envelope. ``cursor`` remembers the
newest link followed, so the next fetch follows only links above it; when more new links than ``max_articles``
wait above the cursor, the oldest are followed first and the rest are left (not stored) for the next fetch, so
no article is skipped for good. ``parse`` is pure.

Article text without navigation and boilerplate: the ``article_body`` selector when given; otherwise
scripts, styles, forms and nav/header/footer/aside are dropped and the element holding the most paragraph
text is kept (a readability-style heuristic, no extra dependency, bounded by the page size cap).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import soupsieve
from bs4 import BeautifulSoup, Tag

from tgesweeper import net
from tgesweeper.sources import NO_CONFIG, Fetched, SourceKind, SourceSpec, fetch_url, fields
from tgesweeper.sources.documents import NormalizedDocument
from tgesweeper.sources.fields import (
    MAX_BODY_BYTES,
    absolute_url,
    document,
    utc,
)

log = logging.getLogger(__name__)

MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_ARTICLES = 50
MAX_ITEMS = 10_000
DEFAULT_MAX_ARTICLES = 20
ENVELOPE_FORMAT = "tge-html/1"
_ENVELOPE_MARK = b'{"format": "' + ENVELOPE_FORMAT.encode() + b'"'

_FIELD = re.compile(r"^(?P<css>.*?)\s*(?:@(?P<attr>[A-Za-z_:][-\w:.]*))?$", re.S)
_SELECTOR_OPTIONS = ("item", "title", "link", "date", "body", "author", "id", "article_body", "article_date")
_BOILERPLATE = ("script", "style", "noscript", "template", "iframe", "svg", "form", "button", "nav", "header",
                "footer", "aside", "menu", "dialog")
_BOILERPLATE_ROLES = "[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [aria-hidden=true]"
_ARTICLE_DATE_FALLBACKS = ('meta[property="article:published_time"]@content', 'meta[name="date"]@content',
                           "time@datetime")


class HTMLError(Exception):
    """The page cannot be read with the source's selectors (not HTML, or nothing matches)."""


# --- options -----------------------------------------------------------------------------------

def validate_options(options: object) -> list[str]:
    """Problems with an html source's options, each naming the option; empty when they are usable."""
    if not isinstance(options, dict):
        return ["options must be an object of html options such as {\"item\": \"article\", \"title\": \"h2\"}"]
    problems = [f"the html option {name!r} is required" for name in ("item", "title") if not options.get(name)]
    problems += [f"unknown html option {name!r}" for name in sorted(set(options) - set(OPTIONS_SCHEMA["properties"]))]
    problems += fields.string_option_problems("html", options, _SELECTOR_OPTIONS, expected="CSS selector string",
                                       check=_selector_problem)
    if "follow_links" in options and not isinstance(options["follow_links"], bool):
        problems.append("the html option 'follow_links' must be true or false")
    for name, floor, ceiling in (("max_articles", 0, MAX_ARTICLES), ("max_items", 1, MAX_ITEMS)):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not floor <= value <= ceiling):
            problems.append(f"the html option {name!r} must be a whole number from {floor} to {ceiling}")
    return problems + fields.date_format_problems("html", options)


def _selector_problem(value: str) -> str | None:
    if not value.strip():
        return " must not be blank (leave it out for its default)"
    css = _split_field(value)[0]
    if css:
        try:
            soupsieve.compile(css)
        except (soupsieve.SelectorSyntaxError, ValueError) as exc:
            return f" is not a valid CSS selector: {str(exc).splitlines()[0]}"
    return None


def _split_field(value: str) -> tuple[str, str | None]:
    match = _FIELD.match(value.strip())
    return (match.group("css").strip(), match.group("attr")) if match else (value.strip(), None)


# --- fetch ---------------------------------------------------------------------------------------

def fetch(spec: SourceSpec, policy: net.FetchPolicy, config: Mapping[str, object] = NO_CONFIG) -> Fetched:
    """The listing (conditional GET) and, with ``follow_links``, the new article pages it links to."""
    started = time.monotonic()
    listing = fetch_url(spec, policy)
    options = spec.options or {}
    if listing.body is None or not options.get("follow_links") or validate_options(options):
        return listing  # with bad options parse reports the problem
    try:
        links = [link for link in _listing_links(listing.body, listing.url, options) if link]
    except HTMLError:
        return listing
    if not links:
        return listing
    known = [i for i, link in enumerate(links) if _cursor(link) == spec.cursor]
    wanted = list(dict.fromkeys(links[:known[0]] if known else links))
    limit = min(int(options.get("max_articles", DEFAULT_MAX_ARTICLES)), MAX_ARTICLES)
    # Past the cursor with more new links than max_articles: catch up oldest first and leave the newer ones,
    # unstored, for the next fetch. A first fetch (or a cursor scrolled off the listing) takes the newest.
    catching_up = bool(known) and 0 < limit < len(wanted)
    attempted = _follow(wanted[::-1][:limit] if catching_up else wanted[:limit], spec, policy,
                        started=started, budget=policy.max_bytes - len(listing.body))
    deferred = wanted[:len(wanted) - len(attempted)] if catching_up else []
    if catching_up:
        cursor = _cursor(next(reversed(attempted))) if attempted else spec.cursor
    else:
        cursor = _cursor(links[0])
    envelope = {"format": ENVELOPE_FORMAT, "listing": base64.b64encode(listing.body).decode("ascii"),
                "articles": {link: body for link, body in attempted.items() if body is not None},
                "deferred": deferred}
    unchanged = {} if deferred else {"etag": listing.etag, "last_modified": listing.last_modified}
    return Fetched(url=listing.url, body=json.dumps(envelope).encode("ascii"), cursor=cursor, **unchanged)


def _follow(links: list[str], spec: SourceSpec, policy: net.FetchPolicy, *, started: float,
            budget: int) -> dict[str, str | None]:
    """Fetch article pages in the given order until time, bytes or the host's budget run out.

    Returns every link attempted, in order, with its base64 body (None: the page was refused or failed and the
    item keeps its listing text)."""
    attempted: dict[str, str | None] = {}
    for link in links:
        remaining = policy.total_timeout - (time.monotonic() - started)
        if remaining < 1 or budget <= 0:
            break
        article_policy = replace(policy, total_timeout=remaining, max_bytes=min(MAX_ARTICLE_BYTES, budget))
        try:
            result = net.fetch(link, policy=article_policy)
        except net.RateLimited:
            break
        except net.FetchError as exc:
            log.info("html source %s: skipped article %s: %s", spec.name, link, exc.reason)
            attempted[link] = None
            continue
        budget -= len(result.body)
        attempted[link] = base64.b64encode(result.body).decode("ascii")
    return attempted


def _cursor(link: str) -> str:
    return "link:" + hashlib.sha256(link.encode("utf-8")).hexdigest()[:40]


def _listing_links(body: bytes, page_url: str, options: dict) -> list[str]:
    return [absolute_url(_field(item, options.get("link") or "a@href"), page_url)
            for item in _items(_soup(body), options)]


# --- parse ---------------------------------------------------------------------------------------

def parse_html(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
               options: dict | None = None) -> list[NormalizedDocument]:
    """One listing page (or the envelope ``fetch`` packed) into at most ``max_items`` documents."""
    options = fields.usable_options(options, validate_options, HTMLError)
    listing, articles, deferred = _unpack(body)
    fetched_at = utc(fetched_at).replace(microsecond=0)
    max_items = min(max_items, int(options.get("max_items") or max_items))
    documents: dict[str, NormalizedDocument] = {}
    for item in _items(_soup(listing), options):
        doc = _item_document(item, options, feed_url, fetched_at, articles)
        if doc is not None and doc.url not in deferred and doc.external_id not in documents:
            documents[doc.external_id] = doc
            if len(documents) >= max_items:
                break
    return list(documents.values())


def _unpack(body: bytes) -> tuple[bytes, dict[str, bytes], set[str]]:
    """The listing, the article pages by link, and the links left for the next fetch."""
    if not body or not body.strip():
        raise HTMLError("the page is empty")
    if len(body) > MAX_BODY_BYTES:
        raise HTMLError(f"the page is {len(body):,} bytes, over the {MAX_BODY_BYTES:,}-byte limit")
    if not body.startswith(_ENVELOPE_MARK):
        return body, {}, set()
    try:
        envelope = json.loads(body)
        listing = base64.b64decode(envelope["listing"], validate=True)
        articles = {str(url): base64.b64decode(data, validate=True)
                    for url, data in list(envelope.get("articles", {}).items())[:MAX_ARTICLES]}
        deferred = {str(url) for url in envelope.get("deferred", [])[:MAX_ITEMS]}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise HTMLError(f"corrupt listing envelope: {exc}") from None
    return listing, articles, deferred


def _soup(body: bytes) -> BeautifulSoup:
    head = body[:1024].lstrip().lower()
    if not body.strip() or head.startswith((b"{", b"[", b"%pdf", b"\x89png", b"gif8", b"\xff\xd8")):
        raise HTMLError("the page is not HTML")
    try:
        return BeautifulSoup(body, "lxml")
    except (RecursionError, ValueError, LookupError) as exc:
        raise HTMLError(f"the page cannot be parsed as HTML: {type(exc).__name__}") from None


def _items(soup: BeautifulSoup, options: dict) -> list[Tag]:
    try:
        items = soup.select(options["item"])
    except (soupsieve.SelectorSyntaxError, ValueError) as exc:
        raise HTMLError(f"the item selector {options['item']!r} is invalid: {exc}") from None
    except RecursionError:
        raise HTMLError("the page is nested too deeply to search") from None
    if not items:
        raise HTMLError(f"no element on the page matches the item selector {options['item']!r}")
    return items


def _field(scope: Tag, spec: str | None, *, every: bool = False) -> str:
    """Text (or ``@attr`` value) of the first match of ``spec`` in ``scope``; all matches with ``every``."""
    if not spec:
        return ""
    css, attr = _split_field(spec)
    try:
        matches = (scope.select(css) if every else [scope.select_one(css)]) if css else [scope]
    except (soupsieve.SelectorSyntaxError, ValueError):
        return ""
    values = []
    for element in matches:
        if element is None:
            continue
        if attr:
            value = element.get(attr)
            values.append(" ".join(value) if isinstance(value, list) else str(value or ""))
        else:
            values.append(element.get_text(" ", strip=True))
    return " ".join(v for v in values if v)


def _item_document(item: Tag, options: dict, page_url: str, fetched_at: datetime,
                   articles: dict[str, bytes]) -> NormalizedDocument | None:
    try:
        url = absolute_url(_field(item, options.get("link") or "a@href"), page_url)
        text = _field(item, options.get("body"), every=True)
        date = _field(item, options.get("date"))
        if url in articles:
            article_text, article_date = _article(articles[url], options)
            text = article_text or text
            date = date or article_date
        return document(item_id=_field(item, options.get("id")), url=url, title=_field(item, options["title"]),
                        text=text, date=date, date_format=options.get("date_format") or "auto",
                        author=_field(item, options.get("author")), fetched_at=fetched_at)
    except RecursionError:
        return None


def _article(body: bytes, options: dict) -> tuple[str, str]:
    """(main text, date) of an article page; ('', '') when it cannot be read."""
    try:
        soup = _soup(body)
    except HTMLError:
        return "", ""
    date = ""
    for spec in filter(None, (options.get("article_date"), *_ARTICLE_DATE_FALLBACKS)):
        date = _field(soup, spec)
        if date:
            break
    selector = options.get("article_body")
    text = _field(soup, selector, every=True) if selector else ""
    return text or _main_text(soup), date


def _main_text(soup: BeautifulSoup) -> str:
    """The text of the element holding the most paragraph text, after dropping page furniture."""
    for element in soup.find_all(_BOILERPLATE):
        element.decompose()
    for element in soup.select(_BOILERPLATE_ROLES):
        element.decompose()
    scores: dict[int, tuple[int, Tag]] = {}
    for paragraph in soup.find_all(("p", "pre", "blockquote", "li")):
        parent = paragraph.parent
        if parent is None:
            continue
        length = len(paragraph.get_text(" ", strip=True))
        score, _ = scores.get(id(parent), (0, parent))
        scores[id(parent)] = (score + length, parent)
    if scores:
        _, best = max(scores.values(), key=lambda entry: entry[0])
        return best.get_text(" ", strip=True)
    body = soup.body or soup
    return body.get_text(" ", strip=True)


OPTIONS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "required": ["item", "title"], "properties": {
    **fields.string_options_schema(_SELECTOR_OPTIONS, "css-field", required=("item", "title")),
    "date_format": fields.DATE_FORMAT_SCHEMA, "follow_links": {"type": "boolean"},
    "max_articles": {"type": "integer", "minimum": 0, "maximum": MAX_ARTICLES},
    "max_items": {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS}}}

KIND = SourceKind("html", fetch=fetch, parse=parse_html, parse_error=HTMLError,
                  option_problems=lambda options, query: {"options": validate_options(options)},
                  options_schema=OPTIONS_SCHEMA)
