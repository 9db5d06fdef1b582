"""``manage.py promote_detector PATH`` makes a model live; ``--rollback`` returns to the one before; without either,
prints what is live and the history."""
import getpass

from django.core.management.base import BaseCommand, CommandError

from api import detector_models
from api.models import DetectorPromotion
from tgesweeper.matching.detector import DetectorError


class Command(BaseCommand):
    help = ("Make a detector model live (checked, copied with its sidecar to TGE_VAR_DIR/models/, recorded with who, "
            "when and what it replaced); workers switch at their next batch. --rollback returns to the model live "
            "before the current one. Without arguments: what is live, and the last promotions.")

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="model file written by train_detector (its NAME.meta.json beside it)")
        parser.add_argument("--rollback", action="store_true", help="return to the previous live model")
        parser.add_argument("--by", default="", help="who promotes (default: the system user)")
        parser.add_argument("--note", default="", help="why, for the record")

    def handle(self, *args, path: str | None, rollback: bool, by: str, note: str, **options):
        if path and rollback:
            raise CommandError("give a model file or --rollback, not both")
        who = by or _system_user()
        try:
            if path:
                row = detector_models.promote(path, who, note)
            elif rollback:
                row = detector_models.rollback(who, note)
            else:
                self._show()
                return
        except DetectorError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot copy the model: {exc}") from None
        live = row.version or f"DETECTOR_MODEL ({detector_models.configured('DETECTOR_MODEL') or 'none: rules alone'})"
        self.stdout.write(f"{row.action}: {live} is live (replacing {row.replaced_version or 'the rules alone'}), "
                          f"by {row.by}; workers switch at their next batch")

    def _show(self) -> None:
        rows = list(DetectorPromotion.objects.order_by("-pk")[:10])
        current = rows[0] if rows else None
        live = current.version if current and current.version else \
            f"DETECTOR_MODEL ({detector_models.configured('DETECTOR_MODEL') or 'none: rules alone'})"
        self.stdout.write(f"live: {live}; shadow: {detector_models.shadow_model() or 'none'}")
        for row in rows:
            self.stdout.write(f"  {row.at:%Y-%m-%d %H:%M:%S} {row.action:<8} {row.version or 'DETECTOR_MODEL'} "
                              f"(was {row.replaced_version or 'rules alone'}) by {row.by}"
                              + (f": {row.note}" if row.note else ""))


def _system_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
