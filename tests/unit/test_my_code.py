"""The learner's functions kept from chapter to chapter (`course_utils.my_code`): saved with the
imports they need, replaced when saved again, refused with a reason when they cannot stand alone,
and the course's reference used, saying so, wherever the saved file cannot serve. The learner's
trained weights: saved, loaded into their model, and the shipped weights used, saying so, where
they are missing or do not fit."""

from __future__ import annotations

import itertools
import linecache
import os
import re
import sys

import keras
import pytest

from course_utils import resnet
from course_utils.my_code import (
    MODULE_NAME,
    MY_CODE_FILE,
    MY_WEIGHTS_FILE,
    my_functions,
    my_trained_model,
    save_my_function,
    save_my_weights,
)
from course_utils.weights import load_shipped_weights

_CELLS = itertools.count(1)

NOTEBOOK_IMPORTS = """
import keras
import numpy as np
from keras import layers
from keras.initializers import glorot_uniform
from course_utils.resnet import convolutional_block, identity_block
"""

IDENTITY_BLOCK = '''
def identity_block(X, f, filters, stage, block):
    """VERSION"""
    F1, F2, F3 = filters
    assert np.ndim(filters) == 1
    X = layers.Conv2D(F3, (f, f), padding="same", kernel_initializer=glorot_uniform(seed=0))(X)
    return keras.layers.Activation("relu")(X)
'''

RESNET50 = '''
def ResNet50(input_shape=(8, 8, 3), classes=6):
    """A tiny stand-in: one block of each kind."""
    X_input = layers.Input(input_shape)
    X = convolutional_block(X_input, f=3, filters=(2, 2, 4), stage=2, block="a", s=1)
    X = identity_block(X, 3, (2, 2, 4), stage=2, block="b")
    X = layers.Dense(classes, activation="softmax")(layers.Flatten()(X))
    return keras.Model(X_input, X)
'''


@pytest.fixture
def notebook():
    """A notebook's namespace with the chapters' imports; ``notebook.run(source)`` runs a cell
    in it as IPython does (its source kept in linecache, so that inspect finds it)."""

    class Notebook(dict):
        def run(self, source: str):
            filename = f"<notebook-cell-{next(_CELLS)}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), self)
            return self

    namespace = Notebook(__name__="__main__")
    return namespace.run(NOTEBOOK_IMPORTS)


@pytest.fixture(autouse=True)
def forget_loaded_module():
    """Each test loads my_resnet.py afresh; none leaves the module behind."""
    yield
    sys.modules.pop(MODULE_NAME, None)


def saved_text(folder) -> str:
    return (folder / MY_CODE_FILE).read_text()


def test_a_saved_function_comes_back_as_yours_and_runs(notebook, tmp_path, capsys):
    notebook.run(IDENTITY_BLOCK)
    save_my_function(notebook["identity_block"], folder=tmp_path)
    assert capsys.readouterr().out == (
        f"Saved your identity_block to {MY_CODE_FILE}; the next chapters use it.\n"
    )
    (mine,) = my_functions("identity_block", folder=tmp_path)
    assert capsys.readouterr().out == f"identity_block: yours, from {MY_CODE_FILE}\n"
    assert mine is not resnet.identity_block and mine.__module__ == MODULE_NAME
    output = mine(keras.Input((4, 4, 3)), 3, (2, 2, 5), stage=2, block="a")
    assert tuple(output.shape) == (None, 4, 4, 5)


def test_the_imports_it_uses_are_saved_with_it(notebook, tmp_path):
    save_my_function(notebook.run(IDENTITY_BLOCK)["identity_block"], folder=tmp_path)
    lines = set(saved_text(tmp_path).splitlines())
    assert {"import keras", "import numpy as np", "from keras import layers"} <= lines
    # From a module that has it: keras.initializers, or any module imported before that holds
    # the same object (in a test process, a helper module of the tests may come first).
    assert [line for line in lines if re.fullmatch(r"from [\w.]+ import glorot_uniform", line)]
    imports = [line for line in lines if line.startswith(("import ", "from "))]
    assert not [line for line in imports if "course_utils" in line]  # it uses none of those


def test_saving_again_replaces_the_function_and_keeps_the_others(notebook, tmp_path):
    save_my_function(notebook.run(IDENTITY_BLOCK.replace("VERSION", "first"))["identity_block"],
                     folder=tmp_path)  # fmt: skip
    save_my_function(notebook.run(RESNET50)["ResNet50"], folder=tmp_path)
    save_my_function(notebook.run(IDENTITY_BLOCK.replace("VERSION", "second"))["identity_block"],
                     folder=tmp_path)  # fmt: skip
    text = saved_text(tmp_path)
    assert '"""second"""' in text and '"""first"""' not in text
    assert text.count("def identity_block(") == 1 and text.count("def ResNet50(") == 1
    assert text.index("def identity_block(") < text.index("def ResNet50(")  # chapter order


