"""Grading a class with nbgrader: honest submissions pass, wrong ones fail with the grader's hint,
cheats fail with a reason (outside the notebook too), a submission cannot touch the course or the
others, and a learner's later chapters use their earlier ones. The gradebook holds points per check
for each learner, and each learner gets a feedback file. Misbehaving submissions:
test_grade_class_limits.py (a module of its own, so that the two share the test processes)."""

from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path

import pytest
from class_submissions import CHAPTER, chapter, with_cell_before_check, with_exercise

from course_tools import classroom, sandbox
from course_tools.grade_class import grade
from course_tools.notebooks import exercise_cells, read_notebook, write_notebook_atomic
from course_utils import resnet
from course_utils.data.paths import PROJECT_ROOT

if sandbox.bubblewrap() is None and os.environ.get(sandbox.REQUIRE_ENV) == "1":
    pytest.fail(sandbox.sandbox_warning(), pytrace=False)

NO_SKIP = inspect.getsource(resnet.identity_block).replace(
    "    X = layers.Add()([X, X_shortcut])\n", ""
)
PROTECTED = [
    PROJECT_ROOT / "course_utils" / "grading" / "blocks.py",
    PROJECT_ROOT / "book" / CHAPTER,
]


def tampering(course: Path, other: Path) -> str:
    """Code that tries to overwrite the graders, a chapter, the gradebook and another learner's
    submission, and to reach the network."""
    targets = [*PROTECTED, course / "gradebook.db", other]
    return f"""
import socket
for path in {[str(t) for t in targets]!r}:
    try:
        with open(path, "w") as f:
            f.write("tampered")
    except OSError as error:
        print("refused", path, error.errno)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=3)
except OSError as error:
    print("no network", type(error).__name__)
"""


# A cell that replaces the graders in course_utils.grading's modules: the restored check cell then
# imports the replacement, inside the learner's kernel.
REPLACE_THE_GRADERS = """

import course_utils.grading as grading
import course_utils.grading.blocks as blocks


def always_passes(function):
    print("All tests passed.")
    return True


grading.check_identity_block = always_passes
blocks.check_identity_block = always_passes
"""


