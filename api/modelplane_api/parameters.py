"""Typed stage parameters: what ``spec.parameters`` may say to each stage, checked once.

``spec.parameters`` stays a map of strings in the CRD (the transformer gets them as
``--param KEY=VALUE``), but each stage declares its own set here, on the pattern of OCR's
``DetectionSettings.from_params``: a frozen dataclass whose fields carry the manifest name, type,
range or choices, default and a description. :func:`parse_parameters` converts and checks the
strings; the operator calls it at admission and in every reconcile (``recBatch: six`` is a 422 at
``kubectl apply``, ``Ready=False`` for an object stored before the webhook ran) and
``modelplane serve`` when it reads the manifest, so both refuse the same thing with the same
reason. A stage receives the typed set and converts nothing itself.

A default of ``None`` means "the model folder decides" (its ``modelplane.json``, then the stage's
built-in value): the operator cannot read the model, so it cannot fill those in. The docs table
of every stage's parameters (docs/stage-parameters.md) is generated from these classes
(:func:`markdown`), and a test holds it equal.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from modelplane_api.errors import SpecError

P = TypeVar("P", bound="StageParameters")
REASON = "InvalidParameter"


def param(
    name: str,
    default: Any,
    doc: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A parameter field: its manifest key, default, description and allowed values."""
    meta = {"name": name, "doc": doc, "minimum": minimum, "maximum": maximum, "choices": choices}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Parameter:
    """One parameter as described to a reader (docs, error messages)."""

    name: str
    attribute: str
    kind: type
    default: Any
    doc: str
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]

    def convert(self, raw: str, stage: str) -> Any:
        """The typed value of ``raw``; ``SpecError(InvalidParameter)`` naming what is allowed."""
        where = f"spec.parameters.{self.name} of stage {stage}"
        text = str(raw).strip()
        if self.choices:  # choices are lower case; "Auto" and "auto" mean the same, as before
            text = text.lower()
        try:
            value: Any = _CONVERTERS[self.kind](text)
        except ValueError:
            raise SpecError(REASON, f"{where}: {raw!r} is not {self.describe_type()}") from None
        if self.choices and value not in self.choices:
            raise SpecError(REASON, f"{where}: {raw!r} is not one of {', '.join(self.choices)}")
        if self.minimum is not None and value < self.minimum:
            raise SpecError(REASON, f"{where}: {raw!r} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise SpecError(REASON, f"{where}: {raw!r} is above the maximum {self.maximum:g}")
        return value

    def describe_type(self) -> str:
        return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[
            self.kind
        ]

    def describe_range(self) -> str:
        if self.choices:
            return " / ".join(self.choices)
        low = "" if self.minimum is None else f"{self.minimum:g}"
        high = "" if self.maximum is None else f"{self.maximum:g}"
        return f"{low}..{high}" if low or high else ""


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(text)


_CONVERTERS: dict[type, Any] = {int: int, float: float, bool: _bool, str: str}


@dataclass(frozen=True)
class StageParameters:
    """What every stage takes. Subclasses add their own fields with :func:`param`."""

    stage: ClassVar[str] = ""
    #: ``custom`` stages run an image modelplane does not know: any key passes, unchecked.
    open: ClassVar[bool] = False

    max_pixels: int | None = param(
        "maxPixels",
        None,
        "Largest decoded image, in pixels, this deployment accepts (a 400 above it); at most "
        "the server's --max-image-pixels, which applies when unset.",
        minimum=1,
    )

    @classmethod
    @functools.cache
    def described(cls) -> tuple[Parameter, ...]:
        """Every parameter of the set, in declaration order."""
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            kind = hints[f.name]
            if isinstance(kind, types.UnionType):  # int | None: the model folder decides
                kind = next(t for t in typing.get_args(kind) if t is not type(None))
            meta = f.metadata
            out.append(
                Parameter(
                    meta["name"],
                    f.name,
                    kind,
                    f.default,
                    meta["doc"],
                    meta["minimum"],
                    meta["maximum"],
                    meta["choices"],
                )
            )
        return tuple(out)

    @classmethod
    def from_params(cls: type[P], raw: Mapping[str, str]) -> P:
        """The typed set from ``spec.parameters``; unknown keys and bad values raise
        ``SpecError(InvalidParameter)``; what is not given keeps its default."""
        known = {p.name: p for p in cls.described()}
        unknown = sorted(set(raw) - set(known))
        if unknown and not cls.open:
            raise SpecError(
                REASON,
                f"spec.parameters: stage {cls.stage} takes no parameter {', '.join(unknown)}"
                f" (it takes {', '.join(sorted(known))})",
            )
        values = {
            known[key].attribute: known[key].convert(value, cls.stage)
            for key, value in raw.items()
            if key in known
        }
        return cls(**values)


def common_only(stage: str, name: str) -> type[StageParameters]:
    """The set of a stage that takes only what every stage takes."""
    made = dataclasses.make_dataclass(
        name, [], bases=(StageParameters,), frozen=True, namespace={"stage": stage}
    )
    made.__doc__ = f"Parameters of {stage}: those every stage takes."
    return made


QualityGateParameters = common_only("quality-gate", "QualityGateParameters")
DamageSeverityParameters = common_only("damage-severity", "DamageSeverityParameters")
BreedParameters = common_only("breed", "BreedParameters")
DocumentParseParameters = common_only("document-parse", "DocumentParseParameters")


@dataclass(frozen=True)
class PremiumParameters(StageParameters):
    stage: ClassVar[str] = "premium"

    breed_labels: str | None = param(
        "breedLabels",
        None,
        "File of breed names (one a line) the premium model's breed index refers to; unset: "
        "the model folder's modelplane.json, else the repository's breed/labels.txt.",
    )


@dataclass(frozen=True)
class TextDetectionParameters(StageParameters):
    stage: ClassVar[str] = "text-detection"

    capture: str = param(
        "capture",
        "auto",
        "auto divides out the page's illumination only where the light is measured uneven "
        "(phone photos with shadows; chosen on real photos, documents/capture.py); flatten "
        "always; none detects on the page as sent.",
        choices=("auto", "flatten", "none"),
    )
    orient: str = param(
        "orient",
        "auto",
        "auto turns pages sent sideways or upside down before detection; none reads them as sent.",
        choices=("auto", "none"),
    )
    max_pages: int = param(
        "maxPages", 10, "Most pages of a PDF that are read; a longer one is refused.", minimum=1
    )
    pdf_dpi: float = param(
        "pdfDpi", 200.0, "Resolution a scanned PDF page is rendered at.", minimum=36, maximum=600
    )
    limit_side_len: int | None = param(
        "limitSideLen",
        None,
        "Short side the page is scaled up to for detection (rapidocr: 736).",
        minimum=32,
    )
    max_side_len: int | None = param(
        "maxSideLen", None, "Long side detection never exceeds (rapidocr: 2000).", minimum=32
    )
    thresh: float | None = param(
        "thresh", None, "Pixel probability counted as text (rapidocr: 0.3).", minimum=0, maximum=1
    )
    box_thresh: float | None = param(
        "boxThresh",
        None,
        "Mean probability a box needs to be kept (rapidocr: 0.5).",
        minimum=0,
        maximum=1,
    )
    unclip_ratio: float | None = param(
        "unclipRatio", None, "How far a box is grown around its text (rapidocr: 1.6).", minimum=0
    )
    use_dilation: bool | None = param(
        "useDilation", None, "Dilate the probability map before finding boxes (rapidocr: true)."
    )


@dataclass(frozen=True)
class TextRecognitionParameters(StageParameters):
    stage: ClassVar[str] = "text-recognition"

    recognizer: str = param(
        "recognizer",
        "ctc",
        "ctc reads every line with the PP-OCR model; tesseract reads with Tesseract alone; auto "
        "reads with CTC and re-reads Hangul and mixed lines with Tesseract.",
        choices=("ctc", "tesseract", "auto"),
    )
    language: str = param(
        "language", "kor+eng", "Tesseract languages (installed traineddata, joined with +)."
    )
    workers: int = param("workers", 2, "Tesseract threads of this deployment.", minimum=1)
    text_score: float = param(
        "textScore", 0.5, "Lines read with lower confidence are dropped.", minimum=0, maximum=1
    )
    rec_batch: int = param(
        "recBatch",
        1,
        "Lines per model request (the runner or Triton's batcher merges requests where batching "
        "pays; on CPU one line per request is faster).",
        minimum=1,
    )
    money_reading: str = param(
        "moneyReading",
        "ctc+tesseract",
        "Lines whose CTC text is an amount with a lost or mangled decimal mark (287 for 2.87) are "
        "read again from wider crops, by CTC and Tesseract (ctc+tesseract) or CTC alone (ctc), "
        "and kept only as a clean amount agreeing with the first reading; none reads once "
        "(documents/money_reading.py).",
        choices=("ctc+tesseract", "ctc", "none"),
    )


@dataclass(frozen=True)
class CustomParameters(StageParameters):
    stage: ClassVar[str] = "custom"
    open: ClassVar[bool] = True


STAGE_PARAMETERS: dict[str, type[StageParameters]] = {
    cls.stage: cls
    for cls in (
        QualityGateParameters,
        DamageSeverityParameters,
        TextDetectionParameters,
        TextRecognitionParameters,
        DocumentParseParameters,
        BreedParameters,
        PremiumParameters,
        CustomParameters,
    )
}


def parse_parameters(stage: str, raw: Mapping[str, str]) -> StageParameters:
    """The typed parameter set of ``stage`` from ``spec.parameters`` (strings)."""
    if stage not in STAGE_PARAMETERS:
        raise SpecError("UnknownStage", f"spec.stage {stage!r} has no parameter set")
    return STAGE_PARAMETERS[stage].from_params({str(k): str(v) for k, v in raw.items()})


def markdown() -> str:
    """docs/stage-parameters.md: every stage's parameters, generated from the classes above."""
    lines = [
        "# Stage parameters",
        "",
        "`spec.parameters` of a ModelDeployment, per `spec.stage`. Values are strings in the",
        "manifest; each is converted and checked when the manifest is admitted (operator) or",
        "read (`modelplane serve`): a bad value is refused with reason `InvalidParameter`.",
        "Generated from `api/modelplane_api/parameters.py`",
        "(`python -m modelplane_api.parameters > docs/stage-parameters.md`; a test holds it",
        "equal). A default of *unset* leaves it to the model folder or the server (see each).",
        "",
    ]
    for stage, cls in STAGE_PARAMETERS.items():
        lines += [f"## `{stage}`", ""]
        if cls.open:
            lines += ["Any key: passed to the custom image as is, unchecked.", ""]
        lines += ["| parameter | type | default | allowed | what |", "| --- " * 5 + "|"]
        for p in cls.described():
            default = "*unset*" if p.default is None else f"`{p.default}`"
            allowed = p.describe_range()
            kind = p.kind.__name__
            lines.append(f"| `{p.name}` | {kind} | {default} | {allowed} | {p.doc} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
