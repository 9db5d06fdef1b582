from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "TGE sweeper"

    def ready(self) -> None:
        from api import keyword_rules, lockout  # noqa: F401  (connect their signal receivers)
