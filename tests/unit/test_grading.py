"""The graders reject plausible wrong implementations with the right hint and accept correct ones.

Each wrong implementation is the reference function with a learner's mistake edited into its
source; each correct variant differs from it only in ways that do not change its behaviour.
"""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
from keras import layers
from learner_code import define, edit, grade

from course_utils import resnet
from course_utils.grading import (
    PASSED,
    check_convolutional_block,
    check_identity_block,
    check_resnet50,
)
from course_utils.grading.harness import (
    fill_weights,
    filled_outputs,
    outputs,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

GRADERS = {
    "identity_block": check_identity_block,
    "convolutional_block": check_convolutional_block,
    "ResNet50": check_resnet50,
}


def edited(function: str, *replacements: tuple[str, str]):
    """``course_utils.resnet.<function>`` with each (old, new) replaced once, as a learner's."""
    return define(edit(inspect.getsource(getattr(resnet, function)), replacements), function)


def component(name: str) -> str:
    """The BatchNormalization and ReLU lines after convolution ``name`` (2a or 2b)."""
    return (
        f'    X = layers.BatchNormalization(axis=3, name=bn_name_base + "{name}")(X)\n'
        '    X = layers.Activation("relu")(X)\n'
    )


def swapped(name: str) -> str:
    return (
        '    X = layers.Activation("relu")(X)\n'
        f'    X = layers.BatchNormalization(axis=3, name=bn_name_base + "{name}")(X)\n'
    )


ADD_RELU = '    X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)\n'
BN_2C = '    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)\n'
FIRST_CONV_STRIDE = "F1,\n        (1, 1),\n        strides=(1, 1),"
MIDDLE_CONV = 'F2,\n        (f, f),\n        strides=(1, 1),\n        padding="same",'
SHORTCUT_CONV = (
    "    X_shortcut = layers.Conv2D(\n        F3,\n        (1, 1),\n        strides=(s, s),\n"
)
SHORTCUT_BN = (
    '    X_shortcut = layers.BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)\n'
)

# Mistakes that either block can have, with the same hint.
SHARED_BLOCK_MISTAKES = {
    "missing final ReLU": (
        [(ADD_RELU, "    X = layers.Add()([X, X_shortcut])\n")],
        "final ReLU is missing",
    ),
    "ReLU before the addition": (
        [(BN_2C, BN_2C + '    X = layers.Activation("relu")(X)\n')],
        "ReLU comes before the addition",
    ),
    "addition before the last BatchNormalization": (
        [
            (BN_2C, ""),
            (
                ADD_RELU,
                "    X = layers.Add()([X, X_shortcut])\n"
                + BN_2C
                + '    X = layers.Activation("relu")(X)\n',
            ),
        ],
        "added before the last BatchNormalization",
    ),
    "valid padding on the f x f convolution": (
        [(MIDDLE_CONV, MIDDLE_CONV.replace('"same"', '"valid"'))],
        "padding='same'",
    ),
    "fixed 3x3 window": (
        [("        (f, f),\n", "        (3, 3),\n")],
        "use the argument f",
    ),
}

IDENTITY_MISTAKES = {
    **SHARED_BLOCK_MISTAKES,
    "missing skip connection": (
        [("    X = layers.Add()([X, X_shortcut])\n", "")],
        "skip connection is missing",
    ),
    "ReLU before the addition only": (
        [
            (BN_2C, BN_2C + '    X = layers.Activation("relu")(X)\n'),
            (ADD_RELU, "    X = layers.Add()([X, X_shortcut])\n"),
        ],
        "ReLU comes before the addition",
    ),
    "ReLU before BatchNormalization": (
        [(component("2a"), swapped("2a")), (component("2b"), swapped("2b"))],
        "ReLU comes before the BatchNormalization",
    ),
    "ReLU before BatchNormalization in one component": (
        [(component("2b"), swapped("2b"))],
        "Check the order: each component is Conv2D -> BatchNormalization(axis=3) -> ReLU",
    ),
    "missing ReLU of the first component": (
        [(component("2a"), component("2a").splitlines(keepends=True)[0])],
        "ReLU of the first component is missing",
    ),
    "missing BatchNormalization": (
        [(component("2b"), '    X = layers.Activation("relu")(X)\n')],
        "f x f convolution is not followed by BatchNormalization",
    ),
    "BatchNormalization on the wrong axis": (
        [('axis=3, name=bn_name_base + "2a"', 'axis=1, name=bn_name_base + "2a"')],
        "normalises axis 1",
    ),
    "1x1 middle window": (
        [("        (f, f),\n", "        (1, 1),\n")],
        "windows are (1, 1), (f, f)",
    ),
    "F1 filters on the middle convolution": (
        [("F2,\n        (f, f)", "F1,\n        (f, f)")],
        "F1=2, F2=3 and F3=6 filters",
    ),
    "F2 filters on the last convolution": (
        [
            (
                "F3,\n        (1, 1),\n        strides=(1, 1),",
                "F2,\n        (1, 1),\n        strides=(1, 1),",
            )
        ],
        "the last one has F3 filters",
    ),
    "stride 2 in the identity block": (
        [(FIRST_CONV_STRIDE, FIRST_CONV_STRIDE.replace("strides=(1, 1)", "strides=(2, 2)"))],
        "stride 1",
    ),
    "convolution on the shortcut": (
        [
            (
                "    X = layers.Add()",
                "    X_shortcut = layers.Conv2D(F3, (1, 1))(X_shortcut)\n    X = layers.Add()",
            )
        ],
        "shortcut is the input X itself",
    ),
    "ReLU inside the last convolution": (
        [
            (
                'name=conv_name_base + "2c",',
                'name=conv_name_base + "2c",\n        activation="relu",',
            )
        ],
        "Check the order",
    ),
    "convolution without bias": (
        [('name=conv_name_base + "2a",', 'name=conv_name_base + "2a",\n        use_bias=False,')],
        "has no bias",
    ),
    "no return value": (
        [("    return X\n", "")],
        "returned NoneType, not a tensor",
    ),
    "typo in a name": (
        [("X = layers.Add()([X, X_shortcut])", "X = layers.Add()([X, X_shorcut])")],
        "raised NameError",
    ),
    "returns the shortcut": (
        [("    return X\n", "    return X_shortcut\n")],
        "none of the 3 Conv2D layers your code creates leads to the block's output",
    ),
}

CONVOLUTIONAL_MISTAKES = {
    **SHARED_BLOCK_MISTAKES,
    "missing skip connection and shortcut": (
        [
            (
                SHORTCUT_CONV,
                SHORTCUT_CONV.replace("X_shortcut", "unused"),
            ),
            ("    X = layers.Add()([X, X_shortcut])\n", ""),
        ],
        "only 3 of the 4 Conv2D layers your code creates lead to the block's output",
    ),
    "identity shortcut": (
        [
            (
                SHORTCUT_CONV,
                SHORTCUT_CONV.replace("X_shortcut", "unused"),
            ),
            (SHORTCUT_BN, ""),
        ],
        "the shortcut convolution have stride (s, s)",
    ),
    "shortcut without BatchNormalization": (
        [(SHORTCUT_BN, "")],
        "shortcut convolution is not followed by BatchNormalization",
    ),
    "shortcut without stride": (
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("(s, s)", "(1, 1)"))],
        "stride s belongs on the first 1x1 convolution and on the shortcut",
    ),
    "stride on the f x f convolution (ResNet v1.5)": (
        [
            (
                "F1,\n        (1, 1),\n        strides=(s, s),",
                "F1,\n        (1, 1),\n        strides=(1, 1),",
            ),
            (
                "F2,\n        (f, f),\n        strides=(1, 1),",
                "F2,\n        (f, f),\n        strides=(s, s),",
            ),
        ],
        "the stride s is on the f x f convolution, as in ResNet v1.5",
    ),
    "stride missing on the main path": (
        [
            (
                "F1,\n        (1, 1),\n        strides=(s, s),",
                "F1,\n        (1, 1),\n        strides=(1, 1),",
            )
        ],
        "stride s belongs on the first 1x1 convolution and on the shortcut",
    ),
    "stride fixed at 2": (
        [
            (
                "F1,\n        (1, 1),\n        strides=(s, s),",
                "F1,\n        (1, 1),\n        strides=(2, 2),",
            ),
            (SHORTCUT_CONV, SHORTCUT_CONV.replace("(s, s)", "(2, 2)")),
        ],
        "s=3: the first 1x1 convolution has strides (2, 2), expected (3, 3)",
    ),
    "default stride 1": (
        [("block, s=2):", "block, s=1):")],
        "(default s): the first 1x1 convolution has strides (1, 1), expected (2, 2)",
    ),
    "missing BatchNormalization on the main path": (
        [(BN_2C, "")],
        "last 1x1 convolution is not followed by BatchNormalization",
    ),
    "BatchNormalization on the wrong axis": (
        [('axis=3, name=bn_name_base + "1"', 'axis=1, name=bn_name_base + "1"')],
        "normalises axis 1",
    ),
    "F1 filters on the shortcut": (
        [(SHORTCUT_CONV, SHORTCUT_CONV.replace("F3", "F1"))],
        "the shortcut F3 filters",
    ),
    "F1 and F2 swapped": (
        [
            (
                "F1,\n        (1, 1),\n        strides=(s, s),",
                "F2,\n        (1, 1),\n        strides=(s, s),",
            ),
            ("F2,\n        (f, f)", "F1,\n        (f, f)"),
        ],
        "F1=4, F2=2 and F3=7 filters, in that order",
    ),
    "two convolutions on the shortcut": (
        [
            (
                "    X_shortcut = layers.Conv2D(",
                "    X_shortcut = layers.Conv2D(F3, (1, 1))(X_shortcut)\n"
                "    X_shortcut = layers.Conv2D(",
            ),
            (SHORTCUT_BN, ""),
        ],
        "has 5 Conv2D layers; it needs 4",
    ),
    "returns a tuple": (
        [("    return X\n", "    return X, X_shortcut\n")],
        "returned tuple, not a tensor",
    ),
}

