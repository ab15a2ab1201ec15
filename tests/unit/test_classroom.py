"""The class-grading tools without running anything: course folder settings, learners' names,
verdict lines, the sandbox's command and the grading kernel's spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_tools import classroom, feedback_page, grading_kernel, sandbox
from course_tools.grade_class import SubmissionError, Verdict, chapter_of, student_names
from course_tools.notebooks import BOOK_DIR, exercise_cells, read_notebook


def test_the_graded_chapters_are_the_chapters_with_exercises():
    with_exercises = [
        p for p in sorted(BOOK_DIR.glob("*.ipynb")) if list(exercise_cells(read_notebook(p)))
    ]
    assert classroom.graded_chapters() == with_exercises
    assert [p.name for p in with_exercises] == [
        "02_identity_block.ipynb", "03_convolutional_block.ipynb", "04_resnet50.ipynb",
        "05_training.ipynb", "06_evaluation.ipynb", "07_what_the_network_looks_at.ipynb",
        "09_variants.ipynb",
    ]  # fmt: skip


@pytest.mark.parametrize("chapter", classroom.graded_chapters(), ids=lambda p: p.name)
def test_each_exercise_is_an_nbgrader_solution_and_each_check_a_locked_test_worth_a_point(chapter):
    nb = read_notebook(chapter)
    solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert [c for _, c in exercise_cells(nb)] == solutions
    checks = classroom.test_cells(nb)
    assert len(checks) == len(solutions) or chapter.name == "05_training.ipynb"
    for check in checks:
        grader = check.metadata["nbgrader"]
        assert grader["locked"] and grader["points"] == 1
        # The check imports the course's grader itself: a grader the notebook rebinds is not used.
        assert check.source.startswith(f"from course_utils.grading import {grader['grade_id']}\n")
        asserts = [line for line in check.source.splitlines() if line.startswith("assert ")]
        assert [line.split("(")[0] for line in asserts] == [f"assert {grader['grade_id']}"]


def test_the_config_names_the_chapters_delimiters_and_the_sandboxed_kernel(tmp_path):
    text = classroom.write_config(tmp_path, cell_timeout_s=42).read_text()
    namespace = {"get_config": lambda: _Config()}
    exec(text, namespace)
    config = namespace["c"]
    assert config.ClearSolutions.begin_solution_delimeter == "START CODE HERE"
    assert config.ClearSolutions.end_solution_delimeter == "END CODE HERE"
    assert config.Execute.kernel_name == grading_kernel.KERNEL_NAME
    assert config.Execute.timeout == 42
    assert config.KernelManager.transport == "ipc"
    assert config.HTMLExporter.extra_template_basedirs == [
        str(feedback_page.TEMPLATES), str(feedback_page.NBGRADER_TEMPLATES)
    ]  # fmt: skip


class _Config:
    def __getattr__(self, name):
        value = _Section()
        setattr(self, name, value)
        return value


class _Section:
    pass


def test_learners_are_named_by_their_folder_or_as_given_and_made_unique_per_chapter(tmp_path):
    paths = [
        tmp_path / "Ann Lee" / "02.ipynb",
        tmp_path / "bob" / "02.ipynb",
        tmp_path / "bob" / "03.ipynb",
        tmp_path / "other" / "bob" / "02.ipynb",
    ]
    # One learner hands in several chapters; two learners' folders of the same name are told apart.
    assert student_names(paths, None) == ["Ann-Lee", "bob", "bob", "bob-2"]
    assert student_names(paths[:2], ["x/y", "z"]) == ["x-y", "z"]
    with pytest.raises(SubmissionError, match="one per submission"):
        student_names(paths, ["only-one"])


def test_a_submission_must_be_named_after_a_graded_chapter(tmp_path):
    graded = classroom.graded_chapters()
    chapter = chapter_of(tmp_path / "02_identity_block.ipynb", graded)
    assert chapter == BOOK_DIR / "02_identity_block.ipynb"
    with pytest.raises(SubmissionError, match="rename the learner's file"):
        chapter_of(tmp_path / "Residual_Networks_v2a.ipynb", graded)


def test_verdict_lines_give_points_and_reasons():
    passed = Verdict(Path("a.ipynb"), "ann", "02", 1, 1)
    failed = Verdict(Path("b.ipynb"), "bob", "02", 0, 1, ("the skip connection is missing",))
    assert str(passed) == "PASSED a.ipynb (1/1 points)"
    assert str(failed) == "FAILED b.ipynb (0/1 points): the skip connection is missing"
    assert not Verdict(Path("c.ipynb"), "cy", "02").passed  # nothing graded is no pass


def test_the_sandbox_binds_only_the_writable_folders_and_cuts_the_network(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: "/usr/bin/bwrap")
    command = sandbox.sandboxed(["python", "-c", "1"], [tmp_path / "work"], tmp_path / "home")
    assert command[:3] == ["/usr/bin/bwrap", "--ro-bind", "/"]
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--bind"]
    assert binds == [str(tmp_path / "work"), str(tmp_path / "home")]
    assert "--tmpfs" not in command  # /tmp stays visible, read-only: the project may be there
    temporary = command[command.index("TMPDIR") + 1]
    assert temporary == str(tmp_path / "home" / "tmp") and Path(temporary).is_dir()
    assert "--unshare-net" in command and "--die-with-parent" in command
    assert command[command.index("--") + 1 :] == ["python", "-c", "1"]


def test_without_bubblewrap_the_sandbox_refuses_and_the_warning_names_the_risk(monkeypatch):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    warning = sandbox.sandbox_warning()
    assert "WITHOUT a sandbox" in warning and "apt-get install bubblewrap" in warning
    with pytest.raises(RuntimeError, match="WITHOUT a sandbox"):
        sandbox.sandboxed(["true"], [], Path("/tmp"))


def test_limits_travel_through_the_environment():
    limits = sandbox.Limits(cpu_s=12, memory_gib=1.5)
    assert sandbox.Limits.from_environment(limits.environment()) == limits


def test_the_grading_kernel_spec_starts_the_sandboxed_kernel_and_interrupts_by_message(tmp_path):
    folder = grading_kernel.kernel_spec(tmp_path)
    spec = json.loads((folder / "kernel.json").read_text())
    assert folder.name == grading_kernel.KERNEL_NAME
    assert spec["argv"][1:] == ["-m", "course_tools.grading_kernel", "-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message"


def test_the_kernel_may_write_only_where_its_sockets_are(tmp_path):
    ipc = tmp_path / "ipc.json"
    ipc.write_text(json.dumps({"transport": "ipc", "ip": str(tmp_path / "sockets" / "kernel")}))
    tcp = tmp_path / "tcp.json"
    tcp.write_text(json.dumps({"transport": "tcp", "ip": "127.0.0.1"}))
    assert grading_kernel.socket_folders(ipc) == [tmp_path / "sockets"]
    assert grading_kernel.socket_folders(tcp) == []


def test_the_failure_prefix_is_the_graders_and_its_reason_is_read_on_one_line():
    from course_utils.grading import harness

    assert classroom.FAILED == harness.FAILED
    assert classroom.printed_reason("Your function printed:\n  x\nTest failed: a\n  b\n") == "a b"
    assert classroom.printed_reason("All tests passed.\n") is None
