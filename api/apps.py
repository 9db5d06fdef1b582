from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "TGE sweeper"

    def ready(self) -> None:
        from api import keyword_rules  # noqa: F401  (connects the signal that tells workers the rules changed)
