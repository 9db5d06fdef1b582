"""Create or update the default sources listed in the YAML config (``scraping.news.sources``)."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.models import Source


class Command(BaseCommand):
    help = "Create or update the sources listed under scraping.news.sources in the config (matched by name)."

    def add_arguments(self, parser):
        parser.add_argument("--disabled", action="store_true", help="create new sources disabled")

    def handle(self, *args, disabled: bool = False, **options):
        entries = settings.CONFIG.default_sources
        if not entries:
            raise CommandError("no sources under scraping.news.sources in the config")
        kinds = set(Source.Kind.values)
        with transaction.atomic():
            for entry in entries:
                name, kind = entry.get("name"), entry.get("type", "rss")
                if not name or not entry.get("url") or kind not in kinds:
                    raise CommandError(f"scraping.news.sources: entry {entry!r} needs name, url and type in {sorted(kinds)}")
                source, created = Source.objects.get_or_create(
                    name=name, defaults={"kind": kind, "url": entry["url"], "enabled": not disabled,
                                         "interval_seconds": int(entry.get("interval") or settings.CONFIG["SCRAPING_INTERVAL"])},
                )
                if not created:
                    source.kind, source.url = kind, entry["url"]
                    source.interval_seconds = int(entry.get("interval") or source.interval_seconds)
                    source.save()
                self.stdout.write(f"{'created' if created else 'updated'} {source.name} ({source.url})")
        from workers.schedule import sync_all_schedules

        self.stdout.write(f"schedules in step for {sync_all_schedules()} source(s)")
