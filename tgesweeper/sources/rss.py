"""RSS/Atom bytes -> NormalizedDocument list, safe against hostile feeds.

feedparser gets bytes only (never a URL or a path) and never sees a DTD: the body is first
converted to UTF-8 with feedparser's own encoding detection (so what we inspect is exactly
what its XML parser will read, whatever charset the feed claims), control characters are
dropped, numeric character references to no character (``&#0;``, a lone surrogate such as
``&#xD800;``, beyond U+10FFFF) become U+FFFD (feedparser's fallback parser would raise on them),
and the DOCTYPE declaration with its internal subset is cut out of the prolog.
With no DTD there is nothing to expand: billion laughs, quadratic blowup and external
entities (file or network) all turn into undefined-entity errors, feedparser falls back to
its loose parser, and the references stay inert literal text. A legitimate feed with a
harmless DOCTYPE (e.g. Netscape RSS 0.91) still parses.

A plain RSS 2.0 feed (no namespaces, no attributes but the usual few, items of text-only title, link,
description, guid, author, pubDate, category, comments, RFC 822 dates) is read by lxml's strict parser into the
same entries feedparser would give, about ten times faster (``_plain_rss_entries``); anything else, or anything that
parser refuses (an undefined entity, a syntax error), goes to feedparser as before.
"""
from __future__ import annotations

import email.utils
import re
import time
from datetime import datetime, timezone

import feedparser
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252 as CP1252_CONTROLS
from feedparser.urls import _urljoin as feedparser_urljoin
from lxml import etree

from tgesweeper.sources import NO_OPTIONS_SCHEMA, SourceKind, fetch_url
from tgesweeper.sources.documents import NormalizedDocument
from tgesweeper.sources.fields import (
    MAX_AUTHOR_CHARS,
    MAX_BODY_BYTES,
    MAX_TITLE_CHARS,
    absolute_url,
    clean_text,
    external_id,
    plausible,
    utc,
)


class FeedError(Exception):
    """The body cannot be read as a feed at all."""


def parse_feed(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
               options: dict | None = None) -> list[NormalizedDocument]:
    """Parse one fetched feed body into at most ``max_items`` documents, deduplicated by external_id."""
    if not body or not body.strip():
        raise FeedError("the feed is empty")
    if len(body) > MAX_BODY_BYTES:
        raise FeedError(f"the feed is {len(body):,} bytes, over the {MAX_BODY_BYTES:,}-byte limit")
    fetched_at = utc(fetched_at).replace(microsecond=0)
    data = _truncate_items(defuse(body), max_items)
    entries = _plain_rss_entries(data)
    if entries is None:
        entries = _feedparser_entries(data)
    documents: dict[str, NormalizedDocument] = {}
    for entry in entries:
        document = _normalize(entry, feed_url, fetched_at)
        if document is not None and document.external_id not in documents:
            documents[document.external_id] = document
            if len(documents) >= max_items:
                break
    return list(documents.values())


def _feedparser_entries(data: bytes) -> list[dict]:
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            raise FeedError(f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        if not parsed.get("version"):
            raise FeedError("the document is not an RSS or Atom feed")
    return entries


# --- the plain RSS 2.0 fast path -------------------------------------------------------------------------

_STRICT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                 remove_comments=True, remove_pis=True)
# Item fields → feedparser's entry keys; each at most once per item, text only.
_ITEM_FIELDS = {"title": "title", "link": "link", "description": "summary", "guid": "id", "author": "author",
                "pubDate": "published"}
_ITEM_IGNORED = frozenset({"category", "comments"})
_CHANNEL_FIELDS = frozenset({"title", "link", "description", "language", "copyright", "managingEditor", "webMaster",
                             "pubDate", "lastBuildDate", "category", "generator", "docs", "ttl", "image", "item"})
_IMAGE_FIELDS = frozenset({"url", "title", "link", "width", "height", "description"})
_ALLOWED_ATTRIBUTES = {"rss": {"version"}, "guid": {"isPermaLink"}, "category": {"domain"}}
_RFC822_DATE = re.compile(r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})? "
                          r"(?:GMT|UTC?|Z|[+-]\d{4})")


class _NotPlain(Exception):
    """The feed is not the plain RSS 2.0 the fast path reads exactly as feedparser does."""


