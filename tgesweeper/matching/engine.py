"""The TGE matching engine: prefilter, noise rejection, launch shapes, extraction, confidence.

``judge`` reads at most the headline and the first few thousand characters of the body: launch announcements say
what they are up front, and a bound on the text read is a bound on the time spent per document.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tgesweeper.matching import extract, known_tokens, noise, score
from tgesweeper.matching.dates import tge_date
from tgesweeper.matching.prefilter import Prefilter
from tgesweeper.matching.shapes import found_shapes
from tgesweeper.matching.tweets import is_tweet, tweet_name
from tgesweeper.matching.types import Match, MatchInput, Verdict

TITLE_CHARS = 400
LEAD_CHARS = 3000
SHAPE_CHARS = 1500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class MatchConfig:
    """What the engine is told: its vocabulary and thresholds. No defaults here: they are the application's
    configuration (``tgesweeper.config``: the KEYWORD_* variables and the YAML's ``keyword_matching.patterns``)."""

    tge_keywords: tuple[str, ...]
    exclusions: tuple[str, ...]
    watchlist: tuple[str, ...]
    min_confidence: float
    context_window: int
    max_distance: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MatchConfig:
        """Build from the YAML's shape ``{min_confidence, context_window, max_distance, patterns: {...}}``
        (``Config.keyword_matching``, whose numbers the configuration has already checked)."""
        patterns = data.get("patterns") or {}
        if not isinstance(patterns, Mapping):
            raise ValueError("keyword_matching.patterns: expected a mapping")
        values: dict[str, Any] = {}
        for key in ("tge_keywords", "exclusions", "watchlist"):
            raw = patterns.get(key, data.get(key)) or ()
            if not isinstance(raw, (list, tuple)) or not all(isinstance(w, str) and w.strip() for w in raw):
                raise ValueError(f"keyword_matching.patterns.{key}: expected a list of non-empty strings")
            values[key] = tuple(w.strip() for w in raw)
        for key, kind in (("min_confidence", float), ("context_window", int), ("max_distance", int)):
            if key not in data:
                raise ValueError(f"keyword_matching.{key}: missing")
            values[key] = kind(data[key])
        return cls(**values)


class MatchEngine:
    def __init__(self, config: MatchConfig):
        self.config = config
        self._prefilter = Prefilter(config.tge_keywords)
        self._exclusions = re.compile("|".join(rf"\b{re.escape(e.lower())}" for e in config.exclusions)) if config.exclusions \
            else None
        self._watch = {w.casefold() for w in config.watchlist}
        self._extractor = extract.Extractor()

    def match(self, doc: MatchInput) -> Match | None:
        return self.judge(doc).match

    def judge(self, doc: MatchInput) -> Verdict:
        title = _clean(doc.title or "", TITLE_CHARS)
        lead = _clean(doc.text or "", LEAD_CHARS)
        low_title, low_lead = title.lower(), lead.lower()
        hits = self._prefilter.hits(f"{low_title}\n{low_lead}")
        if not hits:
            return Verdict(None, "no launch words", "prefilter")
        rejected = noise.first_hit(noise.REJECT, low_title) or noise.first_hit(noise.LEAD_REJECT, low_lead[:600])
        if rejected:
            return Verdict(None, f"{rejected[0]}: {rejected[1]!r}", "rejected")
        if self._exclusions:
            excluded = self._exclusions.search(low_title) or self._exclusions.search(low_lead[:600])
            if excluded:
                return Verdict(None, f"excluded term {excluded.group(0)!r}", "rejected")
        title_shapes = found_shapes(low_title)
        body_shapes = found_shapes(low_lead[:SHAPE_CHARS])
        if not title_shapes and not body_shapes:
            return Verdict(None, f"launch words {hits[:3]} but no launch shape", "no_shape")

        named = self._extractor.name(title, lead[:SHAPE_CHARS], doc.published_at)
        if not named.project and is_tweet(doc.source, doc.url):
            named = tweet_name(title)
        if not named.project:
            return Verdict(None, "launch shape but no project named", "rejected")
        known = known_tokens.lookup(named.project, named.ticker)
        if known_tokens.is_established(known, doc.published_at):
            return Verdict(None, f"established token {known.ticker} (trading since {known.first_trading:%Y-%m})", "rejected")

        penalties = noise.all_hits(noise.PENALTY, low_title)
        penalties.update(noise.all_hits(noise.LEAD_PENALTY, low_lead[:600]))
        when = tge_date(title, lead, doc.published_at)
        evidence = score.Evidence(
            title_shapes=title_shapes, body_shapes=body_shapes, penalties=penalties, has_ticker=bool(named.ticker),
            tge_date=when, name_in_title=named.from_title, near_project=self._near(named, title_shapes, body_shapes, lead),
            watched=bool(self._watch & {named.project.casefold(), (named.ticker or "").casefold()}),
        )
        confidence = score.confidence(evidence)
        full = f"{title}. {lead}"
        main = (title_shapes or body_shapes)[0]
        found = main.pattern.search(full.lower())
        start, end = (found.start(), found.end()) if found else (0, 0)
        window = self.config.context_window
        terms = tuple(dict.fromkeys(m.group(0) for s in (*title_shapes, *body_shapes)
                                    if (m := s.pattern.search(low_title) or s.pattern.search(low_lead[:SHAPE_CHARS]))))
        reason = f"{main.name} {terms[0]!r}" + (f"; minus {', '.join(penalties)}" if penalties else "")
        result = Match(
            project=named.project, ticker=named.ticker, tge_date=when, kind=score.kind(evidence, low_title),
            confidence=confidence, chain=extract.chain(f"{title} {lead[:SHAPE_CHARS]}"),
            venues=extract.venues(f"{title} {lead[:600]}"), matched_terms=terms,
            snippet=full[max(0, start - window):end + window].strip(), reason=reason,
        )
        return Verdict(result, reason, "matched" if confidence >= self.config.min_confidence else "candidate")

    def _near(self, named, title_shapes, body_shapes, lead: str) -> bool:
        """Body-only evidence must sit within ``max_distance`` characters of the project or ticker it is about."""
        if title_shapes:
            return True
        low = lead[:SHAPE_CHARS].lower()
        names = [n.lower() for n in (named.project, named.ticker) if n]
        for shape in body_shapes:
            for found in shape.pattern.finditer(low):
                lo, hi = max(0, found.start() - self.config.max_distance), found.end() + self.config.max_distance
                if any(n in low[lo:hi] for n in names):
                    return True
        return False


def _clean(text: str, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", text[: limit * 2]).split())[:limit]


@lru_cache(maxsize=8)
def get_engine(config: MatchConfig) -> MatchEngine:
    """One engine per configuration per process: building one costs the spaCy pipeline and the automaton."""
    return MatchEngine(config)
