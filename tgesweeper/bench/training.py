"""Fit the detector with scikit-learn and write it as the plain JSON ``tgesweeper.matching.detector`` reads.

Only documents past the prefilter are learned from (the match stage never shows the model the others). Features
are computed by the engine itself (``MatchEngine.assess`` -> ``detector_text`` / ``detector_signals``), so training
and the match stage see the same thing. The logistic regression's probabilities are calibrated on held-out folds
(``CalibratedClassifierCV(ensemble=False)``: one model fitted on everything, one calibration map fitted on
out-of-fold decisions), which is what lets ``confidence`` mean "this share of such items are launches".

Quality is measured time-ordered: items sorted by publication, cut into consecutive blocks, each block predicted
by a model fitted on the blocks before it. That is how the product meets news: trained on the past, scoring the new.

How the model joins the rules (``detector.Combination``: promote above one line, veto below another) is chosen from
those out-of-time predictions. Cross-validation chooses each block's lines from the predictions on the blocks before
it only, so no block is scored with lines fitted to it; the shipped lines come from all of them.
"""
from __future__ import annotations

import hashlib
import json
import math
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from spacy.lang.en.stop_words import STOP_WORDS

from tgesweeper.bench.evaluation import match_input, summarize
from tgesweeper.config import load_config
from tgesweeper.matching import known_tokens
from tgesweeper.matching.detector import FORMAT, FORMAT_VERSION, Combination, Detector, detector_signals, detector_text
from tgesweeper.matching.engine import Assessment, MatchEngine
from tgesweeper.matching.types import Verdict

