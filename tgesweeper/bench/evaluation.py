"""Measure the engine on a labeled JSONL corpus exactly as the pipeline uses it: through ``MatchEngine.judge``.

A document counts as found only if its match reaches ``min_confidence``; matches below are review candidates.
The calibration table says, per confidence bin, what share of the items the engine scored there really are launches.
"""
from __future__ import annotations

import json
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from tgesweeper.matching.detector import Detector, detector_signals, detector_text
from tgesweeper.matching.engine import MatchEngine
from tgesweeper.matching.events import normalize_project
from tgesweeper.matching.types import MatchInput

BINS = (0.0, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0001)


def read_corpus(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate_corpus(path: str | Path, engine: MatchEngine) -> dict:
    return evaluate_items(read_corpus(path), engine)


def evaluate_items(items: Iterable[dict], engine: MatchEngine) -> dict:
    return _evaluate(items, engine)[1]


def _evaluate(items: Iterable[dict], engine: MatchEngine) -> tuple[list, dict]:
    """Each item with the engine's verdict on it, and the figures of those verdicts."""
    rows = [(item, engine.judge(match_input(item))) for item in items]
    result = summarize(rows, engine.config.min_confidence)
    result["model_version"] = engine.detector.version if engine.detector else None
    if engine.detector:
        _add_top_features(result, {item.get("id"): item for item, _ in rows}, engine, engine.detector)
    return rows, result


def _add_top_features(result: dict, by_id: dict, engine: MatchEngine, detector: Detector) -> None:
    """Beside each error, the model's features that weighed most on it (none when the prefilter dropped it)."""
    for error in (*result["false_positives"], *result["false_negatives"]):
        a = engine.assess(match_input(by_id[error["id"]]))
        error["top_features"] = detector.top_features(detector_text(a), detector_signals(a)) if a.hits else []


def match_input(item: dict) -> MatchInput:
    return MatchInput(title=item.get("title") or "", text=item.get("text") or "",
                      published_at=_when(item.get("published_at")), source=item.get("source") or "",
                      url=item.get("url") or "")


def summarize(rows: list, threshold: float) -> dict:
    """Figures for (item, verdict) pairs: overall, per kind, per source prefix, outside exchange announcements
    (``bna:``, whose regular phrasing flatters any detector), and calibration."""
    result = _counts(rows, threshold)
    result["per_source"] = {prefix: _counts(group, threshold, brief=True)
                            for prefix, group in sorted(_group(rows, lambda i: i["id"].split(":")[0]).items())}
    result["not_exchange"] = _counts([r for r in rows if not r[0]["id"].startswith("bna:")], threshold, brief=True)
    result["calibration"] = _calibration(rows, threshold)
    return result


def _counts(rows: list, threshold: float, brief: bool = False) -> dict:
    tp = fp = fn = 0
    project_ok = ticker_ok = date_ok = 0
    false_pos, false_neg = [], []
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item, verdict in rows:
        found = verdict.match is not None and verdict.match.confidence >= threshold
        truth = item.get("label") == "tge"
        if truth:
            per_kind[item.get("kind") or "?"][1] += 1
        if found and truth:
            tp += 1
            per_kind[item.get("kind") or "?"][0] += 1
            m = verdict.match
            project_ok += same_project(m.project, item.get("project"))
            ticker_ok += (m.ticker or None) == (item.get("ticker") or None)
            date_ok += (m.tge_date.isoformat() if m.tge_date else None) == item.get("tge_date")
        elif found:
            fp += 1
            false_pos.append(_error(item, verdict))
        elif truth:
            fn += 1
            false_neg.append(_error(item, verdict))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result: dict[str, Any] = {"n": len(rows), "tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 4),
              "recall": round(recall, 4), "f1": round(f1, 4)}
    if brief:
        return result
    result.update({
        "project_accuracy": round(project_ok / tp, 4) if tp else None,
        "ticker_accuracy": round(ticker_ok / tp, 4) if tp else None,
        "date_accuracy": round(date_ok / tp, 4) if tp else None,
        "recall_per_kind": {k: {"found": f, "of": n, "recall": round(f / n, 4)} for k, (f, n) in sorted(per_kind.items())},
        "false_positives": false_pos,
        "false_negatives": false_neg,
    })
    return result


def same_project(found: str | None, expected: str | None) -> bool:
    """Names agree if one normalized name contains the other ("Holoworld" / "Holoworld AI")."""
    a, b = normalize_project(found or ""), normalize_project(expected or "")
    if not a or not b:
        return False
    a, b = re.sub(r"\s", "", a), re.sub(r"\s", "", b)
    return a in b or b in a


def _calibration(rows: list, threshold: float) -> dict:
    table = []
    for lo, hi in zip(BINS, BINS[1:], strict=False):
        scored = [item for item, v in rows if v.match is not None and lo <= v.match.confidence < hi]
        true = sum(item.get("label") == "tge" for item in scored)
        table.append({"bin": f"[{lo:.2f},{min(hi, 1.0):.2f})", "count": len(scored),
                      "share_tge": round(true / len(scored), 4) if scored else None})
    above = [item for item, v in rows if v.match is not None and v.match.confidence >= threshold]
    unmatched = [item for item, v in rows if v.match is None]
    return {
        "bins": table,
        "at_or_above_threshold": {"threshold": threshold, "count": len(above),
                                  "share_tge": round(sum(i.get("label") == "tge" for i in above) / len(above), 4)
                                  if above else None},
        "no_match": {"count": len(unmatched), "share_tge": round(sum(i.get("label") == "tge" for i in unmatched)
                                                                 / len(unmatched), 4) if unmatched else None},
    }


def _error(item: dict, verdict) -> dict:
    m = verdict.match
    return {"id": item.get("id"), "title": (item.get("title") or "")[:140], "label": item.get("label"),
            "kind": item.get("kind"), "confidence": m.confidence if m else None, "project": m.project if m else None,
            "stage": verdict.stage, "reason": verdict.reason}


def _group(rows, key) -> dict:
    groups: dict[str, list] = defaultdict(list)
    for item, verdict in rows:
        groups[key(item)].append((item, verdict))
    return groups


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_report(result: dict, show_errors: bool = False) -> str:
    """A human-readable report: headline figures, per kind, per source prefix, calibration, then errors if asked."""
    lines = [
        f"model {result.get('model_version') or 'none (rules only)'}",
        f"items {result['n']}  tp {result['tp']}  fp {result['fp']}  fn {result['fn']}",
        f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  f1 {result['f1']:.3f}",
        f"on true positives: project {_pct(result.get('project_accuracy'))}  ticker {_pct(result.get('ticker_accuracy'))}"
        f"  date {_pct(result.get('date_accuracy'))}",
        "", "recall per kind:",
    ]
    for kind, row in result.get("recall_per_kind", {}).items():
        lines.append(f"  {kind:<18} {row['found']:>3}/{row['of']:<3} {row['recall']:.3f}")
    outside = result.get("not_exchange")
    if outside:
        lines.append(f"  {'not bna:':<18} {outside['tp']:>3}/{outside['tp'] + outside['fn']:<3} "
                     f"{outside['recall']:.3f}  (P {outside['precision']:.3f} F1 {outside['f1']:.3f})")
    lines += ["", "per source prefix:"]
    for prefix, row in result.get("per_source", {}).items():
        lines.append(f"  {prefix:<6} n {row['n']:>4}  tp {row['tp']:>3}  fp {row['fp']:>3}  fn {row['fn']:>3}"
                     f"  P {row['precision']:.3f}  R {row['recall']:.3f}  F1 {row['f1']:.3f}")
    calibration = result.get("calibration", {})
    lines += ["", "calibration (matches by confidence; share that are real launches):"]
    for row in calibration.get("bins", []):
        share = "-" if row["share_tge"] is None else f"{row['share_tge']:.3f}"
        lines.append(f"  {row['bin']:<14} count {row['count']:>4}  share tge {share}")
    above = calibration.get("at_or_above_threshold", {})
    if above:
        share = "-" if above["share_tge"] is None else f"{above['share_tge']:.3f}"
        lines.append(f"  >= {above['threshold']:.2f}: {above['count']} items, share tge {share}")
    if show_errors:
        for label, key in (("false positives", "false_positives"), ("false negatives", "false_negatives")):
            lines += ["", f"{label}:"]
            for e in result.get(key, []):
                conf = "-" if e["confidence"] is None else f"{e['confidence']:.2f}"
                lines.append(f"  {e['id']} [{conf}] {e['title']}\n      -> {e['stage']}: {e['reason']}")
                if e.get("top_features"):
                    lines.append("      features: " + ", ".join(f"{name} {value:+.2f}" for name, value in e["top_features"]))
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def split_by_project(items: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """Two halves for an honest check: all items about one project fall in the same half (positives by the first word
    of the normalized project name, everything else by a hash of its id), so rules tuned on one half meet new
    projects in the other."""
    halves: tuple[list[dict], list[dict]] = ([], [])
    for item in items:
        key = (normalize_project(item.get("project") or "").split() or [item.get("id", "")])[0]
        halves[zlib.crc32(key.encode()) % 2].append(item)
    return halves


def compare(items: Iterable[dict], first: MatchEngine, second: MatchEngine) -> dict:
    """Two engines on the same items: each one's figures and the items one finds and the other does not."""
    items = list(items)
    (rows_a, result_a), (rows_b, result_b) = _evaluate(items, first), _evaluate(items, second)
    disagreements = []
    for (item, va), (_, vb) in zip(rows_a, rows_b, strict=True):
        a, b = first.published(va), second.published(vb)
        if a != b:
            disagreements.append({"id": item.get("id"), "title": (item.get("title") or "")[:140],
                                  "label": item.get("label"), "found_by": "A" if a else "B",
                                  "right": ("A" if a else "B") if item.get("label") == "tge" else ("B" if a else "A"),
                                  "confidence": [_confidence(va), _confidence(vb)]})
    return {"A": result_a, "B": result_b, "disagreements": disagreements}


def _confidence(verdict) -> float | None:
    return verdict.match.confidence if verdict.match else None


def format_comparison(result: dict) -> str:
    a, b = result["A"], result["B"]
    lines = [f"{'':<22} {'A':>12} {'B':>12}",
             f"{'model':<22} {a['model_version'] or 'rules only':>12} {b['model_version'] or 'rules only':>12}"]
    for label, get in (("precision", lambda r: r["precision"]), ("recall", lambda r: r["recall"]),
                       ("f1", lambda r: r["f1"]), ("recall not bna:", lambda r: r["not_exchange"]["recall"]),
                       ("tp / fp / fn", lambda r: f"{r['tp']}/{r['fp']}/{r['fn']}"),
                       ("share tge >= threshold", lambda r: r["calibration"]["at_or_above_threshold"]["share_tge"])):
        va, vb = get(a), get(b)
        lines.append(f"{label:<22} {_cell(va):>12} {_cell(vb):>12}")
    kinds = sorted(set(a.get("recall_per_kind", {})) | set(b.get("recall_per_kind", {})))
    for kind in kinds:
        ra, rb = (r.get("recall_per_kind", {}).get(kind, {}).get("recall") for r in (a, b))
        lines.append(f"{'recall ' + kind:<22} {_cell(ra):>12} {_cell(rb):>12}")
    disagreements = result["disagreements"]
    lines += ["", f"items they disagree on: {len(disagreements)} "
                  f"(A right on {sum(d['right'] == 'A' for d in disagreements)}, "
                  f"B right on {sum(d['right'] == 'B' for d in disagreements)})"]
    for d in disagreements:
        conf = "/".join("-" if c is None else f"{c:.2f}" for c in d["confidence"])
        lines.append(f"  {d['id']} [{d['label']}] found by {d['found_by']} only, {d['right']} right "
                     f"(confidence A/B {conf}): {d['title']}")
    return "\n".join(lines)


def _cell(value) -> str:
    return "-" if value is None else value if isinstance(value, str) else f"{value:.3f}"
