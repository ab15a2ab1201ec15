"""nbgrader's feedback page, readable offline and without a scrolling box.

nbgrader writes each learner's feedback with its ``feedback`` template, which loads MathJax from a
CDN (nbconvert's ``mathjax`` macro) and shows long output lines, such as a check's reason, in a
box that scrolls sideways. The course folder's ``nbgrader_config.py`` (`configure_lines`) puts
``feedback_templates/`` before nbgrader's own templates, so that nbconvert finds this folder's
``feedback/mathjax.html.j2`` first: it inlines the course's own copy of MathJax (``make
web-assets`` puts it in ``_vendor/``) and makes output lines wrap. Everything else is nbgrader's
template, also where nbgrader's formgrader generates the feedback.
"""

from __future__ import annotations

from pathlib import Path

import nbgrader

from course_utils.data.paths import PROJECT_ROOT

TEMPLATES = Path(__file__).resolve().parent / "feedback_templates"
NBGRADER_TEMPLATES = (
    Path(nbgrader.__file__)
    .resolve()
    .parent.joinpath("server_extensions", "formgrader", "templates")
)
# One file with MathJax's TeX input, SVG output (no font files to fetch) and all TeX extensions.
MATHJAX = PROJECT_ROOT / "_vendor" / "mathjax" / "tex-svg-full.js"
MISSING_MATHJAX = "run `make web-assets` to put MathJax in _vendor/, then grade again"


def configure_lines() -> str:
    """The lines of ``nbgrader_config.py`` that make nbgrader's feedback use this template."""
    return (
        "# Feedback pages: MathJax from the course's own copy, long output lines wrapped\n"
        "# (course_tools/feedback_page.py).\n"
        f"c.HTMLExporter.extra_template_basedirs = {[str(TEMPLATES), str(NBGRADER_TEMPLATES)]!r}\n"
        'c.HTMLExporter.filters = {"inline_mathjax": "course_tools.feedback_page.inline_mathjax"}\n'
    )


def mathjax_available() -> bool:
    """Whether the course's copy of MathJax is there to inline."""
    return MATHJAX.is_file()


def inline_mathjax(_unused: object = None) -> str:
    """MathJax's script, safe to place between ``<script>`` and ``</script>``; where the
    course's copy is missing, a JavaScript comment that says how to get it (the formulas then
    show as TeX)."""
    if not mathjax_available():
        return f"/* MathJax is missing: {MISSING_MATHJAX} */"
    return MATHJAX.read_text(encoding="utf-8").replace("</script", "<\\/script")
