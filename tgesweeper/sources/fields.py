"""Helpers every source kind shares: size limits, visible text of markup, absolute links, dates, stable ids.

The rules are the same for every kind: absolute http(s) links only, bounded text, a stable external id, and a
publication date that falls back to the fetch time (flagged) when missing or absurd. ``document`` applies them all
for the kinds that map arbitrary pages or JSON to documents (html, json).
"""
from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import dateparser
from dateutil import parser as dateutil_parser
from lxml import etree

from tgesweeper.sources.documents import NormalizedDocument

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 1_000
MAX_AUTHOR_CHARS = 200
MAX_URL_CHARS = 2_048
MAX_EXTERNAL_ID_CHARS = 512
MAX_DATE_CHARS = 100
OLDEST_DATE = datetime(1995, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=2)
DATE_FORMATS = ("auto", "iso", "epoch_s", "epoch_ms")

# What JSON's "\ud800" escape yields: a str that is not text (UTF-8 cannot encode it; the database refuses it).
LONE_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_URLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE = re.compile(r"\s+")
_HTML_PARSER = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, recover=True)
_BLOCKS = ("p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5",
           "h6", "blockquote", "pre", "section", "article", "header", "footer", "hr", "dd", "dt")


def clean_text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Visible text of an HTML fragment: no tags, scripts or styles, entities decoded, whitespace collapsed."""
    if not value:
        return ""
    value = _UNSAFE_CHARS.sub("", value)
    if "<" in value:
        value = _html_text(value)
    elif "&" in value:
        value = html.unescape(value)
    return _WHITESPACE.sub(" ", _UNSAFE_CHARS.sub("", value)).strip()[:limit]


def _html_text(fragment: str) -> str:
    try:
        root = etree.fromstring(f"<div>{fragment}</div>", _HTML_PARSER)
    except (etree.ParserError, ValueError):
        return html.unescape(re.sub(r"<[^>]*>", " ", fragment))
    if root is None:
        return ""
    etree.strip_elements(root, "script", "style", "noscript", "template", "iframe", "object", with_tail=False)
    for element in root.iter(*_BLOCKS):
        element.tail = " " + (element.tail or "")
    return " ".join(root.itertext())


def absolute_url(link: object, base: str) -> str:
    """An absolute http(s) URL resolved against ``base``, or '' (javascript:, data:, mailto: are dropped).

    Control characters go wherever they are (as a browser drops tabs and newlines in a link) and surrounding
    whitespace is trimmed."""
    link = _NOT_IN_URLS.sub("", str(link or "")).strip()
    if not link:
        return ""
    try:
        url = urljoin(base, link)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    if scheme not in ("http", "https") or len(url) > MAX_URL_CHARS:
        return ""
    return url


def plausible(when: datetime, fetched_at: datetime) -> bool:
    """A publication date worth believing: not before the web had news feeds, not days after the fetch."""
    return OLDEST_DATE <= when <= fetched_at + FUTURE_SLACK


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def parse_date(value: object, fetched_at: datetime, date_format: str = "auto") -> tuple[datetime, bool]:
    """(when, date_missing): the value read with ``date_format``, else ``fetched_at`` and True.

    ``date_format`` is ``auto`` (epoch numbers, ISO or free text), ``iso``, ``epoch_s``, ``epoch_ms``
    or a strptime pattern such as ``%d/%m/%Y %H:%M``. Naive times are taken as UTC.
    """
    when = _read_date(value, fetched_at, date_format or "auto")
    if when is not None and plausible(when, fetched_at):
        return when.replace(microsecond=0), False
    return fetched_at, True


def _read_date(value: object, fetched_at: datetime, date_format: str) -> datetime | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()[:MAX_DATE_CHARS]
    if not text:
        return None
    try:
        if date_format in ("epoch_s", "epoch_ms") or (date_format == "auto" and _NUMBER.match(text)):
            if not _NUMBER.match(text):
                return None
            seconds = float(text)
            if date_format == "epoch_ms" or (date_format == "auto" and abs(seconds) > 1e11):
                seconds /= 1000
            return datetime.fromtimestamp(seconds, timezone.utc)
        if date_format == "iso":
            return utc(dateutil_parser.isoparse(text))
        if "%" in date_format:
            return utc(datetime.strptime(text, date_format))
        try:
            midnight = fetched_at.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
            return utc(dateutil_parser.parse(text, default=midnight))  # "Nov 20" is read in the fetch's year
        except (ValueError, OverflowError):
            found = dateparser.parse(text, settings={"RELATIVE_BASE": fetched_at.replace(tzinfo=None),
                                                     "RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": "UTC"})
            return utc(found) if found else None
    except (ValueError, OverflowError, OSError, TypeError):
        return None


def external_id(candidate: str, *, title: str, url: str, text: str) -> str:
    """The item's own id, else its link, else a hash of what it says; hashed when too long for the column."""
    value = clean_text(candidate or "", MAX_URL_CHARS) or url
    if not value:
        value = "sha256:" + hashlib.sha256((f"{title}\n{url}" if title else text).encode("utf-8")).hexdigest()
    elif len(value) > MAX_EXTERNAL_ID_CHARS:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
    return value


