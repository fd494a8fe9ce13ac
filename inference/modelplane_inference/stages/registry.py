"""Stage kind (``spec.stage`` of a ModelDeployment) -> the class that serves it."""

from __future__ import annotations

from modelplane_inference.stages.base import Stage
from modelplane_inference.stages.documents import DocumentParse, TextDetection, TextRecognition
from modelplane_inference.stages.vision import Breed, DamageSeverity, Premium, QualityGate

STAGES: dict[str, type[Stage]] = {
    cls.stage: cls
    for cls in (
        QualityGate,
        DamageSeverity,
        TextDetection,
        TextRecognition,
        DocumentParse,
        Breed,
        Premium,
    )
}
