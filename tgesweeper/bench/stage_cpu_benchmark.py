"""The pipeline's stage functions in this process, without Celery: CPU seconds per stage over the documents
``benchmark pipeline`` generates. On a machine shared with other work the CPU a stage uses is a steadier figure than
the wall time of a sweep; ``profile`` writes cProfile's statistics of each stage next to it (``PATH.parse`` ...).
"""
from __future__ import annotations

import cProfile
import math
import random
import time
import uuid

from django.conf import settings

from api.models import Source
from tgesweeper.bench.feedserver import render_rss
from tgesweeper.bench.pipeline_benchmark import generate_items
from tgesweeper.sources import Fetched
from workers import pipeline

STAGES = ("parse", "match", "persist")


def run_stage_cpu_benchmark(docs: int, *, per_feed: int = 500, profile: str | None = None) -> dict:
    tag = uuid.uuid4().hex[:8]
    items = generate_items(docs, tag, random.Random(tag))
    per_feed = min(per_feed, settings.CONFIG["SCRAPING_MAX_ITEMS"])
    sources = []
    try:
        payloads = []
        for n in range(math.ceil(docs / per_feed)):
            source = Source.objects.create(name=f"bench {tag} #{n}", url=f"http://127.0.0.1/{tag}/{n}.xml",
                                           enabled=False)
            sources.append(source)
            body = render_rss(f"Benchmark feed {n}", items[n * per_feed:(n + 1) * per_feed])
            payloads.append(pipeline.payload_for_parse(pipeline.source_spec(source), Fetched(url=source.url, body=body)))
        pipeline.engines()  # built once per worker process in its life: not a per-document cost
        cpu = dict.fromkeys(STAGES, 0.0)
        profiles = {stage: cProfile.Profile() for stage in STAGES} if profile else {}

        def timed(stage: str, function, argument):
            started = time.process_time()
            if profiles:
                profiles[stage].enable()
            result = function(argument)
            if profiles:
                profiles[stage].disable()
            cpu[stage] += time.process_time() - started
            return result

        batches = 0
        for payload in payloads:
            for batch in timed("parse", pipeline.parse, payload):
                batches += 1
                timed("persist", pipeline.persist, timed("match", pipeline.match, batch))
        for stage, stats in profiles.items():
            stats.dump_stats(f"{profile}.{stage}")
    finally:
        Source.objects.filter(pk__in=[s.pk for s in sources]).delete()
    return {
        "docs": docs,
        "batch_size": settings.CONFIG["SCRAPING_BATCH_SIZE"],
        "batches": batches,
        "cpu_seconds": {stage: round(used, 3) for stage, used in cpu.items()},
        "cpu_ms_per_doc": {stage: round(used / docs * 1000, 3) for stage, used in cpu.items()}
                          | {"total": round(sum(cpu.values()) / docs * 1000, 3)},
    }
