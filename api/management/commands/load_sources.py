"""Create or update the default sources listed in the YAML config (``scraping.news.sources``).

An entry's ``enabled`` (default true) and ``settings`` (the kind's options) are applied when the source is
created; on later runs the settings follow the YAML, and ``enabled: true`` switches a source on, but the YAML
never switches off a source someone enabled in the admin.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.models import Source
from api.validation import validate_source_options


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
                options = entry.get("settings") or {}
                try:
                    validate_source_options(Source(kind=kind, settings=options))
                except ValidationError as exc:
                    raise CommandError(f"scraping.news.sources: {name}: {'; '.join(exc.messages)}") from None
                interval = int(entry.get("interval") or settings.CONFIG["SCRAPING_INTERVAL"])
                source, created = Source.objects.get_or_create(
                    name=name, defaults={"kind": kind, "url": entry["url"], "settings": options,
                                         "enabled": bool(entry.get("enabled", True)) and not disabled,
                                         "interval_seconds": interval},
                )
                if not created:
                    source.kind, source.url, source.settings = kind, entry["url"], options
                    source.interval_seconds = int(entry.get("interval") or source.interval_seconds)
                    if entry.get("enabled") is True:  # the YAML can switch a source on; only people switch one off
                        source.enabled = True
                    source.save()
                state = "" if source.enabled else ", disabled"
                self.stdout.write(f"{'created' if created else 'updated'} {source.name} ({source.url}{state})")
        from workers.schedule import sync_all_schedules

        self.stdout.write(f"schedules in step for {sync_all_schedules()} source(s)")
