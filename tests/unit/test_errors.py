"""The inference tower's one error mapping (modelplane_inference/errors.py): what each family is
answered with over HTTP and gRPC, and that a pipeline step's failure keeps the stage's answer."""

from __future__ import annotations

import pytest
from modelplane_inference import errors
from modelplane_inference.errors import (
    Answer,
    ImageError,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    StepFailed,
    UnsupportedMediaType,
    answer,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ImageError("not an image"), Answer(400, "INVALID_ARGUMENT", "not an image")),
        (errors.DocumentRefused("broken PDF"), Answer(422, "INVALID_ARGUMENT", "broken PDF")),
        (UnsupportedMediaType("encrypted"), Answer(415, "INVALID_ARGUMENT", "encrypted")),
        (PayloadTooLarge("900 pages"), Answer(413, "RESOURCE_EXHAUSTED", "900 pages")),
        (Overloaded("full", 2.0), Answer(429, "RESOURCE_EXHAUSTED", "full", 2.0)),
        (RequestTimeout("late"), Answer(504, "DEADLINE_EXCEEDED", "late")),
    ],
)
def test_each_family_has_one_answer(error: errors.ModelplaneError, expected: Answer) -> None:
    assert answer(error) == expected


def test_retry_hint_is_a_header_only_for_back_pressure() -> None:
    assert answer(Overloaded("full", 0.2)).headers() == {"Retry-After": "1"}
    assert answer(Overloaded("full", 3.4)).headers() == {"Retry-After": "3"}
    assert answer(ImageError("bad")).headers() == {}


def test_client_errors_stay_value_errors() -> None:
    """Callers that caught ValueError before the move still catch the tower's 4xx family."""
    for cls in (errors.StageInputError, ImageError, errors.RunnerInputError, errors.StoreError):
        assert issubclass(cls, ValueError)


def test_step_failure_keeps_the_stage_answer() -> None:
    """A stage's 429 reaches the pipeline's client as a 429 with its hint; a router 404 (no
    Switch route) is answered 400 and a stage crash 500, as the local server always did."""
    busy = StepFailed(429, "step ocr: full", Overloaded("full", 2.0))
    assert answer(busy) == Answer(429, "RESOURCE_EXHAUSTED", "step ocr: full", 2.0)
    nested = StepFailed(busy.router_status, busy.reason, busy)
    assert answer(nested).http_status == 429
    assert answer(StepFailed(404, "no route")) == Answer(400, "INVALID_ARGUMENT", "no route")
    crash = StepFailed(500, "step x: boom", RuntimeError("boom"))
    assert answer(crash) == Answer(500, "INVALID_ARGUMENT", "step x: boom")
