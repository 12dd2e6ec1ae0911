# movierec: two commands for everyone (make lab, make test); the rest for instructors.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter
# Graded and tested notebook runs hide progress bars (their output varies run to run).
export MOVIEREC_PROGRESS ?= 0

.PHONY: setup lab notebook check test test-fast test-perturbed test-hub test-cluster-load test-colab test-oldest test-slurm test-strength test-browser test-a11y browser-tools lint bench course-time release solutions clean

# Set-up, lab and tests live in scripts/course.py (so that Windows, conda and hub users, who
# may have no make, run the same steps: `python scripts/course.py lab|test`). It reinstalls
# only when pyproject.toml or constraints.txt changed.
setup:
	$(PYTHON) scripts/course.py setup

lab:
	$(PYTHON) scripts/course.py lab

# The same course in Jupyter Notebook 7 (recommended with a screen reader).
notebook:
	$(PYTHON) scripts/course.py notebook

# Before handing in: run a notebook as grading will (make check NOTEBOOK=notebooks/02_.../02_....ipynb).
check:
	$(PYTHON) scripts/course.py check $(NOTEBOOK)

lint:
	$(PYTHON) scripts/course.py lint

# Lint, every test, and nbval: it re-executes every stored solution notebook and compares its
# outputs; float data that come out of training are compared within tolerances
# (tests/nbval_tolerance.py).
test:
	$(PYTHON) scripts/course.py test

test-fast:
	$(PYTHON) scripts/course.py test-fast

# What a student sees: every notebook run in JupyterLab (as `make lab` starts it) in headless
# Chromium, and the accessibility of the pages we write. Needs Debian's chromium (installed here
# when missing, as root), playwright, and axe-core (bundled by axe-playwright-python).
test-browser: browser-tools
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q tests/browser

# Only the accessibility tests: feedback, similarity, stats and test-strength pages made for
# real, checked by axe-core (WCAG 2.1 A/AA and best practices) in headless Chromium.
test-a11y: browser-tools
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q $(sort $(shell find tests -name 'test_a11y*.py'))

browser-tools: setup
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(PY) -m pip install --quiet -c constraints.txt playwright axe-playwright-python

# The notebooks again under another float environment: oneDNN switched the other way, one
# intra-op thread, PyTorch's scalar CPU kernels. Stored outputs must not depend on the CPU
# kernels that made them.
test-perturbed:
	$(PYTHON) scripts/course.py test-perturbed

# Grading on a Dask cluster while both cores are busy with other processes: a worker killed
# mid-grade, five times in a row (each run must lose nobody and grade nobody twice).
test-cluster-load: setup
	MOVIEREC_CLUSTER_LOAD_ROUNDS=5 PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m pytest -q \
		tests/instructor/grading/test_cluster.py -k worker_killed

# A real JupyterHub class on loopback (as root: makes and removes Unix accounts mrhub-*): the hub,
# configurable-http-proxy, PAM, servers as their students, nbgitpuller, nbgrader's exchange and
# `movierec grade-service` as the hub's managed service (tests/hub). Every account must run the
# hub's Python, so it gets its own environment in $(HUB_ENV) (Debian's python3, not a home folder's).
HUB_ENV ?= /opt/movierec-hub/venv
define HUB_ENV_IS_THIS_CHECKOUT
import pathlib, sys, jupyterhub, movierec_helpers, movierec_instructor
here = pathlib.Path(sys.argv[1]).resolve()
sys.exit(not all(pathlib.Path(m.__file__).resolve().is_relative_to(here) for m in (movierec_helpers, movierec_instructor)))
endef
export HUB_ENV_IS_THIS_CHECKOUT
test-hub:
	test "$$(id -u)" = 0 || (echo "make test-hub runs as root (it makes Unix accounts)" && exit 2)
	test -x $(HUB_ENV)/bin/python || /usr/bin/python3 -m venv $(HUB_ENV)
	# (Re)install when the hub's environment lacks JupyterHub or holds another checkout's course.
	$(HUB_ENV)/bin/python -c "$$HUB_ENV_IS_THIS_CHECKOUT" "$(CURDIR)" 2>/dev/null || $(HUB_ENV)/bin/pip install -q \
		-c constraints.txt -e . -e ./instructor "jupyterhub>=6.1" "nbgitpuller>=1.3" jupyterlab pytest requests
	$(HUB_ENV)/bin/python -c "import playwright" 2>/dev/null || $(HUB_ENV)/bin/pip install -q -c constraints.txt playwright
	test -x .hub-tools/node_modules/.bin/configurable-http-proxy || \
		npm install --silent --prefix .hub-tools configurable-http-proxy@5
	$(HUB_ENV)/bin/python scripts/install_kernel.py && $(HUB_ENV)/bin/python -m movierec_instructor.integrity.kernels
	$(HUB_ENV)/bin/python -c "from movierec_instructor.integrity.sandbox import check_available; check_available()"
	MOVIEREC_TEST_HUB=1 MOVIEREC_CHP=$(CURDIR)/.hub-tools/node_modules/.bin/configurable-http-proxy \
		$(HUB_ENV)/bin/python -m pytest -q -p no:cacheprovider tests/hub

# Colab's versions (constraints-colab.txt, Python 3.13): installing the course changes none of
# them, and every notebook grades full marks (solutions) and 0 (blank) on the stock kernel.
test-colab:
	$(PYTHON) scripts/course.py test-colab

# Maintainers: a one-node Slurm here (as root), then grading through two Slurm jobs (dask-jobqueue).
test-slurm:
	$(PYTHON) scripts/course.py test-slurm

# The declared floors (pyproject.toml): Python 3.11 and the lowest version of every direct
# dependency (uv's --resolution lowest-direct); every notebook grades as in test-colab.
test-oldest:
	$(PYTHON) scripts/course.py test-oldest

bench: setup
	# The maintainers' comparison libraries (the `bench` extra: `implicit`), never the students'.
	$(PY) -m pip install --quiet -c constraints.txt -e '.[bench]'
	$(PY) benchmarks/engine.py
	ONEDNN_MAX_CPU_ISA=AVX2 $(PY) benchmarks/engine.py
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/similarity.py
	$(PY) benchmarks/hostile.py
	$(PY) benchmarks/strength.py
	$(PY) benchmarks/stats.py
	$(PY) benchmarks/retrieval.py
	$(PY) benchmarks/cluster.py
	$(PY) benchmarks/torch_engine.py
	$(PY) benchmarks/torch_embeddings.py
	$(PY) benchmarks/torch_softmax.py
	$(PY) benchmarks/implicit_feedback.py
	$(PY) benchmarks/hub.py

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
