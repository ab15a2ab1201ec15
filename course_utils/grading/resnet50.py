"""Check of the learner's ``ResNet50(input_shape=(64, 64, 3), classes=6)``.

The learner assembles the reference blocks; the check follows the network from the input to the
softmax: the returned model and its input, the stem and its output (15, 15, 64), the number and
output shape of the residual blocks of every stage, the head, the parameter counts, then the
outputs of the stem, of every block and of the whole network against the reference under identical
weights, and finally a build for other input shapes and class counts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import groupby

import keras
import numpy as np
from keras import layers

from course_utils import resnet
from course_utils.data.split import N_CLASSES
from course_utils.grading.harness import (
    GradingFailure,
    LearnerFailure,
    call_learner,
    filled_outputs,
    layers_of,
    plural,
    report,
    same,
    shape_text,
)
from course_utils.grading.learner_errors import shapes_at_failure
from course_utils.grading.own_work import require_own_function

INPUT_SHAPE = (64, 64, 3)
TOTAL_PARAMS = 23_600_006
TRAINABLE_PARAMS = 23_546_886
NON_TRAINABLE_PARAMS = 53_120
STEM_OUTPUT = (15, 15, 64)
# (stage, output shape of each of its residual blocks, number of blocks)
STAGE_OUTPUTS = (
    (2, (15, 15, 256), 3),
    (3, (8, 8, 512), 4),
    (4, (4, 4, 1024), 6),
    (5, (2, 2, 2048), 3),
)
SIGNATURE = "ResNet50(input_shape=(64, 64, 3), classes=6)"
# (stage, name) of the stem and of every residual block, in graph order.
PARTS = ((1, "stage 1 (the stem)"),) + tuple(
    (stage, f"stage {stage}, block {index + 1}")
    for stage, _, n_blocks in STAGE_OUTPUTS
    for index in range(n_blocks)
)
OTHER_INPUT_SHAPE = (96, 96, 3)
OTHER_CLASSES = 10

STEM_RECIPE = (
    "Stage 1 is ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) -> "
    "BatchNormalization(axis=3) -> ReLU -> MaxPooling2D((3, 3), strides=(2, 2))."
)
BLOCKS_RECIPE = "Build the blocks with f=3 and the stage's filters, a convolutional block first."
HEAD_RECIPE = (
    "The head is AveragePooling2D((2, 2)) -> Flatten() -> Dense(classes, activation='softmax')."
)


def check_resnet50(ResNet50: Callable) -> bool:
    """Grade a learner's ``ResNet50(input_shape=(64, 64, 3), classes=6)``.

    Prints ``All tests passed.`` and returns True, or prints what is wrong and returns False.
    Never raises. Builds the learner's ResNet-50 twice (for two input shapes), and the
    reference once per process.
    """
    return report(lambda: _check_resnet50(ResNet50))


def _check_resnet50(function: Callable) -> None:
    require_own_function(function, "ResNet50")
    model = _build(function, INPUT_SHAPE, N_CLASSES)
    _check_stem(model)
    _check_stages(model)
    _check_head(model, N_CLASSES)
    _check_parameter_counts(model)
    _check_behaviour(model)
    other = _build(function, OTHER_INPUT_SHAPE, OTHER_CLASSES)
    if tuple(other.output.shape) != (None, OTHER_CLASSES):
        raise GradingFailure(
            f"ResNet50(classes={OTHER_CLASSES}) has output shape {shape_text(other.output.shape)}"
            f", expected (m, {OTHER_CLASSES}): the Dense layer needs `classes` units, not a "
            "fixed number."
        )


def _inputs() -> np.ndarray:
    """The (2, 64, 64, 3) images the outputs are compared on."""
    return np.random.default_rng(0).uniform(0, 1, (2, *INPUT_SHAPE)).astype("float32")


@functools.cache
def _reference_outputs() -> list[np.ndarray]:
    """The reference's stem, block and final outputs under ``fill_value``: computed once per
    process, as they never change."""
    return filled_outputs(_probe(_reference()), _inputs())


@functools.cache
def _reference() -> keras.Model:
    """The reference ResNet-50, built once per process."""
    return resnet.ResNet50(INPUT_SHAPE, N_CLASSES)


def _build(function: Callable, input_shape: tuple, classes: int) -> keras.Model:
    what = f"ResNet50(input_shape={input_shape}, classes={classes})"
    try:
        model = call_learner(function, input_shape, classes, what=what, signature=SIGNATURE)
    except LearnerFailure as failure:
        if failure.explained:
            raise
        raise GradingFailure(
            f"{failure}\n{_where_it_stopped(function, input_shape, classes, failure.error)}"
        ) from None
    if not isinstance(model, keras.Model):
        raise GradingFailure(
            f"{what} returned {type(model).__name__}, not a keras.Model: end with "
            "model = keras.Model(inputs=X_input, outputs=X) and return model."
        )
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != tuple(input_shape):
        raise GradingFailure(
            f"{what} has inputs {[shape_text(i.shape) for i in model.inputs]}, expected one of "
            f"shape {shape_text((None, *input_shape))}: build the Input from the argument "
            "input_shape, X_input = layers.Input(input_shape), not from a fixed shape."
        )
    return model


def _where_it_stopped(function: Callable, input_shape, classes, error: Exception) -> str:
    """The shapes the learner's blocks produced, stage by stage, up to the error, beside the
    reference's."""
    built = _stage_shapes_before_failure(function, input_shape, classes)
    lines = [f"Where it stopped, {text}." for text in shapes_at_failure(error)[-1:]]
    if built:
        ours = ", ".join(f"stage {stage} {shape_text(shape)}" for stage, shape in built.items())
        lines.append(f"Your blocks output, by stage, before the error: {ours}.")
    expected = ", ".join(
        [f"stage 1 {shape_text((None, *STEM_OUTPUT))}"]
        + [f"stage {stage} {shape_text((None, *shape))}" for stage, shape, _ in STAGE_OUTPUTS]
    )
    lines.append(
        f"The reference's outputs, by stage: {expected}. Each stage starts with "
        "convolutional_block (s=1 in stage 2, s=2 in stages 3 to 5), followed by identity blocks "
        "with the same filters."
    )
    return "\n".join(lines)


