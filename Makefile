# imagekit developer tasks. `make demo` builds and runs the example model; `make test` is CI's.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXAMPLE ?= examples/iris
DOCKERD_DIR ?= /tmp/imagekit-dockerd

.PHONY: setup test lint format bench demo clean kb kb-check

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
	$(BIN)/python benchmarks/check_speed.py
	$(BIN)/python benchmarks/build_speed.py $(EXAMPLE)
	$(BIN)/python benchmarks/daemonless_speed.py
	$(BIN)/python benchmarks/syft_recall.py

# Installs what is missing (apt: docker.io, mmdebstrap), starts a private Docker daemon when
# none answers, builds the example model's image and runs it on its reference inputs.
demo: setup
	@bash examples/demo.sh $(EXAMPLE)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist build
