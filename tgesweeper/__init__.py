"""TGE News Sweeper: finds Token Generation Event announcements in crypto news and social sources."""
from tgesweeper.celery import app as celery_app

__all__ = ("celery_app",)
