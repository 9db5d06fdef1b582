"""``manage.py evaluate PATH``: the matching engine's precision, recall and calibration on a labeled JSONL corpus."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from api.keyword_rules import build_engine
from tgesweeper.bench.evaluation import evaluate_items, format_report, read_corpus, split_by_project


class Command(BaseCommand):
    help = ("Measure the engine the match stage runs (configured vocabulary plus the admin's keyword rules) on a "
            "labeled JSONL corpus; no broker or network needed, and no migrated database when there are no rules.")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSONL file: id, title, text, published_at, label (tge|other), project, ...")
        parser.add_argument("--json", action="store_true", help="print the full result as JSON")
        parser.add_argument("--show-errors", action="store_true", help="list false positives and negatives with reasons")
        parser.add_argument("--half", choices=("A", "B"), help="only one half of the corpus, split by project")

    def handle(self, *args, path: str, **options):
        try:
            engine = build_engine()
        except DatabaseError as exc:
            raise CommandError(f"cannot read the keyword rules the match stage uses: {exc}") from None
        try:
            items = read_corpus(path)
            if options["half"]:
                items = split_by_project(items)["AB".index(options["half"])]
            result = evaluate_items(items, engine)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot evaluate {path}: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(format_report(result, show_errors=options["show_errors"]))
