"""A learner's feedback page in Chromium with the network blocked: MathJax typesets its formula
from the page itself, and the check's reason wraps instead of scrolling sideways."""

from __future__ import annotations

import pytest
from feedback_pages import REASON, render_feedback
from local_server import serve_folder
from rendered_book import TIMEOUT_MS, VIEWPORT

from course_tools import feedback_page

JS_TYPESET = """async () => {
  await MathJax.startup.promise;
  return {
    typeset: document.querySelectorAll("mjx-container").length,
    errors: document.querySelectorAll("mjx-merror").length,
  };
}"""
JS_OVERFLOWING_OUTPUTS = """(reason) => [...document.querySelectorAll("div.output_area pre")]
  .filter((pre) => pre.textContent.includes(reason))
  .map((pre) => pre.scrollWidth - pre.clientWidth)"""


@pytest.fixture(scope="module")
def feedback_view(chromium, tmp_path_factory):
    """The rendered page's typeset formulas, sideways overflow of the reason's box, and every
    request that tried to leave the local server."""
    if not feedback_page.mathjax_available():
        pytest.fail("no MathJax in _vendor/: make web-assets")
    folder = tmp_path_factory.mktemp("feedback")
    (folder / "02_identity_block.html").write_text(render_feedback(folder / "course"))
    with serve_folder(folder) as server:
        blocked: list[str] = []

        def route(request_route):
            if request_route.request.url.startswith(server):
                request_route.continue_()
            else:
                blocked.append(request_route.request.url)
                request_route.abort("blockedbyclient")

        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", route)
        page = context.new_page()
        page.goto(f"{server}/02_identity_block.html", wait_until="load")
        math = page.evaluate(JS_TYPESET)
        overflow = page.evaluate(JS_OVERFLOWING_OUTPUTS, REASON)
        context.close()
    return {"math": math, "overflow": overflow, "blocked": blocked}


def test_the_formula_is_typeset_without_the_network(feedback_view):
    assert feedback_view["blocked"] == []
    assert feedback_view["math"] == {"typeset": 1, "errors": 0}


def test_the_check_s_reason_wraps_in_its_box(feedback_view):
    assert feedback_view["overflow"] == [0]
