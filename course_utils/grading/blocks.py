"""Checks of the learner's ``identity_block`` and ``convolutional_block``.

Each check builds the learner's block and the reference on several small inputs (distinct F1, F2,
F3 and input channels, f > 1, non-square images), then looks, in order, for: an error, a wrong
return value, the wrong layers (convolution windows and filters, BatchNormalization and its axis,
strides), the wrong output shape, and finally different outputs under identical weights in
inference and training mode. Where outputs differ, the learner's block is compared with a
catalogue of plausible mistakes to name the one made.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from course_utils import resnet
from course_utils.grading.harness import (
    GradingFailure,
    LearnerFailure,
    agreement,
    as_model,
    call_learner,
    consumers,
    fill_weights,
    layers_of,
    outputs_in_both_modes,
    plural,
    report,
    shape_text,
    weight_signature,
)
from course_utils.grading.own_work import require_own_function

SIGNATURES = {
    "identity_block": "identity_block(X, f, filters, stage, block)",
    "convolutional_block": "convolutional_block(X, f, filters, stage, block, s=2)",
}


@dataclass(frozen=True)
class BlockCase:
    """One call of a block: ``fn(X, f, filters, stage, block[, s])`` on a (3, *input_shape) batch.

    ``s`` is None for the identity block; for the convolutional block ``pass_s=False`` leaves
    ``s`` to the function's default (2).
    """

    input_shape: tuple[int, int, int]
    f: int
    filters: tuple[int, int, int]
    stage: int
    block: str
    s: int | None = None
    pass_s: bool = True

    @property
    def projection(self) -> bool:
        return self.s is not None

    @property
    def stride(self) -> int:
        return self.s if self.s is not None else 1

    def output_shape(self) -> tuple[int, int, int]:
        n_H, n_W, _ = self.input_shape
        return (-(-n_H // self.stride), -(-n_W // self.stride), self.filters[2])

    def with_(self, **changes) -> BlockCase:
        return BlockCase(**{**self.__dict__, **changes})

    def describe(self) -> str:
        s = "" if not self.projection else (f", s={self.s}" if self.pass_s else " (default s)")
        shape = shape_text((None, *self.input_shape))
        return f"input {shape}, f={self.f}, filters={list(self.filters)}{s}"

    def call(self, function: Callable, inputs, what: str):
        args = [inputs, self.f, list(self.filters), self.stage, self.block]
        if self.projection and self.pass_s:
            args.append(self.s)
        name = "convolutional_block" if self.projection else "identity_block"
        return call_learner(function, *args, what=what, signature=SIGNATURES[name])

    def conv_roles(self) -> dict[tuple[int, int, int, int], str]:
        """{kernel shape: role} of the block's convolutions (shapes are distinct by design)."""
        (_, _, n_C), f, (F1, F2, F3) = self.input_shape, self.f, self.filters
        roles = {
            (1, 1, n_C, F1): "first 1x1 convolution",
            (f, f, F1, F2): "f x f convolution",
            (1, 1, F2, F3): "last 1x1 convolution",
        }
        if self.projection:
            roles[(1, 1, n_C, F3)] = "shortcut convolution"
        return roles


IDENTITY_CASES = (
    BlockCase((5, 4, 6), f=3, filters=(2, 3, 6), stage=1, block="a"),
    BlockCase((4, 7, 8), f=2, filters=(5, 3, 8), stage=3, block="c"),
)
CONVOLUTIONAL_CASES = (
    BlockCase((6, 5, 3), f=3, filters=(4, 2, 7), stage=1, block="a", s=2),
    BlockCase((7, 7, 5), f=2, filters=(3, 6, 4), stage=4, block="a", s=3),
    BlockCase((5, 4, 3), f=3, filters=(4, 2, 7), stage=2, block="a", s=1),
    BlockCase((6, 5, 3), f=3, filters=(4, 2, 7), stage=3, block="b", s=2, pass_s=False),
)