def _plain_rss_entries(data: bytes) -> list[dict] | None:
    """Entries as feedparser gives them (the keys ``_normalize`` reads) for a plain RSS 2.0 feed, else None."""
    try:
        root = etree.fromstring(data, _STRICT_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    try:
        _check_attributes(root)
        if root.tag != "rss" or root.get("version") != "2.0" or root.text and root.text.strip():
            raise _NotPlain
        [channel] = root
        if channel.tag != "channel":
            raise _NotPlain
        entries = []
        for element in channel:
            if element.tag not in _CHANNEL_FIELDS:
                raise _NotPlain
            if element.tag == "item":
                entries.append(_plain_item(element))
            elif element.tag == "image":
                if any(part.tag not in _IMAGE_FIELDS or len(part) for part in element):
                    raise _NotPlain
            elif len(element):
                raise _NotPlain
    except (_NotPlain, ValueError):
        return None
    return entries or None


def _check_attributes(root: etree._Element) -> None:
    """No namespaces (``{uri}tag``), no xml:base or xml:lang, no attribute feedparser would read differently."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag.startswith("{") or element.nsmap:
            raise _NotPlain
        if element.attrib and not set(element.attrib) <= _ALLOWED_ATTRIBUTES.get(element.tag, set()):
            raise _NotPlain


def _plain_item(item: etree._Element) -> dict:
    guid = item.find("guid")
    guid_is_link = guid is not None and guid.get("isPermaLink", "true") == "true"
    entry: dict = {}
    for field in item:
        if field.tag in _ITEM_IGNORED:
            continue
        key = _ITEM_FIELDS.get(field.tag)
        if key is None or key in entry or len(field):
            raise _NotPlain
        entry[key] = _as_feedparser_text(field.text or "", uri=key == "link" or key == "id" and guid_is_link)
    if "link" in entry:
        entry["link"] = _LINK_REFERENCE.sub(r"&\g<1>", entry["link"].replace("&amp;", "&"))
    elif guid_is_link:
        entry["link"] = entry.get("id", "")
    if "published" in entry:
        entry["published_parsed"] = _rfc822(entry["published"])
    return entry


_LINK_REFERENCE = re.compile("&([A-Za-z0-9_]+);")


def _as_feedparser_text(text: str, *, uri: bool) -> str:
    """What feedparser's ``pop`` makes of an element's text: stripped, a URI joined as its ``_urljoin`` does,
    latin-1 mojibake of UTF-8 undone, and the C1 controls of windows-1252 mapped to their characters."""
    text = text.strip()
    if uri and text:
        text = feedparser_urljoin("", text)
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return text.translate(CP1252_CONTROLS)


def _rfc822(value: str) -> time.struct_time:
    if not _RFC822_DATE.fullmatch(value):
        raise _NotPlain
    when = email.utils.parsedate_to_datetime(value)
    if when.tzinfo is None:  # "-0000": no zone given
        raise _NotPlain
    return when.astimezone(timezone.utc).timetuple()


# --- hostile-input defences -----------------------------------------------------------------

_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PI_OR_COMMENT = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->)", re.S)
_DOCTYPE_START = re.compile(rb"\s*<!DOCTYPE", re.I)
_DECLARATION_IN_HEAD = re.compile(rb"<!(DOCTYPE|ENTITY|ATTLIST|ELEMENT|NOTATION)", re.I)
_FIRST_ELEMENT = re.compile(rb"<\w")
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")


def defuse(body: bytes) -> bytes:
    """UTF-8 bytes without control characters, references to no character, or any DOCTYPE/DTD.

    Raises FeedError for a DOCTYPE that cannot be delimited, rather than guessing.
    """
    result: dict = {}
    data = convert_to_utf8({}, body, result)
    if not result.get("encoding"):
        data = data.decode("utf-8", "replace").encode("utf-8")
    data = _CONTROL_BYTES.sub(b"", data)
    data = _CHARREF.sub(_neutralize_charref, data)
    data = _strip_doctype(data)
    first = _FIRST_ELEMENT.search(data)
    head = data[:first.start()] if first else data
    if _DECLARATION_IN_HEAD.search(head):
        raise FeedError("the feed has a DTD declaration outside a well-formed DOCTYPE; refusing to parse it")
    return data


def _neutralize_charref(match: re.Match) -> bytes:
    """``&#...;`` unchanged when it names a character Python can encode, else U+FFFD's reference.

    feedparser's loose parser turns a reference into ``chr(n).encode()``: a surrogate raises
    UnicodeEncodeError, a number past U+10FFFF ValueError or OverflowError, and the whole parse fails."""
    digits = (match.group(1) or match.group(2)).lstrip(b"0") or b"0"
    if len(digits) <= 8:  # longer is past U+10FFFF anyway (and int() of 5,000 digits raises)
        code = int(digits, 16) if match.group(1) else int(digits)
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return match.group(0)
    return b"&#xFFFD;"


def _strip_doctype(data: bytes) -> bytes:
    """Cut the DOCTYPE (with its internal subset) out of the XML prolog."""
    pos = 0
    while True:
        match = _PI_OR_COMMENT.match(data, pos)
        if match is None:
            break
        pos = match.end()
    match = _DOCTYPE_START.match(data, pos)
    if match is None:
        return data
    end = _doctype_end(data, match.end())
    if end < 0:
        raise FeedError("the feed starts with an unterminated DOCTYPE declaration")
    return data[:pos] + data[end:]


def _doctype_end(data: bytes, pos: int) -> int:
    """Index just past the '>' closing a DOCTYPE, honouring quotes, comments and [...]; -1 if none."""
    depth = 0
    n = len(data)
    while pos < n:
        c = data[pos]
        if c in b"\"'":
            close = data.find(bytes([c]), pos + 1)
            if close < 0:
                return -1
            pos = close + 1
            continue
        if data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 4)
            if close < 0:
                return -1
            pos = close + 3
            continue
        if c == ord("["):
            depth += 1
        elif c == ord("]"):
            depth -= 1
        elif c == ord(">") and depth <= 0:
            return pos + 1
        pos += 1
    return -1


_ITEM_END = re.compile(rb"</(?:\w+:)?(item|entry)\s*>")
_ROOT_CLOSERS = {b"item": b"</channel></rss>", b"entry": b"</feed>"}


def _truncate_items(data: bytes, max_items: int) -> bytes:
    """Drop everything after the item we will keep last, so a feed of 100k tiny items costs
    what ``max_items`` items cost (feedparser would otherwise parse all of them)."""
    count = 0
    for match in _ITEM_END.finditer(data):
        count += 1
        if count > max_items * 2:
            closer = _ROOT_CLOSERS[match.group(1)]
            if data.lstrip().startswith(b"<?xml") and b"<rdf:RDF" in data[:4096]:
                closer = b"</rdf:RDF>"
            return data[:match.end()] + closer
    return data


# --- normalization ----------------------------------------------------------------------------

def _normalize(entry: dict, feed_url: str, fetched_at: datetime) -> NormalizedDocument | None:
    title = clean_text(entry.get("title") or "", MAX_TITLE_CHARS)
    text = clean_text(_best_content(entry))
    url = absolute_url(entry.get("link") or "", feed_url)
    if not (title or text or url):
        return None
    published, date_missing = _published(entry, fetched_at)
    return NormalizedDocument(
        external_id=external_id(entry.get("id") or "", title=title, url=url, text=text),
        url=url,
        title=title,
        text=text,
        author=clean_text(entry.get("author") or "", MAX_AUTHOR_CHARS),
        published_at=published.isoformat(),
        date_missing=date_missing,
        lang=clean_text(entry.get("language") or "", 16),
    )


def _best_content(entry: dict) -> str:
    contents = [c.get("value") or "" for c in entry.get("content") or []]
    longest = max(contents, key=len, default="")
    summary = entry.get("summary") or ""
    return longest if len(longest) >= len(summary) else summary


def _published(entry: dict, fetched_at: datetime) -> tuple[datetime, bool]:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed: time.struct_time | None = entry.get(key)
        if not parsed:
            continue
        try:
            when = datetime(*parsed[:5], min(parsed[5], 59), tzinfo=timezone.utc)
        except (TypeError, ValueError, OverflowError):
            continue
        if plausible(when, fetched_at):
            return when, False
    return fetched_at, True


KIND = SourceKind("rss", fetch=fetch_url, parse=parse_feed, parse_error=FeedError,
                  options_schema={**NO_OPTIONS_SCHEMA, "description": "an rss source takes no options"})
