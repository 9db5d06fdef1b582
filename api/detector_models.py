"""Which detector model is live and which runs in shadow, and the promotions that change the live one.

The live model is the newest ``DetectorPromotion``'s (``manage.py promote_detector``), else ``DETECTOR_MODEL``; the
shadow model is ``DETECTOR_SHADOW_MODEL``. A promotion or rollback bumps a version number in the shared cache; each
worker compares it (and the model files' size and mtime) before a batch and rebuilds its engines when it moved, so a
promotion reaches every worker at its next batch, without a restart. Promoted models are copied to
``TGE_VAR_DIR/models/`` with their sidecar, and kept in the table too: a worker whose ``TGE_VAR_DIR`` lacks the
file writes its own copy from the row.
"""
from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction

from api.models import DetectorPromotion
from tgesweeper.config import PROJECT_DIR
from tgesweeper.counters import increment
from tgesweeper.matching.detector import Detector, DetectorError

PROMOTION_KEY = "matching:detector-promotion"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")

log = logging.getLogger(__name__)


def promotion_version() -> int:
    return int(cache.get(PROMOTION_KEY) or 0)


def configured(name: str) -> str:
    """A model setting (``DETECTOR_MODEL``, ``DETECTOR_SHADOW_MODEL``) as an absolute path, or "" for none."""
    value = settings.CONFIG[name].strip()
    return str(PROJECT_DIR / Path(value).expanduser()) if value else ""


def models_dir() -> Path:
    return settings.CONFIG.var_dir / "models"


def current_promotion() -> DetectorPromotion | None:
    """The newest promotion or rollback; None when there is none, or no table yet (a database not migrated)."""
    try:
        return DetectorPromotion.objects.order_by("-pk").first()
    except DatabaseError:
        return None


def live_model() -> str:
    """The path of the live model file: the promoted one (written from its row when this machine lacks it), else
    ``DETECTOR_MODEL``; "" for the rules alone."""
    promotion = current_promotion()
    if promotion is None or not promotion.version:
        return configured("DETECTOR_MODEL")
    path = model_path(promotion.version)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(promotion.content, encoding="utf-8")
    return str(path)


def shadow_model() -> str:
    return configured("DETECTOR_SHADOW_MODEL")


def model_path(version: str) -> Path:
    return models_dir() / f"{_UNSAFE.sub('_', version)}.json"


def model_state(path: str) -> tuple:
    """What identifies a model file's content cheaply: a worker rebuilds its engine when it moves."""
    try:
        stat = Path(path).stat() if path else None
    except OSError:
        return (path, None)
    return (path, stat and (stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _load(path: str, state: tuple) -> Detector:
    return Detector.load(path)


def load_detector(path: str) -> Detector:
    """The model at ``path``, read once per content (a replaced file is read again)."""
    return _load(path, model_state(path))


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json") + ".meta.json")


def promote(path: str | Path, by: str, note: str = "") -> DetectorPromotion:
    """Make the model at ``path`` live: checked (it loads; its sidecar names the same version), copied with its
    sidecar to ``TGE_VAR_DIR/models/``, recorded. Raises DetectorError with the reason otherwise."""
    source = Path(path)
    detector = Detector.load(source)
    sidecar = sidecar_of(source)
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DetectorError(f"{sidecar}: the model's sidecar (written by train_detector) cannot be read: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("version") != detector.version:
        raise DetectorError(f"{sidecar} is not the sidecar of {detector.version} (it names "
                            f"{metadata.get('version') if isinstance(metadata, dict) else 'nothing'})")
    content = source.read_text(encoding="utf-8")
    target = model_path(detector.version)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    sidecar_of(target).write_text(json.dumps(metadata, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with transaction.atomic():
        current = _lock_current()
        row = DetectorPromotion.objects.create(
            action=DetectorPromotion.Action.PROMOTE, version=detector.version, replaced_version=_version_of(current),
            content=content, metadata=metadata, rollback_to=current, by=by[:150], note=note[:300])
        transaction.on_commit(_changed)
    return row


def rollback(by: str, note: str = "") -> DetectorPromotion:
    """Return to the model that was live before the current one (a promoted one, or ``DETECTOR_MODEL``)."""
    with transaction.atomic():
        current = _lock_current()
        if current is None or current.rollback_to is None and not current.version:
            raise DetectorError("nothing to roll back: the configured DETECTOR_MODEL is live and no promotion is "
                                "recorded before it")
        target = current.rollback_to
        row = DetectorPromotion.objects.create(
            action=DetectorPromotion.Action.ROLLBACK, version=target.version if target else "",
            replaced_version=current.version, content=target.content if target else "",
            metadata=target.metadata if target else {}, rollback_to=target.rollback_to if target else None,
            by=by[:150], note=note[:300])
        transaction.on_commit(_changed)
    return row


def _lock_current() -> DetectorPromotion | None:
    return DetectorPromotion.objects.select_for_update().order_by("-pk").first()


def _version_of(promotion: DetectorPromotion | None) -> str:
    if promotion is not None and promotion.version:
        return promotion.version
    path = configured("DETECTOR_MODEL")
    try:
        return load_detector(path).version if path else ""
    except DetectorError:
        return ""


def _changed() -> None:
    increment(PROMOTION_KEY, timeout=None)
