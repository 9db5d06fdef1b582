"""TGE News Sweeper: finds Token Generation Event announcements in crypto news and social sources.

Importing the package loads nothing else: the domain core (``sources``, ``matching``, ``net``) stays free of Django
and Celery. The Celery app is ``tgesweeper.celery`` (``celery -A tgesweeper`` finds it there); Django processes load
it when the ``workers`` app is ready.
"""
