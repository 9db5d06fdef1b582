"""Benchmarks that print figures: ``benchmark pipeline`` (end to end), ``benchmark fetch`` (concurrent fetching of
slow sources), ``benchmark push`` (a push source's detection delay), ``benchmark match`` (the match stage),
``benchmark api`` (the REST API under the locust mix), ``benchmark latency`` (publication → alert),
``benchmark dashboard`` (each page in a browser) and ``benchmark faults`` (the reliability list's faults on real
processes, one row each)."""
import json
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from tgesweeper.bench.api_benchmark import run_api_benchmark
from tgesweeper.bench.dashboard_benchmark import run_dashboard_benchmark
from tgesweeper.bench.fault_benchmark import FAULTS, run_fault_benchmark
from tgesweeper.bench.fetch_benchmark import run_fetch_benchmark
from tgesweeper.bench.latency_benchmark import run_latency_benchmark
from tgesweeper.bench.match_benchmark import run_match_benchmark
from tgesweeper.bench.pipeline_benchmark import run_pipeline_benchmark
from tgesweeper.bench.push_benchmark import run_push_benchmark
from tgesweeper.bench.stage_cpu_benchmark import run_stage_cpu_benchmark
from tgesweeper.bench.stage_engine import stage_engine
from tgesweeper.config import PROJECT_DIR
from tgesweeper.matching import MatchEngine
from tgesweeper.matching.detector import Detector, DetectorError


