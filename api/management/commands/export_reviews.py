"""``manage.py export_reviews [--out PATH]``: reviewers' labeled items as JSON lines, in the corpora's shape."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from api import reviewed_examples


class Command(BaseCommand):
    help = ("Write the items reviewers labeled (confirm: tge, reject: other; merges once their event is reviewed) as "
            "JSON lines in the corpora's shape (id, title, text, url, published_at, source, label, project, ticker, "
            "tge_date, kind, and decision), oldest first: to stdout, or to --out.")

    def add_arguments(self, parser):
        parser.add_argument("--out", help="file to write (default: stdout)")

    def handle(self, *args, out: str | None = None, **options):
        text = reviewed_examples.dumps(reviewed_examples.corpus_items())
        if not out:
            self.stdout.write(text, ending="")
            return
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc}") from None
        self.stderr.write(f"wrote {text.count(chr(10))} items to {out}")
