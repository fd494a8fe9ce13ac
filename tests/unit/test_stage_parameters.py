"""The typed stage parameters (modelplane_api.parameters): conversion and checks, the CRD's stage
list, and the generated docs page."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelplane_api.crds import spec_schema
from modelplane_api.errors import SpecError
from modelplane_api.parameters import (
    STAGE_PARAMETERS,
    TextDetectionParameters,
    TextRecognitionParameters,
    markdown,
    parse_parameters,
)

ROOT = Path(__file__).resolve().parents[2]


def test_strings_become_typed_values_and_defaults_fill_the_rest() -> None:
    typed = parse_parameters(
        "text-recognition", {"recBatch": "4", "textScore": "0.25", "recognizer": "Auto"}
    )
    assert typed == TextRecognitionParameters(rec_batch=4, text_score=0.25, recognizer="auto")
    assert typed.language == "kor+eng" and typed.workers == 2
    detection = parse_parameters("text-detection", {"useDilation": "false", "thresh": "0.4"})
    assert isinstance(detection, TextDetectionParameters)
    assert (detection.use_dilation, detection.thresh, detection.box_thresh) == (False, 0.4, None)


@pytest.mark.parametrize(
    ("stage", "raw", "says"),
    [
        ("text-recognition", {"recBatch": "six"}, "'six' is not an integer"),
        ("text-recognition", {"recBatch": "0"}, "below the minimum 1"),
        ("text-recognition", {"textScore": "1.5"}, "above the maximum 1"),
        ("text-recognition", {"recognizer": "neural"}, "not one of ctc, tesseract, auto"),
        ("text-detection", {"useDilation": "maybe"}, "not true or false"),
        ("quality-gate", {"rejectDistance": "0.4"}, "takes no parameter rejectDistance"),
    ],
)
def test_a_bad_value_names_the_parameter_and_what_is_allowed(
    stage: str, raw: dict[str, str], says: str
) -> None:
    with pytest.raises(SpecError) as info:
        parse_parameters(stage, raw)
    assert info.value.reason == "InvalidParameter"
    assert says in info.value.message and next(iter(raw)) in info.value.message


def test_custom_stages_take_any_key() -> None:
    assert parse_parameters("custom", {"anything": "goes"}).max_pixels is None


def test_every_stage_of_the_crd_has_a_parameter_set() -> None:
    assert set(spec_schema("modeldeployments")["properties"]["stage"]["enum"]) == set(
        STAGE_PARAMETERS
    )


def test_the_docs_page_is_the_generated_one() -> None:
    """docs/stage-parameters.md is generated from the classes; regenerate it with
    ``python -m modelplane_api.parameters > docs/stage-parameters.md``."""
    assert (ROOT / "docs" / "stage-parameters.md").read_text(encoding="utf-8") == markdown()
