"""Variants of the residual block: ResNet v1.5, pre-activation (v2) and basic blocks.

Reference implementations for the chapter "Variants of the residual block", in the style of
`course_utils.resnet` (same layer names, same seeded initialisers, same stem and head):

* `convolutional_block_v1_5`: the stride moves from the first 1x1 convolution to the f x f one
  (ResNet v1.5, "ResNet-B" in He et al., "Bag of Tricks for Image Classification with
  Convolutional Neural Networks", CVPR 2019).
* `preactivation_identity_block`, `preactivation_convolutional_block`: BatchNormalization -> ReLU
  -> convolution, and nothing after the addition (He et al., "Identity Mappings in Deep Residual
  Networks", ECCV 2016).
* `basic_block`: two 3x3 convolutions, the block of ResNet-18 and ResNet-34 (He et al., "Deep
  Residual Learning for Image Recognition", CVPR 2016).

Every network is `build_resnet` given a table of stages and two block functions, and `VARIANTS`
maps a name to a builder. The blocks of the exercises (`convolutional_block_v1_5`,
`preactivation_identity_block`) are shown in the book verbatim. This module holds model code
only: nothing here trains or grades.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers
from keras.initializers import glorot_uniform

from course_utils import resnet
from course_utils.data.split import N_CLASSES

BLOCK_LETTERS = "abcdefghijklmnopqrstuvwxyz"

# (stage, filters, number of blocks, stride of the stage's first block), as RESNET50_STAGES.
# A basic block has two convolutions, so two filter counts.
RESNET18_STAGES = (
    (2, (64, 64), 2, 1),
    (3, (128, 128), 2, 2),
    (4, (256, 256), 2, 2),
    (5, (512, 512), 2, 2),
)
RESNET34_STAGES = (
    (2, (64, 64), 3, 1),
    (3, (128, 128), 4, 2),
    (4, (256, 256), 6, 2),
    (5, (512, 512), 3, 2),
)


def convolutional_block_v1_5(X, f, filters, stage, block, s=2):
    """Convolutional block of ResNet v1.5: the stride is on the f x f convolution.

    Args:
        X: input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev).
        f: size (f, f) of the middle convolution's window.
        filters: (F1, F2, F3), the number of filters of the three convolutions of the main path.
        stage: the stage number, used to name the layers.
        block: the block letter within the stage, used to name the layers.
        s: the stride of the f x f convolution and of the shortcut convolution.

    Returns:
        Tensor of shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), F3). The block has exactly
        the parameters of `course_utils.resnet.convolutional_block`.
    """
    conv_name_base = f"res{stage}{block}_branch"
    bn_name_base = f"bn{stage}{block}_branch"
    F1, F2, F3 = filters
    X_shortcut = X

    ### START CODE HERE ###
    X = layers.Conv2D(
        F1,
        (1, 1),
        strides=(1, 1),
        padding="valid",
        name=conv_name_base + "2a",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = layers.Activation("relu")(X)

    X = layers.Conv2D(
        F2,
        (f, f),
        strides=(s, s),
        padding="same",
        name=conv_name_base + "2b",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = layers.Activation("relu")(X)

    X = layers.Conv2D(
        F3,
        (1, 1),
        strides=(1, 1),
        padding="valid",
        name=conv_name_base + "2c",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)

    X_shortcut = layers.Conv2D(
        F3,
        (1, 1),
        strides=(s, s),
        padding="valid",
        name=conv_name_base + "1",
        kernel_initializer=glorot_uniform(seed=0),
    )(X_shortcut)
    X_shortcut = layers.BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)

    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)
    ### END CODE HERE ###

    return X


def preactivation_identity_block(X, f, filters, stage, block):
    """Pre-activation identity block: each convolution is preceded by BatchNormalization and ReLU,
    and the sum leaves the block as it is (no ReLU after the addition).

    Args:
        X: input tensor of shape (m, n_H, n_W, n_C), with n_C == F3.
        f: size (f, f) of the middle convolution's window.
        filters: (F1, F2, F3), the number of filters of the three convolutions of the main path.
        stage: the stage number, used to name the layers.
        block: the block letter within the stage, used to name the layers. The normalisation
            before convolution ``res{stage}{block}_branch2a`` is ``bn{stage}{block}_branch2a``.

    Returns:
        Tensor of shape (m, n_H, n_W, F3): X plus the main path's output.
    """
    conv_name_base = f"res{stage}{block}_branch"
    bn_name_base = f"bn{stage}{block}_branch"
    F1, F2, F3 = filters
    X_shortcut = X

    ### START CODE HERE ###
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(
        F1,
        (1, 1),
        strides=(1, 1),
        padding="valid",
        name=conv_name_base + "2a",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)

    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(
        F2,
        (f, f),
        strides=(1, 1),
        padding="same",
        name=conv_name_base + "2b",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)

    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(
        F3,
        (1, 1),
        strides=(1, 1),
        padding="valid",
        name=conv_name_base + "2c",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)

    X = layers.Add()([X, X_shortcut])
    ### END CODE HERE ###

    return X


def preactivation_convolutional_block(X, f, filters, stage, block, s=2):
    """Pre-activation convolutional block: BatchNormalization and ReLU before each convolution;
    the shortcut convolution reads the same pre-activated input as the main path.

    The stride stays where ResNet v1 puts it (first 1x1 convolution and shortcut), so that this
    block differs from `course_utils.resnet.convolutional_block` only in the order of its layers.
    The shortcut has no BatchNormalization of its own.

    Args:
        X: input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev).
        f, filters, stage, block: as for `preactivation_identity_block`.
        s: the stride of the first 1x1 convolution and of the shortcut convolution.

    Returns:
        Tensor of shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), F3).
    """
    conv_name_base = f"res{stage}{block}_branch"
    bn_name_base = f"bn{stage}{block}_branch"
    F1, F2, F3 = filters

    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = layers.Activation("relu")(X)
    X_shortcut = _conv(F3, 1, s, conv_name_base + "1")(X)

    X = _conv(F1, 1, s, conv_name_base + "2a")(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = layers.Activation("relu")(X)
    X = _conv(F2, f, 1, conv_name_base + "2b", padding="same")(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X = layers.Activation("relu")(X)
    X = _conv(F3, 1, 1, conv_name_base + "2c")(X)

    return layers.Add()([X, X_shortcut])


def basic_block(X, f, filters, stage, block, s=1):
    """Basic residual block of ResNet-18 and ResNet-34: two f x f convolutions, each followed by
    BatchNormalization, with a ReLU between them and after the addition.

    The shortcut is the input itself when the shape does not change; otherwise (s > 1, or
    n_C_prev != F2) it is a strided 1x1 convolution and BatchNormalization, as in
    `course_utils.resnet.convolutional_block`. With n_C_prev = F1 = F2 = C and s = 1 the block
    has 2 (f^2 C^2 + C) + 4 C + 4 C parameters (weights, biases, BatchNormalization).

    Args:
        X: input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev).
        f: size (f, f) of both convolutions' windows.
        filters: (F1, F2), the number of filters of the two convolutions.
        stage, block: used to name the layers, as in `course_utils.resnet`.
        s: the stride of the first convolution and of the shortcut convolution.

    Returns:
        Tensor of shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), F2).
    """
    conv_name_base = f"res{stage}{block}_branch"
    bn_name_base = f"bn{stage}{block}_branch"
    F1, F2 = filters
    X_shortcut = X

    ### START CODE HERE ###
    X = layers.Conv2D(
        F1,
        (f, f),
        strides=(s, s),
        padding="same",
        name=conv_name_base + "2a",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(
        F2,
        (f, f),
        strides=(1, 1),
        padding="same",
        name=conv_name_base + "2b",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    X = layers.BatchNormalization(axis=3, name=bn_name_base + "2b")(X)

    if s != 1 or X_shortcut.shape[-1] != F2:
        X_shortcut = layers.Conv2D(
            F2,
            (1, 1),
            strides=(s, s),
            padding="valid",
            name=conv_name_base + "1",
            kernel_initializer=glorot_uniform(seed=0),
        )(X_shortcut)
        X_shortcut = layers.BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)

    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)
    ### END CODE HERE ###

    return X


def _conv(filters: int, size: int, stride: int, name: str, padding: str = "valid"):
    """A Conv2D layer with the course's seeded initialiser."""
    return layers.Conv2D(
        filters,
        (size, size),
        strides=(stride, stride),
        padding=padding,
        name=name,
        kernel_initializer=glorot_uniform(seed=0),
    )


