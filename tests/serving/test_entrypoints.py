"""The console scripts as the operator and users run them: ``modelplane predict``,
``modelplane-stage`` (python runtime) and ``modelplane-transformer`` (in front of a Triton-protocol
predictor; here ``modelplane serve``'s raw repository models stand in for Triton)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving.calls import blank_frame, call, textured_frame
from serving.documents import render_document
from serving.servers import BIN, ROOT, Server, free_port, start_process, start_transformer, stop


def run_predict(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "modelplane"), "predict", *args, "--url", server.grpc],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_predict_prints_the_parsed_fields(examples_server: Server, tmp_path: Path) -> None:
    doc = render_document(seed=42, language="en", document_type="receipt")
    path = tmp_path / "receipt.png"
    path.write_bytes(doc.png)
    done = run_predict(examples_server, "documents", str(path))
    assert done.returncode == 0, done.stderr
    fields = json.loads(done.stdout)["fields"]
    assert fields["total_amount"] == doc.total_amount
    assert fields["document_number"] == doc.document_number


def test_predict_many_files_prints_json_lines(examples_server: Server, tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"frame-{i}.png")
        paths[-1].write_bytes(blank_frame(60 + 40 * i))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    done = run_predict(
        examples_server, "car-claims", *map(str, paths), str(tmp_path / "broken.png")
    )
    assert done.returncode == 1  # one file failed
    rows = [json.loads(row) for row in done.stdout.splitlines()]
    assert [row["file"] for row in rows] == [*map(str, paths), str(tmp_path / "broken.png")]
    assert all(row["estimable"] is False for row in rows[:3])
    assert "not an image" in rows[3]["error"]
    assert "4/4" in done.stderr  # the progress bar


@pytest.fixture(scope="module")
def python_runtime(
    tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``modelplane-stage`` with exactly the arguments the operator renders."""
    http_port, grpc_port = free_port(), free_port()
    args = [
        str(BIN / "modelplane-stage"),
        "--model_name=gate-python",
        "--stage=quality-gate",
        f"--model-dir={tiny_repository / 'quality-gate'}",
        "--max-batch-size=4",
        "--max-queue-delay-us=1000",
        "--param=maxPixels=1000000",
        f"--http_port={http_port}",
        f"--grpc_port={grpc_port}",
    ]
    log = tmp_path_factory.mktemp("stage") / "stage.log"
    server = start_process(args, log, http_port, grpc_port, ["gate-python"])
    yield server
    stop(server)


def test_python_runtime_serves_the_stage(python_runtime: Server) -> None:
    assert call(python_runtime, "grpc", "gate-python", image=blank_frame())["reasons"] == [
        "blurred"
    ]
    assert (
        call(python_runtime, "http", "gate-python", image=textured_frame(seed=8))["estimable"]
        is True
    )


def test_python_runtime_takes_params(python_runtime: Server) -> None:
    """--param maxPixels=1000000 lowers the image limit of this deployment."""
    from serving.calls import bytes_input, call_error

    status, message = call_error(
        python_runtime,
        "grpc",
        "gate-python",
        [bytes_input("grpc", "image", blank_frame(size=1100), image=True)],
    )
    assert status == "StatusCode.INVALID_ARGUMENT" and "limit 1000000" in message


def test_transformer_in_front_of_a_triton_protocol_predictor(
    examples_server: Server, tmp_path: Path
) -> None:
    """The transformer reads the predictor's model metadata, sends tensors over gRPC and maps
    the outputs: it answers exactly what the in-process stage answers."""
    server = start_transformer(
        examples_server, "gate-transformer", "quality-gate", "quality-gate", tmp_path / "t.log"
    )
    try:
        for frame in (blank_frame(), textured_frame(seed=9), blank_frame(250)):
            remote = call(server, "grpc", "gate-transformer", image=frame)
            local = call(examples_server, "grpc", "car-quality-gate", image=frame)
            assert remote == local
    finally:
        stop(server)


def test_recognition_transformer_with_the_model_folder(
    examples_server: Server, repository: Path, tmp_path: Path
) -> None:
    """A transformer with the model folder mounted (``--model-dir``: labels, pixel contract)
    in front of dynamic-shape text recognition reads what the in-process stage reads."""
    server = start_transformer(
        examples_server,
        "rec-transformer",
        "text-recognition",
        "text-recognition",
        tmp_path / "transformer.log",
        f"--model-dir={repository / 'text-recognition'}",
    )
    try:
        doc = render_document(seed=21, language="en", document_type="claim_form")
        boxes = call(examples_server, "grpc", "doc-text-detection", image=doc.png)["boxes"]
        remote = call(server, "grpc", "rec-transformer", image=doc.png, boxes=boxes)
        local = call(examples_server, "grpc", "doc-text-recognition", image=doc.png, boxes=boxes)
        assert [line["text"] for line in remote["lines"]] == [
            line["text"] for line in local["lines"]
        ]
        assert any(doc.name in line["text"] for line in remote["lines"])
    finally:
        stop(server)
