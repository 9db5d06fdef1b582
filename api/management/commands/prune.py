"""``manage.py prune``: delete old documents that support no event (api/retention.py) and print the counts."""

from django.conf import settings
from django.core.management.base import BaseCommand

from api.retention import prune_documents


class Command(BaseCommand):
    help = (
        "Delete documents fetched more than DOCUMENT_RETENTION_DAYS ago (or --days), except those behind a mention "
        "of an event. Beat runs it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="retention in days (default: DOCUMENT_RETENTION_DAYS)")

    def handle(self, *args, days: int | None, **options):
        days = settings.CONFIG["DOCUMENT_RETENTION_DAYS"] if days is None else days
        pruned = prune_documents(days)
        if pruned is None:
            self.stdout.write("retention is off (0 days): nothing deleted")
            return
        self.stdout.write(
            f"deleted {pruned.deleted} documents fetched before {pruned.cutoff:%Y-%m-%d %H:%M} UTC; "
            f"kept {pruned.kept} older ones that support an event"
        )
