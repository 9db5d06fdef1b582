from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "TGE sweeper"

    def ready(self) -> None:
        # Connects their signal receivers, and registers the schema's extensions; they import models, which load only
        # once the app registry is ready.
        from api import keyword_rules, lockout, openapi  # noqa: F401, PLC0415
