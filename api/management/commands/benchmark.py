"""Benchmarks that print figures: ``benchmark pipeline`` (end to end) and ``benchmark match`` (the match stage)."""
import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Measure the sweeper: `benchmark pipeline --docs N` end to end, `benchmark match` the match stage alone."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="which", required=True)
        pipeline = sub.add_parser("pipeline", help="N generated feed items through real workers and the database")
        pipeline.add_argument("--docs", type=int, default=10000)
        pipeline.add_argument("--per-feed", type=int, default=500, help="items per generated feed (default 500)")
        pipeline.add_argument("--concurrency", type=int, default=2, help="worker processes to start (default 2)")
        pipeline.add_argument("--use-running-workers", action="store_true",
                              help="do not start a worker; use the ones already consuming the broker")
        pipeline.add_argument("--keep", action="store_true", help="keep the generated sources and documents")
        pipeline.add_argument("--json", action="store_true")
        match = sub.add_parser("match", help="documents per second per core and latency of the match stage")
        match.add_argument("--docs", type=int, default=5000)
        match.add_argument("--json", action="store_true")

    def handle(self, *args, which: str, **options):
        if which == "pipeline":
            from workers.benchmark import run_pipeline_benchmark

            if options["docs"] < 1:
                raise CommandError("--docs must be at least 1")
            try:
                result = run_pipeline_benchmark(options["docs"], per_feed=options["per_feed"],
                                                concurrency=options["concurrency"],
                                                spawn_worker=not options["use_running_workers"], keep=options["keep"])
            except RuntimeError as exc:
                raise CommandError(str(exc)) from None
            self._print(result, options["json"])
            if result["lost"] or result["duplicated"] or result["unexpected"] or not result["finished"]:
                raise CommandError("the pipeline lost, duplicated or did not finish work (see above)")
        else:
            from tgesweeper.matching.benchmark import run_match_benchmark
            from workers.pipeline import engine

            self._print(run_match_benchmark(docs=options["docs"], engine=engine()), options["json"])

    def _print(self, result: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        for key, value in result.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            self.stdout.write(f"{key:>22}: {value}")
