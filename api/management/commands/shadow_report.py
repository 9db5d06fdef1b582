"""``manage.py shadow_report``: the shadow model's verdicts beside the live ones on the documents it scored."""
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from api.models import Mention, ReviewedExample, ShadowScore


class Command(BaseCommand):
    help = ("Compare the shadow model (DETECTOR_SHADOW_MODEL) with the live verdicts on the documents it scored: "
            "how often each would publish, where they disagree, and, on items reviewers labeled, how often each was "
            "right. Reads the database only.")

    def add_arguments(self, parser):
        parser.add_argument("--model-version", dest="model_version", help="shadow model version (default: the newest scored)")
        parser.add_argument("--limit", type=int, default=20, help="disagreements to list")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, model_version: str | None, limit: int, **options):
        version = model_version or ShadowScore.objects.order_by("-created_at", "-pk").values_list(
            "model_version", flat=True).first()
        if not version:
            raise CommandError("no shadow scores stored: set DETECTOR_SHADOW_MODEL and let the workers run")
        result = report(version, settings.CONFIG["KEYWORD_MIN_CONFIDENCE"], limit)
        self.stdout.write(json.dumps(result) if options["json"] else _format(result))


def report(version: str, threshold: float, limit: int) -> dict:
    scores = list(ShadowScore.objects.filter(model_version=version).select_related("document"))
    ids = [s.document_id for s in scores]
    live = dict(Mention.objects.filter(document_id__in=ids).values("document_id").annotate(best=Max("confidence"))
                .values_list("document_id", "best"))
    labels = dict(ReviewedExample.objects.filter(document_id__in=ids).exclude(label="")
                  .values_list("document_id", "label"))
    counts = {"scored": len(scores), "both": 0, "live_only": 0, "shadow_only": 0, "neither": 0}
    right = {"reviewed": 0, "live": 0, "shadow": 0}
    disagreements = []
    for score in scores:
        by_live = live.get(score.document_id, 0.0) >= threshold
        by_shadow = (score.confidence or 0.0) >= threshold
        counts[{(True, True): "both", (True, False): "live_only", (False, True): "shadow_only",
                (False, False): "neither"}[by_live, by_shadow]] += 1
        label = labels.get(score.document_id)
        if label:
            right["reviewed"] += 1
            right["live"] += by_live == (label == "tge")
            right["shadow"] += by_shadow == (label == "tge")
        if by_live != by_shadow and len(disagreements) < limit:
            disagreements.append({"document": score.document_id, "title": score.document.title[:120],
                                  "live_confidence": live.get(score.document_id), "shadow_confidence": score.confidence,
                                  "shadow_probability": score.probability, "label": label})
    return {"version": version, "threshold": threshold, **counts, "reviewed": right, "disagreements": disagreements}


def _format(r: dict) -> str:
    lines = [f"shadow {r['version']}: {r['scored']} documents scored past the prefilter (published at >= {r['threshold']})",
             f"  both publish {r['both']}, live only {r['live_only']}, shadow only {r['shadow_only']}, "
             f"neither {r['neither']}"]
    reviewed = r["reviewed"]
    if reviewed["reviewed"]:
        lines.append(f"  on {reviewed['reviewed']} reviewed items: live right {reviewed['live']}, "
                     f"shadow right {reviewed['shadow']}")
    if r["disagreements"]:
        lines.append("  they disagree on:")
        lines += [f"    [{d['label'] or 'unreviewed'}] live {d['live_confidence'] or '-'} shadow "
                  f"{d['shadow_confidence'] or '-'} (p={d['shadow_probability']:.3f}) {d['title']}"
                  for d in r["disagreements"]]
    return "\n".join(lines)
