"""The learned detector at run time: a linear model over TF-IDF word and character n-grams plus the rules' signals,
read from a plain JSON file and scored in pure Python.

Why JSON and not a pickle: a model file is configuration an operator points at; loading it must never run code.
Why pure Python: the match stage must not need scikit-learn, and a linear model over a few thousand n-grams is a
few dictionary look-ups per word. ``tgesweeper.matching.training`` fits the model with scikit-learn and writes this
format; the two reproduce scikit-learn's analyzers exactly (a test compares them).

Text the model reads has the project, ticker and numbers masked, so it learns how launches are reported rather than
which names were launched in its training news.

The model adds to the rules rather than replacing them (``Combination``): the rules' verdict stands, the model may
promote an item the rules do not publish when it is very sure, and veto a rule match it finds very unlikely. Where
those lines sit is chosen by training on out-of-time predictions and stored in the file, not in code.
"""
from __future__ import annotations

import json
import math
import re
import sys
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tgesweeper.matching import score
from tgesweeper.matching.shapes import FUTURE, PAST

FORMAT = "tgesweeper-detector"
FORMAT_VERSION = 2
MAX_FILE_BYTES = 50 * 1024 * 1024
BODY_CHARS = 1000
_MEMO_WORDS = 50_000  # distinct words remembered per model: ~10 MB at most, the n-grams themselves shared (interned)
_WORD = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Za-z][A-Za-z0-9]{1,9}\b")
_PAREN_TICKER = re.compile(r"\(\$?[A-Z0-9]{2,10}\)")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


class DetectorError(ValueError):
    """A model file the detector refuses to load, and why."""


def detector_text(a) -> str:
    """The words the model reads from an assessment (``MatchEngine.assess``): headline and lead, names masked."""
    text = f"{a.title} | {a.lead[:BODY_CHARS]}"
    names = sorted({n for n in (a.named.project, a.named.ticker) if n and len(n) >= 2}, key=lambda n: (-len(n), n))
    for name, mask in ((n, "xticker" if n == a.named.ticker else "xproject") for n in names):
        text = re.sub(rf"(?i)(?<!\w){re.escape(name)}(?!\w)", f" {mask} ", text)
    text = _CASHTAG.sub(" xticker ", text)
    text = _PAREN_TICKER.sub(" (xticker) ", text)
    return _DIGITS.sub("0", text)


def detector_signals(a) -> dict[str, float]:
    """The rules' findings as named features: shapes (headline or body), noise families, speculation and price
    penalties, tense, whether a project and ticker were named, and whether the token already trades."""
    signals: dict[str, float] = {"bias_prefilter": 1.0}
    signals.update((f"title_shape:{s.name}", 1.0) for s in a.title_shapes)
    signals.update((f"body_shape:{s.name}", 1.0) for s in a.body_shapes)
    signals.update((f"reject:{name}", 1.0) for name in a.reject_families)
    signals.update((f"penalty:{name}", 1.0) for name in a.penalties)
    low_title = a.title.lower()
    if FUTURE.search(low_title):
        signals["title_future"] = 1.0
    if PAST.search(low_title):
        signals["title_past"] = 1.0
    if not a.title_shapes and not a.body_shapes:
        signals["no_shape"] = 1.0
    if a.named.project:
        signals["named_project"] = 1.0
        signals["name_in_title" if a.named.from_title else "name_in_body"] = 1.0
    if a.named.ticker:
        signals["named_ticker"] = 1.0
    signals.update((f"softened:{name}", 1.0) for name in a.softened)
    if a.relaunch:
        signals["relaunch_wording"] = 1.0
    if a.established:
        signals["established_token"] = 1.0
    elif a.known is not None:
        signals["known_token_new"] = 1.0
    if a.tge_date:
        signals["dated"] = 1.0
    if a.evidence is not None:
        signals[f"kind:{score.kind(a.evidence, low_title)}"] = 1.0
        signals["rule_confidence"] = score.confidence(a.evidence)
        if not a.evidence.near_project:
            signals["far_from_project"] = 1.0
    return signals


def word_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``analyzer="word"`` with its default token pattern, lowercased."""
    tokens = _WORD.findall(text.lower())
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``analyzer="char_wb"``: n-grams inside each space-padded word, lowercased."""
    grams = []
    for word in _SPACES.sub(" ", text.lower()).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:
                grams.append(padded)
                break
            grams += [padded[i:i + n] for i in range(size - n + 1)]
    return grams


ANALYZERS = {"word": word_ngrams, "char_wb": char_wb_ngrams}


