"""Each exercise of a submission graded a second time, outside the notebook's kernel.

nbgrader grades a submission by running it: its check cells import the graders into the learner's
kernel, where the learner's own cells ran first and could have replaced them. So class grading
(`course_tools.grade_class`) asks for a second verdict on every graded exercise, which nothing in
the notebook can reach: a fresh Python process, in the sandbox, receives only the exercise cell's
source. Before starting it, `regrade` checks the source against `course_tools.exercise_policy`
(imports from keras, tensorflow, numpy and math; function definitions; constants): a cell outside
it fails with what to remove, and is not run. The process

1. imports the grader and builds what the exercise is given (`EXERCISES`), before any learner
   code runs;
2. runs the source with the policy's safe builtins, in a namespace holding the names the chapters
   import (``keras``, ``layers``, ``glorot_uniform``, ``np``, ``tf``, ``math``) and the given ones;
3. calls the grader on the function the cell defines (or on the given model), its output captured;
4. writes the verdict, with a random token that only the parent and this process know (read from
   standard input before any learner code runs), as the last line of standard output.

The parent accepts a verdict only with its token, from a process that exited normally: what the
learner's code prints cannot pass for one.

    python -m course_tools.regrade --child      # the grading process (reads its job on stdin)
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_tools import classroom, sandbox
from course_tools.exercise_policy import policy_problems, safe_builtins

TIMEOUT_S = 600


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: its check cell, the exercise cell it grades, and how."""

    cell: str  # the nbgrader grade_id of the exercise (solution) cell
    grader: str  # the grader's name in course_utils.grading
    defines: str | None  # the function the cell defines, handed to the grader
    given: tuple[str, ...] = ()  # what the cell is given; None above: the grader gets given[0]


# By the grade_id of the check cell.
EXERCISES = {
    "check_identity_block": Exercise("identity_block", "check_identity_block", "identity_block"),
    "check_convolutional_block": Exercise(
        "convolutional_block", "check_convolutional_block", "convolutional_block"
    ),
    "check_resnet50": Exercise(
        "ResNet50",
        "check_resnet50",
        "ResNet50",
        given=("identity_block", "convolutional_block", "RESNET50_STAGES"),
    ),
    "check_training": Exercise("compile", "check_training", None, given=("model",)),
    "check_fix_and_train": Exercise("fix_and_train", "check_fix_and_train", "fix_and_train"),
    "check_random_mirror": Exercise("random_mirror", "check_random_mirror", "random_mirror"),
    "check_grad_cam_map": Exercise("grad_cam_map", "check_grad_cam_map", "grad_cam_map"),
    "check_convolutional_block_v1_5": Exercise(
        "convolutional_block_v1_5", "check_convolutional_block_v1_5", "convolutional_block_v1_5"
    ),
    "check_basic_block": Exercise("basic_block", "check_basic_block", "basic_block"),
    "check_preactivation_identity_block": Exercise(
        "preactivation_identity_block",
        "check_preactivation_identity_block",
        "preactivation_identity_block",
    ),
}


@dataclass(frozen=True)
class Regrade:
    passed: bool
    message: str  # the grader's verdict and hint, or why the exercise could not be graded


def exercise_sources(nb, cell: str) -> list[str]:
    """The sources of the cells whose nbgrader grade_id is ``cell``: one in a notebook as
    handed out."""
    sources = []
    for candidate in nb.cells:
        if candidate.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell:
            source = candidate.source
            sources.append("".join(source) if isinstance(source, list) else source)
    return sources


def regrade(check: str, source: str, limits: sandbox.Limits | None = None) -> Regrade:
    """Grade ``source``, the exercise cell of the check cell ``check``, in a fresh process (in
    the sandbox where bubblewrap works)."""
    exercise = EXERCISES[check]
    problems = policy_problems(source, exercise.cell, exercise.given)
    if problems:
        return Regrade(False, "; ".join(problems))
    token = secrets.token_hex(16)
    job = json.dumps({"check": check, "source": source, "token": token})
    limits = limits or sandbox.Limits()
    with tempfile.TemporaryDirectory(prefix="course-regrade-") as scratch:
        home = Path(scratch)
        command = [sys.executable, "-m", "course_tools.regrade", "--child"]
        if sandbox.bubblewrap() is not None:
            command = sandbox.sandboxed(command, [], home)
        env = {**os.environ, "HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.update(limits.environment())
        try:
            done = subprocess.run(
                command, input=job, capture_output=True, text=True, env=env, timeout=TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return Regrade(False, f"grading {exercise.cell} took more than {TIMEOUT_S} s")
    verdict = _verdict(done.stdout, token)
    if done.returncode != 0 or verdict is None:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return Regrade(False, f"grading {exercise.cell} stopped ({last})")
    return Regrade(verdict["passed"], verdict["message"])


def _verdict(stdout: str, token: str) -> dict | None:
    lines = stdout.strip().splitlines()
    if not lines:
        return None
    try:
        verdict = json.loads(lines[-1])
    except json.JSONDecodeError:
        return None
    if not isinstance(verdict, dict) or verdict.get("token") != token:
        return None
    return verdict


def _child() -> int:
    """The grading process: one job on stdin, one verdict on the last line of stdout."""
    sandbox.Limits.from_environment().apply()
    job = json.loads(sys.stdin.read())
    import course_utils.quiet_start  # noqa: F401 - TensorFlow without its start-up notices

    passed, message = _grade(EXERCISES[job["check"]], job["source"])
    print(json.dumps({"token": job["token"], "passed": passed, "message": message}))
    return 0


def _grade(exercise: Exercise, source: str) -> tuple[bool, str]:
    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers
    from keras.initializers import glorot_uniform

    from course_utils import grading, resnet

    grader = getattr(grading, exercise.grader)
    given = {
        "identity_block": resnet.identity_block,
        "convolutional_block": resnet.convolutional_block,
        "RESNET50_STAGES": resnet.RESNET50_STAGES,
    }
    if "model" in exercise.given:
        keras.utils.set_random_seed(0)
        given["model"] = resnet.ResNet50()

    namespace = {"__builtins__": safe_builtins(), "__name__": "exercise"}
    namespace.update(keras=keras, layers=layers, glorot_uniform=glorot_uniform, np=np, tf=tf)
    namespace.update(math=math, **{name: given[name] for name in exercise.given})
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        try:
            exec(compile(source, f"<exercise {exercise.cell}>", "exec"), namespace)
        except Exception as error:
            return False, (
                f"the exercise cell {exercise.cell} raised {type(error).__name__}: {error}, "
                "run on its own (it may use only what it imports or defines itself)"
            )
        name = exercise.defines
        if name is not None and not callable(namespace.get(name)):
            return False, f"the exercise cell {exercise.cell} does not define {name}"
        subject = namespace[name] if name is not None else given[exercise.given[0]]
        passed = bool(grader(subject))
    verdict = printed.getvalue()
    return passed, classroom.printed_reason(verdict) or " ".join(verdict.split())


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        sys.exit(_child())
    print(__doc__)
    sys.exit(2)
