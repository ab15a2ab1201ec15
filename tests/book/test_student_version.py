"""The student version: nbgrader's student version of the chapters with exercises (solutions
blanked, every output cleared), the other pages as they are, written atomically."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_tools import classroom
from course_tools.notebooks import (
    BOOK_DIR,
    END_MARKER,
    START_MARKER,
    cell_source,
    chapter_notebooks,
    read_notebook,
)
from course_tools.student_version import write_student_version


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "student"
    result = subprocess.run(
        [sys.executable, "-m", "course_tools.student_version", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"Student version of {len(chapter_notebooks())} notebook(s)" in result.stdout
    return out


def test_student_version_has_every_page_and_image(student_dir):
    names = {path.name for path in student_dir.iterdir()}
    assert {p.name for p in chapter_notebooks()} | {"intro.md", "images"} <= names
    for image in (BOOK_DIR / "images").iterdir():
        assert (student_dir / "images" / image.name).read_bytes() == image.read_bytes()


@pytest.mark.parametrize(
    "path",
    [p for p in chapter_notebooks() if p not in classroom.graded_chapters()],
    ids=lambda p: p.name,
)
def test_a_chapter_without_exercises_is_copied_as_it_is(student_dir, path):
    assert (student_dir / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize("path", classroom.graded_chapters(), ids=lambda p: p.name)
def test_a_chapter_with_exercises_has_its_solutions_blanked_and_no_outputs(student_dir, path):
    ours, theirs = read_notebook(path), read_notebook(student_dir / path.name)
    assert [c.cell_type for c in ours.cells] == [c.cell_type for c in theirs.cells]
    for mine, student in zip(ours.cells, theirs.cells, strict=True):
        if student.cell_type == "code":  # no result the learner has not earned
            assert student.outputs == [] and student.execution_count is None
        source = cell_source(mine)
        if START_MARKER not in source:
            assert cell_source(student) == source
            continue
        blanked = cell_source(student)
        compile(blanked, path.name, "exec")  # still valid Python
        assert blanked.count(START_MARKER) == blanked.count(END_MARKER) == 1
        assert "# YOUR CODE HERE\n" in blanked and "raise NotImplementedError()" in blanked
        body = source.split(START_MARKER)[1].split(END_MARKER)[0]
        region = blanked.split(START_MARKER)[1].split(END_MARKER)[0]
        assert not [line for line in body.splitlines() if line.strip() and line in region]
        assert blanked.split(START_MARKER)[0] == source.split(START_MARKER)[0]
        assert blanked.split(END_MARKER)[-1] == source.split(END_MARKER)[-1]


def test_rewriting_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    (out / "stale.ipynb").write_text("{}")
    written = write_student_version(BOOK_DIR, out)
    assert [p.name for p in written] == [p.name for p in chapter_notebooks()]
    assert not (out / "stale.ipynb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]  # no staging left behind
