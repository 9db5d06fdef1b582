"""Corroboration: which mentions are the same launch, and what the event says when they are combined."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

STATUS_OF_KIND = {
    "announce": "announced",
    "scheduled": "scheduled",
    "live": "live",
    "listing_at_launch": "live",
    "airdrop_claim": "live",
    "postponed": "postponed",
}
_NOISE_WORDS = re.compile(r"\b(token|tokens|coin|protocol|network|labs|foundation|finance|the)\b")


def normalize_project(project: str) -> str:
    text = unicodedata.normalize("NFKC", project).casefold()
    text = _NOISE_WORDS.sub(" ", re.sub(r"[^\w\s]", " ", text))
    return " ".join(text.split())


def event_key(project: str, ticker: str | None) -> str:
    """``"Foo Protocol"``, ``"foo"`` and ``"FOO token ($FOO)"`` map to one key; the URL plays no part."""
    name = normalize_project(project) or (ticker or "").casefold()
    return f"{name}|{(ticker or '').upper().lstrip('$')}"[:200]


@dataclass(frozen=True)
class MentionFacts:
    source: str
    confidence: float
    kind: str
    tge_date: date | None
    seen_at: datetime
    chain: str | None = None
    venues: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSummary:
    confidence: float
    status: str
    tge_date: date | None
    chain: str | None
    venues: tuple[str, ...]


def summarize_event(mentions: Sequence[MentionFacts]) -> EventSummary:
    """Noisy-OR over the best confidence of each independent source; the latest stated status and date win."""
    if not mentions:
        return EventSummary(0.0, "announced", None, None, ())
    best: dict[str, float] = {}
    for m in mentions:
        best[m.source] = max(best.get(m.source, 0.0), m.confidence)
    doubt = 1.0
    for confidence in best.values():
        doubt *= 1.0 - min(max(confidence, 0.0), 1.0)
    ordered = sorted(mentions, key=lambda m: m.seen_at)
    latest = ordered[-1]
    dated = [m for m in ordered if m.tge_date]
    chains = [m.chain for m in ordered if m.chain]
    venues = tuple(dict.fromkeys(v for m in ordered for v in m.venues))
    return EventSummary(
        confidence=round(1.0 - doubt, 4),
        status=STATUS_OF_KIND.get(latest.kind, "announced"),
        tge_date=dated[-1].tge_date if dated else None,
        chain=chains[-1] if chains else None,
        venues=venues,
    )
