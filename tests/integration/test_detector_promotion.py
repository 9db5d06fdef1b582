"""Shadow and promotion: a shadow model (DETECTOR_SHADOW_MODEL) is scored beside the live one and its scores stored,
never published; ``promote_detector PATH`` makes a model live for a running worker at its next batch (no restart),
``--rollback`` returns to the one before; ``shadow_report`` compares the two."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from django.core.management import CommandError, call_command

from api import detector_models
from api.models import DetectorPromotion, EventChange, Mention, ShadowScore, Source, TGEEvent
from tests.detector_corpus import write
from tgesweeper.bench.feedserver import render_rss
from workers import pipeline, sweeps

PUBLISHED = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
RULES_MATCH = ("Olvenia to launch OLV token on March 9", "Olvenia said its token generation event is set for March 9.")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def models(tmp_path_factory, django_db_blocker):
    """A trained model (draws no line) and the same weights told to promote everything with a named project."""
    folder = tmp_path_factory.mktemp("models")
    with django_db_blocker.unblock():
        run("train_detector", "--corpus", str(write(folder / "corpus.jsonl")), "--out", str(folder / "plain.json"),
            "--seed", "1", "--folds", "2")
    document = json.loads((folder / "plain.json").read_text())
    document["combine"] = {"promote_at": 0.0, "promoted_confidence": 0.9, "veto_at": None}
    document["version"] = "promoting+test"
    (folder / "promoting.json").write_text(json.dumps(document))
    (folder / "promoting.meta.json").write_text(json.dumps({"version": "promoting+test", "seed": 1}))
    return folder


def debut(name: str, ticker: str) -> tuple[str, str]:
    """An item the rules do not publish and the promoting model does."""
    return f"{name} {ticker} token draws crowds at its debut party", "Traders sold the new token."


def sweep_items(feed_server, path: str, items: list[tuple[str, str, str]]) -> Source:
    feed_server.add(path, render_rss("Wire", [
        {"guid": guid, "title": title, "description": text, "link": f"https://wire.example.com/{guid}",
         "pub_date": PUBLISHED} for guid, title, text in items]))
    source = Source.objects.create(name=path, url=feed_server.url(path))
    run_id = sweeps.start_sweep([source.pk])
    assert sweeps.wait_for_sweep(run_id, timeout=120)
    return source


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_running_worker_scores_in_shadow_then_runs_a_promoted_model_and_a_rollback(models, feed_server, start_worker,
                                                                                     config, tmp_path):
    command_var, worker_var = tmp_path / "command-var", tmp_path / "worker-var"
    config(TGE_VAR_DIR=str(command_var))
    worker = start_worker(DETECTOR_SHADOW_MODEL=str(models / "promoting.json"), TGE_VAR_DIR=str(worker_var))

    sweep_items(feed_server, "/one.xml", [("d-1", *RULES_MATCH), ("d-2", *debut("Brindle", "BRN"))])
    assert Mention.objects.get(document__external_id="d-1").model_version == ""
    assert not Mention.objects.filter(document__external_id="d-2").exists(), "a shadow verdict is never published"
    assert not TGEEvent.objects.filter(key="brindle").exists()
    shadow = {s.document.external_id: s for s in ShadowScore.objects.select_related("document")}
    assert set(shadow) == {"d-1", "d-2"} and {s.model_version for s in shadow.values()} == {"promoting+test"}
    assert shadow["d-2"].confidence >= 0.9 and shadow["d-2"].project.startswith("Brindle") and 0 <= shadow["d-2"].probability <= 1
    assert EventChange.objects.count() == 1  # the rules' event only

    printed = run("promote_detector", str(models / "promoting.json"), "--by", "alice", "--note", "shadow looked good")
    assert "promoting+test is live" in printed
    assert (command_var / "models" / "promoting+test.json").exists()
    assert (command_var / "models" / "promoting+test.meta.json").exists()
    sweep_items(feed_server, "/two.xml", [("d-3", *debut("Caskwood", "CWD"))])
    promoted = Mention.objects.get(document__external_id="d-3")
    assert promoted.model_version == "promoting+test" and promoted.confidence >= 0.9, worker.log_text()[-3000:]
    assert (worker_var / "models" / "promoting+test.json").exists(), "the worker wrote its own copy from the row"

    run("promote_detector", "--rollback", "--by", "bob")
    sweep_items(feed_server, "/three.xml", [("d-4", *debut("Vendaro", "VDR"))])
    assert not Mention.objects.filter(document__external_id="d-4").exists()
    assert ShadowScore.objects.filter(document__external_id="d-4").exists()

    report = run("shadow_report")
    assert "shadow promoting+test: 4 documents scored" in report and "both publish 2, live only 0, shadow only 2" in report
    assert "Vendaro VDR token draws crowds" in report


@pytest.mark.django_db
def test_promotions_are_recorded_and_roll_back_in_order(models, config, tmp_path):
    config(TGE_VAR_DIR=str(tmp_path), DETECTOR_MODEL="")
    with pytest.raises(CommandError, match="nothing to roll back"):
        run("promote_detector", "--rollback")
    run("promote_detector", str(models / "plain.json"), "--by", "alice")
    plain = json.loads((models / "plain.json").read_text())["version"]
    run("promote_detector", str(models / "promoting.json"), "--by", "bob")
    assert detector_models.live_model() == str(tmp_path / "models" / "promoting+test.json")
    latest = DetectorPromotion.objects.first()
    assert (latest.action, latest.version, latest.replaced_version, latest.by) == ("promote", "promoting+test", plain,
                                                                                  "bob")
    run("promote_detector", "--rollback", "--by", "carol")
    assert detector_models.live_model() == str(tmp_path / "models" / f"{plain}.json")
    run("promote_detector", "--rollback")
    assert detector_models.live_model() == "" and DetectorPromotion.objects.first().replaced_version == plain
    with pytest.raises(CommandError, match="nothing to roll back"):
        run("promote_detector", "--rollback")
    history = run("promote_detector")
    assert "live: DETECTOR_MODEL (none: rules alone)" in history and "by carol" in history


@pytest.mark.django_db
def test_promote_refuses_a_model_without_its_sidecar_or_a_malformed_one(models, config, tmp_path):
    config(TGE_VAR_DIR=str(tmp_path / "var"))
    lonely = tmp_path / "lonely.json"
    lonely.write_text((models / "plain.json").read_text())
    with pytest.raises(CommandError, match="sidecar"):
        run("promote_detector", str(lonely))
    (tmp_path / "lonely.meta.json").write_text(json.dumps({"version": "another"}))
    with pytest.raises(CommandError, match="not the sidecar"):
        run("promote_detector", str(lonely))
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "tgesweeper-detector"}')
    with pytest.raises(CommandError):
        run("promote_detector", str(bad))
    assert not DetectorPromotion.objects.exists()


@pytest.mark.django_db
def test_a_shadow_model_that_cannot_load_leaves_the_live_stage_running(config, tmp_path, caplog):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    config(DETECTOR_SHADOW_MODEL=str(bad))
    pipeline._engines = None
    source = Source.objects.create(name="Wire", url="https://wire.example.com/rss")
    doc = {"external_id": "1", "title": RULES_MATCH[0], "text": RULES_MATCH[1], "url": "https://wire.example.com/1",
           "published_at": PUBLISHED.isoformat()}
    out = pipeline.match({"source_id": source.pk, "documents": [doc]})
    assert out["matches"][0]["project"] == "Olvenia" and "shadow" not in out
    assert "shadow model left out" in caplog.text
    pipeline._engines = None


@pytest.mark.django_db
def test_evaluate_compares_the_live_and_the_shadow_model_on_a_corpus(models, config, tmp_path, fresh_cache):
    config(TGE_VAR_DIR=str(tmp_path), DETECTOR_MODEL="")
    with pytest.raises(CommandError, match="no shadow model"):
        run("evaluate", str(models / "corpus.jsonl"), "--model", "shadow")
    config(DETECTOR_SHADOW_MODEL=str(models / "promoting.json"))
    compared = json.loads(run("evaluate", str(models / "corpus.jsonl"), "--compare", "live", "shadow", "--json"))
    assert compared["A"]["model_version"] is None and compared["B"]["model_version"] == "promoting+test"
    run("promote_detector", str(models / "promoting.json"))
    live = json.loads(run("evaluate", str(models / "corpus.jsonl"), "--json"))
    assert live["model_version"] == "promoting+test"
