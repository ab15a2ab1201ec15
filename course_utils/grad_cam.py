"""Where a classifier looks: Grad-CAM heatmaps and gradient saliency maps.

Grad-CAM (R. R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", ICCV 2017, https://arxiv.org/abs/1610.02391) weighs each channel k
of a convolutional layer's feature maps A^k by the spatial mean of the gradient of the class score
y^c with respect to it, alpha_k = mean_ij dy^c / dA^k_ij, and keeps the positive part of the
weighted sum, ReLU(sum_k alpha_k A^k): the regions whose features raise the class score. The map has
the feature maps' resolution and is upsampled to the image's.

A saliency map (K. Simonyan, A. Vedaldi, A. Zisserman, "Deep Inside Convolutional Networks",
ICLR 2014 workshop, https://arxiv.org/abs/1312.6034) is the gradient of y^c with respect to the
input pixels: the pixels whose small changes change the score most.

The class score y^c is the score before the softmax, as in both papers, when the model ends in a
Dense layer with a softmax; otherwise it is the model's output. Only public Keras APIs are used: a
`keras.Model` over the same graph that also returns the feature maps, and `tf.GradientTape`, so the
functions need Keras's TensorFlow backend (the course's default).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from course_utils.data.pipeline import scale_images


def last_layer_of_size(model: keras.Model, size: int) -> str:
    """The name of the last layer whose output is a (m, size, size, C) feature map.

    A ResNet ends each stage by halving the resolution, so the last layer at a size is the output
    of a stage: with 64x64 inputs, ResNet-50's stage 4 ends at 4x4 and stage 5 at 2x2. Finding the
    layer by its output shape works whatever names Keras gave the block's last activation.

    Raises:
        ValueError: no layer has an output of that size.
    """
    found = None
    for layer in model.layers:
        shape = getattr(layer.output, "shape", None)
        if shape is not None and len(shape) == 4 and tuple(shape[1:3]) == (size, size):
            found = layer.name
    if found is None:
        raise ValueError(f"{model.name} has no layer whose output is a {size}x{size} feature map")
    return found


def feature_maps_and_gradients(
    model: keras.Model,
    images: np.ndarray,
    layer_name: str,
    class_index: int | np.ndarray | None = None,
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """The feature maps A of layer `layer_name` for `images`, and the gradients dy^c/dA of each
    image's class score with respect to them.

    Args:
        model: a functional Keras classifier taking images scaled to [0, 1].
        images: uint8 (m, H, W, 3), as the course stores them.
        layer_name: the layer whose output feature maps (m, h, w, K) are returned.
        class_index: the class c: one int for every image, or (m,) ints; None takes each image's
            predicted class.
        batch_size: images per gradient computation.

    Returns:
        (features, gradients), float32 arrays of shape (m, h, w, K) each.
    """
    class_scores = _ClassScores(model, features=model.get_layer(layer_name).output)
    x = scale_images(images)
    wanted = _wanted_classes(class_index, len(x))
    features_found, gradients_found = [], []
    for start in range(0, len(x), batch_size):
        batch = tf.constant(x[start : start + batch_size])
        with tf.GradientTape() as tape:
            features, scores = class_scores(batch)
            tape.watch(features)
            score = _chosen_score(scores, wanted, start)
        gradients_found.append(tape.gradient(score, features).numpy())  # (b, h, w, K)
        features_found.append(features.numpy())
    return np.concatenate(features_found), np.concatenate(gradients_found)


def grad_cam_map(features, gradients):
    """Grad-CAM's maps from a layer's feature maps and the class score's gradients.

    Args:
        features: the feature maps A^k, shape (m, h, w, K).
        gradients: dy^c / dA^k_ij, the same shape.

    Returns:
        (m, h, w): ReLU(sum_k alpha_k A^k) for each image, alpha_k the mean over the h x w cells
        of channel k's gradients; before any upsampling or scaling.
    """
    ### START CODE HERE ###
    alpha = np.mean(gradients, axis=(1, 2), keepdims=True)  # (m, 1, 1, K)
    maps = np.maximum(np.sum(alpha * features, axis=-1), 0.0)
    ### END CODE HERE ###
    return maps


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    layer_name: str,
    class_index: int | np.ndarray | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM heatmaps of `images` for the feature maps of layer `layer_name`: `grad_cam_map`
    of `feature_maps_and_gradients`, upsampled to the images' size and scaled.

    Args:
        model: a functional Keras classifier taking images scaled to [0, 1].
        images: uint8 (m, H, W, 3), as the course stores them.
        layer_name: the convolutional layer whose output feature maps (m, h, w, K) are weighed.
        class_index: the class to explain: one int for every image, or (m,) ints; None explains
            each image's predicted class.
        batch_size: images per gradient computation.

    Returns:
        float32 (m, H, W) in [0, 1]: each map divided by its maximum (all zeros where no feature
        raises the class score), upsampled bilinearly from (h, w).
    """
    features, gradients = feature_maps_and_gradients(
        model, images, layer_name, class_index, batch_size
    )
    maps = grad_cam_map(features, gradients)[..., None].astype(np.float32)  # (m, h, w, 1)
    upsampled = tf.image.resize(maps, images.shape[1:3], method="bilinear")[..., 0].numpy()
    return _normalise(upsampled)


