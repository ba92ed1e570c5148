# Every target works from a fresh clone with only python3.11 and make:
# the first call creates .venv and installs the course into it; later calls reuse it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test lint check-exercises browser-test html slides bench clean git-filter

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(MAKE) --no-print-directory git-filter
	touch $(STAMP)

# git runs filters from the top of the working tree, so the relative path survives moving the clone.
# Kept: cell ids (tests and the grader rely on them). Stripped besides outputs: what a kernel writes
# into the notebook's metadata when it runs (its exact version and the like).
NBSTRIPOUT := $(BIN)/python -m nbstripout --keep-id --extra-keys "$(addprefix metadata.language_info.,\
	version codemirror_mode file_extension mimetype nbconvert_exporter pygments_lexer)"

## Store notebooks without outputs (.gitattributes names the filter); part of the set-up, idempotent.
git-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git config filter.nbstripout.clean '$(NBSTRIPOUT)' && \
		git config filter.nbstripout.smudge cat && \
		git config diff.ipynb.textconv '$(NBSTRIPOUT) -t' && \
		echo "git filter nbstripout: notebooks are stored without outputs"; \
	fi

## Open the course in JupyterLab: the whole repository, starting at the course map; extra options: make lab LAB_ARGS="--port=9999".
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) \
		--ContentsManager.post_save_hook=course_lib.lab.keep_git_index_fresh $(LAB_ARGS) notebooks/00_index.ipynb

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
## Launch buttons (Binder, a JupyterHub with nbgitpuller) need the student edition's repository:
## make html SITE_ARGS="--repository https://github.com/OWNER/NAME --jupyterhub https://hub.example.edu"
html: $(STAMP)
	$(BIN)/python scripts/build_site.py $(SITE_ARGS)

## Build one offline reveal.js deck per lecture: build/slides/NN_topic.slides.html (opens from file://).
slides: $(STAMP)
	$(BIN)/python scripts/build_slides.py

## Measure speed against baselines from the same run; writes docs/BENCHMARKS.md with its own run time.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) _build build