def _stage_shapes_before_failure(function: Callable, input_shape, classes) -> dict:
    """{stage: output shape of its last block} of the blocks the learner's function built before
    it failed, found by calling it again with its block functions wrapped to record each call."""
    namespace = getattr(function, "__globals__", None)
    if not isinstance(namespace, dict):
        return {}
    originals = {
        name: namespace[name]
        for name in ("identity_block", "convolutional_block")
        if callable(namespace.get(name))
    }
    built: dict = {}

    def recording(block: Callable) -> Callable:
        def record(*args, **kwargs):
            output = block(*args, **kwargs)
            stage = kwargs.get("stage", args[3] if len(args) > 3 else "?")
            if isinstance(output, keras.KerasTensor):
                built[stage] = tuple(output.shape)
            return output

        return record

    try:
        namespace.update({name: recording(block) for name, block in originals.items()})
        call_learner(function, input_shape, classes, what="ResNet50", signature=SIGNATURE)
    except GradingFailure:
        pass
    finally:
        namespace.update(originals)
    return built


def _check_stem(model: keras.Model) -> None:
    convs = layers_of(model, layers.Conv2D)
    if not convs:
        raise GradingFailure(f"the model has no Conv2D layer. {STEM_RECIPE}")
    conv1 = convs[0]
    if tuple(conv1.kernel.shape) != (7, 7, 3, 64) or tuple(conv1.strides) != (2, 2):
        raise GradingFailure(
            f"the first convolution has a {shape_text(conv1.kernel.shape[:2])} window, "
            f"{conv1.filters} filters and strides {tuple(conv1.strides)}. {STEM_RECIPE}"
        )
    for bn in layers_of(model, layers.BatchNormalization):
        if bn.axis % 4 != 3:
            raise GradingFailure(
                f"a BatchNormalization normalises axis {bn.axis}; it must normalise the "
                f"channels: BatchNormalization(axis=3). {STEM_RECIPE}"
            )
    pools = layers_of(model, layers.MaxPooling2D)
    if not pools:
        raise GradingFailure(f"the max pooling of stage 1 is missing. {STEM_RECIPE}")
    stem = tuple(pools[0].output.shape[1:])
    if stem != STEM_OUTPUT:
        padding = "" if layers_of(model, layers.ZeroPadding2D) else " (no ZeroPadding2D)"
        raise GradingFailure(
            f"after stage 1 the feature maps have shape {shape_text((None, *stem))}{padding}, "
            f"expected {shape_text((None, *STEM_OUTPUT))}. {STEM_RECIPE}"
        )


def _residual_outputs(model: keras.Model) -> list:
    """The outputs of the residual additions, in graph order."""
    # `layers.Add` and the operation of `X + X_shortcut` are both classes named Add.
    return [op.output for op in model.operations if type(op).__name__ == "Add"]


def _check_stages(model: keras.Model) -> None:
    found = [
        (shape, len(list(group)))
        for shape, group in groupby(tuple(t.shape[1:]) for t in _residual_outputs(model))
    ]
    for index, (stage, shape, n_blocks) in enumerate(STAGE_OUTPUTS):
        if index >= len(found):
            raise GradingFailure(
                f"stage {stage} is missing: the model has residual blocks for "
                f"{plural(len(found), 'stage')} after the stem; ResNet-50 has 4 (stages 2 to 5)."
            )
        got_shape, got_blocks = found[index]
        if got_shape != shape:
            strides = {2: 1}.get(stage, 2)
            raise GradingFailure(
                f"stage {stage}'s blocks output {shape_text((None, *got_shape))}, expected "
                f"{shape_text((None, *shape))}: stage {stage} uses filters "
                f"{list(_stage_filters(stage))} and its convolutional block has s={strides}."
            )
        if got_blocks != n_blocks:
            raise GradingFailure(
                f"stage {stage} has {plural(got_blocks, 'residual block')}; it needs {n_blocks}: "
                f"a convolutional block and {n_blocks - 1} identity blocks."
            )
    if len(found) > len(STAGE_OUTPUTS):
        raise GradingFailure(
            f"the model has residual blocks after stage 5 (output {shape_text(found[-1][0])}); "
            "ResNet-50 ends with stage 5."
        )