def test_a_function_saved_beside_it_is_not_imported_from_the_reference(notebook, tmp_path):
    save_my_function(notebook.run(IDENTITY_BLOCK)["identity_block"], folder=tmp_path)
    save_my_function(notebook.run(RESNET50)["ResNet50"], folder=tmp_path)
    lines = set(saved_text(tmp_path).splitlines())
    assert "from course_utils.resnet import convolutional_block" in lines  # not saved: reference
    assert not [line for line in lines if line.endswith("import identity_block")]
    identity_block, ResNet50 = my_functions("identity_block", "ResNet50", folder=tmp_path)
    assert ResNet50.__globals__["identity_block"] is identity_block  # the learner's own
    assert ResNet50().output_shape == (None, 6)


@pytest.mark.parametrize(
    ("source", "name", "reason"),
    [
        (
            "shortcut = lambda X: X",
            "shortcut",
            "it is a lambda (an anonymous function); write it with def and a name",
        ),
        (
            "def notebook_only_helper(X):\n    return X\n\n\n"
            "def identity_block(X, f, filters, stage, block):\n"
            "    return notebook_only_helper(X)\n",
            "identity_block",
            "it uses notebook_only_helper, which is defined in the notebook only",
        ),
    ],
    ids=["lambda", "notebook-only helper"],
)
def test_what_cannot_stand_alone_is_refused_and_nothing_written(
    notebook, tmp_path, capsys, source, name, reason
):
    function = notebook.run(source)[name]
    save_my_function(function, folder=tmp_path)
    said = capsys.readouterr().out
    assert said.startswith(f"{function.__name__} was not saved for later chapters: ")
    assert reason in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "contents",
    [b"def identity_block(:\n", b"import a_module_that_is_not_there\n", b"\xff\xfe\x00 not text"],
    ids=["syntax error", "failing import", "not UTF-8"],
)
def test_a_broken_file_falls_back_to_the_reference_saying_so(tmp_path, capsys, contents):
    (tmp_path / MY_CODE_FILE).write_bytes(contents)
    (found,) = my_functions("identity_block", folder=tmp_path)
    assert found is resnet.identity_block
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith(f"{MY_CODE_FILE} could not be loaded (")
    assert said[0].endswith("ignoring it.")
    assert said[1] == (
        "identity_block: the course's reference, course_utils.resnet.identity_block "
        "(pass chapter 2's check to use yours)"
    )
    assert MODULE_NAME not in sys.modules


def test_without_a_file_every_function_is_the_reference(tmp_path, capsys):
    found = my_functions("identity_block", "convolutional_block", "ResNet50", folder=tmp_path)
    assert found == (resnet.identity_block, resnet.convolutional_block, resnet.ResNet50)
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == [
        "identity_block",
        "convolutional_block",
        "ResNet50",
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the permissions")
def test_an_unreadable_file_falls_back_to_the_reference(tmp_path, capsys):
    (tmp_path / MY_CODE_FILE).write_text("x = 1\n")
    (tmp_path / MY_CODE_FILE).chmod(0)
    assert my_functions("ResNet50", folder=tmp_path) == (resnet.ResNet50,)
    assert "could not be loaded" in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the permissions")
def test_a_read_only_folder_is_reported_not_raised(notebook, tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        save_my_function(notebook.run(IDENTITY_BLOCK)["identity_block"], tmp_path)
    finally:
        tmp_path.chmod(0o755)
    said = capsys.readouterr().out
    assert said.startswith("identity_block was not saved for later chapters: cannot write ")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_reported_not_raised(notebook, tmp_path, capsys):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")  # any user, root too, fails to write a file inside a file
    save_my_function(notebook.run(IDENTITY_BLOCK)["identity_block"], not_a_folder)
    said = capsys.readouterr().out
    assert said.startswith("identity_block was not saved for later chapters: cannot write ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def _same_weights(first, second) -> bool:
    return all(
        (a == b).all() for a, b in zip(first.get_weights(), second.get_weights(), strict=True)
    )


def test_saved_weights_come_back_in_the_learner_s_model(tmp_path, capsys):
    keras.utils.set_random_seed(1)
    trained = resnet.ResNet50(input_shape=(64, 64, 3), classes=6)
    save_my_weights(trained, folder=tmp_path)
    assert capsys.readouterr().out == (
        f"Saved your trained weights to {MY_WEIGHTS_FILE}; chapter 6 evaluates them.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [MY_WEIGHTS_FILE]  # nothing left over
    model = my_trained_model(folder=tmp_path)
    assert capsys.readouterr().out.splitlines()[-1] == f"weights: yours, from {MY_WEIGHTS_FILE}"
    assert _same_weights(model, trained)


def test_without_saved_weights_the_shipped_ones_are_used_saying_so(tmp_path, capsys):
    model = my_trained_model(folder=tmp_path)
    printed = capsys.readouterr().out
    assert "ResNet50: the course's reference" in printed
    assert f"the course's shipped weights, since there is no {MY_WEIGHTS_FILE} yet" in printed
    shipped = load_shipped_weights(resnet.ResNet50(input_shape=(64, 64, 3), classes=6))
    assert _same_weights(model, shipped)


def test_weights_of_another_network_are_not_loaded(tmp_path, capsys):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save_weights(tmp_path / MY_WEIGHTS_FILE)
    my_trained_model(folder=tmp_path)
    printed = capsys.readouterr().out
    assert f"the course's shipped weights, since {MY_WEIGHTS_FILE} does not fit" in printed
    assert "train it again in chapter 5" in printed
