# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What `pip install shendu` gives a user (NumPy alone), plus pytest and hypothesis to run the suite.
BARE := .venv-numpy
# The data sets beside the project (as CI lays it out) are used when present; elsewhere they are downloaded.
SHENDU_DATA_DIR ?= $(wildcard $(CURDIR)/../shared/data)
export SHENDU_DATA_DIR

.PHONY: demo test test-numpy-only test-slow dist docs bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[save,fast]'
	touch $@

$(BARE)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BARE)
	$(BARE)/bin/python -m pip install --quiet --upgrade pip
	$(BARE)/bin/python -m pip install --quiet . pytest hypothesis
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/shendu train cnn --dataset mnist --epochs 1 --batch-size 64 --seed 0 --output mnist_cnn.shendu

test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

# The suite without any extra (no numba, safetensors, matplotlib, torch): tests that need one skip.
test-numpy-only: $(BARE)/.installed
	$(BARE)/bin/python -m pytest

# The long training runs (examples, full MNIST epochs), left out of `make test` to keep it fast.
test-slow: $(VENV)/.dev-installed
	$(PY) -m pytest -m slow

# The sdist and the wheel, each installed in a fresh venv and smoke-tested there.
dist: $(VENV)/.dev-installed
	bash .ci/check_dist.sh $(PY)

# The documentation site, English and 中文, every example executed, into site/; strict: a broken link, a missing
# anchor or a failing example fails the build.
$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $@

docs: $(VENV)/.docs-installed
	$(VENV)/bin/mkdocs build --strict

bench: $(VENV)/.installed
	$(PY) benchmarks/op_overhead.py
	$(PY) benchmarks/mlp.py

clean:
	rm -rf $(VENV) $(BARE) .pytest_cache .ruff_cache build dist site *.egg-info
