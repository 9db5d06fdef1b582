"""Sweep the sample feeds that ship in tgesweeper/bench/demo_feeds/ into the database ``make run`` uses; print the events found.

The feeds are served on 127.0.0.1 only while the command runs. Their sources are named ``demo: <feed>`` and stay
disabled, so beat never polls the server that is gone; once swept, each points at its feed's address on the demo's
fictional site (``https://demo.invalid/<feed>.xml``, a name that never resolves), as its articles' links do, so
nothing stored names the local server's throwaway port. ``make run`` then shows the demo's events in the admin and
the API. Running it again finds the same articles already stored.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.models import Source, TGEEvent
from tgesweeper.bench.feedserver import FeedServer
from workers import sweeps
from workers.console import make_console, print_sweep, quiet_task_logs

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo_feeds"
DEMO_ORIGIN = "https://demo.invalid"
SOURCE_PREFIX = "demo: "


def public_url(feed: Path) -> str:
    return f"{DEMO_ORIGIN}/{feed.name}"


class Command(BaseCommand):
    help = ("Serve the demo feeds on 127.0.0.1, sweep them once through the real pipeline into the configured "
            "database (disabled sources named 'demo: ...'), print the events found.")

    def handle(self, *args, **options):
        if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
            raise CommandError("the demo serves its feeds on 127.0.0.1: run `make demo`, "
                               "or set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
        feeds = sorted(DEMO_DIR.glob("*.xml"))
        console = make_console()
        quiet_task_logs()
        sources: dict[int, Path] = {}
        with FeedServer() as server:
            try:
                for feed in feeds:
                    server.add(f"/{feed.name}", feed.read_bytes())
                    source, _ = Source.objects.update_or_create(
                        name=f"{SOURCE_PREFIX}{feed.stem}", defaults={"url": server.url(f"/{feed.name}"),
                                                                       "enabled": False, "etag": "",
                                                                       "last_modified": ""})
                    sources[source.pk] = feed
                console.print(f"Serving {len(feeds)} demo feeds at {server.url('/')}; sweeping them in-process…")
                with sweeps.in_process():
                    run_id = sweeps.start_sweep(list(sources))
                sweeps.wait_for_sweep(run_id, timeout=0)
            finally:
                for pk, feed in sources.items():
                    Source.objects.filter(pk=pk).update(url=public_url(feed))
        rows, _ = sweeps.sweep_results(run_id)
        # Every event the demo sources back, not only those this sweep touched: a second run stores nothing new.
        print_sweep(console, rows, list(TGEEvent.objects.filter(mentions__source__in=list(sources)).distinct()
                                        .order_by("-confidence", "project")))
        console.print(f"They are in {_database()}: `make run`, then http://127.0.0.1:8000/admin/ (TGE events; the "
                      f"sources are named '{SOURCE_PREFIX}…', disabled) or GET /api/v1/tge-events.")


def _database() -> str:
    db = settings.DATABASES["default"]
    return str(db["NAME"]) if db["ENGINE"].endswith("sqlite3") else f"the {db['ENGINE'].rsplit('.', 1)[-1]} database"
