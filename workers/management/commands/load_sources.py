"""Create or update the default sources listed in the YAML config (``scraping.news.sources``).

An entry's ``enabled`` (default true) and ``options`` (the kind's options) are applied when the source is
created; on later runs the options follow the YAML, and ``enabled: true`` switches a source on, but the YAML
never switches off a source someone enabled in the admin. ``settings``, the old name of ``options``, is still read,
with a warning naming the entry, so a file written for an earlier version loads unchanged.

Every entry is checked as the admin checks a Source it saves (``Source.full_clean``: the fields, the URL through
the SSRF guard of ``tgesweeper.net`` unless SCRAPING_ALLOW_PRIVATE_NETWORKS is set, the kind's options) before
anything is written. One bad entry loads nothing: the command fails listing every bad entry by name, so an
operator fixes the file once and runs it again (``make run`` and the compose ``migrate`` job stop there).
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.settings import api_settings

from api.errors import validation_detail
from api.models import Source
from workers.schedule import sync_all_schedules


def _problems(exc: ValidationError) -> list[str]:
    return [f"{field}: {message}" if field != api_settings.NON_FIELD_ERRORS_KEY else message
            for field, messages in validation_detail(exc).items() for message in messages]


def _loaded_fields(source: Source) -> tuple:
    """What an entry can change on a saved source."""
    return source.kind, source.url, source.options, source.interval_seconds, source.enabled


class Command(BaseCommand):
    help = ("Create or update the sources listed under scraping.news.sources in the config (matched by name). "
            "Each is validated like a Source saved in the admin (URL guard included); one bad entry loads nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--disabled", action="store_true", help="create new sources disabled")

    def handle(self, *args, disabled: bool = False, **options):
        entries = settings.CONFIG.default_sources
        if not entries:
            raise CommandError("no sources under scraping.news.sources in the config")
        with transaction.atomic():
            planned, problems, names = [], [], set()
            for number, entry in enumerate(entries, 1):
                label = entry.get("name") if isinstance(entry, dict) and entry.get("name") else f"entry {number}"
                try:
                    if label in names:
                        raise ValueError("a second entry with this name (sources are matched by name)")
                    names.add(label)
                    planned.append(self._planned(entry, disabled))
                except ValueError as exc:
                    problems.append(f"{label}: {exc}")
            if problems:
                raise CommandError("scraping.news.sources: nothing loaded; fix these entries and run again:\n  "
                                   + "\n  ".join(problems))
            counts = dict.fromkeys(("created", "updated", "unchanged"), 0)
            for source, outcome in planned:
                if outcome != "unchanged":
                    source.save()
                counts[outcome] += 1
                state = "" if source.enabled else ", disabled"
                self.stdout.write(f"{outcome} {source.name} ({source.url}{state})")
            self.stdout.write(", ".join(f"{count} {outcome}" for outcome, count in counts.items()))

        self.stdout.write(f"schedules in step for {sync_all_schedules()} source(s)")

    def _planned(self, entry, disabled: bool) -> tuple[Source, str]:
        """The Source as it will be saved (not saved yet) and whether it is created, updated or unchanged;
        ValueError says what is wrong."""
        kinds = sorted(Source.Kind.values)
        if not isinstance(entry, dict):
            raise ValueError(f"expected a mapping with name, type, url, got {entry!r}")
        name, kind = entry.get("name"), entry.get("type", "rss")
        if not name or not entry.get("url") or kind not in kinds:
            raise ValueError(f"{entry!r} needs name, url and type in {kinds}")
        try:
            interval = int(entry["interval"]) if entry.get("interval") is not None else None
        except (TypeError, ValueError):
            raise ValueError(f"interval: expected a number of seconds, got {entry['interval']!r}") from None
        options = entry.get("options") or {}
        if "settings" in entry:
            if "options" in entry:
                raise ValueError("both options and settings (its old name): keep options")
            options = entry["settings"] or {}
            self.stderr.write(f"warning: {name}: 'settings' is the old name of 'options'; rename the key")
        source = Source.objects.filter(name=name).first()
        created = source is None
        before = None if created else _loaded_fields(source)
        if created:
            source = Source(name=name, enabled=bool(entry.get("enabled", True)) and not disabled,
                            interval_seconds=interval or settings.CONFIG["SCRAPING_INTERVAL"])
        else:
            source.interval_seconds = interval or source.interval_seconds
            if entry.get("enabled") is True:  # the YAML can switch a source on; only people switch one off
                source.enabled = True
        source.kind, source.url, source.options = kind, entry["url"], options
        try:
            source.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ValueError("; ".join(_problems(exc))) from None
        if created:
            return source, "created"
        return source, "unchanged" if _loaded_fields(source) == before else "updated"