def saliency_map(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """Gradient saliency maps: |d y^c / d pixel|, the largest over the colour channels.

    Args:
        model, images, class_index, batch_size: as for `grad_cam`.

    Returns:
        float32 (m, H, W) in [0, 1], each map divided by its maximum.
    """
    class_scores = _ClassScores(model, features=None)
    x = scale_images(images)
    wanted = _wanted_classes(class_index, len(x))
    maps = []
    for start in range(0, len(x), batch_size):
        batch = tf.constant(x[start : start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            _, scores = class_scores(batch)
            score = _chosen_score(scores, wanted, start)
        gradients = tape.gradient(score, batch)  # (b, H, W, 3)
        maps.append(tf.reduce_max(tf.abs(gradients), axis=-1).numpy())
    return _normalise(np.concatenate(maps))


class _ClassScores:
    """Calls `model` on a batch and returns (feature maps or None, class scores (b, C)).

    The scores are taken before the softmax when the model ends in a Dense layer with a softmax
    activation: the logits are that layer's input times its kernel plus its bias.
    """

    def __init__(self, model: keras.Model, features=None):
        last = model.layers[-1]
        self.dense = (
            last
            if isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax
            else None
        )
        head = self.dense.input if self.dense is not None else model.output
        self.with_features = features is not None
        self.probe = keras.Model(model.inputs, [features, head] if self.with_features else head)

    def __call__(self, batch):
        outputs = self.probe(batch, training=False)
        features, head = outputs if self.with_features else (None, outputs)
        if self.dense is None:
            return features, head
        logits = tf.matmul(head, self.dense.kernel)
        if self.dense.use_bias:
            logits = logits + self.dense.bias
        return features, logits


def _wanted_classes(class_index, m: int) -> np.ndarray | None:
    """(m,) int64 classes to explain, or None for each image's predicted class."""
    if class_index is None:
        return None
    return np.broadcast_to(np.asarray(class_index, dtype=np.int64), (m,))


def _chosen_score(scores, wanted: np.ndarray | None, start: int):
    """The sum over the batch of each image's score for its class: since each image's score
    depends on that image only, the gradient of the sum holds every image's own gradient."""
    if wanted is None:
        chosen = tf.argmax(scores, axis=-1)
    else:
        chosen = tf.constant(wanted[start : start + scores.shape[0]])
    return tf.reduce_sum(scores * tf.one_hot(chosen, scores.shape[-1], dtype=scores.dtype))


def _normalise(maps: np.ndarray) -> np.ndarray:
    """Each (H, W) map of (m, H, W) divided by its maximum, clipped to [0, 1]; all-zero maps stay
    zero."""
    peak = maps.max(axis=(1, 2), keepdims=True)
    scaled = maps / np.where(peak > 0, peak, 1.0)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)