def build_resnet(
    stages,
    convolutional_block: Callable,
    identity_block: Callable,
    input_shape=(64, 64, 3),
    classes: int = N_CLASSES,
    name: str = "ResNet",
    preactivation: bool = False,
) -> keras.Model:
    """A residual network: the course's stem, one stage per row of `stages`, the course's head.

    Stem: ZeroPadding2D(3), 7x7 convolution with 64 filters and stride 2, BatchNormalization,
    ReLU, 3x3 max pooling with stride 2 ((m, 64, 64, 3) -> (m, 15, 15, 64)). Each stage starts
    with ``convolutional_block(X, 3, filters, stage, "a", s=stride)`` followed by
    ``identity_block(X, 3, filters, stage, letter)`` for the blocks "b", "c", ... Head: (with
    `preactivation`, BatchNormalization ``bn_post`` and ReLU), 2x2 average pooling, Flatten, Dense
    softmax named ``fc{classes}``.

    Args:
        stages: rows (stage, filters, number of blocks, stride), as `RESNET18_STAGES`.
        convolutional_block, identity_block: the block functions, with the signatures of
            `course_utils.resnet`'s.
        input_shape: shape (n_H, n_W, n_C) of one image, scaled to [0, 1].
        classes: number of classes of the softmax output.
        name: the model's name.
        preactivation: the blocks are pre-activation blocks, whose output is not normalised:
            normalise and activate it before pooling.

    Returns:
        A keras.Model mapping (m, *input_shape) to class probabilities (m, classes).
    """
    X_input = layers.Input(input_shape)
    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = _conv(64, 7, 2, "conv1")(X)
    X = layers.BatchNormalization(axis=3, name="bn_conv1")(X)
    X = layers.Activation("relu")(X)
    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)

    for stage, filters, n_blocks, stride in stages:
        X = convolutional_block(X, 3, filters, stage, "a", s=stride)
        for block in BLOCK_LETTERS[1:n_blocks]:
            X = identity_block(X, 3, filters, stage, block)

    if preactivation:
        X = layers.BatchNormalization(axis=3, name="bn_post")(X)
        X = layers.Activation("relu")(X)
    X = layers.AveragePooling2D((2, 2), name="avg_pool")(X)
    X = layers.Flatten()(X)
    X = layers.Dense(
        classes,
        activation="softmax",
        name=f"fc{classes}",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)
    return keras.Model(inputs=X_input, outputs=X, name=name)


