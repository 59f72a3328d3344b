# imagekit developer tasks. `make demo` builds and runs the example model; `make test` is CI's.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXAMPLE ?= examples/iris
DOCKERD_DIR ?= /tmp/imagekit-dockerd
REGISTRY_DIR ?= /tmp/imagekit-registry
REGISTRY_ADDR ?= 127.0.0.1:5000

# `make test` after `make demo`: the demo's private daemon (and a registry .ci/registry-start.sh
# started) are used when the caller's environment names none.
ifeq ($(origin DOCKER_HOST),undefined)
ifneq ($(wildcard $(DOCKERD_DIR)/docker.sock),)
export DOCKER_HOST := unix://$(DOCKERD_DIR)/docker.sock
endif
endif
ifeq ($(origin IMAGEKIT_TEST_REGISTRY),undefined)
ifneq ($(wildcard $(REGISTRY_DIR)/registry.pid),)
export IMAGEKIT_TEST_REGISTRY := $(REGISTRY_ADDR)
endif
endif

.PHONY: setup test lint format bench demo clean kb kb-check daemon-env daemon-stop test-deps

$(BIN)/imagekit: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/imagekit

lint: setup kb-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The CUDA knowledge base: imagekit/data/cuda_kb.toml is kept by hand (with its sources);
# `kb` validates it and regenerates cuda_kb.json, `kb-check` fails if either is wrong or stale.
kb: setup
	$(BIN)/python -m imagekit.gpu.kb_tool regenerate

kb-check: setup
	$(BIN)/python -m imagekit.gpu.kb_tool check

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/check_speed.py
	$(BIN)/python benchmarks/conflict_speed.py
	$(BIN)/python benchmarks/build_speed.py $(EXAMPLE)
	$(BIN)/python benchmarks/daemonless_speed.py
	$(BIN)/python benchmarks/registry_cache.py
	$(BIN)/python benchmarks/syft_recall.py

# Installs what is missing (apt: docker.io, mmdebstrap), starts a private Docker daemon when
# none answers, builds the example model's image and runs it on its reference inputs.
demo: setup
	@IMAGEKIT_DOCKERD_DIR=$(DOCKERD_DIR) bash examples/demo.sh $(EXAMPLE)

# `eval "$$(make -s daemon-env)"`: the demo's daemon (and a running test registry) in your shell.
daemon-env:
	@if [ -S $(DOCKERD_DIR)/docker.sock ]; then \
		echo "export DOCKER_HOST=unix://$(DOCKERD_DIR)/docker.sock"; \
	else \
		echo "make daemon-env: no daemon in $(DOCKERD_DIR); run make demo or: sudo .ci/dockerd-start.sh" >&2; \
		exit 1; \
	fi
	@if [ -f $(REGISTRY_DIR)/registry.pid ]; then echo "export IMAGEKIT_TEST_REGISTRY=$(REGISTRY_ADDR)"; fi

# As root: the apt packages, daemon and registry the docker, registry and buildah tests need.
test-deps:
	@IMAGEKIT_DOCKERD_DIR=$(DOCKERD_DIR) IMAGEKIT_REGISTRY_DIR=$(REGISTRY_DIR) bash .ci/test-deps.sh

# Stops the demo's daemon (SIGTERM, 15 s, then KILL) and removes its docker0 bridge and NAT rules.
daemon-stop:
	@bash .ci/dockerd-stop.sh $(DOCKERD_DIR)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist build