STAGE_LOOP = '        for block in "bcdefghijklmnopqrstuvwxyz"[: n_blocks - 1]:\n'
CONV1 = '64, (7, 7), strides=(2, 2), name="conv1"'
DENSE = '        activation="softmax",\n'

RESNET50_MISTAKES = {
    "missing zero padding": (
        [("    X = layers.ZeroPadding2D((3, 3))(X_input)\n", "    X = X_input\n")],
        "(m, 14, 14, 64) (no ZeroPadding2D)",
    ),
    "missing max pooling": (
        [("    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)\n", "")],
        "max pooling of stage 1 is missing",
    ),
    "3x3 first convolution": (
        [(CONV1, CONV1.replace("(7, 7)", "(3, 3)"))],
        "first convolution has a (3, 3) window",
    ),
    "first convolution without stride": (
        [(CONV1, CONV1.replace("strides=(2, 2)", "strides=(1, 1)"))],
        "strides (1, 1)",
    ),
    "missing ReLU in the stem": (
        [
            (
                '    X = layers.Activation("relu")(X)\n    X = layers.MaxPooling2D',
                "    X = layers.MaxPooling2D",
            )
        ],
        "output of stage 1 (the stem) differs",
    ),
    "BatchNormalization on the wrong axis in the stem": (
        [('axis=3, name="bn_conv1"', 'axis=1, name="bn_conv1"')],
        "normalises axis 1",
    ),
    "one identity block too few per stage": (
        [("[: n_blocks - 1]", "[: n_blocks - 2]")],
        "stage 2 has 2 residual blocks; it needs 3",
    ),
    "one identity block too many per stage": (
        [("[: n_blocks - 1]", "[:n_blocks]")],
        "stage 2 has 4 residual blocks; it needs 3",
    ),
    "stride 2 in every stage": (
        [('block="a", s=stride)', 'block="a", s=2)')],
        "Your blocks output, by stage, before the error: stage 2 (m, 8, 8, 256)",
    ),
    "f=2 in the identity blocks": (
        [("identity_block(X, 3, filters", "identity_block(X, 2, filters")],
        "first difference is in stage 2, block 2: its convolutions have windows and filters "
        "[1x1x64, 1x1x256, 2x2x64], the reference's [1x1x64, 1x1x256, 3x3x64]",
    ),
    "missing stage 5": (
        [
            (
                "    for stage, filters, n_blocks, stride in RESNET50_STAGES:",
                "    for stage, filters, n_blocks, stride in RESNET50_STAGES[:3]:",
            )
        ],
        "stage 5 is missing",
    ),
    "max pooling in the head": (
        [('layers.AveragePooling2D((2, 2), name="avg_pool")', "layers.MaxPooling2D((2, 2))")],
        "average pooling of the head is missing",
    ),
    "missing Flatten": (
        [("    X = layers.Flatten()(X)\n", "")],
        "output has shape (m, 1, 1, 6), expected (m, 6)",
    ),
    "missing softmax": (
        [(DENSE, "")],
        "activation='softmax'",
    ),
    "ReLU instead of softmax": (
        [(DENSE, '        activation="relu",\n')],
        "activation='softmax'",
    ),
    "hard-coded classes": (
        [("    X = layers.Dense(\n        classes,", "    X = layers.Dense(\n        6,")],
        "needs `classes` units",
    ),
    "hard-coded input shape": (
        [("X_input = layers.Input(input_shape)", "X_input = layers.Input((64, 64, 3))")],
        "build the Input from the argument input_shape",
    ),
    "extra hidden Dense layer": (
        [
            (
                "    X = layers.Flatten()(X)\n",
                '    X = layers.Flatten()(X)\n    X = layers.Dense(64, activation="relu")(X)\n',
            )
        ],
        "has 2 Dense layers",
    ),
    "returns the output tensor": (
        [("    return model\n", "    return X\n")],
        "returned KerasTensor, not a keras.Model",
    ),
    "identity block first in each stage": (
        [
            (
                "        X = convolutional_block(X, f=3, filters=filters, stage=stage, "
                'block="a", s=stride)\n' + STAGE_LOOP,
                STAGE_LOOP.replace(
                    "for",
                    "X = identity_block(X, 3, filters, stage=stage, block='z')\n        for",
                    1,
                ),
            )
        ],
        "raised",
    ),
}

