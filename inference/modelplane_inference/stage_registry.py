"""Stage kind (``spec.stage`` of a ModelDeployment) -> the class that serves it."""

from __future__ import annotations

from modelplane_inference.stage_documents import DocumentParse, TextDetection, TextRecognition
from modelplane_inference.stage_vision import Breed, Premium, QualityGate
from modelplane_inference.stages import Stage

STAGES: dict[str, type[Stage]] = {
    cls.stage: cls
    for cls in (QualityGate, TextDetection, TextRecognition, DocumentParse, Breed, Premium)
}