def document(*, item_id: str, url: str, title: str, text: str, date: object, fetched_at: datetime,
             date_format: str = "auto", author: str = "") -> NormalizedDocument | None:
    """A bounded, cleaned NormalizedDocument, or None when the item carries nothing at all."""
    title = clean_text(title, MAX_TITLE_CHARS)
    text = clean_text(text, MAX_TEXT_CHARS)
    if not (title or text or url):
        return None
    published, missing = parse_date(date, fetched_at, date_format)
    return NormalizedDocument(
        external_id=external_id(item_id, title=title, url=url, text=text),
        url=url, title=title, text=text, author=clean_text(author, MAX_AUTHOR_CHARS),
        published_at=published.isoformat(), date_missing=missing)


# --- option checks shared by the kinds configured with field selectors (html, json) --------------------------

def string_option_problems(kind: str, options: dict, names: Iterable[str], *, expected: str,
                           check: Callable[[str], str | None]) -> list[str]:
    """Each option of ``names`` that is set must be a string (``expected`` names what it holds) that ``check``
    accepts; ``check`` returns what is wrong with it, worded to follow the option's name, or None."""
    problems = []
    for name in names:
        value = options.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"the {kind} option {name!r} must be a {expected}")
        elif wrong := check(value):
            problems.append(f"the {kind} option {name!r}{wrong}")
    return problems


# An optional ``:port`` of a URL in a JSON schema pattern: 0 to 65535, as a URL parser takes it.
URL_PORT = "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"

DATE_FORMAT_SCHEMA = {"anyOf": [{"type": "string", "enum": list(DATE_FORMATS)},
                               {"type": "string", "pattern": "^[^\\x00]*%[^\\x00]*$"}],
                      "description": "a named format or a strptime pattern"}


def string_options_schema(names: Iterable[str], fmt: str, *, required: Iterable[str] = (),
                          max_length: int | None = None) -> dict[str, dict]:
    """The JSON schema of string options ``names`` (``fmt`` names what they hold): one property each."""
    required = set(required)
    return {name: {"type": "string", "format": fmt, **({"minLength": 1} if name in required else {}),
                   **({"maxLength": max_length} if max_length is not None else {})} for name in names}


def date_format_problems(kind: str, options: dict) -> list[str]:
    date_format = options.get("date_format")
    if date_format is None or (isinstance(date_format, str) and (date_format in DATE_FORMATS or "%" in date_format)):
        return []
    return [f"the {kind} option 'date_format' must be one of {', '.join(DATE_FORMATS)} or a strptime pattern"]


def usable_options(options: dict | None, validate: Callable[[dict], list[str]], error: type[Exception]) -> dict:
    """The options a parse runs with, or ``error`` naming every problem (a Source saved before a check was added)."""
    options = options or {}
    problems = validate(options)
    if problems:
        raise error("; ".join(problems))
    return options

