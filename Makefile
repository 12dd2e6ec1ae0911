# movierec: two commands for everyone (make lab, make test); the rest for instructors.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
STAMP := $(VENV)/.movierec-installed
KERNEL := $(VENV)/share/jupyter/kernels/movierec-grading/kernel.json
# Graded and tested notebook runs hide progress bars (their output varies run to run).
export MOVIEREC_PROGRESS ?= 0

.PHONY: setup lab test test-fast bench course-time release solutions validate autograde feedback export clean

setup: $(STAMP) $(KERNEL)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(KERNEL): $(STAMP) scripts/install_kernel.py
	$(PY) scripts/install_kernel.py

lab: setup
	MOVIEREC_PROGRESS=1 $(JUPYTER) lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# nbval re-executes every stored solution notebook and compares its outputs.
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

test: setup
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q tests solutions $(NBVAL)

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests

bench: setup
	$(PY) -m movierec_helpers.bench
	$(PY) -m movierec_helpers.bench_scaling
	$(PY) -m movierec_helpers.bench_grading

course-time: setup
	$(PY) -m movierec_helpers.course time

# Instructors: regenerate notebooks/ from solutions/ (nbgrader generate_assignment).
release: setup
	$(PY) -m movierec_helpers.course release

# Re-execute the solution notebooks and store their outputs (after editing solutions/).
solutions: setup
	$(PY) -m movierec_helpers.course execute

clean:
	rm -rf $(VENV) gradebook.db autograded feedback submitted release .pytest_cache
