"""A feedback page rendered as nbgrader renders it, with the course folder's configuration
(course_tools.classroom.write_config), without a gradebook: for tests of the page itself."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from course_tools import classroom, feedback_page

# What nbgrader's GenerateFeedback adds to the course's configuration.
NBGRADER_CSS = feedback_page.NBGRADER_TEMPLATES.parent / "static/node_modules/bootstrap/dist/css"
FORMULA = r"$\mathbf{y} = \mathcal{F}(\mathbf{x}) + \mathbf{x}$"
REASON = (
    "Test failed: the skip connection is missing: " + "the block's output should be " * 12
).strip()


def learner_notebook() -> nbformat.NotebookNode:
    """A graded notebook: a formula, and a failed check with a long reason and its traceback."""
    check = nbformat.v4.new_code_cell(
        'assert check_identity_block(identity_block), "see the reason above"',
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "check", "points": 1,
                               "score": 0, "locked": True, "schema_version": 3}},
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=REASON + "\n"),
            nbformat.v4.new_output(
                "error", ename="AssertionError", evalue="see the reason above",
                traceback=["AssertionError: see the reason above"],
            ),
        ],
    )  # fmt: skip
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"The block computes {FORMULA}."), check]
    )


def render_feedback(course: Path) -> str:
    """The feedback page of `learner_notebook`, for a course folder written in ``course``."""
    course.mkdir(parents=True, exist_ok=True)
    config = Config()
    exec(classroom.write_config(course).read_text(), {"get_config": lambda: config})
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_paths = [str(NBGRADER_CSS)]
    resources = {"nbgrader": {"notebook": "02_identity_block", "score": 0, "max_score": 1,
                              "late_penalty": 0}}  # fmt: skip
    html, _ = HTMLExporter(config=config).from_notebook_node(learner_notebook(), resources)
    return html
