"""``evaluate`` and ``benchmark match`` measure the engine the match stage runs (the admin's keyword rules included),
and run on a fresh clone whose database is not migrated yet."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from api.models import KeywordRule
from tgesweeper.bench.local_process import ROOT
from workers import pipeline

LAUNCH = {"id": "t:1", "title": "Ferrowind (FWD) token goes live", "text": "", "url": "https://news.example.com/fwd",
          "published_at": "2026-05-04T09:00:00Z", "source": "test", "label": "tge", "project": "Ferrowind",
          "ticker": "FWD", "tge_date": None, "kind": "live"}
NOISE = {**LAUNCH, "id": "t:2", "title": "Bitcoin slips below $88,000", "label": "other", "project": None,
         "ticker": None, "kind": None}


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(item) for item in (LAUNCH, NOISE)))
    return path


def fresh_clone_env(tmp_path) -> dict[str, str]:
    """A newcomer's checkout: embedded default, nothing migrated."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}}
    return {**env, "TGE_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": "", "APP_ENV": "development"}


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


def test_benchmark_match_and_evaluate_run_on_an_unmigrated_database(tmp_path, corpus):
    env = fresh_clone_env(tmp_path)
    bench = manage(env, "benchmark", "match", "--docs", "200", "--json")
    assert bench.returncode == 0, bench.stderr
    assert json.loads(bench.stdout)["docs"] == 200
    evaluated = manage(env, "evaluate", str(corpus), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert (lambda r: (r["tp"], r["fp"], r["fn"]))(json.loads(evaluated.stdout)) == (1, 0, 0)
    for run in (bench, evaluated):
        assert "Traceback" not in run.stderr
        assert [line for line in run.stderr.splitlines() if "not migrated" in line], run.stderr


def evaluate(path) -> dict:
    out = io.StringIO()
    call_command("evaluate", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def match_stage_finds_the_launch() -> bool:
    doc = {"external_id": "1", "title": LAUNCH["title"], "text": "", "url": LAUNCH["url"],
           "published_at": LAUNCH["published_at"]}
    return pipeline.match({"source_id": 0, "documents": [doc]}, source_name="test")["matches"][0] is not None


@pytest.mark.django_db
def test_evaluate_applies_the_admins_keyword_rules_as_the_match_stage_does(corpus, fresh_cache):
    before = evaluate(corpus)
    assert (before["tp"], before["fn"]) == (1, 0) and match_stage_finds_the_launch()

    KeywordRule.objects.create(vocabulary=KeywordRule.Vocabulary.EXCLUSION, phrase="Ferrowind")
    after = evaluate(corpus)
    assert (after["tp"], after["fn"]) == (0, 1)
    assert not match_stage_finds_the_launch()
