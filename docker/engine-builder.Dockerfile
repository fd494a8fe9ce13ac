# syntax=docker/dockerfile:1
# TensorRT engine builder: `modelplane-build-engine` with modelplane[gpu]. The plan it writes is
# only valid for the TensorRT version of the Triton image that loads it: keep TENSORRT_VERSION
# equal to the one in images.triton.tag (Triton 25.01 ships TensorRT 10.8). The CUDA driver
# comes from the node (NVIDIA container toolkit); TensorRT's CUDA libraries come as wheels.
# Build from the repository root: `make images`. REGISTRY: where base images come from.
ARG REGISTRY=docker.io
ARG PYTHON_IMAGE=library/python:3.11-slim-bookworm

FROM ${REGISTRY}/${PYTHON_IMAGE} AS build
ARG PIP_INDEX_URL=""
ARG TENSORRT_VERSION=10.8.0.43
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_INDEX_URL=${PIP_INDEX_URL}
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
# The contract package (CRDs, specs, config.pbtxt, image contract) and the packaging tower are
# part of the one wheel, like the three towers.
COPY api/ api/
COPY bundle/ bundle/
COPY cli/ cli/
COPY operator/ operator/
COPY inference/ inference/
COPY models/ models/
COPY manifests/crds/ manifests/crds/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install "tensorrt==${TENSORRT_VERSION}" "$(ls /wheels/modelplane-*.whl)[gpu]"

FROM ${REGISTRY}/${PYTHON_IMAGE}
COPY --from=build /opt/venv /opt/venv
# The project's licence (Apache-2.0) travels with the image, where scanners look for it.
COPY --from=build /src/LICENSE /licenses/LICENSE
LABEL org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
ENTRYPOINT ["modelplane-build-engine"]
