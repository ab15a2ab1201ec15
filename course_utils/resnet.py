"""The reference ResNet-50 of the course, built from identity and convolutional blocks.

Layer names follow the original Keras implementation (``res2a_branch2a``, ``bn2a_branch2a``,
``conv1``, ``bn_conv1``, ``avg_pool``, ``fc6``) so that weights and summaries line up with it.
All inputs are images scaled to [0, 1] (``X / 255.0``).

The bodies between ``### START CODE HERE ###`` and ``### END CODE HERE ###`` are the exercises of
the book: the chapters show these functions verbatim and the student version blanks those regions.
"""

from __future__ import annotations

import keras
from keras import layers
from keras.initializers import glorot_uniform

# (stage, filters (F1, F2, F3), number of blocks, stride of the stage's convolutional block)
RESNET50_STAGES = (
    (2, (64, 64, 256), 3, 1),
    (3, (128, 128, 512), 4, 2),
    (4, (256, 256, 1024), 6, 2),
    (5, (512, 512, 2048), 3, 2),
)


def identity_block(X, f, filters, stage, block):
    """Residual block whose shortcut is the input itself (input and output shapes are equal).

    Args:
        X: input tensor of shape (m, n_H, n_W, n_C), with n_C == F3.
        f: size (f, f) of the middle convolution's window.
        filters: (F1, F2, F3), the number of filters of the three convolutions of the main path.
        stage: the stage number, used to name the layers (2 for ``res2b_branch2a``).
        block: the block letter within the stage, used to name the layers ('b' for ``res2b_...``).

    Returns:
        Tensor of shape (m, n_H, n_W, F3).
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
        strides=(1, 1),
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

    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)
    ### END CODE HERE ###

    return X


def convolutional_block(X, f, filters, stage, block, s=2):
    """Residual block whose shortcut is a strided 1x1 convolution, for a change of shape.

    Args:
        X: input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev).
        f: size (f, f) of the middle convolution's window.
        filters: (F1, F2, F3), the number of filters of the three convolutions of the main path.
        stage: the stage number, used to name the layers.
        block: the block letter within the stage, used to name the layers.
        s: the stride of the first 1x1 convolution and of the shortcut convolution.

    Returns:
        Tensor of shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), F3).
    """
    conv_name_base = f"res{stage}{block}_branch"
    bn_name_base = f"bn{stage}{block}_branch"
    F1, F2, F3 = filters
    X_shortcut = X

    ### START CODE HERE ###
    X = layers.Conv2D(
        F1,
        (1, 1),
        strides=(s, s),
        padding="valid",
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


def ResNet50(input_shape=(64, 64, 3), classes=6):
    """ResNet-50: a 7x7 stem, four stages of residual blocks (RESNET50_STAGES), pooling, softmax.

    CONV2D -> BATCHNORM -> RELU -> MAXPOOL -> CONVBLOCK -> IDBLOCK*2 -> CONVBLOCK -> IDBLOCK*3
    -> CONVBLOCK -> IDBLOCK*5 -> CONVBLOCK -> IDBLOCK*2 -> AVGPOOL -> FLATTEN -> DENSE (softmax)

    Args:
        input_shape: shape (n_H, n_W, n_C) of one image, scaled to [0, 1].
        classes: number of classes of the softmax output.

    Returns:
        A keras.Model mapping (m, *input_shape) to class probabilities (m, classes). With the
        defaults it has 23,600,006 parameters (23,546,886 trainable, 53,120 non-trainable).
    """
    ### START CODE HERE ###
    X_input = layers.Input(input_shape)

    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = layers.Conv2D(
        64, (7, 7), strides=(2, 2), name="conv1", kernel_initializer=glorot_uniform(seed=0)
    )(X)
    X = layers.BatchNormalization(axis=3, name="bn_conv1")(X)
    X = layers.Activation("relu")(X)
    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)

    for stage, filters, n_blocks, stride in RESNET50_STAGES:
        X = convolutional_block(X, f=3, filters=filters, stage=stage, block="a", s=stride)
        for block in "bcdefghijklmnopqrstuvwxyz"[: n_blocks - 1]:
            X = identity_block(X, 3, filters, stage=stage, block=block)

    X = layers.AveragePooling2D((2, 2), name="avg_pool")(X)
    X = layers.Flatten()(X)
    X = layers.Dense(
        classes,
        activation="softmax",
        name=f"fc{classes}",
        kernel_initializer=glorot_uniform(seed=0),
    )(X)

    model = keras.Model(inputs=X_input, outputs=X, name="ResNet50")
    ### END CODE HERE ###

    return model
