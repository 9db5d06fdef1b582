"""``manage.py train_detector --corpus PATH [--corpus PATH ...] --out PATH [--seed N]``: fit the learned detector,
print time-ordered cross-validated figures, write the model (plain JSON) and a sidecar of its metadata."""
import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tgesweeper.bench import training
from tgesweeper.bench.evaluation import format_report, read_corpus
from tgesweeper.bench.stage_engine import stage_engine


class Command(BaseCommand):
    help = ("Fit the detector (TF-IDF word and character n-grams plus the rules' signals, logistic regression, "
            "calibrated on held-out folds) on labeled JSONL corpora, choose from out-of-time predictions where it "
            "may promote items past the rules or veto their matches; print time-ordered cross-validated figures of "
            "rules + model beside the rules alone; write a versioned JSON model. The same corpora and seed give the "
            "same bytes.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--corpus", action="append", required=True, help="labeled JSONL file (repeatable)")
        parser.add_argument("--out", required=True, help="model file to write (.json); its metadata goes beside it "
                                                         "as NAME.meta.json")
        parser.add_argument("--seed", type=int, default=0, help="seed of the calibration folds and the solver")
        parser.add_argument("--folds", type=int, default=5, help="time-ordered blocks for cross-validation (>= 2)")

    def handle(self, *args, corpus: list[str], out: str, seed: int, folds: int, **options):
        if folds < 2:
            raise CommandError("--folds: at least 2")
        paths = [Path(p) for p in corpus]
        try:
            items = [item for path in paths for item in read_corpus(path)]
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the corpus: {exc}") from None
        bad = [i for i, item in enumerate(items) if not isinstance(item, dict) or item.get("label") not in ("tge", "other")
               or not item.get("id")]
        if bad:
            raise CommandError(f"{len(bad)} items lack an id or a label of tge/other (first: item {bad[0] + 1})")
        started = time.monotonic()
        engine = stage_engine(detector=False)
        rows = training.examples(items, engine)
        params = training.Params()
        try:
            cv = training.cross_validate(rows, engine, params, seed, folds)
            body = training.fit(rows, params, seed)
            body["combine"], support = training.choose_combination(cv["scored"], engine, params)
        except ValueError as exc:
            raise CommandError(f"cannot fit a detector on {', '.join(map(str, paths))}: {exc}") from None
        self.stdout.write(f"time-ordered cross-validation ({folds} blocks by publication time; each block scored "
                          "by a model fitted on the blocks before it):")
        for fold in cv["folds"]:
            self.stdout.write(f"  {fold['from'][:10]}..{fold['to'][:10]} train {fold['train']:>4} test {fold['n']:>4}"
                              f"  P {fold['precision']:.3f} R {fold['recall']:.3f} F1 {fold['f1']:.3f}"
                              f"  not-bna R {fold['not_exchange_recall']:.3f}"
                              f"  share tge >= threshold {_share(fold['share_tge_at_threshold'])}"
                              f"  lines {json.dumps(fold['combine'])}")
        self.stdout.write("pooled over the scored blocks:\n" + format_report(cv["pooled"]))
        self.stdout.write("the rules alone on the same blocks:\n" + _headline(cv["rules"]))
        self.stdout.write(f"model alone: ranking AUC {cv['auc']} on the items past the prefilter")
        self.stdout.write(f"lines chosen from all out-of-time predictions: {json.dumps(body['combine'])} "
                          f"resting on {json.dumps(support)}")
        metadata = {
            "trained_on": training.fingerprint(paths), "items": len(items),
            "launches": sum(item["label"] == "tge" for item in items), "seed": seed,
            "params": training.params_dict(params), "libraries": training.library_versions(),
            "threshold": engine.config.min_confidence,
            "cross_validation": {"folds": cv["folds"], "pooled": training.brief(cv["pooled"]),
                                 "rules_pooled": training.brief(cv["rules"]), "auc": cv["auc"]},
            "combine_support": support,
        }
        target = Path(out)
        document = training.model_document(body, target.name.removesuffix(".json"), metadata)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(training.dumps(document), encoding="utf-8")
            sidecar = target.with_name(target.name.removesuffix(".json") + ".meta.json")
            sidecar.write_text(json.dumps({"version": document["version"], **metadata}, indent=1, sort_keys=True)
                               + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc}") from None
        terms = sum(len(block["terms"]) for block in body["text_features"])
        self.stdout.write(f"wrote {target} (version {document['version']}, {terms} n-grams, "
                          f"{len(body['signals'])} signals, {target.stat().st_size} bytes) and {sidecar.name} "
                          f"in {time.monotonic() - started:.0f} s")


def _share(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _headline(result: dict) -> str:
    outside = result["not_exchange"]
    return (f"  P {result['precision']:.3f} R {result['recall']:.3f} F1 {result['f1']:.3f}"
            f"  not-bna R {outside['recall']:.3f}")
