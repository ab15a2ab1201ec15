"""Grading a class with nbgrader: a submission that crashes its kernel, never finishes a cell or
eats memory fails with the reason, and the command exits 2 when it cannot grade."""

from __future__ import annotations

import os

import pytest
from class_submissions import CHAPTER, chapter, with_cell_before_check

from course_tools import sandbox
from course_tools.grade_class import grade, main
from course_tools.notebooks import write_notebook_atomic

if sandbox.bubblewrap() is None and os.environ.get(sandbox.REQUIRE_ENV) == "1":
    pytest.fail(sandbox.sandbox_warning(), pytrace=False)


@pytest.fixture(scope="module")
def misbehaving(tmp_path_factory):
    """Submissions that crash their kernel, never finish a cell, or ask for too much memory,
    graded with small limits."""
    root = tmp_path_factory.mktemp("misbehaving")
    cases = {
        "crashes": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "hangs": "import time\nwhile True:\n    time.sleep(1)",
        "eats-memory": "hoard = bytearray(12 * 2**30)",
    }
    paths = []
    for learner, code in cases.items():
        path = root / learner / CHAPTER
        write_notebook_atomic(with_cell_before_check(code), path)
        paths.append(path)
    limits = sandbox.Limits(cpu_s=300, memory_gib=6)
    verdicts = grade(paths, root / "course", limits=limits, cell_timeout_s=60)
    return {v.student: v for v in verdicts}


class TestMisbehavingSubmissions:
    def test_a_crash_fails_with_the_reason(self, misbehaving):
        verdict = misbehaving["crashes"]
        assert not verdict.passed
        assert "kernel died" in verdict.reasons[0]

    def test_a_cell_that_never_ends_fails_and_the_others_are_still_graded(self, misbehaving):
        verdict = misbehaving["hangs"]
        assert not verdict.passed
        assert any("did not finish within 60 s" in reason for reason in verdict.reasons)

    def test_running_out_of_memory_fails_with_the_reason(self, misbehaving):
        verdict = misbehaving["eats-memory"]
        assert not verdict.passed
        assert any("ran out of memory (limit 6 GiB)" in reason for reason in verdict.reasons)


def test_the_command_prints_a_line_per_submission_and_exits_2_when_it_cannot_grade(
    tmp_path, capsys
):
    bad = tmp_path / "ann" / "not_a_chapter.ipynb"
    write_notebook_atomic(chapter(), bad)
    assert main([str(bad), "--course", str(tmp_path / "course")]) == 2
    assert "rename the learner's file" in capsys.readouterr().err