class Command(BaseCommand):
    help = ("Measure the sweeper: `benchmark pipeline --docs N` end to end, `benchmark match` the match stage alone, "
            "`benchmark api --events N` the REST API, `benchmark latency --items N` publication → alert, "
            "`benchmark faults` the reliability list's faults on real workers (one row each).")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="which", required=True)
        pipeline = sub.add_parser("pipeline", help="N generated feed items through real workers and the database")
        pipeline.add_argument("--docs", type=int, default=10000)
        pipeline.add_argument("--per-feed", type=int, default=500, help="items per generated feed (default 500)")
        pipeline.add_argument("--concurrency", type=int, default=2,
                              help="worker processes to start, on each host with --hosts (default 2)")
        pipeline.add_argument("--hosts", type=int, default=0,
                              help="start N worker hosts, each a network namespace with its own address (root and "
                                   "iproute2; otherwise plain processes), on a private Redis and PostgreSQL")
        pipeline.add_argument("--kill-host", action="store_true",
                              help="kill -9 the first host's worker once a third of the documents are stored")
        pipeline.add_argument("--use-running-workers", action="store_true",
                              help="do not start a worker; use the ones already consuming the broker")
        pipeline.add_argument("--keep", action="store_true", help="keep the generated sources and documents")
        pipeline.add_argument("--json", action="store_true")
        stages = sub.add_parser("stages", help="CPU seconds of parse, match and persist in this process (no Celery)")
        stages.add_argument("--docs", type=int, default=10000)
        stages.add_argument("--per-feed", type=int, default=500, help="items per generated feed (default 500)")
        stages.add_argument("--profile", metavar="PATH", help="write cProfile statistics to PATH.parse, .match, "
                                                              ".persist")
        stages.add_argument("--json", action="store_true")
        fetch = sub.add_parser("fetch", help="N slow feeds through a threaded fetch worker and the CPU-stage workers")
        fetch.add_argument("--sources", type=int, default=200)
        fetch.add_argument("--delay", type=float, default=1.0, help="seconds each feed waits before answering (default 1)")
        fetch.add_argument("--items", type=int, default=10, help="items per feed (default 10)")
        fetch.add_argument("--threads", type=int, default=20, help="fetch worker threads (default 20, as compose)")
        fetch.add_argument("--cpu-concurrency", type=int, default=1, help="parse+match worker processes (default 1)")
        fetch.add_argument("--io-concurrency", type=int, default=1, help="persist+notify worker processes (default 1)")
        fetch.add_argument("--json", action="store_true")
        push = sub.add_parser("push", help="announcements pushed by a local WebSocket → consume_push → a worker")
        push.add_argument("--messages", type=int, default=20)
        push.add_argument("--interval", type=float, default=0.25, help="seconds between announcements (default 0.25)")
        push.add_argument("--concurrency", type=int, default=2, help="worker processes to start (default 2)")
        push.add_argument("--json", action="store_true")
        match = sub.add_parser("match", help="documents per second per core and latency of the match stage")
        match.add_argument("--docs", type=int, default=5000)
        match.add_argument("--shadow", metavar="PATH", help="score every item past the prefilter with this model in "
                                                            "shadow too, as the match stage does with DETECTOR_SHADOW_MODEL")
        match.add_argument("--json", action="store_true")
        api = sub.add_parser("api", help="seed N events, serve the API with gunicorn, drive the locust mix headless")
        api.add_argument("--events", type=int, default=100_000)
        api.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
        api.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
        api.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
        api.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (default 3)")
        api.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker (default 2)")
        api.add_argument("--no-cache", action="store_true", help="serve without the response cache (CACHE_TTL_SECONDS=0)")
        api.add_argument("--keep", action="store_true", help="keep the seeded events for the next run")
        api.add_argument("--json", action="store_true")
        latency = sub.add_parser("latency", help="launch items published at random moments on a local feed, polled by "
                                                 "the real beat and workers, alerted to a local signed-webhook receiver")
        latency.add_argument("--items", type=int, default=20)
        latency.add_argument("--interval", type=int, default=10, help="the source's polling interval, s (default 10)")
        latency.add_argument("--concurrency", type=int, default=2, help="worker processes to start (default 2)")
        latency.add_argument("--json", action="store_true")
        dashboard = sub.add_parser("dashboard", help="seed N events, serve the site, time each dashboard page in Chromium")
        dashboard.add_argument("--events", type=int, default=1_000_000)
        dashboard.add_argument("--rounds", type=int, default=3, help="visits of every page (default 3)")
        dashboard.add_argument("--keep", action="store_true", help="keep the seeded events for the next run")
        dashboard.add_argument("--json", action="store_true")
        faults = sub.add_parser("faults", help="each fault of the reliability list on real workers under load, one row "
                                               "each: sent, stored, lost, duplicated, unexpected, seconds to recover")
        faults.add_argument("--broker", choices=("redis", "rabbitmq"), default="redis",
                            help="a private redis-server, or a private RabbitMQ node (default redis)")
        faults.add_argument("--faults", default=",".join(map(str, FAULTS)),
                            help=f"which faults, by number (default {','.join(map(str, FAULTS))})")
        faults.add_argument("--docs", type=int, help="documents of each fault's load (default: 60, 600 for fault 4)")
        faults.add_argument("--json", action="store_true")

    def handle(self, *args, which: str, **options):
        if which == "pipeline":
            self._benchmark_pipeline(options)
        elif which == "stages":
            if options["docs"] < 1 or options["per_feed"] < 1:
                raise CommandError("--docs and --per-feed must be at least 1")
            self._print(run_stage_cpu_benchmark(options["docs"], per_feed=options["per_feed"],
                                                profile=options["profile"]), options["json"])
        elif which == "fetch":
            if min(options["sources"], options["items"], options["threads"], options["cpu_concurrency"],
                   options["io_concurrency"]) < 1 or options["delay"] < 0:
                raise CommandError("--sources, --items, --threads and the concurrencies must be at least 1, "
                                   "--delay >= 0")
            self._counted(lambda: run_fetch_benchmark(
                options["sources"], delay=options["delay"], items_per_feed=options["items"],
                threads=options["threads"], cpu_concurrency=options["cpu_concurrency"],
                io_concurrency=options["io_concurrency"]), options["json"])
        elif which == "push":
            if options["messages"] < 1 or options["concurrency"] < 1 or options["interval"] < 0:
                raise CommandError("--messages and --concurrency must be at least 1, --interval >= 0")
            self._counted(lambda: run_push_benchmark(options["messages"], interval=options["interval"],
                                                     concurrency=options["concurrency"]), options["json"])
        elif which == "api":
            self._benchmark_api(options)
        elif which == "latency":
            self._benchmark_latency(options)
        elif which == "faults":
            self._benchmark_faults(options)
        elif which == "dashboard":
            try:
                result = run_dashboard_benchmark(options["events"], rounds=max(1, options["rounds"]),
                                                 keep=options["keep"], progress=self._seed_progress(options))
            except RuntimeError as exc:
                raise CommandError(str(exc)) from None
            self._print(result, options["json"])
        else:
            engine = stage_engine()
            try:
                shadow = MatchEngine(engine.config, Detector.load(PROJECT_DIR / options["shadow"])) if options["shadow"] else None
            except DetectorError as exc:
                raise CommandError(str(exc)) from None
            self._print(run_match_benchmark(docs=options["docs"], engine=engine, shadow=shadow), options["json"])

    def _benchmark_pipeline(self, options: dict) -> None:
        if options["docs"] < 1 or options["concurrency"] < 1 or options["hosts"] < 0:
            raise CommandError("--docs and --concurrency must be at least 1, --hosts at least 0")
        if options["hosts"] and options["use_running_workers"]:
            raise CommandError("--hosts starts its own workers: leave out --use-running-workers")
        self._counted(lambda: run_pipeline_benchmark(
            options["docs"], per_feed=options["per_feed"], concurrency=options["concurrency"],
            spawn_worker=not options["use_running_workers"], keep=options["keep"], hosts=options["hosts"],
            kill_host=options["kill_host"]), options["json"])

    def _benchmark_latency(self, options: dict) -> None:
        if options["items"] < 1 or options["interval"] < 1:
            raise CommandError("--items and --interval must be at least 1")
        try:
            result = run_latency_benchmark(options["items"], interval=options["interval"],
                                           concurrency=options["concurrency"])
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self._print(result, options["json"])
        if result["lost"] or result["duplicated"] or result["unverified"]:
            raise CommandError("alerts were lost, duplicated or not verified (see above)")

    def _benchmark_faults(self, options: dict) -> None:
        try:
            numbers = [int(n) for n in options["faults"].split(",") if n.strip()]
        except ValueError:
            numbers = []
        if not numbers or set(numbers) - set(FAULTS) or (options["docs"] is not None and options["docs"] < 10):
            raise CommandError(f"--faults takes numbers among {', '.join(map(str, FAULTS))}; --docs at least 10")
        columns = ("sent", "stored", "lost", "duplicated", "unexpected", "recover_seconds")

        def progress(row: dict) -> None:
            if not options["json"]:
                self.stdout.write(f"{row['fault']:<48}" + "".join(f"{row[key]!s:>17}" for key in columns))

        if not options["json"]:
            self.stdout.write(f"{'fault (broker: ' + options['broker'] + ')':<48}" + "".join(f"{k:>17}" for k in columns))
        try:
            rows = run_fault_benchmark(options["broker"], numbers, docs=options["docs"], progress=progress)
        except (RuntimeError, AssertionError) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(rows))
        if any(row["lost"] or row["duplicated"] or row["unexpected"] for row in rows):
            raise CommandError("a fault lost, duplicated or added documents (see above)")
        if any(row["recover_seconds"] is None for row in rows):
            raise CommandError("a fault's load did not drain in time (recover_seconds None, see above)")

    def _counted(self, run: Callable[[], dict], as_json: bool) -> None:
        """Run a benchmark that counts lost, duplicated and unexpected items, print it, and fail unless all are 0."""
        try:
            result = run()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self._print(result, as_json)
        if result["lost"] or result["duplicated"] or result["unexpected"] or not result["finished"]:
            raise CommandError("the pipeline lost, duplicated or did not finish work (see above)")

    def _benchmark_api(self, options: dict) -> None:
        if options["events"] < 1 or options["users"] < 1 or options["duration"] < 1:
            raise CommandError("--events, --users and --duration must be at least 1")

        try:
            result = run_api_benchmark(options["events"], users=options["users"], spawn_rate=options["spawn_rate"],
                                       seconds=options["duration"], workers=options["workers"],
                                       threads=options["threads"], use_cache=not options["no_cache"],
                                       keep=options["keep"], progress=self._seed_progress(options))
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self._print(result, options["json"])
        if result["error_rate"]:
            raise CommandError(f"{result['error_rate']:.2%} of requests failed")

    def _seed_progress(self, options: dict):
        def progress(done: int, total: int) -> None:
            if not options["json"] and (done == total or done % 100_000 == 0):
                self.stderr.write(f"seeded {done:,} of {total:,} events")

        return progress

    def _print(self, result: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        for key, value in result.items():
            if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
                self.stdout.write(f"{key:>22}:")
                for name, row in value.items():
                    self.stdout.write(f"{name:>32}  " + ", ".join(f"{k} {v}" for k, v in row.items()))
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            self.stdout.write(f"{key:>22}: {value}")
