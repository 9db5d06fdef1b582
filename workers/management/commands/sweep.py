"""Run one sweep of the enabled sources through the pipeline and print what it found."""
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.models import Source, SweepSource
from workers import sweeps
from workers.console import make_console, print_sweep, quiet_task_logs


class Command(BaseCommand):
    help = ("Sweep the enabled sources once (fetch → parse → match → persist → notify). In-process when no broker "
            "is configured (no REDIS_URL/CELERY_BROKER_URL), through the broker and its workers otherwise. "
            "Exits non-zero when a source failed or the sweep did not finish.")

    def add_arguments(self, parser):
        parser.add_argument("--source", action="append", default=[], metavar="NAME",
                            help="sweep only this source (repeatable); disabled sources may be named")
        parser.add_argument("--in-process", action="store_true", help="run in this process even if a broker is set")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for workers (default 600)")

    def handle(self, *args, source: list[str], in_process: bool, timeout: float, **options):
        sources = Source.objects.filter(name__in=source) if source else Source.objects.filter(enabled=True)
        ids = list(sources.values_list("pk", flat=True))
        missing = set(source) - set(sources.values_list("name", flat=True))
        if missing:
            raise CommandError(f"no source named {', '.join(sorted(missing))} (see the admin or load_sources)")
        if not ids:
            raise CommandError("no enabled sources: run `python manage.py load_sources` or add one in the admin")

        console = make_console()
        quiet_task_logs()
        local = in_process or not sweeps.broker_configured()
        console.print(f"Sweeping {len(ids)} source(s) {'in-process' if local else 'through the broker'}…")
        if local:
            with sweeps.in_process():
                run_id = sweeps.start_sweep(ids)
            finished = sweeps.wait_for_sweep(run_id, timeout=0)
        else:
            run_id = sweeps.start_sweep(ids)
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("sources finished", total=len(ids))
                finished = sweeps.wait_for_sweep(
                    run_id, timeout=timeout,
                    on_progress=lambda p: bar.update(task, completed=p.sources_finished,
                                                     description=f"sources finished (batches {p.batches_done}/"
                                                                 f"{p.batches_expected})"))
        rows, events = sweeps.sweep_results(run_id)
        print_sweep(console, rows, events)
        if not finished:
            raise CommandError(f"sweep {run_id} did not finish within {timeout:.0f} s: are workers running "
                               "(celery -A tgesweeper worker -Q fetch,parse,match,persist,notify,alerts)?")
        failed = [row.source.name for row in rows if row.state == SweepSource.State.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} of {len(rows)} source(s) failed: {', '.join(failed)} (errors above)")