CORRECT_VARIANTS = {
    "identity_block": {
        "other layer names": [
            (
                'conv_name_base = f"res{stage}{block}_branch"',
                'conv_name_base = f"my_conv_{stage}{block}_"',
            ),
            (
                'bn_name_base = f"bn{stage}{block}_branch"',
                'bn_name_base = f"my_bn_{stage}{block}_"',
            ),
        ],
        "operator +, ReLU layer, axis=-1": [
            (ADD_RELU, "    X = layers.ReLU()(X + X_shortcut)\n"),
            ('axis=3, name=bn_name_base + "2a"', 'axis=-1, name=bn_name_base + "2a"'),
        ],
    },
    "convolutional_block": {
        "other layer names, default initializer": [
            (
                'conv_name_base = f"res{stage}{block}_branch"',
                'conv_name_base = f"c{stage}{block}_"',
            ),
            ('bn_name_base = f"bn{stage}{block}_branch"', 'bn_name_base = f"b{stage}{block}_"'),
            (
                'name=conv_name_base + "1",\n        kernel_initializer=glorot_uniform(seed=0),',
                'name=conv_name_base + "1",',
            ),
        ],
        "'same' padding on the 1x1 convolutions, ReLU layer": [
            (
                'strides=(s, s),\n        padding="valid",\n        name=conv_name_base + "2a"',
                'strides=(s, s),\n        padding="same",\n        name=conv_name_base + "2a"',
            ),
            (ADD_RELU, "    X = layers.Add()([X_shortcut, X])\n    X = layers.ReLU()(X)\n"),
        ],
    },
    "ResNet50": {
        "other layer names": [
            ('name="conv1"', 'name="stem_conv"'),
            ('name="bn_conv1"', 'name="stem_bn"'),
            ('name="avg_pool"', 'name="pool"'),
            ('name=f"fc{classes}"', 'name="classifier"'),
            ('name="ResNet50"', 'name="my_resnet"'),
        ],
        "global average pooling": [
            (
                'layers.AveragePooling2D((2, 2), name="avg_pool")(X)\n    X = layers.Flatten()(X)',
                "layers.GlobalAveragePooling2D()(X)",
            ),
        ],
        # The grader builds without drawing initial weights: read, they are drawn on the spot.
        "reads its weights while it is built": [
            (
                "    return model\n",
                "    total = float(keras.ops.sum(model.weights[0]))\n    return model\n",
            )
        ],
    },
}