# Plausible mistakes that leave the layers as they should be but wire them differently, with the
# hint each one deserves. `_variant` builds them.
WIRING_MISTAKES = {
    "no_skip": (
        "the skip connection is missing: add the shortcut to the main path with "
        "layers.Add()([X, X_shortcut]) before the final ReLU."
    ),
    "no_final_relu": (
        "the final ReLU is missing: apply layers.Activation('relu') after the addition."
    ),
    "relu_before_add": (
        "the ReLU comes before the addition: add the shortcut to the output of the last "
        "BatchNormalization (the third component has no ReLU of its own), then apply the ReLU."
    ),
    "relu_only_before_add": (
        "the ReLU comes before the addition: add the shortcut to the output of the last "
        "BatchNormalization (the third component has no ReLU of its own), then apply the ReLU."
    ),
    "add_before_bn": (
        "the shortcut is added before the last BatchNormalization: normalise the last "
        "convolution's output first, then add the shortcut, then apply the ReLU."
    ),
    "relu_before_bn": (
        "the ReLU comes before the BatchNormalization: each component is Conv2D, then "
        "BatchNormalization(axis=3), then ReLU."
    ),
    "no_relu_1": (
        "the ReLU of the first component is missing: Conv2D, BatchNormalization(axis=3), then "
        "layers.Activation('relu')."
    ),
    "no_relu_2": (
        "the ReLU of the second component (the f x f convolution) is missing: Conv2D, "
        "BatchNormalization(axis=3), then layers.Activation('relu')."
    ),
}


def check_identity_block(identity_block: Callable) -> bool:
    """Grade a learner's ``identity_block(X, f, filters, stage, block)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises.
    """
    return report(lambda: _check_block(identity_block, IDENTITY_CASES, "identity_block"))


def check_convolutional_block(convolutional_block: Callable) -> bool:
    """Grade a learner's ``convolutional_block(X, f, filters, stage, block, s=2)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises.
    """
    return report(
        lambda: _check_block(convolutional_block, CONVOLUTIONAL_CASES, "convolutional_block")
    )


def _check_block(function: Callable, cases: tuple[BlockCase, ...], name: str) -> None:
    require_own_function(function, name)
    for case in cases:
        try:
            _check_case(function, case, name)
        except GradingFailure as failure:
            raise GradingFailure(f"{name}, {case.describe()}: {failure}") from None


def _check_case(function: Callable, case: BlockCase, name: str) -> None:
    inputs = keras.Input(case.input_shape)
    try:
        outputs = case.call(function, inputs, what=name)
    except LearnerFailure as failure:
        hint = None if failure.explained else _shape_hint(function, case, name, failure.error)
        if hint is None:
            raise
        raise GradingFailure(f"{failure}\n{hint}") from None
    model = as_model(inputs, outputs, name)
    _check_layers(model, case, function)
    expected = case.output_shape()
    if tuple(model.output.shape[1:]) != expected:
        raise GradingFailure(
            f"the output has shape {shape_text(model.output.shape)}, expected "
            f"{shape_text((None, *expected))}. {_output_shape_advice(case)}"
        )
    _check_behaviour(model, case)


def _shape_hint(function: Callable, case: BlockCase, name: str, error: Exception) -> str | None:
    """Advice for a block that raised, from probes of its structure: retried with s=1 or f=1,
    does it build, and how? None where no probe explains the error."""
    probes = [("padding", case.with_(f=1))]
    if case.projection and case.stride != 1:
        probes.insert(0, ("stride", case.with_(s=1, pass_s=True)))
    for problem, probe in probes:
        inputs = keras.Input(probe.input_shape)
        try:
            outputs = probe.call(function, inputs, what=name)
        except GradingFailure:
            continue
        if problem == "stride":
            try:
                model = as_model(inputs, outputs, name)
            except GradingFailure:
                model = None
            if model is not None and _shortcut_reads_the_main_path(model, probe):
                return SHORTCUT_INPUT_HINT
            return (
                "It builds with s=1, so the two paths shrink differently: the stride s belongs "
                "on the first 1x1 convolution and on the shortcut convolution, (s, s) on both."
            )
        return (
            "It builds with f=1, so the f x f convolution changes the height and width: give "
            "it padding='same' (the 1x1 convolutions use padding='valid')."
        )
    if isinstance(error, ValueError) and "shape" in str(error).lower():
        return (
            "Hint: the shortcut and the main path are added, so they must have the same shape. "
            + _output_shape_advice(case)
        )
    return None


