"""``manage.py evaluate PATH``: the matching engine's precision, recall and calibration on a labeled JSONL corpus."""
import json

from django.core.management.base import BaseCommand, CommandError

from tgesweeper.bench.evaluation import (
    compare,
    evaluate_items,
    format_comparison,
    format_report,
    read_corpus,
    split_by_project,
)
from tgesweeper.bench.stage_engine import stage_engine
from tgesweeper.matching.detector import DetectorError


class Command(BaseCommand):
    help = ("Measure the engine the match stage runs (configured vocabulary plus the admin's keyword rules, and the "
            "configured detector model) on a labeled JSONL corpus; no broker or network needed, and no migrated "
            "database when there are no rules.")
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSONL file: id, title, text, published_at, label (tge|other), project, ...")
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("--show-errors", action="store_true", help="list false positives and negatives with reasons")
        parser.add_argument("--half", choices=("A", "B"), help="only one half of the corpus, split by project")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--model", help="score with this detector model file instead of DETECTOR_MODEL "
                                           "(\"none\": the rules alone)")
        which.add_argument("--compare", nargs=2, metavar=("A", "B"),
                           help="two model files (or \"none\" for the rules alone): figures side by side and the "
                                "items they disagree on")

    def handle(self, *args, path: str, **options):
        try:
            items = read_corpus(path)
            if options["half"]:
                items = split_by_project(items)["AB".index(options["half"])]
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot evaluate {path}: {exc}") from None
        try:
            if options["compare"]:
                engines = [self._engine(model) for model in options["compare"]]
                result = compare(items, *engines)
                text = format_comparison(result)
            else:
                result = evaluate_items(items, self._engine(options["model"]))
                text = format_report(result, show_errors=options["show_errors"])
        except DetectorError as exc:
            raise CommandError(str(exc)) from None
        except ValueError as exc:
            raise CommandError(f"cannot evaluate {path}: {exc}") from None
        self.stdout.write(json.dumps(result) if options["json"] else text)

    @staticmethod
    def _engine(model: str | None):
        return stage_engine(True if model is None else (False if model.lower() == "none" else model))
