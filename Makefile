# Two entry points for a fresh machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/default.toml
OUT ?= runs/default
LATEST := .venv-latest
TRAIN := .venv-train

.PHONY: run test test-latest test-train versions install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/sagin-twin run $(SCENARIO) --out $(OUT) --force
	$(BIN)/sagin-twin report $(OUT) --out $(OUT)/report

test: $(STAMP)
	$(BIN)/python -m pytest -q

versions: $(STAMP)
	$(BIN)/python -m sagin_twin.versions

# The suite on the newest dependency versions pyproject.toml allows, in a throw-away venv: run it
# before raising an upper bound, and now and then to catch drift before users do.
test-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[test]"
	$(LATEST)/bin/python -m sagin_twin.versions
	$(LATEST)/bin/python -m pytest -q -p no:cacheprovider

# The learning extra (torch's CPU build, skrl) in its own venv, so the core install never needs torch: a short
# MAPPO/IPPO training, resume and evaluation of the learned policy (tests marked train).
test-train:
	$(PYTHON) -m venv $(TRAIN)
	$(TRAIN)/bin/python -m pip install --quiet --upgrade pip
	$(TRAIN)/bin/python -m pip install --quiet -e ".[test,train]"
	$(TRAIN)/bin/python -m pytest -q -p no:cacheprovider -m train

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(LATEST) $(TRAIN) runs .pytest_cache .hypothesis
