# gedl: two commands do everything on a fresh machine: `make grade`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?= examples/submissions
OUT ?= grades
WORKERS ?=
DEVICE ?= auto
PYTEST_ARGS ?=

.PHONY: grade test lint release gradescope bench bench-escnn test-escnn venv clean

venv: $(STAMP)

# torch==2.13.0 is pinned so that pip takes the CPU wheel available locally
# instead of a multi-GB CUDA build. The kernel spec lives inside the venv.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gedl)" >/dev/null
	touch $(STAMP)

grade: $(STAMP)
	$(PY) -m autograder grade $(SUBMISSIONS) --out $(OUT) --device $(DEVICE) $(if $(WORKERS),--workers $(WORKERS))

test: $(STAMP) lint
	bash tools/run_tests.sh $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-escnn

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

release: $(STAMP)
	$(PY) -m autograder release

gradescope: $(STAMP)
	$(PY) -m autograder gradescope

bench: $(STAMP)
	$(PY) -m benchmarks.run

# The escnn comparisons, in an environment of their own (escnn needs numpy<2).
bench-escnn:
	bash tools/escnn_venv.sh .venv-escnn
	.venv-escnn/bin/python -m benchmarks.conv
	.venv-escnn/bin/python -m benchmarks.steerable

# The cross-checks against escnn (skipped in .venv, where escnn is absent).
test-escnn:
	bash tools/escnn_venv.sh .venv-escnn
	.venv-escnn/bin/python -m pytest -q -p no:cacheprovider -k escnn tests/test_steerable.py

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache
