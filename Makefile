# Two entry points for a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
WHEELS ?= ../shared/wheels
export ECN_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: install demo test docs bench lint mutation clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[ecn,test,docs,pyg]'
	# torch-scatter takes ~9 minutes to compile; use the prebuilt wheel where there is one.
	if [ -d $(WHEELS) ]; then $(BIN)/python -m pip install --quiet --no-index --find-links $(WHEELS) torch-scatter==2.1.2; fi
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m crystalgroups.demo --out demo-output
	$(BIN)/python -m ecn.demo --out demo-output/ecn-s

test: $(STAMP)
	$(BIN)/ruff check crystalgroups ecn tests benchmarks tools docs/conf.py
	$(BIN)/python -m pytest -q
	$(MAKE) docs

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check crystalgroups ecn tests benchmarks tools docs/conf.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pair_orbits.py

# Mutation testing (slow, not part of test): the planted bugs, then cosmic-ray per core module.
mutation: $(STAMP)
	$(BIN)/python tools/mutation.py planted

clean:
	rm -rf docs/_build demo-output .pytest_cache .hypothesis
