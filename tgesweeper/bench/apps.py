from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only so Django finds the ``benchmark``, ``evaluate`` and ``demo`` commands."""

    name = "tgesweeper.bench"
    label = "bench"
    verbose_name = "Benchmarks and demo"
