"""The TGE matching engine: prefilter, noise rejection, launch shapes, extraction, confidence.

``judge`` reads at most the headline and the first few thousand characters of the body: launch announcements say
what they are up front, and a bound on the text read is a bound on the time spent per document.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any

from tgesweeper.matching import extract, known_tokens, noise, score
from tgesweeper.matching.dates import tge_date
from tgesweeper.matching.detector import Detector, detector_signals, detector_text
from tgesweeper.matching.events import event_key
from tgesweeper.matching.prefilter import Prefilter
from tgesweeper.matching.shapes import NEW_TOKEN_WORDING, Shape, found_shapes
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


@dataclass
class Assessment:
    """What the rules found in one document (see ``MatchEngine.assess``)."""

    title: str
    lead: str
    hits: list[str]
    rejected: tuple[str, str] | None = None
    reject_families: set[str] = field(default_factory=set)
    excluded: str | None = None
    title_shapes: list[Shape] = field(default_factory=list)
    body_shapes: list[Shape] = field(default_factory=list)
    named: extract.Named = extract.Named(None, None, False)
    known: known_tokens.KnownToken | None = None
    established: bool = False
    penalties: dict[str, str] = field(default_factory=dict)
    softened: dict[str, str] = field(default_factory=dict)  # soft rejections outweighed by a headline launch shape
    relaunch: bool = False  # an established name or ticker, but the headline speaks of a new token
    tge_date: date | None = None
    evidence: score.Evidence | None = None


class MatchEngine:
    """The rules alone, or, given a ``detector``, the rules with a learned model that may promote what they do not
    publish and veto what they match (``_combine``)."""

    def __init__(self, config: MatchConfig, detector: Detector | None = None):
        self.config = config
        self.detector = detector
        self._prefilter = Prefilter(config.tge_keywords)
        self._exclusions = re.compile("|".join(rf"\b{re.escape(e.lower())}" for e in config.exclusions)) if config.exclusions \
            else None
        self._watch = {w.casefold() for w in config.watchlist}
        self._extractor = extract.Extractor()

    def match(self, doc: MatchInput) -> Match | None:
        return self.judge(doc).match

    def find(self, doc: MatchInput) -> list[Match]:
        """Every launch the item reports (``Verdict.matches``): usually none or one."""
        return self.judge(doc).matches

    def assess(self, doc: MatchInput, *, complete: bool = True) -> Assessment:
        """Everything the rules see in a document, before any verdict: what ``judge`` decides from and what the
        detector reads as features (one function for both, so training and the match stage see the same).

        ``complete=False`` stops where the rules alone have decided (rejected, excluded, no launch shape, no project,
        an established token): the match stage's path when no model can change the verdict, and most documents stop
        there before the costly steps (naming, dates)."""
        title = _clean(doc.title or "", TITLE_CHARS)
        lead = _clean(doc.text or "", LEAD_CHARS)
        low_title, low_lead = title.lower(), lead.lower()
        a = Assessment(title=title, lead=lead, hits=self._prefilter.hits(f"{low_title}\n{low_lead}"))
        if not a.hits:
            return a
        if complete:  # every family, as features; the first one found is the rules' reason
            title_rejects = noise.all_hits(noise.REJECT, low_title)
            lead_rejects = noise.all_hits(noise.LEAD_REJECT, low_lead[:600])
            a.reject_families = {*title_rejects, *(f"lead_{name}" for name in lead_rejects)}
            found = [*title_rejects.items(), *lead_rejects.items()]
        else:
            first = noise.first_hit(noise.REJECT, low_title) or noise.first_hit(noise.LEAD_REJECT, low_lead[:600])
            found = [first] if first else []
            if first and first[0] in noise.SOFT_REJECT:
                found = [*noise.all_hits(noise.REJECT, low_title).items(),
                         *noise.all_hits(noise.LEAD_REJECT, low_lead[:600]).items()]
        a.rejected = self._rejection(a, found, low_title)
        if self._exclusions:
            excluded = self._exclusions.search(low_title) or self._exclusions.search(low_lead[:600])
            a.excluded = excluded.group(0) if excluded else None
        if not complete and (a.rejected or a.excluded):
            return a
        if not a.title_shapes:
            a.title_shapes = found_shapes(low_title)
        a.body_shapes = found_shapes(low_lead[:SHAPE_CHARS])
        if not complete and not (a.title_shapes or a.body_shapes):
            return a
        named = self._extractor.name(title, lead[:SHAPE_CHARS], doc.published_at)
        if not named.project and is_tweet(doc.source, doc.url):
            named = tweet_name(title)
        a.named = named
        if named.project:
            a.known = known_tokens.lookup(named.project, named.ticker)
            a.established = known_tokens.is_established(a.known, doc.published_at)
            if a.established and (NEW_TOKEN_WORDING.search(low_title) or self._other_ticker(named, a.known, doc)):
                a.established, a.relaunch = False, True  # a new token under an old name or ticker, or beside it
        if not complete and (not named.project or a.established):
            return a
        a.penalties = noise.all_hits(noise.PENALTY, _without(low_title, named.ticker))
        a.penalties.update(noise.all_hits(noise.LEAD_PENALTY, low_lead[:600]))
        a.penalties.update(a.softened)
        if a.title_shapes or a.body_shapes:
            a.tge_date = tge_date(title, lead, doc.published_at)
            a.evidence = score.Evidence(
                title_shapes=a.title_shapes, body_shapes=a.body_shapes, penalties=a.penalties,
                has_ticker=bool(named.ticker), tge_date=a.tge_date, name_in_title=named.from_title,
                near_project=bool(named.project) and self._near(named, a.title_shapes, a.body_shapes, lead),
                watched=bool(named.project and self._watch & {named.project.casefold(), (named.ticker or "").casefold()}),
            )
        return a

    @staticmethod
    def _other_ticker(named: extract.Named, known: known_tokens.KnownToken | None, doc: MatchInput) -> bool:
        """The item names a ticker that is neither the established project's nor another established token's: an
        established project launching a second token ("Yearnish launches WOOF coin")."""
        ticker = (named.ticker or "").upper()
        if known is None or not ticker or ticker == known.ticker:
            return False
        return not known_tokens.is_established(known_tokens.lookup(None, ticker), doc.published_at)

    @staticmethod
    def _rejection(a: Assessment, found: list[tuple[str, str]], low_title: str) -> tuple[str, str] | None:
        """The reason the rules reject a document, if any. A soft family (``noise.SOFT_REJECT``) alone rejects
        only when the headline has no launch shape; with one it is kept as a penalty (``Assessment.softened``)."""
        hard = [hit for hit in found if hit[0] not in noise.SOFT_REJECT]
        soft = [hit for hit in found if hit[0] in noise.SOFT_REJECT]
        if hard or not soft:
            return hard[0] if hard else None
        a.title_shapes = found_shapes(low_title)
        if any(shape.name != "listing" for shape in a.title_shapes):
            a.softened = {name: words for name, words in soft
                          if not (name == "fundraise" and noise.RAISE_AHEAD.search(low_title))}
            return None
        return soft[0]

    def judge(self, doc: MatchInput) -> Verdict:
        return self.decide(doc, self.assess(doc, complete=self.detector is not None and self.detector.can_act))

    def decide(self, doc: MatchInput, a: Assessment) -> Verdict:
        """The verdict on an assessed document (split from ``judge`` so training assesses each item once), with the
        further launches it reports (``Verdict.also``)."""
        verdict = self._decide_by_rules(a)
        if self.detector is not None and a.hits and not a.excluded:
            verdict = self._combine(a, verdict)
        if verdict.match is not None:
            also = self._listed(a, verdict.match, doc)
            return replace(verdict, also=also) if also else verdict
        if a.rejected and a.rejected[0] in ROUNDUP_FAMILIES and not a.excluded:
            return self._roundup(doc, a) or verdict
        return verdict

    def shadow_score(self, doc: MatchInput, a: Assessment) -> dict | None:
        """This engine's word on an item another engine assessed completely (``assess``), as the shadow model's
        record: the model's probability and the verdict's confidence and project; None before the prefilter."""
        if not a.hits or self.detector is None:
            return None
        verdict = self.decide(doc, a)
        probability = self.detector.probability(detector_text(a), detector_signals(a))
        return {"model_version": self.detector.version, "probability": round(probability, 4),
                "confidence": verdict.match.confidence if verdict.match else None,
                "project": verdict.match.project if verdict.match else (a.named.project or "")}

    def _listed(self, a: Assessment, first: Match, doc: MatchInput) -> tuple[Match, ...]:
        """The headline's other ``Name (TICKER)`` pairs of new tokens (an exchange listing several at launch): each
        a launch on the same evidence as the first."""
        listed = extract.pairs(a.title)[:MAX_PARTS]
        if len(listed) < 2:
            return ()
        seen = {event_key(first.project, first.ticker), event_key("", first.ticker)}
        found = []
        for name, ticker in listed:
            keys = {event_key(name, ticker), event_key("", ticker)}
            if seen & keys:
                continue
            seen |= keys
            if known_tokens.is_established(known_tokens.lookup(name, ticker), doc.published_at) and not a.relaunch:
                continue
            found.append(replace(first, project=name, ticker=ticker, reason=f"{first.reason}; listed beside "
                                                                            f"{first.project}"))
        return tuple(found)

    def _roundup(self, doc: MatchInput, a: Assessment) -> Verdict | None:
        """A roundup ("this week in ...", "upcoming token launches: ...") is rejected as a whole, but each of its
        parts that reads as a launch on its own — a headline clause, a sentence or bullet of the lead — is one.
        Parts from the lead count as body evidence (``score.BODY_ONLY`` less)."""
        found: list[Match] = []
        seen: set[str] = set()
        for part, in_title in _parts(a.title, a.lead):
            verdict = self._decide_by_rules(self.assess(replace(doc, title=part, text=""), complete=False))
            match = verdict.match
            if match is None or (key := event_key(match.project, match.ticker)) in seen:
                continue
            seen.add(key)
            confidence = match.confidence if in_title else round(max(match.confidence - score.BODY_ONLY, 0.01), 3)
            found.append(replace(match, confidence=confidence,
                                 reason=f"{a.rejected[1] if a.rejected else 'roundup'!r} part: {match.reason}"))
        if not found:
            return None
        first = found[0]
        stage = "matched" if first.confidence >= self.config.min_confidence else "candidate"
        return Verdict(first, f"roundup of {len(found)} launch(es); {first.reason}", stage, also=tuple(found[1:]))

    def _decide_by_rules(self, a: Assessment) -> Verdict:
        if not a.hits:
            return Verdict(None, "no launch words", "prefilter")
        if a.rejected:
            return Verdict(None, f"{a.rejected[0]}: {a.rejected[1]!r}", "rejected")
        if a.excluded:
            return Verdict(None, f"excluded term {a.excluded!r}", "rejected")
        if not (a.title_shapes or a.body_shapes):
            return Verdict(None, f"launch words {a.hits[:3]} but no launch shape", "no_shape")
        if not a.named.project:
            return Verdict(None, "launch shape but no project named", "rejected")
        if a.established and a.known is not None:  # established is only ever set from a known token
            return Verdict(None, f"established token {a.known.ticker} (trading since {a.known.first_trading:%Y-%m})",
                           "rejected")
        if a.evidence is None:  # never: the evidence is weighed whenever there is a shape (assess)
            return Verdict(None, "launch shape but no evidence weighed", "no_shape")
        confidence = score.confidence(a.evidence)
        result = self._result(a, confidence)
        return Verdict(result, result.reason, "matched" if confidence >= self.config.min_confidence else "candidate")

    def published(self, verdict: Verdict) -> bool:
        """Whether a verdict is a match at or above the publication threshold."""
        return verdict.match is not None and verdict.match.confidence >= self.config.min_confidence

    def _combine(self, a: Assessment, rules: Verdict) -> Verdict:
        """The rules' verdict, and the model's word on it (``Combination``): a rule match the model scores at or
        below ``veto_at`` is dropped; an item the rules do not publish, with a named project, is published when the
        model scores it at or above ``promote_at``. Otherwise the rules' verdict and confidence stand."""
        detector = self.detector
        if detector is None:  # decide() combines only with a detector
            return rules
        plan, version = detector.combination, detector.version
        if rules.match is not None and self.published(rules):
            if plan.veto_at is None:
                return rules
            p = detector.probability(detector_text(a), detector_signals(a))
            if p <= plan.veto_at:
                return Verdict(None, f"vetoed by model {version} p={p:.3f} <= {plan.veto_at}; rules: {rules.reason}",
                               "rejected")
            return Verdict(replace(rules.match, model_version=version), rules.reason, rules.stage)
        if plan.promote_at is None or not a.named.project:
            return rules
        p = detector.probability(detector_text(a), detector_signals(a))
        if p < plan.promote_at:
            return rules
        result = self._result(a, round(max(p, plan.promoted_confidence or 0.0), 3), model_version=version)
        result = replace(result, reason=f"{result.reason} (rules: {rules.reason})")
        return Verdict(result, result.reason, "matched" if self.published(Verdict(result, "", "")) else "candidate")

    def _result(self, a: Assessment, confidence: float, model_version: str = "") -> Match:
        title, lead, named = a.title, a.lead, a.named
        low_title, low_lead = title.lower(), lead.lower()
        full = f"{title}. {lead}"
        shapes = (*a.title_shapes, *a.body_shapes)
        main = shapes[0] if shapes else None
        found = main.pattern.search(full.lower()) if main else None
        start, end = (found.start(), found.end()) if found else (0, min(len(title), 1))
        window = self.config.context_window
        terms = tuple(dict.fromkeys(m.group(0) for s in shapes
                                    if (m := s.pattern.search(low_title) or s.pattern.search(low_lead[:SHAPE_CHARS]))))
        if main:
            reason = f"{main.name} {terms[0]!r}" + (f"; minus {', '.join(a.penalties)}" if a.penalties else "")
        else:
            reason = f"launch words {a.hits[:3]}"
        if model_version:
            reason = f"promoted by model {model_version}, confidence {confidence:.3f}; {reason}"
            terms = terms or tuple(a.hits[:3])
        kind = score.kind(a.evidence, low_title) if a.evidence else "announce"
        return Match(
            project=named.project or "", ticker=named.ticker, tge_date=a.tge_date, kind=kind,
            confidence=confidence, chain=extract.chain(f"{title} {lead[:SHAPE_CHARS]}"),
            venues=extract.venues(f"{title} {lead[:600]}"), matched_terms=terms,
            snippet=full[max(0, start - window):end + window].strip(), reason=reason, model_version=model_version,
        )

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


