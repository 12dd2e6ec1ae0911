# movierec: two commands for everyone (make lab, make test); the rest for instructors.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
STAMP := $(VENV)/.movierec-installed
KERNELS := $(VENV)/share/jupyter/kernels
# Graded and tested notebook runs hide progress bars (their output varies run to run).
export MOVIEREC_PROGRESS ?= 0

.PHONY: setup lab test test-fast test-perturbed test-strength test-browser lint bench course-time release solutions clean

LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

setup: $(STAMP) $(KERNELS)/movierec/kernel.json $(KERNELS)/movierec-grading/kernel.json $(LAB_SETTINGS)

$(PY):
	$(PYTHON) -m venv $(VENV)

# One environment for the whole repository: the student package (.), its dev tools, and
# the instructor package (./instructor). A student hand-out needs only the first.
$(STAMP): pyproject.toml instructor/pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./instructor
	touch $(STAMP)

$(KERNELS)/movierec/kernel.json: $(STAMP) scripts/install_kernel.py
	$(PY) scripts/install_kernel.py

$(LAB_SETTINGS): $(STAMP) scripts/lab_settings.py
	$(PY) scripts/lab_settings.py

$(KERNELS)/movierec-grading/kernel.json: $(KERNELS)/movierec/kernel.json instructor/movierec_instructor/kernels.py
	$(PY) -m movierec_instructor.kernels

# No news feed or update check: classrooms are often offline, and the pop-up distracts.
LAB_OPTIONS := --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

lab: setup
	MOVIEREC_PROGRESS=1 $(JUPYTER) lab --notebook-dir=notebooks $(LAB_OPTIONS) $(if $(filter 0,$(shell id -u)),--allow-root,)

# nbval re-executes every stored solution notebook and compares its outputs; float data
# that come out of training are compared within tolerances (tests/nbval_tolerance.py).
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300 -p tests.nbval_tolerance

lint: setup
	$(VENV)/bin/ruff check movierec_helpers instructor benchmarks tests scripts

test: setup lint
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q tests solutions --ignore=tests/browser $(NBVAL)

test-fast: setup
	$(PY) -m pytest -q -m "not slow" tests --ignore=tests/browser

# What a student sees: every notebook run in JupyterLab (as `make lab` starts it) in headless
# Chromium. Needs Debian's chromium (installed here when missing, as root) and playwright.
test-browser: setup
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(PY) -m pip install --quiet -c constraints.txt playwright
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q tests/browser

# The notebooks again under another float environment: oneDNN switched the other way and
# one intra-op thread. Stored outputs must not depend on the CPU kernels that made them.
test-perturbed: setup
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH TF_ENABLE_ONEDNN_OPTS=0 TF_NUM_INTRAOP_THREADS=1 \
		$(PY) -m pytest -q solutions $(NBVAL)

bench: setup
	$(PY) benchmarks/engine.py
	ONEDNN_MAX_CPU_ISA=AVX2 $(PY) benchmarks/engine.py
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/similarity.py
	$(PY) benchmarks/strength.py

# Instructors: mutation testing of every graded exercise's tests (reports in test-strength/).
test-strength: setup
	$(VENV)/bin/movierec test-strength

course-time: setup
	$(PY) -m movierec_instructor.course time

# Instructors: regenerate notebooks/ from solutions/ (nbgrader generate_assignment).
release: setup
	$(PY) -m movierec_instructor.course release

# Re-execute the solution notebooks and store their outputs (after editing solutions/).
solutions: setup
	$(PY) -m movierec_instructor.course execute

clean:
	rm -rf $(VENV) gradebook.db autograded feedback submitted release .pytest_cache
