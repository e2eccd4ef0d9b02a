# The two commands README.md gives a newcomer: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/mlcycle: pyproject.toml requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $@

setup: $(BIN)/mlcycle

demo: setup
	$(BIN)/mlcycle demo

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: setup demo test
