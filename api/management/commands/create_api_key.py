"""``create_api_key NAME [--user USERNAME]``: prints a new key once; only its hash is stored."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.keys import create_key


class Command(BaseCommand):
    help = "Create an API key and print it (it cannot be shown again). With --user it acts as that user."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the key is for, e.g. 'analytics dashboard'")
        parser.add_argument("--user", help="username the key acts as (a staff user's key may write)")

    def handle(self, *args, name: str, user: str | None, **options):
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"no user named {user!r}")
        key, raw = create_key(name.strip() or "unnamed", owner)
        self.stderr.write(f"API key {key.pk} '{key.name}' created; store it now, it is not shown again:")
        self.stdout.write(raw)
