# Two commands do everything on a fresh machine: `make demo` and `make test` (which also builds
# the documentation, in tests/test_docs.py). `make docs` builds it alone into docs/_build/html.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
TORCH_CPU := torch==2.13.0

.PHONY: test demo docs notebooks bench lint clean

# The package alone: all `make demo` needs.
$(CORE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(CORE)

# The test extra on top, and the CPU build of torch only where a wheel is at hand (never a
# CUDA download): the torch tests skip cleanly without it.
$(STAMP): $(CORE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	($(BIN)/python -m pip install --quiet --disable-pip-version-check --no-index --no-deps $(TORCH_CPU) \
	  && $(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH_CPU)) 2>/dev/null \
	  || echo "No CPU build of torch at hand: the torch tests will be skipped."
	touch $(STAMP)

# The docs extra on top of the package: Sphinx, numpydoc, myst-parser, myst-nb.
$(DOCS_STAMP): $(CORE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
	touch $(DOCS_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check strong_lth tests benchmarks docs/conf.py docs/execute_notebooks.py
	$(BIN)/ruff format --check strong_lth tests benchmarks docs/conf.py docs/execute_notebooks.py

test: lint
	$(BIN)/python -m pytest

demo: $(CORE)
	$(BIN)/strong-lth demo

# Theory, API reference and notebooks (shown with their committed outputs, never executed), with
# every warning an error; open docs/_build/html/index.html.
docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# Re-execute every notebook headless in FAST mode and save it with its outputs (committed so that
# a reader, GitHub and the docs show the figures; tests/test_docs.py checks they are there).
notebooks: $(STAMP)
	$(BIN)/python docs/execute_notebooks.py .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_subset_sum.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build
