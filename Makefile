# One entry point for the course. `make book` builds the HTML book; `make test` runs every test.
# Both create or reuse the virtual environment in .venv and prepare the data first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIGNS_SOURCE ?= ../shared/datasets/sign-language-digits
DATA_DIR := data/signs
export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND := tensorflow

.PHONY: all book test unit setup system-packages data web-assets lint format execute book-check \
	browser-packages browser-check pdf student lab clean

all: book

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[book,dev,instructor]'
	touch $(STAMP)

system-packages:
	bash scripts/install-system-packages.sh

setup: system-packages $(STAMP)

## The JavaScript the pages load (ipywidgets HTML manager, RequireJS, MathJax): pinned npm tarballs,
## checked against their SHA-512, unpacked into _vendor/ (git-ignored), served from _static/.
web-assets: setup
	$(BIN)/python scripts/fetch_web_assets.py

data: setup
	$(BIN)/python -m course_utils.data prepare --source $(SIGNS_SOURCE) --out $(DATA_DIR)

## The main job: build the HTML book from the notebooks' stored outputs.
book: data web-assets
	$(BIN)/jupyter-book build . --keep-going
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"

## Every test: lint, the nitpicky book build, then one pytest run shared by PYTEST_WORKERS processes
## (pytest-xdist; each chapter, test module and test class goes whole to one process, chapters first):
## nbval over every chapter, the unit, system and browser tests, and the benchmarks' own tests.
## nbval runs a copy of the chapters in $(BRIEF_BOOK) whose training is brief: papermill's parameters
## (EPOCHS=1, TRAINING_IMAGES=32) injected by course_tools.brief_chapters (docs/testing.md).
PYTEST_WORKERS ?= 2
BRIEF_BOOK := _build/brief-book
test: data web-assets browser-packages
	$(BIN)/ruff check .
	$(MAKE) book-check
	$(BIN)/python -m course_tools.brief_chapters --out $(BRIEF_BOOK)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder \
		$(BRIEF_BOOK) tests benchmarks --nbval --nbval-current-env -p no:cacheprovider

## The fast tier: unit tests only (no notebook, no subprocess, no browser).
unit: data
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit -p no:cacheprovider

book-check: setup web-assets
	$(BIN)/jupyter-book build . -n -W --keep-going

## The built book (make book or make book-check first) in headless Chromium with the network
## blocked, its internal links, and proof that the checks catch a broken copy. Screenshots of the
## pages go to _build/html/_screenshots/. Without Chromium the browser tests are skipped, unless
## COURSE_REQUIRE_BROWSER=1 (CI), which makes that a failure.
browser-check: setup browser-packages
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

browser-packages:
	bash scripts/install-system-packages.sh --browser

## Optional: a printable PDF of the book in _build/pdf/book.pdf, through Jupyter Book's pdfhtml
## route (one HTML page printed by Chromium) with Debian's Chromium, offline (see the README).
pdf: data web-assets browser-packages
	$(BIN)/python scripts/book_pdf.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check course_utils course_tools tests benchmarks

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format course_utils course_tools tests benchmarks

## Re-run every chapter and store its outputs (after changing a chapter or the code it uses).
execute: data
	$(BIN)/python -m course_tools.execute_book

## The student version of the notebooks (solutions blanked) goes to student/ (git-ignored).
student: setup
	$(BIN)/python -m course_tools.student_version --out student

lab: data
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[book,dev,lab]'
	$(BIN)/jupyter lab book $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf _build _vendor student .pytest_cache
