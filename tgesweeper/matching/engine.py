"""A first TGE matching engine: the seed's keyword rule plus launch phrasing, with project/ticker/date extraction.

One compiled regex on lowercased text is the prefilter, so ordinary news costs a single scan.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from tgesweeper.matching.config import MatchConfig
from tgesweeper.matching.types import Match, MatchInput, Verdict

LAUNCH_PHRASES = (
    r"token generation event", r"\btge\b", r"token launch", r"launch(?:es|ing)? (?:its |the |a )?(?:native )?\w* ?token",
    r"token (?:goes|went|is) live", r"begins? trading", r"debuts?", r"airdrop claims?", r"claims? (?:is |are )?open",
    r"first platform to feature", r"will be available on binance alpha", r"postpone", r"initial token offering",
)
SPECULATION = (
    r"\bmay (?:launch|airdrop)", r"\bcould (?:launch|airdrop)", r"\bhints? at\b", r"\brumou?r", r"\bspeculat",
    r"\ballegedly\b", r"\bhow to\b", r"\bwhat is\b", r"\bexplained\b", r"\bguide\b", r"\bprice prediction\b",
)
_TICKER = re.compile(r"\$([A-Z][A-Z0-9]{1,9})\b|\(([A-Z][A-Z0-9]{1,9})\)|\b([A-Z][A-Z0-9]{1,9}) tokens?\b")
_PROJECT = re.compile(r"^((?:[A-Z0-9][\w.&'-]*)(?: (?:[A-Z0-9][\w.&'-]*))*)")
_STOP_WORDS = {"To", "Will", "Sets", "Set", "Token", "Opens", "Launches", "Launch", "Goes", "TGE", "Is", "Plans"}
_MONTHS = ("january february march april may june july august september october november december").split()
_DATE = re.compile(r"\b(" + "|".join(m.capitalize() for m in _MONTHS) + r")\s+(\d{1,2})(?!\d)(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?"
                   r"|\b(\d{4})-(\d{2})-(\d{2})\b")


class MatchEngine:
    def __init__(self, config: MatchConfig = MatchConfig()):
        self.config = config
        keywords = [re.escape(k.lower()) for k in config.tge_keywords] + list(LAUNCH_PHRASES)
        self._prefilter = re.compile("|".join(f"(?:{k})" for k in keywords))
        exclusions = [re.escape(e.lower()) for e in config.exclusions] + list(SPECULATION)
        self._exclusions = re.compile("|".join(f"(?:{e})" for e in exclusions))

    def match(self, doc: MatchInput) -> Match | None:
        return self.judge(doc).match

    def judge(self, doc: MatchInput) -> Verdict:
        text = f"{doc.title}. {doc.text}".replace("\x00", " ")[:20_000]
        lowered = text.lower()
        hits = list(self._prefilter.finditer(lowered))
        if not hits:
            return Verdict(None, "no launch phrase", "prefilter")
        excluded = self._exclusions.search(lowered)
        if excluded:
            return Verdict(None, f"speculation or explainer: {excluded.group(0)!r}", "rejected")
        ticker = _ticker(text)
        project = _project(doc.title, ticker)
        if not project:
            return Verdict(None, "no project named", "rejected")
        terms = tuple(dict.fromkeys(h.group(0) for h in hits))
        tge_date = _date(text, doc.published_at)
        kind = _kind(lowered, tge_date)
        strong = any(t in ("token generation event", "tge", "first platform to feature") or "live" in t
                     or "trading" in t or "launch" in t for t in terms)
        confidence = 0.55 + (0.2 if strong else 0.0) + (0.1 if ticker else 0.0) + (0.05 if tge_date else 0.0)
        if any(project.lower() == w.lower() for w in self.config.watchlist):
            confidence += 0.05
        first = hits[0]
        window = self.config.context_window
        snippet = text[max(0, first.start() - window):first.end() + window].strip()
        found = Match(project=project, ticker=ticker, tge_date=tge_date, kind=kind, confidence=round(min(confidence, 0.99), 3),
                      matched_terms=terms, snippet=snippet, reason=f"launch phrase {terms[0]!r}")
        return Verdict(found, found.reason, "matched")


def _ticker(text: str) -> str | None:
    for found in _TICKER.finditer(text):
        symbol = next(g for g in found.groups() if g)
        if symbol not in {"TGE", "IDO", "ICO", "UTC", "NFT", "DEX", "CEX", "USD", "USDT"}:
            return symbol
    return None


def _project(title: str, ticker: str | None) -> str | None:
    found = _PROJECT.match(title.strip())
    if not found:
        return ticker
    words = []
    for word in found.group(1).split():
        if word in _STOP_WORDS or word.rstrip("'s") == ticker:
            break
        words.append(word.removesuffix("'s"))
    return " ".join(words[:5]) or ticker


def _date(text: str, published: datetime | None) -> date | None:
    lowered = text.lower()
    if published and "tomorrow" in lowered:
        return (published + timedelta(days=1)).date()
    found = _DATE.search(text)
    if not found:
        return None
    try:
        if found.group(4):
            return date(int(found.group(4)), int(found.group(5)), int(found.group(6)))
        year = int(found.group(3)) if found.group(3) else (published.year if published else None)
        if year is None:
            return None
        return date(year, _MONTHS.index(found.group(1).lower()) + 1, int(found.group(2)))
    except ValueError:
        return None


def _kind(lowered: str, tge_date: date | None) -> str:
    if "postpone" in lowered or "delayed" in lowered:
        return "postponed"
    if "first platform to feature" in lowered or "at launch" in lowered:
        return "listing_at_launch"
    if "airdrop claim" in lowered or "claims open" in lowered or "claim the airdrop" in lowered:
        return "airdrop_claim"
    if any(p in lowered for p in ("goes live", "went live", "began trading", "begins trading", "debut")):
        return "live"
    return "scheduled" if tge_date else "announce"