def ResNet50_v1_5(input_shape=(64, 64, 3), classes=N_CLASSES):
    """ResNet-50 v1.5: ResNet-50 with `convolutional_block_v1_5` at the start of each stage.

    With the defaults it has 23,600,006 parameters, exactly as many as ResNet-50 v1.
    """
    return build_resnet(
        resnet.RESNET50_STAGES,
        convolutional_block_v1_5,
        resnet.identity_block,
        input_shape,
        classes,
        name="ResNet50_v1_5",
    )


def ResNet50_preactivation(input_shape=(64, 64, 3), classes=N_CLASSES):
    """ResNet-50 of pre-activation blocks, with BatchNormalization and ReLU before the pooling.

    With the defaults it has 23,584,902 parameters (23,539,334 trainable): the convolutions and
    the dense layer of ResNet-50 v1, but its BatchNormalization layers sit before the convolutions
    instead of after them (and none on the shortcuts), so they normalise other numbers of channels.
    """
    return build_resnet(
        resnet.RESNET50_STAGES,
        preactivation_convolutional_block,
        preactivation_identity_block,
        input_shape,
        classes,
        name="ResNet50_preactivation",
        preactivation=True,
    )


def ResNet18(input_shape=(64, 64, 3), classes=N_CLASSES):
    """ResNet-18: the course's stem and head around four stages of two basic blocks.

    With the defaults it has 11,193,990 parameters (11,184,390 trainable): 17 convolutions and
    the dense layer on the main path, 3 shortcut convolutions.
    """
    return build_resnet(RESNET18_STAGES, basic_block, basic_block, input_shape, classes, "ResNet18")


def ResNet34(input_shape=(64, 64, 3), classes=N_CLASSES):
    """ResNet-34: as ResNet-18 with 3, 4, 6 and 3 basic blocks per stage.

    With the defaults it has 21,313,286 parameters (21,296,262 trainable).
    """
    return build_resnet(RESNET34_STAGES, basic_block, basic_block, input_shape, classes, "ResNet34")


# name -> builder(input_shape=(64, 64, 3), classes=6)
VARIANTS: dict[str, Callable[..., keras.Model]] = {
    "ResNet-50 v1": resnet.ResNet50,
    "ResNet-50 v1.5": ResNet50_v1_5,
    "ResNet-50 pre-activation": ResNet50_preactivation,
    "ResNet-18": ResNet18,
    "ResNet-34": ResNet34,
}
