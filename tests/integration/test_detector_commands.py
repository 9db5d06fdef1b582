"""``train_detector`` writes the same bytes twice for the same corpus and seed, a model the match stage loads;
``evaluate --model`` and ``--compare`` measure it; a Mention stored by a real worker records the model's version."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from django.core.management import CommandError, call_command

from api.keyword_rules import build_engine
from api.models import Mention, Source
from tests.detector_corpus import write
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.matching import MatchInput
from workers import sweeps


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, django_db_blocker):
    folder = tmp_path_factory.mktemp("detector")
    corpus = write(folder / "corpus.jsonl")
    outputs = []
    for name in ("one", "two"):
        with django_db_blocker.unblock():
            printed = run("train_detector", "--corpus", str(corpus), "--out", str(folder / name / "model.json"),
                          "--seed", "3", "--folds", "2")
        outputs.append(printed)
    return folder, corpus, outputs


@pytest.mark.django_db
def test_train_detector_is_reproducible_and_its_model_loads(trained):
    folder, corpus, outputs = trained
    one, two = (folder / name / "model.json" for name in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    assert (folder / "one" / "model.meta.json").read_bytes() == (folder / "two" / "model.meta.json").read_bytes()
    assert "time-ordered cross-validation" in outputs[0] and "pooled over the scored blocks" in outputs[0]
    meta = json.loads((folder / "one" / "model.meta.json").read_text())
    assert meta["seed"] == 3 and meta["trained_on"]["files"]["corpus.jsonl"] and meta["libraries"]["scikit-learn"]
    engine = build_engine(str(one))
    assert engine.detector.version == json.loads(one.read_text())["version"]
    text = one.read_text()
    assert "Quillstone" not in text and "quillstone" not in text  # names are masked, never learned


@pytest.mark.django_db
def test_evaluate_with_a_model_and_comparing_two(trained, fresh_cache):
    folder, corpus, _ = trained
    model = folder / "one" / "model.json"
    version = json.loads(model.read_text())["version"]
    report = run("evaluate", str(corpus), "--model", str(model))
    assert f"model {version}" in report.splitlines()[0]
    result = json.loads(run("evaluate", str(corpus), "--model", str(model), "--json"))
    assert result["model_version"] == version and result["n"] == 48
    errors = result["false_positives"] + result["false_negatives"]
    assert errors and all("top_features" in e for e in errors)
    shown = run("evaluate", str(corpus), "--model", str(model), "--show-errors")
    assert "features: " in shown
    compared = json.loads(run("evaluate", str(corpus), "--compare", "none", str(model), "--json"))
    assert compared["A"]["model_version"] is None and compared["B"]["model_version"] == version
    for item in compared["disagreements"]:
        assert item["found_by"] in "AB" and item["right"] in "AB"
    printed = run("evaluate", str(corpus), "--compare", "none", str(model))
    assert "items they disagree on" in printed and version in printed


@pytest.mark.django_db
def test_evaluate_refuses_a_malformed_model_clearly(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "tgesweeper-detector", "format_version": 2}')
    with pytest.raises(CommandError, match="version"):
        run("evaluate", str(write(tmp_path / "c.jsonl")), "--model", str(bad))


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_real_worker_publishes_what_the_model_promotes_and_records_its_version(trained, feed_server, start_worker,
                                                                                  tmp_path):
    """The trained file with its promotion line moved to 0: every item the rules do not publish, with a named
    project, is promoted. The rules' own match keeps its confidence and records no model (no veto line)."""
    folder, _, _ = trained
    document = json.loads((folder / "one" / "model.json").read_text())
    document["combine"] = {"promote_at": 0.0, "promoted_confidence": 0.9, "veto_at": None}
    model = tmp_path / "promoting.json"
    model.write_text(json.dumps(document))
    published = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
    feed_server.add("/wire.xml", render_rss("Local wire", [
        {"guid": "d-1", "title": "Olvenia to launch OLV token on March 9",
         "description": "Olvenia said its token generation event is set for March 9.",
         "link": "https://wire.example.com/1", "pub_date": published},
        {"guid": "d-2", "title": "Brindle BRN token draws crowds at its debut party",
         "description": "Traders sold the new token.", "link": "https://wire.example.com/2", "pub_date": published}]))
    source = Source.objects.create(name="Local wire", url=feed_server.url("/wire.xml"))
    worker = start_worker(DETECTOR_MODEL=str(model))

    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120), worker.log_text()[-3000:]
    ruled = Mention.objects.get(document__external_id="d-1")
    promoted = Mention.objects.get(document__external_id="d-2")
    rules = build_engine(False).judge(MatchInput(title="Olvenia to launch OLV token on March 9",
                                                 text="Olvenia said its token generation event is set for March 9.",
                                                 published_at=published)).match
    assert ruled.model_version == "" and ruled.confidence == rules.confidence
    assert promoted.model_version == document["version"] and promoted.confidence >= 0.9
