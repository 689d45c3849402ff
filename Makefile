# Everyday commands. `make demo` and `make test` work on a fresh clone: they build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast mutate lint format bench bench-smoke docs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is needed (found %s); .python-version selects 3.12 under pyenv" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The main job: the headline comparison (16 scenarios x 20 replications = 320 runs); the same
# comparison over parameter uncertainty (8 scenarios x 30 draws from the stored ABC posterior
# sample, scenarios/calibrated/wuhou/posterior.parquet, x 5 seeds = 1,200 runs); over the
# structural variants (8 scenarios x 7 variants x 6 seeds = 336 runs); the Morris screening of
# what moves the reform's effects (26 factors x 8 trajectories, both arms = 416 runs); the horizon
# (the reform and no reform run on to 2020: 2 x 20 runs of 96 months); and the report, which checks
# the reform against the observed record (scenarios/targets/wuhou.toml). Reruns resume;
# results/headline/report.html is the output (the report's last line says where it is).
demo: $(STAMP)
	$(PY) -m sim sweep experiments/headline.toml --out results/headline
	$(PY) -m sim sweep experiments/headline_posterior.toml --out results/headline_posterior
	$(PY) -m sim sweep experiments/structural.toml --out results/structural
	$(PY) -m sim sweep experiments/sensitivity_effects.toml --out results/sensitivity_effects
	$(PY) -m sim sweep experiments/horizon.toml --out results/horizon
	$(PY) -m sim report results/headline --sensitivity results/sensitivity_effects \
		--uncertainty results/headline_posterior --structural results/structural \
		--targets scenarios/targets/wuhou.toml --horizon results/horizon \
		--calibration scenarios/calibrated/wuhou

test: $(STAMP)
	$(PY) -m pytest

# The fast tests that mutation testing runs against (pyproject.toml [tool.mutmut]); under a minute.
FAST_TESTS := tests/processes tests/test_model.py tests/test_metrics.py
test-fast: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider $(FAST_TESTS)

# Mutation testing of sim/processes/ and sim/metrics.py against the fast tests (docs/testing.md).
# All mutants take hours on two cores; `make mutate SAMPLE=100 [SEED=1]` runs a random sample.
mutate: $(STAMP)
	$(PY) tests/mutate.py $(if $(SAMPLE),--sample $(SAMPLE)) $(if $(SEED),--seed $(SEED))

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests benchmarks
	$(VENV)/bin/ruff format --check sim tests benchmarks
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format sim tests benchmarks
	$(VENV)/bin/ruff check --fix sim tests benchmarks

# Benchmarks (minutes; figures and how to read them in benchmarks/README.md). bench-smoke runs
# each script once in a tiny size, so CI notices when one breaks; its figures mean nothing.
bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_runner.py
	$(PY) benchmarks/bench_scale.py --scales 10

bench-smoke: $(STAMP)
	$(PY) benchmarks/bench_model.py --smoke
	$(PY) benchmarks/bench_runner.py --smoke
	$(PY) benchmarks/bench_scale.py --smoke
	$(PY) benchmarks/bench_processes.py --smoke --base HEAD flow_items serve_residents
	$(PY) benchmarks/bench_versions.py --smoke

docs: $(STAMP)
	$(PY) -m sim docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache mutants