def _cases(function: str, mistakes: dict):
    return [pytest.param(function, *mistakes[name], id=f"{function}: {name}") for name in mistakes]


@pytest.mark.parametrize(
    ("function", "replacements", "hint"),
    _cases("identity_block", IDENTITY_MISTAKES)
    + _cases("convolutional_block", CONVOLUTIONAL_MISTAKES)
    + _cases("ResNet50", RESNET50_MISTAKES),
)
def test_a_wrong_implementation_is_rejected_with_its_hint(function, replacements, hint):
    passed, printed = grade(function, edited(function, *replacements))
    assert passed is False
    assert PASSED not in printed
    assert printed.startswith("Test failed: ")
    assert hint in printed


@pytest.mark.parametrize("mistakes", [IDENTITY_MISTAKES, CONVOLUTIONAL_MISTAKES, RESNET50_MISTAKES])
def test_each_grader_is_proven_by_at_least_15_wrong_implementations(mistakes):
    assert len(mistakes) >= 15


@pytest.mark.parametrize("function", sorted(GRADERS))
def test_the_reference_written_by_the_learner_passes(function):
    passed, printed = grade(function, edited(function))
    assert passed is True
    assert printed == PASSED + "\n"


# Ways of handing in the course's reference instead of one's own code.
WRAPPERS = {
    "the reference itself": lambda name: getattr(resnet, name),
    "a call of the reference": lambda name: define(
        f"from course_utils.resnet import {name} as reference\n"
        f"def {name}(*args, **kwargs):\n    return reference(*args, **kwargs)\n",
        name,
    ),
    "a call through the module": lambda name: define(
        f"import course_utils.resnet as r\ndef {name}(*args, **kwargs):\n"
        f"    return r.{name}(*args, **kwargs)\n",
        name,
    ),
    "a call through a helper": lambda name: define(
        f"from course_utils import resnet\ndef helper(*args):\n    return resnet.{name}(*args)\n"
        f"def {name}(*args):\n    return helper(*args)\n",
        name,
    ),
    "a lambda": lambda name: define(
        f"from course_utils.resnet import {name} as reference\n"
        f"{name} = lambda *args: reference(*args)\n",
        name,
    ),
}


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize("function", sorted(GRADERS))
def test_the_course_reference_handed_in_as_ones_own_fails(function, wrapper):
    passed, printed = grade(function, WRAPPERS[wrapper](function))
    assert passed is False
    assert f"course's reference implementation (course_utils.resnet.{function})" in printed


