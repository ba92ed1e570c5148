# Every target works from a fresh clone with only python3.11 and make:
# the first call creates .venv and installs the course into it; later calls reuse it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lint check-exercises browser-test html bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Open the course in JupyterLab: the whole repository, starting at the course map; extra options: make lab LAB_ARGS="--port=9999".
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) notebooks/00_index.ipynb

## Run the whole test suite: lint, exercise freshness, unit tests, all notebooks, the grader, then the
## real-browser tests on their own (a JupyterLab beside busy xdist workers makes their waits flaky).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m course_lib.grading release --check
	$(BIN)/python -m pytest -n 2 --dist loadfile --ignore=tests/browser
	$(BIN)/python -m pytest -p no:xdist tests/browser

lint: $(STAMP)
	$(BIN)/ruff check .

## Check your own homework: make check-exercises NB=exercises/07_adam.ipynb
NB ?= exercises
check-exercises: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -p no:xdist -p course_lib.grading.nbval_report $(NB)

## Only the real-browser tests (JupyterLab + Debian chromium); screenshots go to build/screenshots/.
browser-test: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist tests/browser

## Build the static lecture companion (executed notebooks, readable offline) into build/site/_build/html/.
html: $(STAMP)
	$(BIN)/python scripts/build_site.py

## Measure speed against baselines from the same run; writes docs/BENCHMARKS.md (< 10 min on 2 cores).
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) _build build
