# One entry point per task. `make test` and `make run` set up everything they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Extras the tests need; grows as components land.
comma  := ,
TEST_EXTRAS ?= operator,inference,models,dev
# The local Triton (`modelplane serve --predictors triton`, tests/tritonserver, `make bench`): only the
# real tritonserver binary of PyPI's nvidia-pytriton wheel (Triton 2.51, CPU, python backend).
# Installed without its dependencies: their numpy<2 pin is for pytriton's own Python API, which
# modelplane never imports (the python stub exchanges tensors by DLPack, so numpy 2 works), and
# resolving it with the extras would downgrade numpy and OpenCV for everything. It is not an
# extra for that reason, and stays out of the inference image and the air-gap bundle: a cluster
# runs NVIDIA's Triton image (docs/operations.md, "A real Triton on one machine").
TRITON_LOCAL ?= nvidia-pytriton==0.7.0
# Debian packages the tests and `make run` need (installed once by `make system-deps`):
# Prometheus/promtool (alert rules, scraping), Tesseract with Hangul (Korean OCR), fonts for the
# synthetic documents the OCR tests render, Chromium + chromedriver (the labelling page's browser
# test), libpython3.11 (the local tritonserver's python stub embeds it). Helpers append here; one
# list, one install step.
DEBIAN_PACKAGES ?= prometheus tesseract-ocr tesseract-ocr-kor tesseract-ocr-script-hang fonts-dejavu-core fonts-nanum libpython3.11 \
	chromium chromium-driver \
	docker-registry skopeo umoci minisign shellcheck
SYSDEPS_STAMP := .venv/.system-deps-$(shell echo $(DEBIAN_PACKAGES) | md5sum | cut -c1-8)
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(TEST_EXTRAS))-$(subst =,,$(TRITON_LOCAL))

.PHONY: lock install system-deps test unit integration soak lint typecheck run operator e2e clean \
	charts chart chart-sync chart-tools chart-readme images models bundle bundle-key airgap-e2e

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	$(PIP) install --quiet --no-deps "$(TRITON_LOCAL)"
	touch $@

## install: create .venv and install modelplane with the extras the tests need
install: $(STAMP)

$(SYSDEPS_STAMP): | $(PY)
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	touch $@

## system-deps: install the Debian packages the tests need (apt-get; sudo when not root)
system-deps: $(SYSDEPS_STAMP)

# Bitnami's chart README generator (npm), pinned, in a local folder: `make chart-readme` writes
# the parameters table of charts/modelplane/README.md from the `## @param` comments in
# values.yaml; tests/charts/test_chart_readme.py fails when the two drift apart.
README_GENERATOR_VERSION ?= 2.7.2
README_GENERATOR := .tools/node_modules/.bin/readme-generator
$(README_GENERATOR):
	npm install --silent --no-audit --no-fund --prefix .tools \
		@bitnami/readme-generator-for-helm@$(README_GENERATOR_VERSION)

## chart-tools: install the chart README generator into .tools (node and npm must be present)
chart-tools: $(README_GENERATOR)

## chart-readme: regenerate the parameters table of charts/modelplane/README.md from values.yaml
chart-readme: $(README_GENERATOR)
	$(README_GENERATOR) --values charts/modelplane/values.yaml --readme charts/modelplane/README.md

## models: build the Triton-layout model repository (cached: only missing or stale models train)
models: install
	$(PY) -m modelplane_models --log-format plain build --output models/repository

## test: every tier that runs without a cluster (unit, operator integration, schema)
test: install system-deps models chart-tools
	$(PY) -m pytest tests
	$(PY) -m pytest tests/inprocess

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

## soak: the reliability tier at length: 12x the load (RSS must stay flat), 5000 fuzz inputs each
soak: install system-deps
	MODELPLANE_SOAK=1 $(PY) -m pytest tests/reliability -s --timeout 3600

## lint: ruff lint and format check
lint: install
	$(VENV)/bin/ruff check api operator inference models bundle tests
	$(VENV)/bin/ruff format --check api operator inference models bundle tests

typecheck: install
	$(VENV)/bin/mypy

## run: build what is missing (venv, Debian packages, models), then serve every example pipeline
##      on 127.0.0.1 (REST 8080, gRPC 8081): `modelplane predict documents receipt.png`
run: install system-deps models
	$(VENV)/bin/modelplane serve manifests/examples

## bench: serving overhead, batching, document pipeline and operator benchmarks (about 10 min
##        on 2 cores): bench/results/*.json and the table in docs/benchmarks.md
bench: install system-deps models
	$(PY) -m bench.run

## bench-gpu: TensorRT fp16 vs ONNX Runtime CUDA per model (GPU machine, `.[gpu]` + onnxruntime-gpu)
bench-gpu: install models
	$(PY) -m bench.gpu

## operator: run the operator against the cluster of $KUBECONFIG
operator: install
	$(VENV)/bin/modelplane-operator --all-namespaces

## e2e: install the CRDs and examples into a real cluster (kind or any kubeconfig)
e2e: install
	kubectl apply -f manifests/crds/
	kubectl apply -f manifests/examples/
	$(PY) -m pytest tests/e2e --with-e2e -m e2e -s

## charts: the chart tier (real Helm engine, promtool, a loopback Prometheus; no cluster)
charts: install system-deps chart-tools
	$(PY) -m pytest tests/charts

## chart-sync: copy manifests/crds and manifests/examples into the chart (a test checks they match)
chart-sync:
	cp manifests/crds/*.yaml charts/modelplane/crds/
	cp manifests/examples/*.yaml charts/modelplane/files/examples/

## chart: package charts/modelplane into dist/ with the Helm v4 SDK (no helm binary needed)
chart: install chart-sync
	$(PY) -c "import helm_python as h; print(h.package('charts/modelplane', destination='dist'))"

## bundle-key: a minisign key pair that signs bundles (BUNDLE_KEY.key stays on the build host,
##             BUNDLE_KEY.pub goes to every site ahead of the first bundle; no passphrase)
BUNDLE_KEY    ?= keys/modelplane-bundle
bundle-key: system-deps
	@test ! -e $(BUNDLE_KEY).key || { echo "$(BUNDLE_KEY).key exists: not overwriting it"; exit 1; }
	mkdir -p $(dir $(BUNDLE_KEY))
	minisign -G -W -p $(BUNDLE_KEY).pub -s $(BUNDLE_KEY).key

## bundle: air-gapped bundle in BUNDLE_DIR: images and models as OCI content pinned by digest,
##         chart + CRDs, SBOM, signed SHA256SUMS, install.sh (docs/operations.md). BUNDLE_VALUES:
##         values files in helm -f order; images are pulled from where they point
##         (global.imageRegistry); BUNDLE_FLAGS e.g. --insecure-registry
BUNDLE_DIR    ?= dist/bundle
BUNDLE_VALUES ?=
BUNDLE_FLAGS  ?=
bundle: install system-deps chart-sync models
	rm -rf $(BUNDLE_DIR)
	$(VENV)/bin/modelplane-bundle --output $(BUNDLE_DIR) --signing-key $(BUNDLE_KEY).key \
		$(foreach v,$(BUNDLE_VALUES),--values $(v)) $(BUNDLE_FLAGS)

## airgap-e2e: the air-gap tier: two Debian docker-registry instances on 127.0.0.1 (upstream,
##             site), umoci-built images, bundle, upstream stopped, install.sh (also in `make test`)
airgap-e2e: install system-deps models
	$(PY) -m pytest tests/airgap -v

# Images: base images come from BASE_REGISTRY (your mirror when offline); tags go to IMAGE_REGISTRY.
CONTAINER_ENGINE ?= $(shell command -v docker || command -v podman)
BASE_REGISTRY    ?= docker.io
IMAGE_REGISTRY   ?= localhost:5000
IMAGE_TAG        ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGES           := operator inference engine-builder

## lock: pin the operator and inference images' dependencies with sha256 hashes (pip-tools;
##       needs the package index). The Dockerfiles install them with --require-hashes.
lock: install
	$(PIP) install --quiet pip-tools
	for image in operator inference; do \
		$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
			--no-emit-index-url --no-emit-find-links --extra $$image \
			--output-file docker/requirements/$$image.txt pyproject.toml; \
	done

## images: build the operator, inference and engine-builder images (docker or podman)
images:
	@test -n "$(CONTAINER_ENGINE)" || { echo "images: no container engine (docker or podman) here"; exit 1; }
	@for image in $(IMAGES); do \
		echo "building $(IMAGE_REGISTRY)/modelplane/$$image:$(IMAGE_TAG)"; \
		$(CONTAINER_ENGINE) build -f docker/$$image.Dockerfile --build-arg REGISTRY=$(BASE_REGISTRY) \
			-t $(IMAGE_REGISTRY)/modelplane/$$image:$(IMAGE_TAG) . || exit 1; \
	done

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
