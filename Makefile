# reportkit: two commands on a fresh machine.
#   make demo   create .venv if missing, run the batch on the bundled demo data
#   make test   create .venv if missing, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.reportkit-installed
DEMO_OUT ?= reports/demo

.PHONY: demo test env kernel clean lab bench

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,pdf]"
	$(BIN)/python -m ipykernel install --sys-prefix --name reportkit --display-name "Python (reportkit)" >/dev/null
	@touch $(STAMP)

kernel: $(STAMP)

# Where Python runs with PYTHONDONTWRITEBYTECODE set (some containers and CI images), every
# process would compile reportkit's ~100 modules again (about 0.3 s of CPU each: the command,
# each report worker and warm process). Compiled here once; up-to-date files are skipped.
BYTECODE = $(BIN)/python -m compileall -q -j 0 src/reportkit >/dev/null

demo: $(STAMP)
	@$(BYTECODE)
	$(BIN)/reportkit batch params/demo.yaml --output-dir $(DEMO_OUT)

# The suite runs on every core (pytest-xdist). Tests that share an expensive build (a
# module-scoped fixture, one data set's batch) stay on one worker and the longest go
# first (tests/conftest.py). TEST_WORKERS=0 runs it in this process, in file order.
# --durations: every run (CI's too) ends with its slowest tests, the suite's time profile;
# every test's time goes to build/test-times.xml, which tests/refresh_durations.py turns into the order.
TEST_WORKERS ?= auto
test: $(STAMP)
	@$(BYTECODE)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=40 \
		--junitxml=build/test-times.xml $(PYTEST_ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab

bench: $(STAMP)
	@$(BYTECODE)
	$(BIN)/python benchmarks/bench_commission.py
	$(BIN)/python benchmarks/bench_excel.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_timeline.py
	$(BIN)/python benchmarks/bench_pdf.py
	$(BIN)/python benchmarks/bench_report.py --pdf
	$(BIN)/python benchmarks/bench_fingerprint.py

clean:
	rm -rf reports build dist *.egg-info src/*.egg-info .pytest_cache
