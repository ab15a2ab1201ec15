"""The other hand, taught by the learner: `random_mirror`, chapter 6's exercise, and `fine_tune`,
which trains a model a little further with an augmentation applied to every training batch.

`random_mirror` is the source of the exercise: it must stand alone in the learner's cell, written
with TensorFlow operations, because `tf.data` calls it inside a graph, on each batch anew.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from course_utils.training.batchnorm import set_batchnorm_momentum

FINE_TUNE_LEARNING_RATE = 1e-4
BATCH_SIZE = 32


def random_mirror(images):
    """Mirror each image of a batch left to right with probability 1/2, on its own draw.

    Args:
        images: a batch of images, a float32 tensor of shape (m, n_H, n_W, n_C).

    Returns:
        A tensor of the same shape and dtype: image i is either images[i] or its left-right
        mirror image (column j taken from column n_W - 1 - j), decided anew on every call.
    """
    ### START CODE HERE ###
    m = tf.shape(images)[0]
    mirror = tf.random.uniform((m, 1, 1, 1)) < 0.5
    mirrored = tf.where(mirror, tf.reverse(images, axis=[2]), images)
    ### END CODE HERE ###
    return mirrored


def training_batches(X_train, Y_train, augment=None, seed: int = 0) -> tf.data.Dataset:
    """Shuffled mini-batches of BATCH_SIZE (a new order every epoch, drawn from `seed`), each
    batch of images passed through `augment` when one is given.

    Args:
        X_train: (m, 64, 64, 3) float32 images in [0, 1].
        Y_train: (m, classes) one-hot labels.
        augment: a function from a batch of images (b, 64, 64, 3) to one of the same shape.
    """
    batches = (
        tf.data.Dataset.from_tensor_slices((X_train, Y_train))
        .shuffle(len(X_train), seed=seed, reshuffle_each_iteration=True)
        .batch(BATCH_SIZE)
    )
    if augment is not None:
        batches = batches.map(lambda images, labels: (augment(images), labels))
    return batches.prefetch(tf.data.AUTOTUNE)


def fine_tune(model, X_train, Y_train, X_val, Y_val, epochs: int, augment=None, seed: int = 0):
    """Train a trained `model` further: momentum 0.9 in its BatchNormalization layers, Adam with
    the small constant learning rate FINE_TUNE_LEARNING_RATE, `epochs` passes over
    `training_batches(X_train, Y_train, augment, seed)`, the validation images evaluated after
    each epoch.

    Args:
        model: a Keras classifier of (m, 64, 64, 3) images in [0, 1], e.g. your trained ResNet50.
        X_val, Y_val: validation images and one-hot labels, as X_train and Y_train.

    Returns:
        The History of `model.fit`.
    """
    keras.utils.set_random_seed(seed)
    set_batchnorm_momentum(model, 0.9)
    model.compile(
        optimizer=keras.optimizers.Adam(FINE_TUNE_LEARNING_RATE),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model.fit(
        training_batches(X_train, Y_train, augment, seed),
        epochs=epochs,
        validation_data=(X_val, Y_val),
        shuffle=False,  # training_batches shuffles
        verbose=2,
    )