@pytest.mark.parametrize(
    ("function", "replacements"),
    [
        pytest.param(function, replacements, id=f"{function}: {name}")
        for function, variants in CORRECT_VARIANTS.items()
        for name, replacements in variants.items()
    ],
)
def test_a_correct_variant_that_names_layers_differently_passes(function, replacements):
    passed, printed = grade(function, edited(function, *replacements))
    assert (passed, printed) == (True, PASSED + "\n")


@pytest.mark.parametrize("function", sorted(GRADERS))
@pytest.mark.parametrize("learner", [None, 42, "identity_block"], ids=repr)
def test_something_that_is_not_a_function_fails_without_raising(function, learner):
    passed, printed = grade(function, learner)
    assert passed is False
    assert "not a function" in printed


@pytest.mark.parametrize("function", sorted(GRADERS))
def test_an_exception_in_learner_code_becomes_a_failure_with_its_message(function):
    def broken(*args, **kwargs):
        raise RuntimeError("the learner's own message")

    passed, printed = grade(function, broken)
    assert passed is False
    assert "RuntimeError: the learner's own message" in printed


@pytest.mark.parametrize("function", sorted(GRADERS))
def test_learner_code_that_never_returns_fails_at_the_time_limit(function, monkeypatch):
    monkeypatch.setattr("course_utils.grading.harness.TIME_LIMIT_S", 0.2)
    calls = []

    def endless(*args, **kwargs):
        calls.append(args)
        while True:
            try:
                pass
            except Exception:  # a learner's catch-all cannot swallow the time limit
                pass

    passed, printed = grade(function, endless)
    assert passed is False
    assert "did not return within 0.2 seconds" in printed
    # Not called again (for a hint): the learner waits out the time limit once, not three times.
    assert len(calls) == 1
    assert "builds with" not in printed and "Hint:" not in printed


