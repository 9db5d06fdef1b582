"""Hostile input, configuration errors, the evaluation report and the benchmark."""
import io
import json
import time
from datetime import datetime, timezone

import pytest
from django.core.management import call_command

from tgesweeper.bench.evaluation import evaluate_corpus, format_report, split_by_project
from tgesweeper.bench.match_benchmark import format_benchmark, run_match_benchmark
from tgesweeper.matching import MatchConfig, MatchInput, get_engine

PUBLISHED = datetime(2026, 5, 4, tzinfo=timezone.utc)


@pytest.mark.parametrize("title, text", [
    ("", ""),
    ("\x00\x00 TGE \x00", "\x00" * 1000),
    ("Foo (FOO) token goes live", "TGE airdrop claim " * 60_000),
    ("\u202e\ufeff\u200b Ｆｏｏ (ＦＯＯ) ｔｏｋｅｎ goes live", "🚀" * 10_000),
    ("(" * 5000 + "A" * 5000, ")" * 100_000),
    ("Foo " * 100_000, "on March " * 100_000),
])
def test_hostile_text_is_judged_quickly(title, text, match_config):
    engine = get_engine(match_config)
    started = time.perf_counter()
    verdict = engine.judge(MatchInput(title=title, text=text, published_at=PUBLISHED))
    assert time.perf_counter() - started < 0.5
    assert verdict.reason


def test_missing_publication_date_is_fine(match_config):
    assert get_engine(match_config).judge(MatchInput("Foo (FOO) token goes live on March 3", "", None)).match.tge_date is None


def test_config_from_the_yaml_shape():
    config = MatchConfig.from_mapping({"min_confidence": 0.9, "context_window": 80, "max_distance": 40,
                                       "patterns": {"tge_keywords": ["token launch"], "exclusions": ["teaser"]}})
    assert (config.min_confidence, config.context_window, config.tge_keywords, config.exclusions) == \
        (0.9, 80, ("token launch",), ("teaser",))


@pytest.mark.parametrize("data, key", [
    ({"patterns": ["x"]}, "patterns"),
    ({"patterns": {"tge_keywords": "TGE"}}, "tge_keywords"),
    ({"patterns": {"exclusions": [""]}}, "exclusions"),
    ({"min_confidence": None}, "min_confidence"),
])
def test_config_errors_name_the_key(data, key):
    """The numbers' bounds are the configuration's (tests/unit/test_config.py); the vocabulary is checked here."""
    base = {"min_confidence": 0.85, "context_window": 100, "max_distance": 50}
    data = {k: v for k, v in {**base, **data}.items() if v is not None}
    with pytest.raises(ValueError, match=key):
        MatchConfig.from_mapping(data)


def _item(i, label, title, **extra):
    return {"id": f"t{i % 2}:{i}", "title": title, "text": "", "url": "", "published_at": "2026-05-04T09:00:00Z",
            "source": "test", "label": label, "project": None, "ticker": None, "tge_date": None, "kind": None, **extra}


def test_evaluation_counts_calibrates_and_reports(tmp_path, match_config):
    items = [
        _item(1, "tge", "Ferrowind (FWD) token goes live", project="Ferrowind", ticker="FWD", kind="live"),
        _item(2, "tge", "Kestrelfi may launch a token", project="Kestrelfi", kind="announce"),
        _item(3, "other", "Bitcoin slips below $88,000"),
        _item(4, "other", "Tessaline (TSL) token goes live"),
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in items))
    result = evaluate_corpus(path, get_engine(match_config))
    assert (result["tp"], result["fp"], result["fn"]) == (1, 1, 1)
    assert result["project_accuracy"] == result["ticker_accuracy"] == 1.0
    assert result["recall_per_kind"]["announce"]["recall"] == 0.0
    assert set(result["per_source"]) == {"t0", "t1"}
    assert result["calibration"]["at_or_above_threshold"]["share_tge"] == 0.5
    assert result["false_negatives"][0]["reason"].startswith("speculation")
    report = format_report(result, show_errors=True)
    assert "precision 0.500" in report and "false negatives" in report and "t1:1" not in report.split("false")[0]


def test_the_split_keeps_a_project_in_one_half():
    items = [_item(i, "tge", "x", project=name) for i, name in enumerate(["Foo", "Foo Labs", "Bar", "Baz", "Foo"])]
    halves = split_by_project(items)
    assert sum(len(h) for h in halves) == 5
    assert any(all(i["project"].startswith("Foo") for i in h if i["project"].startswith("Foo")) and
               sum(i["project"].startswith("Foo") for i in h) == 3 for h in halves)


def test_the_benchmark_reports_its_figures(match_config):
    result = run_match_benchmark(get_engine(match_config), docs=300, seed=1)
    assert set(result) >= {"docs", "seconds", "docs_per_sec_per_core", "p50_ms", "p99_ms"}
    assert result["docs"] == 300 and result["matched"] > 0
    assert "docs/s" in format_benchmark(result)


def test_evaluate_runs_the_engine_the_configuration_describes(tmp_path, config, db):
    """``manage.py evaluate`` judges with the configured KEYWORD_* values, not values of its own."""
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(_item(1, "tge", "Ferrowind (FWD) token goes live", project="Ferrowind", ticker="FWD")))

    def evaluate() -> dict:
        out = io.StringIO()
        call_command("evaluate", str(path), "--json", stdout=out)
        return json.loads(out.getvalue())

    assert (evaluate()["tp"], evaluate()["fn"]) == (1, 0)
    config(KEYWORD_MIN_CONFIDENCE=1.0)  # no match is that sure: the launch is now below the threshold
    assert (evaluate()["tp"], evaluate()["fn"]) == (0, 1)
