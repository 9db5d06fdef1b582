"""The TGE date: find the few date-looking spans near launch words, and only then ask dateparser what they mean.

dateparser costs about a millisecond a call, so it never sees whole documents: a regex finds candidate spans
("2025-09-03", "Mar. 15", "November 9th", "3 March 2026", "tomorrow") and ISO dates are read directly.
Relative spans resolve against the item's publication date, never the clock.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

import dateparser

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
SPAN = re.compile(
    r"\b(?P<iso>(?:19|20)\d\d-[01]\d-[0-3]\d)\b"
    rf"|\b(?P<md>{_MONTH}\.?\s+{_DAY}(?![\d:])(?:,?\s+(?:19|20)\d\d)?)\b"
    rf"|\b(?P<dm>{_DAY}\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+(?:19|20)\d\d)?)\b"
    r"|\b(?P<rel>tomorrow)\b",
    re.IGNORECASE,
)
# A date counts as the TGE date only when a launch word comes shortly before it.
ANCHOR = re.compile(
    r"\b(?:list(?:s|ed|ing)?|trading|launch(?:es|ed|ing)?|tge|token generation event|public sale|token sale|ido|"
    r"debut\w*|go(?:es)? live|postponed|claims?|distribut\w*|airdrop\w*|releases?|hits?|available|opens?)\b",
    re.IGNORECASE,
)
ANCHOR_REACH = 80
BODY_REACH = 2500
# A month-day without a year more than this many days before publication is read as next year's.
PAST_TOLERANCE = 30


def tge_date(title: str, body: str, published: datetime | None) -> date | None:
    """The first date in the title, else the first date in the body that follows a launch word closely."""
    for found in SPAN.finditer(title):
        day = _resolve(found, published)
        if day:
            return day
    body = body[:BODY_REACH]
    for found in SPAN.finditer(body):
        if ANCHOR.search(body, max(0, found.start() - ANCHOR_REACH), found.start()):
            day = _resolve(found, published)
            if day:
                return day
    return None


def _resolve(found: re.Match, published: datetime | None) -> date | None:
    if found.group("iso"):
        try:
            return date.fromisoformat(found.group("iso"))
        except ValueError:
            return None
    base = (published or datetime(2000, 1, 1)).replace(tzinfo=None)
    if found.group("rel"):
        return _parse(found.group("rel").lower(), base.date()) if published else None
    span = found.group("md") or found.group("dm")
    parsed = _parse(span.lower().replace(".", ""), base.date())
    if parsed is None:
        return None
    if not re.search(r"(?:19|20)\d\d", span):
        if published is None:
            return None
        if (base.date() - parsed).days > PAST_TOLERANCE:
            try:
                parsed = parsed.replace(year=parsed.year + 1)
            except ValueError:
                return None
    return parsed


@lru_cache(maxsize=4096)
def _parse(span: str, base: date) -> date | None:
    settings = {"RELATIVE_BASE": datetime(base.year, base.month, base.day), "PREFER_DAY_OF_MONTH": "first",
                "REQUIRE_PARTS": ["day", "month"]}
    parsed = dateparser.parse(span, languages=["en"], settings=settings)
    return parsed.date() if parsed else None