SHORTCUT_INPUT_HINT = (
    "The shortcut convolution is applied to the main path's output, not to the block's input: "
    "save X_shortcut = X at the start of the block, then apply the shortcut's Conv2D and "
    "BatchNormalization to X_shortcut."
)


def _shortcut_reads_the_main_path(model: keras.Model, case: BlockCase) -> bool:
    """True when only one convolution reads the block's input, though the main path's first
    convolution and the shortcut's should both read it."""
    convs = layers_of(model, layers.Conv2D)
    readers = [conv for conv in convs if conv.input is model.inputs[0]]
    return case.projection and len(convs) == 4 and len(readers) == 1


def _output_shape_advice(case: BlockCase) -> str:
    if case.projection:
        return (
            "The first 1x1 convolution and the shortcut convolution have stride (s, s), the "
            "f x f one padding='same' and stride 1, and the last one and the shortcut F3 filters."
        )
    return (
        "Every convolution of the identity block has stride 1, the f x f one padding='same', "
        "and the last one has F3 filters."
    )


def _check_layers(model: keras.Model, case: BlockCase, function: Callable) -> None:
    """The learner's layers: convolutions, their windows, filters, biases and strides, and one
    BatchNormalization on the channels after each convolution."""
    for layer in model.layers:
        if layer.weights and not isinstance(layer, layers.Conv2D | layers.BatchNormalization):
            raise GradingFailure(
                f"the block has a {type(layer).__name__} layer; it holds only Conv2D, "
                "BatchNormalization, ReLU and Add layers."
            )
    for bn in layers_of(model, layers.BatchNormalization):
        if bn.axis % 4 != 3:
            raise GradingFailure(
                f"BatchNormalization normalises axis {bn.axis}; it must normalise the channels, "
                "the last axis: BatchNormalization(axis=3)."
            )

    roles = case.conv_roles()
    convs = layers_of(model, layers.Conv2D)
    if len(convs) != len(roles):
        raise GradingFailure(_conv_count_hint(len(convs), case, calls_in_source(function)))
    if _shortcut_reads_the_main_path(model, case):
        raise GradingFailure(SHORTCUT_INPUT_HINT)
    found = Counter(tuple(c.kernel.shape) for c in convs)
    if found != Counter(list(roles)):
        raise GradingFailure(_kernel_hint(found, case))
    by_role = {roles[tuple(conv.kernel.shape)]: conv for conv in convs}
    if (
        case.stride != 1
        and tuple(by_role["first 1x1 convolution"].strides) == (1, 1)
        and tuple(by_role["f x f convolution"].strides) == (case.stride, case.stride)
    ):
        raise GradingFailure(
            "the stride s is on the f x f convolution, as in ResNet v1.5 (a later variant). This "
            "course builds the original ResNet-50: the stride s is on the first 1x1 convolution, "
            "strides=(s, s), as on the shortcut, and the f x f convolution has stride (1, 1)."
        )
    for conv in convs:
        role = roles[tuple(conv.kernel.shape)]
        if not conv.use_bias:
            raise GradingFailure(
                f"the {role} has no bias: keep Conv2D's default use_bias=True (ResNet-50's "
                "parameter counts include the biases)."
            )
        wanted = case.stride if role in ("first 1x1 convolution", "shortcut convolution") else 1
        if tuple(conv.strides) != (wanted, wanted):
            raise GradingFailure(_stride_hint(role, tuple(conv.strides), case))
        if role == "f x f convolution" and conv.padding != "same":
            raise GradingFailure(
                f"the f x f convolution has padding='{conv.padding}': give it padding='same', so "
                "that it keeps the height and width (the 1x1 convolutions use padding='valid')."
            )
    n_bn = len(layers_of(model, layers.BatchNormalization))
    if n_bn != len(roles):
        for conv in convs:
            if not any(isinstance(op, layers.BatchNormalization) for op in consumers(model, conv)):
                raise GradingFailure(
                    f"the {roles[tuple(conv.kernel.shape)]} is not followed by "
                    "BatchNormalization(axis=3): every Conv2D of the block, the shortcut's "
                    "included, is followed by one."
                )
        raise GradingFailure(
            f"the block has {plural(n_bn, 'BatchNormalization layer')}; it needs "
            f"{len(roles)}, one after each Conv2D."
        )


