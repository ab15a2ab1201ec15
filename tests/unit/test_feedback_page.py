"""The feedback page the course's nbgrader configuration writes: nothing fetched from a CDN,
MathJax inlined from the course's copy. (The browser test shows it typesets offline and wraps.)"""

from __future__ import annotations

import re

import pytest
from feedback_pages import REASON, render_feedback

from course_tools import feedback_page


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    if not feedback_page.mathjax_available():
        pytest.skip("no MathJax in _vendor/: make web-assets")
    return render_feedback(tmp_path_factory.mktemp("course"))


def test_the_page_loads_nothing_from_elsewhere(page):
    assert "cdnjs" not in page
    assert re.findall(r"<script[^>]*\ssrc=", page) == []
    assert re.findall(r"<link[^>]*\shref=\"https?:", page) == []


def test_the_page_carries_mathjax_and_the_check_s_reason(page):
    script = feedback_page.MATHJAX.read_text(encoding="utf-8")
    assert script[:2000] in page
    assert REASON in page
    assert "see the reason above" in page


def test_output_lines_wrap(page):
    assert "white-space: pre-wrap" in page


def test_without_mathjax_the_page_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(feedback_page, "MATHJAX", tmp_path / "missing.js")
    assert feedback_page.MISSING_MATHJAX in feedback_page.inline_mathjax()
    assert "</script" not in feedback_page.inline_mathjax()
