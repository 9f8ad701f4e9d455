# The book's tasks. `make book` sets everything up; `make test` checks everything.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: book install lab test test-robust lint notebooks site clean

book: install site  ## install everything and build the book's website
	@echo "Ready. Read the book at _build/site/index.html, or run it: make lab"

install: $(VENV)/.installed  ## create .venv with the tested versions (constraints.txt)

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[data,book,test,site]"
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

lab: install  ## open the book in JupyterLab
	$(VENV)/bin/jupyter lab chapters/

lint: install  ## ruff over the package, the tests, the tools and the notebooks
	$(PY) -m ruff check .

test: lint  ## the whole test suite: unit tests and every notebook through nbval
	$(PY) -m pytest -n 2 --dist loadfile

test-robust: install  ## every chapter again: seeds shifted, two threads, another CPU's numerics
	RNNBOOK_PASS=robust $(PY) -m pytest -n 2 --dist loadfile chapters

notebooks: install  ## re-execute every chapter from its .py twin and store the outputs
	$(PY) tools/notebooks.py run $(CHAPTERS)

site: install  ## build the website into _build/site, offline, from the stored outputs
	$(PY) tools/build_site.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache _build
