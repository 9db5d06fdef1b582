"""The Celery app ``tgesweeper``; its settings live in the top-level ``celeryconfig.py``."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tgesweeper.settings")

app = Celery("tgesweeper")
app.config_from_object("celeryconfig")
app.autodiscover_tasks(["workers"])
