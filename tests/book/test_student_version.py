"""The student version: nbgrader's student version of the chapters with exercises (solutions
blanked, every output cleared), in every chapter no output that depends on the learner's work and
no standard error, the other pages as they are, written atomically."""

from __future__ import annotations

import subprocess
import sys

import nbformat
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
from course_tools.student_version import (
    SAVED_CODE_FILE,
    SAVED_WEIGHTS_FILE,
    first_unearned_cell,
    without_unearned_outputs,
    write_student_version,
)
from course_utils.my_code import MY_CODE_FILE, MY_WEIGHTS_FILE


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


def is_stderr(output) -> bool:
    return output.output_type == "stream" and output.name == "stderr"


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_no_chapter_shows_a_result_the_learner_has_not_earned(student_dir, path):
    ours, theirs = read_notebook(path), read_notebook(student_dir / path.name)
    assert [c.cell_type for c in ours.cells] == [c.cell_type for c in theirs.cells]
    first = first_unearned_cell(ours)
    assert first_unearned_cell(theirs) == first
    for index, (mine, student) in enumerate(zip(ours.cells, theirs.cells, strict=True)):
        if student.cell_type != "code":
            assert cell_source(student) == cell_source(mine)
            continue
        assert not any(is_stderr(output) for output in student.outputs)
        if first is not None and index >= first:  # it may depend on the learner's work
            assert student.outputs == [] and student.execution_count is None, index
        elif path not in classroom.graded_chapters():
            assert student.outputs == [o for o in mine.outputs if not is_stderr(o)], index
            assert student.execution_count == mine.execution_count


@pytest.mark.parametrize(
    "path",
    [p for p in chapter_notebooks() if p not in classroom.graded_chapters()],
    ids=lambda p: p.name,
)
def test_a_chapter_without_exercises_keeps_its_sources_and_metadata(student_dir, path):
    ours, theirs = read_notebook(path), read_notebook(student_dir / path.name)
    assert theirs.metadata == ours.metadata
    for mine, student in zip(ours.cells, theirs.cells, strict=True):
        assert (student.source, student.metadata) == (mine.source, mine.metadata)


def notebook(*cells) -> nbformat.NotebookNode:
    """A notebook of code cells given as (source, tags); each printed "out" and "err"."""
    nb = nbformat.v4.new_notebook()
    for count, (source, tags) in enumerate(cells, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        cell.metadata["tags"] = list(tags)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="out\n"),
            nbformat.v4.new_output("stream", name="stderr", text="err\n"),
        ]
        nb.cells.append(cell)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("Text."))
    return nb


@pytest.mark.parametrize(
    ("cell", "tags"),
    [
        ("def f():\n    return 1", ["exercise"]),
        ("assert check(f)", ["check"]),
        ('(ResNet50,) = my_functions("ResNet50")', []),
    ],
    ids=["exercise", "check", "my_functions"],
)
def test_outputs_are_cleared_from_the_first_cell_that_depends_on_the_learner(cell, tags):
    nb = notebook(("import numpy", []), ("x = 1", []), (cell, tags), ("print(x)", []))
    assert first_unearned_cell(nb) == 3  # the markdown cell is index 1
    student = without_unearned_outputs(nb)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert [[o.text for o in c.outputs] for c in code] == [["out\n"], ["out\n"], [], []]
    assert [c.execution_count for c in code] == [1, 2, None, None]


def test_a_notebook_without_exercises_loses_only_its_standard_error():
    student = without_unearned_outputs(notebook(("import numpy", []), ("print(1)", [])))
    code = [c for c in student.cells if c.cell_type == "code"]
    assert [[o.text for o in c.outputs] for c in code] == [["out\n"], ["out\n"]]
    assert [c.execution_count for c in code] == [1, 2]


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
        kept = {line.strip() for line in region.splitlines()}
        assert not [line for line in body.splitlines() if line.strip() and line.strip() in kept]
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


def test_the_instructors_saved_code_is_not_handed_out(tmp_path):
    book = tmp_path / "book"
    (book / "images").mkdir(parents=True)
    (book / "images" / "figure.png").write_bytes(b"png")
    nbformat.write(notebook(("print(1)", [])), book / "01_data.ipynb")
    (book / SAVED_CODE_FILE).write_text("def identity_block(): ...\n")
    assert SAVED_CODE_FILE == MY_CODE_FILE
    assert SAVED_WEIGHTS_FILE == MY_WEIGHTS_FILE
    write_student_version(book, tmp_path / "student")
    assert sorted(p.name for p in (tmp_path / "student").iterdir()) == ["01_data.ipynb", "images"]