def calls_in_source(function: Callable, name: str = "Conv2D") -> int | None:
    """How many calls of ``name`` (``Conv2D(...)`` or ``layers.Conv2D(...)``) the function's
    source holds; None where its source cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None
    return sum(
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
        for node in ast.walk(tree)
    )


def _conv_count_hint(n: int, case: BlockCase, written: int | None) -> str:
    needed = len(case.conv_roles())
    if written is not None and written > n and written >= needed:
        used = f"only {n} of the {written}" if n else f"none of the {written}"
        return (
            f"{used} Conv2D layers your code creates {'leads' if n < 2 else 'lead'} to the "
            "block's output: the others are unused, their output overwritten or never passed "
            "on. Each layer takes the previous layer's output (X = layers.Conv2D(...)(X)), the "
            "block returns the main path's X, and the shortcut is added to it."
        )
    found = f"the block has {plural(n, 'Conv2D layer')}"
    if case.projection:
        if n == 3:
            return (
                f"{found}; it needs 4. The shortcut convolution is missing: X_shortcut goes "
                "through Conv2D(F3, (1, 1), strides=(s, s)) and BatchNormalization(axis=3), and "
                "is then added to the main path."
            )
        return (
            f"{found}; it needs 4: three on the main path (1x1, f x f, 1x1) and one on the "
            "shortcut."
        )
    if n > 3:
        return (
            f"{found}; it needs 3, all on the main path (1x1, f x f, 1x1). The identity block's "
            "shortcut is the input X itself, with no convolution."
        )
    return f"{found}; it needs 3 on the main path: 1x1, f x f and 1x1."


def _kernel_hint(found: Counter, case: BlockCase) -> str:
    expected = Counter(list(case.conv_roles()))
    windows = Counter(shape[:2] for shape in found.elements())
    if windows != Counter(shape[:2] for shape in expected.elements()):
        sizes = ", ".join(f"{h}x{w}" for h, w in sorted(windows.elements()))
        return (
            f"the convolution windows are {sizes}. The main path's windows are (1, 1), (f, f) "
            f"and (1, 1) (here f={case.f}: use the argument f, not a fixed size)"
            + (", and the shortcut's (1, 1)." if case.projection else ".")
        )
    F1, F2, F3 = case.filters
    got = sorted(shape[3] for shape in found.elements())
    return (
        f"the convolutions have {got} filters. The main path's three convolutions have F1={F1}, "
        f"F2={F2} and F3={F3} filters, in that order"
        + (", and the shortcut convolution F3." if case.projection else ".")
        + " Unpack them with F1, F2, F3 = filters."
    )


def _stride_hint(role: str, strides: tuple, case: BlockCase) -> str:
    if not case.projection:
        return (
            f"the {role} has strides {strides}: every convolution of the identity block has "
            "stride (1, 1)."
        )
    on_s = role in ("first 1x1 convolution", "shortcut convolution")
    wanted = (case.stride, case.stride) if on_s else (1, 1)
    return (
        f"the {role} has strides {strides}, expected {wanted} here (s={case.stride}): the stride "
        "s belongs on the first 1x1 convolution and on the shortcut convolution, strides=(s, s); "
        "the f x f and the last 1x1 convolutions have stride (1, 1)."
    )


def _check_behaviour(model: keras.Model, case: BlockCase) -> None:
    signature, expected = _behaviour(case, None)
    if weight_signature(model) != signature:
        raise GradingFailure(
            "the block's weights differ in number or shape from the reference's: check that "
            "every layer is built once and used once."
        )
    fill_weights(model)
    ours = outputs_in_both_modes(model, _inputs(case))
    agree = agreement(ours, expected)
    if all(agree.values()):
        return
    for mistake, hint in WIRING_MISTAKES.items():
        variant_signature, variant = _behaviour(case, mistake)
        if variant_signature == signature and all(agreement(ours, variant).values()):
            raise GradingFailure(hint)
    if agree[True] != agree[False]:
        mode = "inference" if agree[True] else "training"
        raise GradingFailure(
            f"the outputs match the reference's in one mode but not in {mode} mode: do not pass "
            "training=... to BatchNormalization; Keras tells each layer whether it is training."
        )
    raise GradingFailure(
        "with the same weights as the reference, the block computes different outputs. Check "
        "the order: each component is Conv2D -> BatchNormalization(axis=3) -> ReLU, except the "
        "last, which has no ReLU; the shortcut is added to the last BatchNormalization's output, "
        "and a ReLU follows the addition."
    )


def _inputs(case: BlockCase) -> np.ndarray:
    """The (3, *case.input_shape) batch the outputs are compared on."""
    x = np.random.default_rng(case.stage).standard_normal((3, *case.input_shape))
    return x.astype("float32")


@functools.cache
def _behaviour(case: BlockCase, mistake: str | None) -> tuple[Counter, dict[bool, np.ndarray]]:
    """(weight signature, outputs in both modes under ``fill_weights``) of the reference block
    (mistake None) or of a wiring mistake; computed once per process, as they never change."""
    inputs = keras.Input(case.input_shape)
    if mistake is None:
        reference = resnet.convolutional_block if case.projection else resnet.identity_block
        block = keras.Model(inputs, case.call(reference, inputs, what="reference"))
    else:
        block = keras.Model(inputs, _variant(inputs, case, mistake))
    fill_weights(block)
    return weight_signature(block), outputs_in_both_modes(block, _inputs(case))


def _variant(X, case: BlockCase, mistake: str):
    """The block with one wiring mistake (a key of WIRING_MISTAKES)."""
    F1, F2, F3 = case.filters
    relu = layers.Activation("relu")
    shortcut = X
    if case.projection:
        shortcut = layers.Conv2D(F3, (1, 1), strides=case.stride)(shortcut)
        shortcut = layers.BatchNormalization(axis=3)(shortcut)
    components = [(F1, 1, case.stride, "valid"), (F2, case.f, 1, "same"), (F3, 1, 1, "valid")]
    for index, (filters, window, stride, padding) in enumerate(components):
        last = index == len(components) - 1
        X = layers.Conv2D(filters, (window, window), strides=stride, padding=padding)(X)
        if last and mistake == "add_before_bn":
            X = layers.Add()([X, shortcut])
        if not last and mistake == "relu_before_bn":
            X = layers.BatchNormalization(axis=3)(relu(X))
            continue
        X = layers.BatchNormalization(axis=3)(X)
        if not last and mistake != f"no_relu_{index + 1}":
            X = relu(X)
    if mistake in ("relu_before_add", "relu_only_before_add"):
        X = relu(X)
    if mistake not in ("no_skip", "add_before_bn"):
        X = layers.Add()([X, shortcut])
    if mistake not in ("no_final_relu", "relu_only_before_add"):
        X = relu(X)
    return X
