"""Fixtures for the tests of the built HTML book (``make browser-check``, after the book is built).

Without a built book, Playwright or Chromium these tests are skipped, with the reason; with
``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) that is a failure instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rendered_book import DEFAULT_HTML, browser, find_chromium

HERE = Path(__file__).resolve().parent
REQUIRED = os.environ.get("COURSE_REQUIRE_BROWSER") == "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: tests of the built HTML book (make browser-check, after the build)"
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (COURSE_REQUIRE_BROWSER=1 requires the browser tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The built book: $COURSE_BOOK_HTML, else _build/html."""
    html = Path(os.environ.get("COURSE_BOOK_HTML", DEFAULT_HTML))
    if not (html / "book" / "intro.html").is_file():
        unavailable(f"no built book in {html}: run `make book` first")
    return html


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (Debian's; Playwright downloads none)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright is not installed: pip install -c constraints.txt -e '.[dev]'")
    executable = find_chromium()
    if executable is None:
        unavailable("no Chromium: bash scripts/install-system-packages.sh --browser")
    with browser(executable) as instance:
        yield instance
