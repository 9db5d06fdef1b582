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
_NOISE_WORDS = re.compile(r"\b(token|tokens|coin|coins|protocol|network|networks|labs|foundation|finance|the|dao)\b")
_BRACKETS = re.compile(r"\([^)]*\)|\$\w+")


def normalize_project(project: str) -> str:
    """Casefolded name without punctuation, bracketed tickers, cashtags and generic words like "Protocol"."""
    text = unicodedata.normalize("NFKC", project).casefold()
    text = _NOISE_WORDS.sub(" ", re.sub(r"[^\w\s]", " ", _BRACKETS.sub(" ", text)))
    return " ".join(text.split())


def event_key(project: str, ticker: str | None) -> str:
    """``"Foo Protocol"``, ``"foo"`` and ``"FOO token ($FOO)"`` map to one key; the URL plays no part.

    The key is the normalized name: sources disagree on whether they state the ticker, so the ticker decides only
    when no name is left.
    """
    name = normalize_project(project or "") or (ticker or "").casefold().lstrip("$")
    return re.sub(r"\s+", "-", name)[:200] or "unnamed"


@dataclass(frozen=True)
class MentionFacts:
    source: str
    confidence: float
    kind: str
    tge_date: date | None
    seen_at: datetime
    chain: str | None = None
    venues: tuple[str, ...] = ()
    copy_group: int | None = None  # mentions of one syndicated story share it (``copies.group_copies``)


@dataclass(frozen=True)
class EventSummary:
    confidence: float
    status: str
    tge_date: date | None
    chain: str | None
    venues: tuple[str, ...]
    independent_sources: int = 0  # sources, counting those that only republished one story once


def independent_reports(mentions: Sequence[MentionFacts]) -> list[list[MentionFacts]]:
    """Mentions grouped into independent reports: one source's mentions are one report, and sources that carry
    copies of one story are joined into one (an outlet that syndicated a story is not a second witness)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    first_source: dict[int, str] = {}
    for m in mentions:
        root(m.source)
        if m.copy_group is None:
            continue
        other = first_source.setdefault(m.copy_group, m.source)
        a, b = root(other), root(m.source)
        if a != b:
            parent[b] = a
    reports: dict[str, list[MentionFacts]] = {}
    for m in mentions:
        reports.setdefault(root(m.source), []).append(m)
    return list(reports.values())


_PROGRESS = ("announced", "scheduled", "live")


def summarize_event(mentions: Sequence[MentionFacts]) -> EventSummary:
    """Noisy-OR over the best confidence of each independent report (``independent_reports``: copies of one story
    count once); the latest stated date wins.

    Status: a postponement holds until a later mention says the launch moved on; otherwise the most advanced status
    seen, so a late rewrite of the original announcement does not turn a live token back into "announced".
    """
    if not mentions:
        return EventSummary(0.0, "announced", None, None, ())
    reports = independent_reports(mentions)
    doubt = 1.0
    for report in reports:
        doubt *= 1.0 - min(max(max(m.confidence for m in report), 0.0), 1.0)
    ordered = sorted(mentions, key=lambda m: m.seen_at)
    dated = [m for m in ordered if m.tge_date]
    chains = [m.chain for m in ordered if m.chain]
    venues = tuple(dict.fromkeys(v for m in ordered for v in m.venues))
    return EventSummary(
        confidence=round(1.0 - doubt, 4),
        status=_status(ordered),
        tge_date=dated[-1].tge_date if dated else None,
        chain=chains[-1] if chains else None,
        venues=venues,
        independent_sources=len(reports),
    )


def _status(ordered: Sequence[MentionFacts]) -> str:
    statuses = [STATUS_OF_KIND.get(m.kind, "announced") for m in ordered]
    last_postponed = max((i for i, s in enumerate(statuses) if s == "postponed"), default=-1)
    after = statuses[last_postponed + 1:]
    if last_postponed >= 0 and not after:
        return "postponed"
    return max(after, key=_PROGRESS.index)