@pytest.mark.parametrize(
    ("function", "returned", "hint"),
    [
        ("identity_block", 3.0, "returned float, not a tensor"),
        ("convolutional_block", [1, 2], "returned list, not a tensor"),
        ("ResNet50", "model", "returned str, not a keras.Model"),
    ],
)
def test_learner_code_that_returns_the_wrong_type_fails_with_what_it_returned(
    function, returned, hint
):
    passed, printed = grade(function, lambda *args, **kwargs: returned)
    assert passed is False
    assert hint in printed


def test_filled_outputs_are_the_outputs_under_fill_weights_and_leave_the_model_as_it_was():
    def small():
        inputs = keras.Input((8, 8, 3))
        x = layers.Conv2D(4, 3)(inputs)
        x = layers.BatchNormalization(axis=3)(x)
        return keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(x)))

    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    filled = small()
    fill_weights(filled)
    expected = outputs(filled, x, training=False)
    model = small()
    before = [v.numpy() for v in model.weights]
    np.testing.assert_allclose(filled_outputs(model, x), expected, rtol=1e-6)
    for variable, value in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)


# ---------------------------------------------------------------------------------------------
# Hints about the learner's error itself, not about the architecture


def printed_by(function: str, source: str) -> str:
    passed, printed = grade(function, define(source, function))
    assert passed is False
    return printed


def test_a_bare_keras_layer_name_gets_the_fix_for_the_name_not_an_architecture_hint():
    source = inspect.getsource(resnet.identity_block).replace("layers.Conv2D(", "Conv2D(")
    printed = printed_by("identity_block", source)
    assert "NameError: name 'Conv2D' is not defined" in printed
    assert "write `layers.Conv2D(...)`" in printed
    assert "from keras.layers import Conv2D" in printed
    assert "same shape" not in printed and "stride" not in printed


def test_average_pooling_without_pool_size_gets_the_keras_3_fix():
    source = edit(
        inspect.getsource(resnet.ResNet50),
        [('layers.AveragePooling2D((2, 2), name="avg_pool")', "layers.AveragePooling2D()")],
    )
    printed = printed_by("ResNet50", source)
    assert "no default pool_size (Keras 2's was (2, 2))" in printed
    assert "layers.AveragePooling2D((2, 2))" in printed
    assert "Each stage starts" not in printed


def test_a_wrong_signature_gets_the_signature_to_write():
    source = edit(
        inspect.getsource(resnet.ResNet50),
        [("def ResNet50(input_shape=(64, 64, 3), classes=6):", "def ResNet50(input_shape):")],
    )
    printed = printed_by("ResNet50", source)
    assert "def ResNet50(input_shape=(64, 64, 3), classes=6):" in printed
    assert "Each stage starts" not in printed


def test_an_exercise_not_yet_written_is_called_not_written():
    source = (
        "def identity_block(X, f, filters, stage, block):\n"
        "    ### START CODE HERE ###\n"
        "    raise NotImplementedError('write identity_block')\n"
        "    ### END CODE HERE ###\n"
    )
    printed = printed_by("identity_block", source)
    assert "identity_block is not written yet" in printed
    assert "same shape" not in printed