def _with_exercise_file(path: Path, source: str) -> Path:
    """The notebook at ``path`` with ``source`` in its exercise cell, written back."""
    nb = read_notebook(path)
    ((_, cell),) = list(exercise_cells(nb))
    cell.source = source
    write_notebook_atomic(nb, path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One class graded in one call: the instructor's three chapters, an honest learner, a wrong
    block, three cheats and a tamperer, each learner in a folder of their own."""
    root = tmp_path_factory.mktemp("class")
    course = root / "course"
    submissions: dict[str, Path] = {}

    def hand_in(learner: str, nb, name: str = CHAPTER, key: str | None = None) -> None:
        path = root / "submissions" / learner / name
        write_notebook_atomic(nb, path)
        submissions[key or learner] = path

    # The instructor hands in every graded chapter, last first: graded in the chapters' order,
    # each later chapter builds on the functions the earlier ones saved.
    for name in sorted((p.name for p in classroom.graded_chapters()), reverse=True):
        hand_in("instructor", chapter(name), name, key=f"instructor/{name[:2]}")
    hand_in("honest", with_exercise(inspect.getsource(resnet.identity_block)))
    hand_in("no-skip", with_exercise(NO_SKIP))
    hand_in(
        "imports-the-reference", with_exercise("from course_utils.resnet import identity_block")
    )
    hand_in(
        "wraps-the-reference",
        with_exercise(
            "from course_utils import resnet\n\n"
            "def identity_block(X, f, filters, stage, block):\n"
            "    return resnet.identity_block(X, f, filters, stage, block)\n"
        ),
    )
    hand_in(
        "fakes-the-check",
        with_exercise(
            NO_SKIP + "\n\ndef check_identity_block(function):\n"
            '    print("All tests passed.")\n    return True\n'
        ),
    )
    hand_in("replaces-the-graders", with_exercise(NO_SKIP + REPLACE_THE_GRADERS))
    hand_in("replaces-the-graders-elsewhere", with_cell_before_check(REPLACE_THE_GRADERS))
    submissions["replaces-the-graders-elsewhere"] = _with_exercise_file(
        submissions["replaces-the-graders-elsewhere"], NO_SKIP
    )
    before = {path: digest(path) for path in PROTECTED}
    other = submissions["honest"]
    other_before = digest(other)
    hand_in("tamperer", with_cell_before_check(tampering(course, other)))
    graded = grade(list(submissions.values()), course)
    verdicts = dict(zip(submissions, graded, strict=True))
    return {
        "course": course,
        "verdicts": verdicts,
        "protected": before,
        "other": (other, other_before),
    }


class TestGradingAClass:
    def test_the_instructors_chapters_and_an_honest_learner_pass(self, graded_class):
        verdicts = graded_class["verdicts"]
        instructors = [f"instructor/{p.name[:2]}" for p in classroom.graded_chapters()]
        for learner in [*instructors, "honest"]:
            assert verdicts[learner].passed, verdicts[learner]
            assert verdicts[learner].score == verdicts[learner].max_score >= 1

    def test_a_later_chapter_is_graded_with_the_learners_own_earlier_functions(self, graded_class):
        course = graded_class["course"]
        nb = read_notebook(
            course / "autograded" / "instructor" / "04_resnet50" / "04_resnet50.ipynb"
        )
        printed = "\n".join(classroom.cell_text(cell) for cell in nb.cells)
        assert "identity_block: yours, from my_resnet.py" in printed
        assert "convolutional_block: yours, from my_resnet.py" in printed
        nb = read_notebook(
            course / "autograded" / "instructor" / "05_training" / "05_training.ipynb"
        )
        assert "ResNet50: yours, from my_resnet.py" in "\n".join(map(classroom.cell_text, nb.cells))

    def test_a_wrong_block_fails_with_the_graders_hint(self, graded_class):
        verdict = graded_class["verdicts"]["no-skip"]
        assert not verdict.passed and verdict.score == 0
        assert "skip connection is missing" in verdict.reasons[0]

    @pytest.mark.parametrize("learner", ["imports-the-reference", "wraps-the-reference"])
    def test_handing_in_the_course_reference_fails_with_the_reason(self, graded_class, learner):
        verdict = graded_class["verdicts"][learner]
        assert not verdict.passed and verdict.score == 0
        assert "course's reference implementation" in verdict.reasons[0]

    def test_a_fake_check_of_ones_own_is_not_the_one_that_grades(self, graded_class):
        verdict = graded_class["verdicts"]["fakes-the-check"]
        assert not verdict.passed and verdict.score == 0
        assert "skip connection is missing" in verdict.reasons[0]

    def test_replacing_the_graders_in_the_exercise_cell_fails_outside_the_notebook(
        self, graded_class
    ):
        verdict = graded_class["verdicts"]["replaces-the-graders"]
        assert not verdict.passed and verdict.score == 0, verdict
        (reason,) = verdict.reasons
        assert reason.startswith("identity_block, graded outside the notebook: the exercise cell")
        assert "`import course_utils.grading`: an exercise cell imports only from keras" in reason

    def test_replacing_the_graders_elsewhere_fails_on_the_wrong_block(self, graded_class):
        verdict = graded_class["verdicts"]["replaces-the-graders-elsewhere"]
        assert not verdict.passed and verdict.score == 0, verdict
        assert "graded outside the notebook" in verdict.reasons[0]
        assert "skip connection is missing" in verdict.reasons[0]

    def test_an_overruled_check_has_no_points_and_its_reason_in_the_feedback(self, graded_class):
        from nbgrader.api import Gradebook

        url = f"sqlite:///{graded_class['course'] / 'gradebook.db'}"
        with Gradebook(url) as gradebook:
            grade = gradebook.find_grade(
                "check_identity_block", "02_identity_block", "02_identity_block",
                "replaces-the-graders-elsewhere",
            )  # fmt: skip
            assert (grade.auto_score, grade.score) == (1.0, 0.0)
        feedback = (
            graded_class["course"] / "feedback" / "replaces-the-graders-elsewhere"
            / "02_identity_block" / "02_identity_block.html"
        ).read_text()  # fmt: skip
        assert "Graded again outside the notebook" in feedback

    def test_a_submission_cannot_change_the_course_the_gradebook_or_another_submission(
        self, graded_class
    ):
        for path, before in graded_class["protected"].items():
            assert digest(path) == before, path
        other, before = graded_class["other"]
        assert digest(other) == before
        graded = graded_class["course"] / "autograded" / "tamperer" / "02_identity_block"
        printed = "\n".join(
            classroom.cell_text(cell) for cell in read_notebook(graded / CHAPTER).cells
        )
        if sandbox.bubblewrap() is not None:
            targets = [*PROTECTED, graded_class["course"] / "gradebook.db", other]
            for path in targets:
                assert f"refused {path} 30" in printed  # EROFS: a read-only file system
            assert "no network" in printed
        # The tamperer's own block is correct: the attempt does not change its grade either.
        assert graded_class["verdicts"]["tamperer"].passed

    def test_the_gradebook_holds_points_per_check_for_each_learner(self, graded_class):
        from nbgrader.api import Gradebook

        url = f"sqlite:///{graded_class['course'] / 'gradebook.db'}"
        with Gradebook(url) as gradebook:
            points = {
                learner: gradebook.find_grade(
                    "check_identity_block", "02_identity_block", "02_identity_block", learner
                ).score
                for learner in ["honest", "no-skip"]
            }
            students = {student.id for student in gradebook.students}
        assert points == {"honest": 1.0, "no-skip": 0.0}
        assert {v.student for v in graded_class["verdicts"].values()} <= students

    def test_each_learner_gets_a_feedback_file_with_the_checks_message(self, graded_class):
        feedback = graded_class["course"] / "feedback"
        honest = (feedback / "honest" / "02_identity_block" / "02_identity_block.html").read_text()
        wrong = (feedback / "no-skip" / "02_identity_block" / "02_identity_block.html").read_text()
        assert "All tests passed." in honest
        assert "skip connection is missing" in wrong
        # The traceback under the reason says where to look (nbgrader colours the error's name);
        # the page fetches nothing (tests/unit/test_feedback_page.py and the browser test check
        # the rest).
        assert "AssertionError" in wrong and "see the reason above" in wrong
        assert "cdnjs" not in wrong and "white-space: pre-wrap" in wrong
