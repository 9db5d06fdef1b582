"""Run the push consumer: hold every enabled push source's stream open until SIGTERM or SIGINT (docs/operations.md)."""
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand

from workers.push import PushConsumer
from workers.tasks import parse_payload


class Command(BaseCommand):
    help = ("Hold the stream of every enabled push source (kind websocket) open and hand each new announcement to the "
            "pipeline's parse stage; sources added, changed or disabled are picked up every PUSH_SOURCES_REFRESH "
            "seconds. Runs until SIGTERM or SIGINT. Needs a broker and workers (REDIS_URL or CELERY_BROKER_URL).")

    def add_arguments(self, parser):
        parser.add_argument("--heartbeat-file", type=Path, metavar="PATH",
                            help="touch PATH every PUSH_SOURCES_REFRESH seconds (for a health check)")

    def handle(self, *args, heartbeat_file: Path | None, **options):
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        PushConsumer(send=parse_payload.delay).run(stopping, heartbeat=heartbeat_file)