def _stage_filters(stage: int) -> tuple[int, int, int]:
    return next(filters for s, filters, _, _ in resnet.RESNET50_STAGES if s == stage)


def _check_head(model: keras.Model, classes: int) -> None:
    if not layers_of(model, layers.AveragePooling2D | layers.GlobalAveragePooling2D):
        raise GradingFailure(f"the average pooling of the head is missing. {HEAD_RECIPE}")
    dense = layers_of(model, layers.Dense)
    if len(dense) != 1:
        raise GradingFailure(
            f"the model has {plural(len(dense), 'Dense layer')}; it needs one. {HEAD_RECIPE}"
        )
    if tuple(model.output.shape) != (None, classes):
        raise GradingFailure(
            f"the output has shape {shape_text(model.output.shape)}, expected (m, {classes}). "
            f"{HEAD_RECIPE}"
        )


def _check_parameter_counts(model: keras.Model) -> None:
    counts = (
        model.count_params(),
        _count(model.trainable_weights),
        _count(model.non_trainable_weights),
    )
    expected = (TOTAL_PARAMS, TRAINABLE_PARAMS, NON_TRAINABLE_PARAMS)
    if counts != expected:
        raise GradingFailure(
            f"the model has {counts[0]:,} parameters ({counts[1]:,} trainable, {counts[2]:,} "
            f"non-trainable); ResNet-50 has {expected[0]:,} ({expected[1]:,} trainable, "
            f"{expected[2]:,} non-trainable). {_first_different_block(model)}"
        )


def _first_different_block(model: keras.Model) -> str:
    """Names the first block whose convolutions differ from the reference's, by stage."""
    ours = _convolutions_by_block(model)
    theirs = _convolutions_by_block(_reference())
    for (stage, name), got, wanted in zip(PARTS, ours, theirs, strict=False):
        if got != wanted:
            advice = (
                STEM_RECIPE
                if stage == 1
                else (f"Stage {stage} uses f=3 and filters {list(_stage_filters(stage))}.")
            )
            return (
                f"The first difference is in {name}: its convolutions have windows and filters "
                f"{_kernels_text(got)}, the reference's {_kernels_text(wanted)}. {advice}"
            )
    return "Check f=3 and the filters of every block."


def _convolutions_by_block(model: keras.Model) -> list[list[tuple]]:
    """(window height, window width, filters) of the Conv2D layers of the stem and of each
    residual block, in graph order: the stem ends with its max pooling, and a block's layers come
    after the previous block's addition."""
    blocks: list[list[tuple]] = [[]]
    for op in model.operations:
        stem_ends = isinstance(op, layers.MaxPooling2D) and len(blocks) == 1
        if stem_ends or type(op).__name__ == "Add":
            blocks.append([])
        elif isinstance(op, layers.Conv2D):
            height, width, _, filters = op.kernel.shape
            blocks[-1].append((height, width, filters))
    return [sorted(block) for block in blocks]


def _kernels_text(kernels: list[tuple]) -> str:
    return "[" + ", ".join(f"{h}x{w}x{n}" for h, w, n in kernels) + "]"


def _count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def _check_behaviour(model: keras.Model) -> None:
    """Stem, every block and the output against the reference, under identical weights."""
    ours, theirs = filled_outputs(_probe(model), _inputs()), _reference_outputs()
    probabilities = ours[-1]
    if np.any(probabilities < 0) or not np.allclose(probabilities.sum(axis=1), 1, atol=1e-4):
        raise GradingFailure(
            "the outputs are not probabilities (non-negative, summing to 1): the Dense layer "
            f"needs activation='softmax'. {HEAD_RECIPE}"
        )
    for (stage, name), a, b in zip(PARTS, ours[:-1], theirs[:-1], strict=True):
        if not same(a, b):
            advice = STEM_RECIPE if stage == 1 else BLOCKS_RECIPE
            raise GradingFailure(
                f"with the same weights as the reference, the output of {name} differs. {advice}"
            )
    if not same(ours[-1], theirs[-1]):
        raise GradingFailure(
            f"with the same weights as the reference, the head computes different outputs. "
            f"{HEAD_RECIPE}"
        )


def _probe(model: keras.Model) -> keras.Model:
    """The model with the stem's output, every block's output and the final output."""
    stem = layers_of(model, layers.MaxPooling2D)[0].output
    return keras.Model(model.inputs[0], [stem, *_residual_outputs(model), model.output])
