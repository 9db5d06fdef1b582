"""JSON endpoints (exchange announcement APIs and the like) -> NormalizedDocument list, by a field mapping.

Options (``Source.options``)::

    {"items": "data.catalogs.*.articles",   # required: path to the list of items ("" = the top level)
     "title": "title",                      # required: path inside an item
     "id": "id",
     "url": "https://www.example.com/a/{code}",   # a path, or a template whose {path}s are filled from the item
     "date": "releaseDate", "date_format": "epoch_ms",   # auto | iso | epoch_s | epoch_ms | a strptime pattern
     "body": "summary", "author": "author.name", "max_items": 100}

A path is dotted keys with list indexes (``data.list.0.title`` or ``data.list[0].title``); ``*`` walks every
element of a list and, in ``items``, concatenates the lists it reaches. Hostile bodies (not JSON, absurd
nesting, wrong shapes) raise JSONSourceError; an item without a title, link or body is skipped.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tgesweeper.sources import SourceKind, fetch_url, fields
from tgesweeper.sources.documents import NormalizedDocument
from tgesweeper.sources.fields import (
    LONE_SURROGATES,
    MAX_BODY_BYTES,
    absolute_url,
    document,
    utc,
)

MAX_PATH_PARTS = 32
_PATH_OPTIONS = ("items", "title", "id", "date", "body", "author")
_INDEX = re.compile(r"\[(\d+|\*)\]")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KEY_CHARS = re.compile(r"^[^\s\[\]{}]+$")


class JSONSourceError(Exception):
    """The body is not JSON, or its shape does not fit the source's mapping."""


# --- paths -------------------------------------------------------------------------------------

def parse_path(path: str) -> list[str | int]:
    """``"data.list[0].title"`` -> ``["data", "list", 0, "title"]``; ``"*"`` stays a wildcard. Raises ValueError."""
    path = path.strip()
    if path in ("", ".", "$"):
        return []
    parts: list[str | int] = []
    for segment in _INDEX.sub(r".\1", path.removeprefix("$.")).split("."):
        if not segment or not _KEY_CHARS.match(segment):
            raise ValueError(f"{path!r} is not a dotted path such as data.items.0.title")
        parts.append(int(segment) if segment.isdigit() else segment)
    if len(parts) > MAX_PATH_PARTS:
        raise ValueError(f"{path!r} has more than {MAX_PATH_PARTS} parts")
    return parts


def resolve(node: object, parts: list[str | int]) -> list[object]:
    """Every value ``parts`` reaches from ``node`` (more than one only through ``*``)."""
    current = [node]
    for part in parts:
        following: list[object] = []
        for value in current:
            if part == "*":
                if isinstance(value, list):
                    following.extend(value)
                elif isinstance(value, dict):
                    following.extend(value.values())
            elif isinstance(value, dict):
                key = str(part)
                if key in value:
                    following.append(value[key])
            elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                following.append(value[part])
        current = following
    return current


def _first(item: object, path: str | None) -> object:
    if not path:
        return None
    try:
        found = resolve(item, parse_path(path))
    except ValueError:
        return None
    return found[0] if found else None


# --- options ---------------------------------------------------------------------------------------

def validate_options(options: object) -> list[str]:
    """Problems with a json source's options, each naming the option; empty when they are usable."""
    if not isinstance(options, dict):
        return ['options must be an object of json options such as {"items": "data.list", "title": "title"}']
    problems = []
    if "items" not in options:
        problems.append("the json option 'items' is required (the path to the list of items; \"\" for the top level)")
    if not options.get("title"):
        problems.append("the json option 'title' is required")
    problems += [f"unknown json option {name!r}" for name in sorted(set(options) - set(OPTIONS_SCHEMA["properties"]))]
    problems += fields.string_option_problems("json", options, _PATH_OPTIONS, expected="path string", check=_path_problem)
    problems += [f"the json option {name!r} must not be blank (leave it out for its default)"
                 for name in (*_PATH_OPTIONS, "url") if name != "items"
                 and isinstance(options.get(name), str) and not options[name].strip()]  # only "" means the top level
    url = options.get("url")
    if url is not None:
        if not isinstance(url, str):
            problems.append("the json option 'url' must be a path or a URL template string")
        else:
            for placeholder in _PLACEHOLDER.findall(url) if "{" in url else [url]:
                try:
                    parse_path(placeholder)
                except ValueError as exc:
                    problems.append(f"the json option 'url': {exc}")
    problems += fields.date_format_problems("json", options)
    max_items = options.get("max_items")
    if max_items is not None and (isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1):
        problems.append("the json option 'max_items' must be a whole number of at least 1")
    return problems