_WORD = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class Params:
    """The model's settings; chosen by time-ordered cross-validation on the training corpus alone."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 2
    C: float = 4.0
    calibration: str = "sigmoid"
    calibration_folds: int = 5
    class_weight: str | None = "balanced"
    target_precision: float = 0.93  # of promoted items that are launches, and of vetoed rule matches that are not


@dataclass
class Example:
    item: dict
    assessment: Assessment
    text: str
    signals: dict[str, float]

    @property
    def label(self) -> int:
        return int(self.item.get("label") == "tge")


def examples(items: Sequence[dict], engine: MatchEngine) -> list[Example]:
    """Each item assessed once by the rules; its model text and signals."""
    found = []
    for item in items:
        a = engine.assess(match_input(item))
        found.append(Example(item, a, detector_text(a) if a.hits else "", detector_signals(a) if a.hits else {}))
    return found


def fit(train: Sequence[Example], params: Params, seed: int) -> dict:
    """A fitted, calibrated model as the detector's JSON-ready dict (without version or metadata; it neither
    promotes nor vetoes until ``choose_combination`` sets its lines)."""
    learn = [e for e in train if e.assessment.hits]
    y = np.array([e.label for e in learn])
    if len(set(y)) < 2 or min(np.bincount(y)) < params.calibration_folds:
        raise ValueError(f"need at least {params.calibration_folds} launches and {params.calibration_folds} others "
                         f"past the prefilter to fit and calibrate; got {int(y.sum())} and {int(len(y) - y.sum())}")
    texts = [e.text for e in learn]
    word = TfidfVectorizer(analyzer="word", ngram_range=params.word_ngrams, min_df=params.min_df, sublinear_tf=True,
                           dtype=np.float64)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, min_df=params.min_df,
                           sublinear_tf=True, dtype=np.float64)
    signals = DictVectorizer(sort=True)
    word.fit(texts)
    char.fit(texts)
    names = name_words(train)
    word.set_params(vocabulary=sorted(t for t in word.vocabulary_ if not names & set(t.split())))
    char.set_params(vocabulary=sorted(t for t in char.vocabulary_ if not names_in_chars(t, names)))
    matrix = sp.hstack([word.fit_transform(texts), char.fit_transform(texts),
                        signals.fit_transform([e.signals for e in learn])]).tocsr()
    base = LogisticRegression(C=params.C, class_weight=params.class_weight, solver="liblinear", random_state=seed,
                              max_iter=2000)
    model = CalibratedClassifierCV(base, method=params.calibration, ensemble=False,
                                   cv=StratifiedKFold(params.calibration_folds, shuffle=True, random_state=seed))
    model.fit(matrix, y)
    fitted = model.calibrated_classifiers_[0]
    coef = fitted.estimator.coef_.ravel()
    intercept = float(fitted.estimator.intercept_[0])
    widths = (len(word.vocabulary_), len(char.vocabulary_))
    blocks = []
    for vectorizer, offset, analyzer in ((word, 0, "word"), (char, widths[0], "char_wb")):
        terms = {term: [_round(vectorizer.idf_[i]), _round(coef[offset + i])]
                 for term, i in sorted(vectorizer.vocabulary_.items())}
        blocks.append({"analyzer": analyzer, "ngram_range": list(vectorizer.ngram_range), "sublinear_tf": True,
                       "terms": terms})
    offset = sum(widths)
    named = {name: _round(coef[offset + i]) for name, i in sorted(signals.vocabulary_.items())}
    return {"text_features": blocks, "signals": named, "intercept": _round(intercept),
            "calibration": _calibration(fitted.calibrators[0], params.calibration), "combine": vars(Combination())}


def name_words(rows: Sequence[Example]) -> set[str]:
    """Every word of every labeled project and ticker, and of every token in the known-token list, lowercased: the
    news the model will score is about other projects, so no n-gram may contain one. English function words ("to",
    "one") and the words of the configured launch vocabulary ("token") are grammar, not names, and stay."""
    labeled = [e.item.get(key) or "" for e in rows for key in ("project", "ticker")]
    known = [text for token in known_tokens.BY_TICKER.values() for text in (token.ticker, *token.names)]
    words = {w.lower() for text in (*labeled, *known) for w in _WORD.findall(text)}
    return words - STOP_WORDS - _vocabulary_words()


def names_in_chars(gram: str, names: set[str]) -> bool:
    """Whether a character n-gram names one of ``names``: it is one, contains one of three letters or more, or is
    a piece (four letters or more) of a longer one ("jupit" of "jupiter")."""
    core = gram.strip()
    return core in names or any(len(n) >= 3 and n in core or len(core) >= 4 and core in n for n in names)


@lru_cache(maxsize=1)
def _vocabulary_words() -> frozenset[str]:
    patterns = (load_config().keyword_matching.get("patterns") or {}).get("tge_keywords") or ()
    return frozenset(w.lower() for phrase in patterns for w in _WORD.findall(phrase))


def _calibration(calibrator, method: str) -> dict:
    if method == "sigmoid":
        return {"method": "sigmoid", "a": _round(calibrator.a_), "b": _round(calibrator.b_)}
    return {"method": "isotonic", "x": [_round(x) for x in calibrator.X_thresholds_],
            "y": [min(max(_round(y), 0.0), 1.0) for y in calibrator.y_thresholds_]}


def _round(value: float) -> float:
    """Six significant digits: enough for the scores, and the same bytes on every run."""
    value = float(value)
    return 0.0 if value == 0 or not math.isfinite(value) else float(f"{value:.6g}")


def detector(body: dict, version: str, combine: dict | None = None) -> Detector:
    """A fitted body as a loaded model; without ``combine`` it neither promotes nor vetoes."""
    return Detector({"format": FORMAT, "format_version": FORMAT_VERSION, "version": version, "metadata": {},
                     **body, "combine": combine or body["combine"]})


def verdicts(rows: Sequence[Example], engine: MatchEngine) -> list[tuple[dict, Verdict]]:
    return [(e.item, engine.decide(match_input(e.item), e.assessment)) for e in rows]


def time_ordered_folds(rows: Sequence[Example], folds: int) -> list[tuple[list[Example], list[Example]]]:
    """(older blocks, next block) for each block after the first: items sorted by publication time, then id."""
    ordered = sorted(rows, key=lambda e: (e.item.get("published_at") or "", e.item.get("id") or ""))
    bounds = [round(i * len(ordered) / folds) for i in range(folds + 1)]
    blocks = [ordered[bounds[i]:bounds[i + 1]] for i in range(folds)]
    return [([e for block in blocks[:k] for e in block], blocks[k]) for k in range(1, folds)]


@dataclass
class Scored:
    """One item predicted out of time: the rules' verdict and the model's probability (None: prefilter dropped it)."""

    example: Example
    rules: Verdict
    probability: float | None


def choose_combination(scored: Sequence[Scored], engine: MatchEngine, params: Params) -> tuple[dict, dict]:
    """The promotion and veto lines from out-of-time predictions: the lowest ``promote_at`` at which the items the
    rules do not publish (with a named project, no admin exclusion) scored at or above it are launches at
    ``target_precision`` at least, and the highest ``veto_at`` at which the rule matches scored at or below it are
    not launches at that rate. Rates are estimated with Laplace's rule of succession ((right + 1) / (items + 2)), so a
    line resting on few items is not drawn (9 of 9 estimates 0.909) and a promotion's confidence, that estimate, is
    not a certainty. Returns the ``combine`` section and what it rests on."""
    promotable = sorted(((s.probability, s.example.label) for s in scored if s.probability is not None
                         and not engine.published(s.rules) and s.example.assessment.named.project
                         and not s.example.assessment.excluded), reverse=True)
    matched = sorted((s.probability, s.example.label) for s in scored
                     if s.probability is not None and engine.published(s.rules))
    promote = _line(promotable, lambda label: label == 1, params.target_precision)
    veto = _line(matched, lambda label: label == 0, params.target_precision)
    combine = {"promote_at": promote and _round(promote[0]), "promoted_confidence": promote and _floor(promote[1]),
               "veto_at": veto and _round(veto[0])}
    support = {"promotable": len(promotable), "promoted": promote[2] if promote else 0,
               "promoted_right": promote[3] if promote else 0, "rule_matches": len(matched),
               "vetoed": veto[2] if veto else 0, "vetoed_right": veto[3] if veto else 0}
    return combine, support


def _line(ranked: Sequence[tuple[float, int]], right, target: float) -> tuple[float, float, int, int] | None:
    """The deepest cut into ``ranked`` (most confident first) whose items are ``right`` at ``target`` at least
    (Laplace estimate): (probability at the cut, that estimate, items above it, right ones); cuts fall between
    distinct probabilities."""
    best, hits = None, 0
    for i, (probability, label) in enumerate(ranked):
        hits += right(label)
        if i + 1 < len(ranked) and ranked[i + 1][0] == probability:
            continue
        share = (hits + 1) / (i + 3)
        if share >= target:
            best = (probability, share, i + 1, hits)
    return best


def _floor(value: float) -> float:
    return math.floor(value * 1000) / 1000


def cross_validate(rows: Sequence[Example], engine: MatchEngine, params: Params, seed: int, folds: int = 5) -> dict:
    """Time-ordered cross-validation of the rules and model combined, per fold and pooled over every predicted
    block, the rules alone on the same blocks beside it; and the out-of-time predictions the shipped lines are
    chosen from."""
    pooled: list[tuple[dict, Verdict]] = []
    per_fold: list[dict] = []
    rules: list[tuple[dict, Verdict]] = []
    scored: list[Scored] = []
    for train, test in time_ordered_folds(rows, folds):
        body = fit(train, params, seed)
        model = detector(body, "cv")
        combine, _ = choose_combination(scored, engine, params)
        combined = MatchEngine(engine.config, detector(body, "cv", combine))
        found = verdicts(test, combined)
        rules += verdicts(test, engine)
        scored += [Scored(e, engine.decide(match_input(e.item), e.assessment),
                          model.probability(e.text, e.signals) if e.assessment.hits else None) for e in test]
        pooled += found
        summary = summarize(found, engine.config.min_confidence)
        per_fold.append({"from": test[0].item.get("published_at"), "to": test[-1].item.get("published_at"),
                         "train": len(train), "combine": combine, **brief(summary)})
    result = summarize(pooled, engine.config.min_confidence)
    result["model_version"] = f"time-ordered cross-validation ({folds} blocks), rules + model"
    return {"pooled": result, "folds": per_fold, "rules": summarize(rules, engine.config.min_confidence),
            "scored": scored, "auc": _auc(scored)}


def _auc(scored: Sequence[Scored]) -> float | None:
    """Ranking quality of the out-of-time probabilities on the items past the prefilter."""
    pairs = [(s.probability, s.example.label) for s in scored if s.probability is not None]
    labels = {label for _, label in pairs}
    return _round(roc_auc_score([y for _, y in pairs], [p for p, _ in pairs])) if len(labels) == 2 else None


def brief(summary: dict) -> dict:
    above = summary["calibration"]["at_or_above_threshold"]
    return {key: summary[key] for key in ("n", "tp", "fp", "fn", "precision", "recall", "f1")} | {
        "not_exchange_recall": summary["not_exchange"]["recall"], "share_tge_at_threshold": above["share_tge"]}


def params_dict(params: Params) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in vars(params).items()}


def fingerprint(paths: Sequence[Path]) -> dict:
    digests = {Path(p).name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}
    combined = hashlib.sha256("".join(digests[Path(p).name] for p in paths).encode()).hexdigest()
    return {"sha256": combined, "files": digests}


def library_versions() -> dict:
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__}


def model_document(body: dict, name: str, metadata: dict) -> dict:
    """The file's content: the version is the name plus a digest of the weights, so two different models never
    share a version and the same model always has the same one."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": f"{name}+{digest}", "metadata": metadata,
            **body}


def dumps(document: dict) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
