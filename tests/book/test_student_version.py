"""The student version blanks every solution, keeps everything else, and is written atomically."""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_tools.notebooks import (
    BOOK_DIR,
    END_MARKER,
    START_MARKER,
    cell_source,
    chapter_notebooks,
    check_cells,
    read_notebook,
)
from course_tools.student_version import blank_solutions, write_student_version

SOURCE = '''def block(X):
    """Doc."""
    X_shortcut = X

    ### START CODE HERE ###
    X = layers.Dense(3)(X)
    X = X + X_shortcut
    ### END CODE HERE ###

    return X'''


def test_blank_solutions_replaces_the_region_body_and_keeps_the_markers():
    assert (
        blank_solutions(SOURCE)
        == '''def block(X):
    """Doc."""
    X_shortcut = X

    ### START CODE HERE ###
    # YOUR CODE HERE
    raise NotImplementedError("Write block")
    ### END CODE HERE ###

    return X'''
    )


def test_blank_solutions_names_top_level_regions_after_the_exercise():
    source = f"{START_MARKER}\nmodel = build()\n{END_MARKER}"
    assert blank_solutions(source, "ResNet50") == (
        f'{START_MARKER}\n# YOUR CODE HERE\nraise NotImplementedError("Write ResNet50")\n'
        f"{END_MARKER}"
    )


@pytest.mark.parametrize(
    "source",
    [
        f"{START_MARKER}\nx = 1\n",
        f"x = 1\n{END_MARKER}\n",
        f"{START_MARKER}\n{START_MARKER}\n{END_MARKER}\n",
    ],
)
def test_unbalanced_markers_are_an_error(source):
    with pytest.raises(ValueError):
        blank_solutions(source)


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


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name)
def test_student_notebook_differs_from_the_instructor_one_only_in_solution_regions(
    student_dir, path
):
    ours, theirs = read_notebook(path), read_notebook(student_dir / path.name)
    assert len(ours.cells) == len(theirs.cells)
    for mine, student in zip(ours.cells, theirs.cells, strict=True):
        source = cell_source(mine)
        if START_MARKER not in source:
            assert student == mine
            continue
        blanked = cell_source(student)
        compile(blanked, path.name, "exec")  # still valid Python
        assert blanked.count(START_MARKER) == blanked.count(END_MARKER) == source.count(END_MARKER)
        assert "raise NotImplementedError" in blanked
        body = source.split(START_MARKER)[1].split(END_MARKER)[0]
        for line in body.splitlines():
            if line.strip():
                assert line not in blanked.split(START_MARKER)[1].split(END_MARKER)[0]
        assert blanked.split(START_MARKER)[0] == source.split(START_MARKER)[0]
        assert blanked.split(END_MARKER)[-1] == source.split(END_MARKER)[-1]
        assert student.outputs == []


def test_student_check_cells_keep_the_expected_output(student_dir):
    for path in chapter_notebooks():
        for _, cell in check_cells(read_notebook(student_dir / path.name)):
            assert cell.outputs[0]["text"] == "All tests passed.\n"


def test_rewriting_replaces_the_folder_as_a_whole(tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    (out / "stale.ipynb").write_text("{}")
    written = write_student_version(BOOK_DIR, out)
    assert [p.name for p in written] == [p.name for p in chapter_notebooks()]
    assert not (out / "stale.ipynb").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]  # no staging left behind
