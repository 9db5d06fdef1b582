"""The harness around the product: a local feed server, local worker and server processes, the benchmarks, the
corpus evaluation and the demo, with their ``benchmark``, ``evaluate`` and ``demo`` commands.

Tests, benchmarks and ``make demo`` use it; the running sweeper (web, workers, beat) never imports it.
"""
