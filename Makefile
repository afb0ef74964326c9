# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The data sets beside the project (as CI lays it out) are used when present; elsewhere they are downloaded.
SHENDU_DATA_DIR ?= $(wildcard $(CURDIR)/../shared/data)
export SHENDU_DATA_DIR

.PHONY: demo test test-slow bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[save,fast]'
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/shendu train cnn --dataset mnist --epochs 1 --batch-size 64 --seed 0 --output mnist_cnn.shendu

test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

# The long training runs (examples, full MNIST epochs), left out of `make test` to keep it fast.
test-slow: $(VENV)/.dev-installed
	$(PY) -m pytest -m slow

bench: $(VENV)/.installed
	$(PY) benchmarks/op_overhead.py
	$(PY) benchmarks/mlp.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
