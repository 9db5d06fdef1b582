from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

# Every Django process (web, admin, manage.py commands) sends tasks, and django-celery-beat's admin lists and runs them
# through Celery's current app: this makes ours the current app. The domain core never imports it.
from tgesweeper.celery import app as celery_app  # noqa: F401


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Pipeline workers"

    def ready(self) -> None:
        # Models load only once the app registry is ready, i.e. here, not at this module's import.
        from api.models import Source  # noqa: PLC0415
        from workers import observability, schedule  # noqa: PLC0415, F401  (observability: connects its task signals)

        post_save.connect(schedule.on_source_saved, sender=Source, dispatch_uid="source-schedule-sync")
        post_delete.connect(schedule.on_source_deleted, sender=Source, dispatch_uid="source-schedule-remove")
