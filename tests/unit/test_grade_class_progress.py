"""The grading command reports each learner as soon as they are graded, then the class's tally
(the grading itself, with nbgrader, is tested in tests/book/test_grade_class.py)."""

from __future__ import annotations

from pathlib import Path

from course_tools import grade_class
from course_tools.grade_class import Verdict


def test_each_verdict_is_printed_as_it_comes_then_the_tally(monkeypatch, tmp_path, capsys):
    printed_before_grading_ended = []

    def fake_grade(submissions, course, students, limits, cell_timeout_s, on_verdict):
        verdicts = []
        for i, path in enumerate(submissions):
            verdict = Verdict(Path(path), f"learner{i}", "02", 2.0 if i else 1.0, 2.0)
            verdicts.append(verdict)
            on_verdict(verdict)
            printed_before_grading_ended.append(capsys.readouterr().out)
        return verdicts

    monkeypatch.setattr(grade_class, "grade", fake_grade)
    paths = [str(tmp_path / f"s{i}.ipynb") for i in range(2)]
    assert grade_class.main([*paths, "--course", str(tmp_path / "class")]) == 1
    assert printed_before_grading_ended[0].startswith(f"FAILED {paths[0]} (1/2 points)")
    assert printed_before_grading_ended[1].startswith(f"PASSED {paths[1]} (2/2 points)")
    assert capsys.readouterr().out.startswith("1 of 2 submissions passed.\nGradebook: ")
