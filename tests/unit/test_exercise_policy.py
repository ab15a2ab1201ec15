"""The policy of exercise cells graded outside the notebook (course_tools.exercise_policy): every
instructor's exercise cell passes it; imports of anything but keras, tensorflow, numpy and math,
builtins that reach outside the cell, private and system attributes, and statements that run at
the top of the cell are each refused with their line and what to remove."""

from __future__ import annotations

import pytest

from course_tools import classroom
from course_tools.exercise_policy import policy_problems, restricted_import, safe_builtins
from course_tools.notebooks import read_notebook
from course_tools.regrade import EXERCISES, exercise_sources

BLOCK = '''from keras import layers


def identity_block(X, f, filters, stage, block):
    """A docstring."""
    F1, F2, F3 = filters
    X = layers.Conv2D(F1, (1, 1))(X)
    return X
'''


def instructors_exercises():
    for chapter in classroom.graded_chapters():
        nb = read_notebook(chapter)
        for check in classroom.test_cells(nb):
            exercise = EXERCISES[check.metadata["nbgrader"]["grade_id"]]
            yield chapter.name, exercise, exercise_sources(nb, exercise.cell)


@pytest.mark.parametrize(
    "chapter, exercise, sources",
    list(instructors_exercises()),
    ids=lambda value: getattr(value, "cell", None) or str(value)[:20],
)
def test_every_check_has_one_exercise_cell_and_the_instructors_passes_the_policy(
    chapter, exercise, sources
):
    assert len(sources) == 1, (chapter, exercise.cell)
    assert policy_problems(sources[0], exercise.cell, exercise.given) == []


def test_a_block_of_imports_definitions_and_constants_passes():
    assert policy_problems(BLOCK + "\nEPSILON = 1e-3\nimport math\nimport numpy as np\n", "b") == []


REFUSED = {
    "import sys": "`import sys`: an exercise cell imports only from keras, tensorflow, numpy, math",
    "from course_utils import grading": "`import course_utils`",
    "import course_utils.grading.blocks as b": "`import course_utils.grading.blocks`",
    "from . import x": "a relative import",
    "from keras import *": "import the names you use by name",
    "from keras import src": "`from keras import src`: remove it",
    "import numpy.testing": "`import numpy.testing`: remove it",
    "x = __import__('sys')": "`__import__` reaches outside the cell",
    "x = getattr(layers, 'Conv2D')": "`getattr` reaches outside the cell",
    "x = open('/proc/self/fd/1', 'w')": "`open` reaches outside the cell",
    "x = globals()": "`globals` reaches outside the cell",
    "x = eval('1')": "`eval` reaches outside the cell",
    "x = layers.__class__": "uses no name that starts with _",
    "x = np.lib.format": "`.lib` reaches outside the cell",
    "x = tf.io.gfile": "`.io` reaches outside the cell",
    "x = np.savetxt": "`.savetxt` reaches outside the cell",
    "x = tf.print": "`.print` reaches outside the cell",
    "for i in range(3):\n    pass": "a for loop: an exercise cell holds imports",
    "if True:\n    pass": "an if statement",
    "try:\n    pass\nexcept Exception:\n    pass": "a try statement",
    "class Block:\n    pass": "a class definition",
    "print('All tests passed.')": "a statement that runs when the cell runs",
    "check_identity_block(identity_block)": "a statement that runs when the cell runs",
}


@pytest.mark.parametrize("source, problem", REFUSED.items(), ids=list(REFUSED))
def test_a_cell_outside_the_policy_is_refused_with_its_line_and_what_to_remove(source, problem):
    problems = policy_problems(BLOCK + "\n" + source + "\n", "identity_block")
    assert problems, source
    assert any(problem in p for p in problems), problems
    assert all(p.startswith("the exercise cell identity_block, line ") for p in problems)


def test_the_same_limits_hold_inside_a_function():
    inside = BLOCK.replace("    return X\n", "    import os\n    os.system('true')\n    return X\n")
    problems = policy_problems(inside, "identity_block")
    assert any("`import os`" in p for p in problems)
    assert any("`.system`" in p for p in problems)


def test_a_call_on_a_given_object_is_allowed_at_the_top_and_no_other():
    compile_cell = 'model.compile(optimizer="adam", loss="categorical_crossentropy")\n'
    assert policy_problems(compile_cell, "compile", given=("model",)) == []
    assert policy_problems(compile_cell, "compile") != []
    assert policy_problems("other.fit(1)\n", "compile", given=("model",)) != []


def test_a_cell_that_is_not_python_is_named():
    assert policy_problems("def f(:\n", "identity_block") == [
        "the exercise cell identity_block is not valid Python (line 1): invalid syntax"
    ]


def test_at_run_time_the_cell_has_the_safe_builtins_and_imports_only_the_allowed_modules():
    namespace = {"__builtins__": safe_builtins()}
    exec("import math\nx = math.sqrt(4)", namespace)
    assert namespace["x"] == 2.0
    for source in ("import os", "from course_utils import grading", "open('x')"):
        with pytest.raises((ImportError, NameError)):
            exec(source, {"__builtins__": safe_builtins()})
    with pytest.raises(ImportError, match="imports only from keras"):
        restricted_import("sys")
