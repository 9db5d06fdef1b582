"""Sweep the sample feeds that ship in tgesweeper/bench/demo_feeds/ (served on 127.0.0.1) and print the TGE events found."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.models import Source
from tgesweeper.bench.feedserver import FeedServer
from workers.console import make_console, print_sweep, quiet_task_logs

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo_feeds"


class Command(BaseCommand):
    help = "Serve the demo feeds on 127.0.0.1, sweep them once through the real pipeline, print the events found."

    def handle(self, *args, **options):
        from workers import sweeps

        if not settings.CONFIG["SCRAPING_ALLOW_PRIVATE_NETWORKS"]:
            raise CommandError("the demo serves its feeds on 127.0.0.1: run `make demo`, "
                               "or set SCRAPING_ALLOW_PRIVATE_NETWORKS=true")
        feeds = sorted(DEMO_DIR.glob("*.xml"))
        console = make_console()
        quiet_task_logs()
        with FeedServer() as server:
            ids = []
            for feed in feeds:
                server.add(f"/{feed.name}", feed.read_bytes())
                # Disabled: beat must not poll a server that lives only as long as this command.
                source, _ = Source.objects.update_or_create(
                    name=f"demo: {feed.stem}", defaults={"url": server.url(f"/{feed.name}"), "enabled": False,
                                                         "etag": "", "last_modified": ""})
                ids.append(source.pk)
            console.print(f"Serving {len(feeds)} demo feeds at {server.url('/')}; sweeping them in-process…")
            with sweeps.in_process():
                run_id = sweeps.start_sweep(ids)
            sweeps.wait_for_sweep(run_id, timeout=0)
        print_sweep(console, *sweeps.sweep_results(run_id))