@dataclass(frozen=True)
class _Block:
    analyzer: str
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    terms: dict[str, tuple[float, float]]  # term -> (idf, coefficient)

    _words: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def contribution(self, text: str) -> float:
        counts = self._counts(text)
        if not counts:
            return 0.0
        terms = self.terms
        dot = norm = 0.0
        sublinear, log = self.sublinear_tf, math.log
        for gram, count in counts.items():
            idf, coef = terms[gram]
            value = idf if count == 1 else (1.0 + log(count) if sublinear else count) * idf
            dot += value * coef
            norm += value * value
        return dot / math.sqrt(norm)

    def parts(self, text: str) -> list[tuple[str, float]]:
        """Each n-gram's share of ``contribution`` (the same sum, term by term)."""
        counts = self._counts(text)
        values = {gram: (1.0 + math.log(count) if self.sublinear_tf else count) * self.terms[gram][0]
                  for gram, count in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        return [(f"{self.analyzer} {gram!r}", value * self.terms[gram][1] / norm) for gram, value in values.items()]

    def _counts(self, text: str) -> Counter:
        if self.analyzer == "char_wb":
            return Counter(self._char_grams(text))
        terms = self.terms
        return Counter(g for g in ANALYZERS[self.analyzer](text, *self.ngram_range) if g in terms)

    def _char_grams(self, text: str) -> list[str]:
        """``char_wb_ngrams`` of the text, kept to the vocabulary, word by word from a per-word memo: news repeats
        its words, and cutting each into n-grams again is most of the detector's time."""
        found: list[str] = []
        memo, terms = self._words, self.terms
        for word in text.lower().split():
            grams = memo.get(word)
            if grams is None:
                grams = tuple(sys.intern(g) for g in char_wb_ngrams(word, *self.ngram_range) if g in terms)
                if len(memo) < _MEMO_WORDS:
                    memo[word] = grams
            found += grams
        return found


@dataclass(frozen=True)
class Combination:
    """How the model's probability joins the rules' verdict. ``promote_at``: an item the rules do not publish is
    published when p >= this, with confidence max(p, ``promoted_confidence``) -- the share of launches measured among
    such promotions out of time, so the published band stays honest. ``veto_at``: a rule match is dropped when
    p <= this. ``None`` turns either off."""

    promote_at: float | None = None
    promoted_confidence: float | None = None
    veto_at: float | None = None


class Detector:
    """A loaded model: ``probability(text, signals)`` is the calibrated chance that a document reports a launch;
    ``combination`` says how it joins the rules."""

    def __init__(self, data: dict[str, Any], source: str = "<memory>"):
        self.source = source
        self.version, self.metadata, self._blocks, self._signals, self._intercept, self._calibration = _parse(data, source)
        self.combination = _combination(data.get("combine"), lambda m: _fail(source, m))

    @property
    def can_act(self) -> bool:
        """Whether the model may change a verdict at all (a threshold is set); if not, the rules decide alone."""
        return self.combination.promote_at is not None or self.combination.veto_at is not None

    @classmethod
    def load(cls, path: str | Path) -> Detector:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise DetectorError(f"{path}: {size} bytes, larger than a detector model may be ({MAX_FILE_BYTES})")
            raw = path.read_bytes()
        except OSError as exc:
            raise DetectorError(f"{path}: cannot read the detector model: {exc.strerror or exc}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DetectorError(f"{path}: not a JSON detector model ({exc})") from None
        return cls(data, str(path))

    def decision(self, text: str, signals: dict[str, float]) -> float:
        total = self._intercept + sum(block.contribution(text) for block in self._blocks)
        return total + sum(self._signals.get(name, 0.0) * value for name, value in signals.items())

    def probability(self, text: str, signals: dict[str, float]) -> float:
        return self._calibration(self.decision(text, signals))

    def top_features(self, text: str, signals: dict[str, float], count: int = 5) -> list[tuple[str, float]]:
        """The features that moved this document's decision value most, either way (``evaluate --show-errors``)."""
        parts = [part for block in self._blocks for part in block.parts(text)]
        parts += [(f"signal {name}", self._signals[name] * value) for name, value in signals.items()
                  if self._signals.get(name)]
        return [(name, round(value, 3)) for name, value in sorted(parts, key=lambda p: (-abs(p[1]), p[0]))[:count]]


def _parse(data: Any, source: str):
    def fail(message: str):
        raise DetectorError(f"{source}: {message}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        fail(f"not a detector model (expected an object with \"format\": \"{FORMAT}\")")
    if data.get("format_version") != FORMAT_VERSION:
        fail(f"format_version {data.get('format_version')!r}; this build reads {FORMAT_VERSION}")
    version = data.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"[\w.+-]{1,64}", version):
        fail("version: expected 1-64 letters, digits or . + - _")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        fail("metadata: expected an object")
    blocks = []
    for i, block in enumerate(_list(data.get("text_features"), "text_features", fail)):
        where = f"text_features[{i}]"
        if not isinstance(block, dict) or block.get("analyzer") not in ANALYZERS:
            fail(f"{where}.analyzer: expected one of {sorted(ANALYZERS)}")
        span = block.get("ngram_range")
        if not (isinstance(span, list) and len(span) == 2 and all(type(n) is int for n in span)
                and 1 <= span[0] <= span[1] <= 6):
            fail(f"{where}.ngram_range: expected [low, high] with 1 <= low <= high <= 6")
        if not isinstance(block.get("sublinear_tf"), bool):
            fail(f"{where}.sublinear_tf: expected true or false")
        terms = block.get("terms")
        if not isinstance(terms, dict):
            fail(f"{where}.terms: expected an object of term: [idf, coefficient]")
        checked = {}
        for term, pair in terms.items():
            if not (isinstance(pair, list) and len(pair) == 2 and all(_finite(x) for x in pair) and pair[0] > 0):
                fail(f"{where}.terms[{term[:40]!r}]: expected [idf > 0, coefficient], finite numbers")
            checked[term] = (float(pair[0]), float(pair[1]))
        blocks.append(_Block(block["analyzer"], (span[0], span[1]), block["sublinear_tf"], checked))
    signals = data.get("signals")
    if not isinstance(signals, dict) or not all(isinstance(k, str) and _finite(v) for k, v in signals.items()):
        fail("signals: expected an object of name: finite coefficient")
    intercept = data.get("intercept")
    if not _finite(intercept):
        fail("intercept: expected a finite number")
    return version, metadata, tuple(blocks), {k: float(v) for k, v in signals.items()}, float(intercept), \
        _calibration(data.get("calibration"), fail)


def _fail(source: str, message: str):
    raise DetectorError(f"{source}: {message}")


def _combination(spec: Any, fail) -> Combination:
    if not isinstance(spec, dict) or set(spec) != {"promote_at", "promoted_confidence", "veto_at"}:
        fail("combine: expected an object with promote_at, promoted_confidence and veto_at (numbers or null)")
    for key, value in spec.items():
        if value is not None and not (_finite(value) and 0 <= value <= 1):
            fail(f"combine.{key}: expected a probability in [0, 1] or null")
    if (spec["promote_at"] is None) != (spec["promoted_confidence"] is None):
        fail("combine: promote_at and promoted_confidence are set together or not at all")
    return Combination(**spec)


def _calibration(spec: Any, fail):
    """The map from the linear model's decision value to a probability, fitted on held-out folds."""
    if not isinstance(spec, dict):
        fail("calibration: expected an object")
    method = spec.get("method")
    if method == "sigmoid":
        a, b = spec.get("a"), spec.get("b")
        if not (_finite(a) and _finite(b)):
            fail("calibration: sigmoid needs finite a and b")
        return lambda f: _expit(-(a * f + b))
    if method == "isotonic":
        xs, ys = spec.get("x"), spec.get("y")
        if not (isinstance(xs, list) and isinstance(ys, list) and 2 <= len(xs) == len(ys)
                and all(_finite(v) for v in (*xs, *ys)) and all(0 <= y <= 1 for y in ys)
                and all(p <= q for p, q in zip(xs, xs[1:], strict=False))):
            fail("calibration: isotonic needs x (ascending) and y (in [0, 1]) of equal length >= 2")
        return lambda f: _interpolate(xs, ys, f)
    fail(f"calibration.method: expected \"sigmoid\" or \"isotonic\", not {method!r}")


def _interpolate(xs: list[float], ys: list[float], f: float) -> float:
    """numpy.interp with clipping, as scikit-learn's isotonic calibrator predicts."""
    if f <= xs[0]:
        return ys[0]
    if f >= xs[-1]:
        return ys[-1]
    i = bisect_right(xs, f) - 1
    x0, x1 = xs[i], xs[i + 1]
    return ys[i] if x1 == x0 else ys[i] + (ys[i + 1] - ys[i]) * (f - x0) / (x1 - x0)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _list(value: Any, name: str, fail) -> list:
    if not isinstance(value, list) or not value:
        fail(f"{name}: expected a non-empty list")
    return value