def test_convolutions_that_do_not_reach_the_output_are_counted_as_unused():
    # The f x f convolution reads the block's input: the first component's output is unused.
    source = edit(
        inspect.getsource(resnet.identity_block),
        [
            (
                'name=conv_name_base + "2b",\n        kernel_initializer=glorot_uniform(seed=0),\n'
                "    )(X)",
                'name=conv_name_base + "2b",\n        kernel_initializer=glorot_uniform(seed=0),\n'
                "    )(X_shortcut)",
            ),
        ],
    )
    printed = printed_by("identity_block", source)
    assert "only 2 of the 3 Conv2D layers your code creates lead to" in printed
    assert "the others are unused" in printed


def test_a_shortcut_convolution_on_the_main_path_is_named_not_the_stride():
    source = edit(
        inspect.getsource(resnet.convolutional_block),
        [
            (
                "    )(X_shortcut)\n    X_shortcut = layers.BatchNorm",
                "    )(X)\n    X_shortcut = layers.BatchNorm",
            )
        ],
    )
    printed = printed_by("convolutional_block", source)
    assert "shortcut convolution is applied to the main path's output" in printed
    assert "shrink differently" not in printed


def test_keras_colour_codes_are_removed_and_long_messages_cut_at_a_word():
    from course_utils.grading.learner_errors import describe_error

    error = ValueError("\x1b[1mInvalid\x1b[0m " + "word " * 200)
    text = describe_error(error)
    assert "\x1b" not in text and text.startswith("ValueError: Invalid word")
    assert text.endswith("word ...")


def test_a_line_without_source_is_shown_by_its_number_alone():
    namespace = {}
    exec(compile("def f():\n    raise ValueError('x')\n", "<no source>", "exec"), namespace)
    from course_utils.grading.learner_errors import describe_error

    try:
        namespace["f"]()
    except ValueError as error:
        assert describe_error(error) == "ValueError: x (at line 2)"


STAGE_5 = """    X = convolutional_block(X, f=3, filters=[512, 512, 2048], stage=5, block="a", s=2)
    X = identity_block(X, 3, [512, 512, 2048], stage=5, block="b")
    X = identity_block(X, 3, [512, 512, 2048], stage=5, block="c")
"""


def learner_resnet50(stage_5: str = STAGE_5) -> str:
    """A ResNet50 written out stage by stage, as the original assignment's learners wrote it."""
    stages = []
    for stage, filters, n_blocks, stride in resnet.RESNET50_STAGES[:3]:
        stages.append(
            f"    X = convolutional_block(X, f=3, filters={list(filters)}, stage={stage}, "
            f'block="a", s={stride})\n'
        )
        for block in "bcdef"[: n_blocks - 1]:
            stages.append(
                f'    X = identity_block(X, 3, {list(filters)}, stage={stage}, block="{block}")\n'
            )
    return (
        "def ResNet50(input_shape=(64, 64, 3), classes=6):\n"
        "    X_input = layers.Input(input_shape)\n"
        "    X = layers.ZeroPadding2D((3, 3))(X_input)\n"
        '    X = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1")(X)\n'
        '    X = layers.BatchNormalization(axis=3, name="bn_conv1")(X)\n'
        '    X = layers.Activation("relu")(X)\n'
        "    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)\n"
        + "".join(stages)
        + stage_5
        + '    X = layers.AveragePooling2D((2, 2), name="avg_pool")(X)\n'
        "    X = layers.Flatten()(X)\n"
        '    X = layers.Dense(classes, activation="softmax", name="fc" + str(classes))(X)\n'
        '    return keras.Model(inputs=X_input, outputs=X, name="ResNet50")\n'
    )


def test_the_learner_style_resnet50_passes():
    assert grade("ResNet50", define(learner_resnet50(), "ResNet50")) == (True, PASSED + "\n")


def test_wrong_filters_in_stage_5_are_named_by_stage():
    wrong = STAGE_5.replace(
        '[512, 512, 2048], stage=5, block="b"', '[256, 256, 2048], stage=5, block="b"'
    )
    wrong = wrong.replace(
        '[512, 512, 2048], stage=5, block="c"', '[256, 256, 2048], stage=5, block="c"'
    )
    printed = printed_by("ResNet50", learner_resnet50(wrong))
    assert "first difference is in stage 5, block 2" in printed
    assert "Stage 5 uses f=3 and filters [512, 512, 2048]" in printed