ROUNDUP_FAMILIES = frozenset({"roundup", "generic_tge"})
_TITLE_PARTS = re.compile(r"\s*(?:[;|•]|:\s|\s[-–—]\s)\s*")
_LEAD_PARTS = re.compile(r"(?<=[.!?])\s+(?=[A-Z$])|\s*[;•]\s*|\s+\d{1,2}[.)]\s+")
MAX_PARTS = 12


def _parts(title: str, lead: str) -> list[tuple[str, bool]]:
    """A roundup's clauses: the headline's (split at ; | • ": " " - ") and the lead's sentences and bullets."""
    parts = [(p, True) for p in _TITLE_PARTS.split(title)]
    parts += [(p, False) for p in _LEAD_PARTS.split(lead[:SHAPE_CHARS])]
    return [(p.strip(), in_title) for p, in_title in parts if len(p.strip()) >= 12][:MAX_PARTS]


def _without(lowered: str, ticker: str | None) -> str:
    """The text with the token's ticker blanked: a ticker that is also a word ("GAIN", "PUMP") is a name, not price
    talk."""
    if not ticker or len(ticker) < 2:
        return lowered
    return re.sub(rf"(?<![\w$])\$?{re.escape(ticker.lower())}(?!\w)", " ", lowered)


def _clean(text: str, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", text[: limit * 2]).split())[:limit]


@lru_cache(maxsize=8)
def get_engine(config: MatchConfig, detector: Detector | None = None) -> MatchEngine:
    """One engine per configuration per process: building one costs the spaCy pipeline and the automaton."""
    return MatchEngine(config, detector)
