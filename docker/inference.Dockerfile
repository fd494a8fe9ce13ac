# syntax=docker/dockerfile:1
# modelplane inference image: transformers (`modelplane-transformer`), the python runtime
# (`modelplane-stage`) and the `modelplane` CLI, with modelplane[inference] (ONNX Runtime, no torch).
# Build from the repository root: `make images`. REGISTRY: where base images come from.
ARG REGISTRY=docker.io
ARG PYTHON_IMAGE=library/python:3.11-slim-bookworm

FROM ${REGISTRY}/${PYTHON_IMAGE} AS build
# Compilers live here only: tesserocr (in-process Tesseract for Hangul) may build from source.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config libtesseract-dev libleptonica-dev \
 && rm -rf /var/lib/apt/lists/*
ARG PIP_INDEX_URL=""
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
# Dependencies pinned by version and sha256 (`make lock` regenerates the file): a tampered or
# substituted package on the index fails the build instead of entering the image.
COPY docker/requirements/inference.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.txt \
 && /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-deps "$(ls /wheels/modelplane-*.whl)" \
 && /opt/venv/bin/pip check

FROM ${REGISTRY}/${PYTHON_IMAGE}
# Runtime libraries only (no compilers, no -dev packages): Tesseract with Hangul data for OCR.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtesseract5 tesseract-ocr-kor tesseract-ocr-script-hang \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
# The project's licence (Apache-2.0) travels with the image, where scanners look for it.
COPY --from=build /src/LICENSE /licenses/LICENSE
LABEL org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
EXPOSE 8080
# KServe sets the command per role (modelplane-stage / modelplane-transformer).
CMD ["modelplane", "--help"]
