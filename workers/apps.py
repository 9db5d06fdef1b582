from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Pipeline workers"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from api.models import Source
        from workers import schedule

        post_save.connect(schedule.on_source_saved, sender=Source, dispatch_uid="source-schedule-sync")
        post_delete.connect(schedule.on_source_deleted, sender=Source, dispatch_uid="source-schedule-remove")