def _path_problem(value: str) -> str | None:
    try:
        parse_path(value)
    except ValueError as exc:
        return f": {exc}"
    return None


# --- parse -------------------------------------------------------------------------------------------

def parse_json(body: bytes, *, feed_url: str, fetched_at: datetime, max_items: int = 500,
               options: dict | None = None) -> list[NormalizedDocument]:
    """Map the items of one JSON response to at most ``max_items`` documents, deduplicated by external_id."""
    options = fields.usable_options(options, validate_options, JSONSourceError)
    if not body or not body.strip():
        raise JSONSourceError("the response is empty")
    if len(body) > MAX_BODY_BYTES:
        raise JSONSourceError(f"the response is {len(body):,} bytes, over the {MAX_BODY_BYTES:,}-byte limit")
    try:
        data = json.loads(body)
    except RecursionError:
        raise JSONSourceError("the JSON is nested too deeply") from None
    except ValueError as exc:
        raise JSONSourceError(f"the response is not JSON: {str(exc)[:200]}") from None
    return item_documents(_items(data, options["items"]), options, feed_url=feed_url, fetched_at=fetched_at,
                          max_items=max_items)


def item_documents(items: list[object], options: dict, *, feed_url: str, fetched_at: datetime,
                   max_items: int) -> list[NormalizedDocument]:
    """Items (dicts; anything else is skipped) mapped by ``options`` to at most ``max_items`` documents, deduplicated by
    external_id. ``options`` are checked already."""
    fetched_at = utc(fetched_at).replace(microsecond=0)
    max_items = min(max_items, options.get("max_items") or max_items)
    documents: dict[str, NormalizedDocument] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        doc = _item_document(item, options, feed_url, fetched_at)
        if doc is not None and doc.external_id not in documents:
            documents[doc.external_id] = doc
            if len(documents) >= max_items:
                break
    return list(documents.values())


def _items(data: object, path: str) -> list[object]:
    found = resolve(data, parse_path(path))
    if not found:
        keys = ", ".join(list(data)[:10])[:200] if isinstance(data, dict) else type(data).__name__
        raise JSONSourceError(f"the items path {path!r} is not in the response (top level: {keys})")
    if "*" not in path and len(found) == 1 and not isinstance(found[0], list):
        raise JSONSourceError(f"the items path {path!r} leads to {type(found[0]).__name__}, not a list")
    items: list[object] = []
    for value in found:
        if isinstance(value, list):
            items.extend(value)
        elif isinstance(value, dict):
            items.append(value)
    return items


def _text(value: object) -> str:
    """Strings and numbers as text, lists of them joined; objects and null read as ''. No lone surrogates."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str):
        return LONE_SURROGATES.sub("", value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return " ".join(_text(v) for v in value[:100] if not isinstance(v, list | dict))
    return ""


def _url(item: dict, mapping: str | None, base: str) -> str:
    if not mapping:
        return ""
    if "{" not in mapping:
        return absolute_url(_text(_first(item, mapping)), base)
    missing = False

    def fill(match: re.Match) -> str:
        nonlocal missing
        value = _text(_first(item, match.group(1)))
        missing = missing or not value
        return quote(value, safe="/-_.~")

    filled = _PLACEHOLDER.sub(fill, mapping)
    return "" if missing else absolute_url(filled, base)


def _item_document(item: dict, options: dict, feed_url: str, fetched_at: datetime) -> NormalizedDocument | None:
    url = _url(item, options.get("url"), feed_url)
    return document(item_id=_text(_first(item, options.get("id"))), url=url,
                    title=_text(_first(item, options["title"])), text=_text(_first(item, options.get("body"))),
                    date=_first(item, options.get("date")), date_format=options.get("date_format") or "auto",
                    author=_text(_first(item, options.get("author"))), fetched_at=fetched_at)


OPTIONS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "required": ["items", "title"], "properties": {
    **fields.string_options_schema(_PATH_OPTIONS, "json-path", required=("title",)),
    "url": {"type": "string", "format": "json-url-template"},
    "date_format": fields.DATE_FORMAT_SCHEMA, "max_items": {"type": "integer", "minimum": 1}}}

KIND = SourceKind("json", fetch=fetch_url, parse=parse_json, parse_error=JSONSourceError,
                  option_problems=lambda options, query: {"options": validate_options(options)},
                  options_schema=OPTIONS_SCHEMA)
