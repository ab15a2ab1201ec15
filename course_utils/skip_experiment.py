"""Why skip connections work: the same deep ReLU network with and without identity shortcuts.

A CPU-sized experiment for the chapter "Why skip connections work". Each SIGNS training image is
reduced to an 8 x 8 greyscale thumbnail (64 numbers), and three fully connected networks learn to
classify the 1080 thumbnails:

* ``shallow``: a plain network with 4 hidden layers;
* ``plain``: the same plain network with 40 hidden layers;
* ``residual``: the 40-layer network with an identity shortcut around every pair of layers.

Every network is ``input -> stem -> hidden_1 ... hidden_depth -> logits``, with ReLU activations
and He initialisation. The hidden layers come in blocks of two; a block computes

    plain:     a_out = relu(W2 relu(W1 a_in))
    residual:  a_out = relu(a_in + W2 relu(W1 a_in))

the residual form being the identity block of ResNet-50 without convolutions and batch
normalisation. Initial weights come from seeded initialisers, so the three networks start from the
same weights: the shallow network's hidden layers are the first four of the deep one's, and the
residual network differs from the plain one only in its shortcuts and in the second layer of each
block, whose He weights are divided by sqrt(number of blocks) (see ``build_network``).

Gradients and the training step use TensorFlow (``tf.GradientTape``, ``tf.function``), the
course's Keras backend; the rest is Keras and NumPy. Everything returned is a NumPy array, a
number or a plain dict of them.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_utils.data.pipeline import scale_images
from course_utils.data.split import N_CLASSES
from course_utils.resnets_utils import load_dataset

THUMBNAIL = 8
WIDTH = 16
DEEP = 40
SHALLOW = 4
EPOCHS = 15
BATCH_SIZE = 32
LEARNING_RATE = 1e-3

# name: (number of hidden layers, identity shortcuts?)
NETWORKS: dict[str, tuple[int, bool]] = {
    "shallow": (SHALLOW, False),
    "plain": (DEEP, False),
    "residual": (DEEP, True),
}


def thumbnails(X: np.ndarray, size: int = THUMBNAIL) -> np.ndarray:
    """Greyscale thumbnails of images, flattened.

    Args:
        X: images of shape (m, H, W, 3), uint8 in 0..255; H and W divisible by ``size``.
        size: side of the thumbnail.

    Returns:
        float32 array of shape (m, size * size): ``X / 255.0`` (the course's ``scale_images``,
        in float64 for the averages) averaged over the colour channels and over
        (H / size) x (W / size) pixel squares.

    Raises:
        ValueError: the images are not uint8, or their size is not divisible by ``size``.
    """
    m, height, width, _ = X.shape
    if height % size or width % size:
        raise ValueError(f"image size {height}x{width} is not divisible by {size}")
    grey = scale_images(X, dtype="float64").mean(axis=3)
    pooled = grey.reshape(m, size, height // size, size, width // size).mean(axis=(2, 4))
    return pooled.reshape(m, size * size).astype("float32")


def load_features(
    size: int = THUMBNAIL, data_dir: Path | str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The SIGNS training set as standardised thumbnails and integer labels.

    Args:
        size: side of the thumbnails.
        data_dir: the SIGNS data folder, as for ``load_dataset`` (default: the course data).

    Returns:
        (x (1080, size * size) float32, each column with mean 0 and standard deviation 1;
         y (1080,) int32 labels in 0..5).
    """
    X_train_orig, Y_train_orig, _, _, _ = load_dataset(data_dir)
    x = thumbnails(X_train_orig, size)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype("float32"), Y_train_orig.reshape(-1).astype("int32")


def build_network(
    depth: int,
    residual: bool,
    n_inputs: int = THUMBNAIL * THUMBNAIL,
    width: int = WIDTH,
    n_classes: int = N_CLASSES,
    seed: int = 0,
    scale_branches: bool = True,
) -> keras.Model:
    """A fully connected ReLU network with ``depth`` hidden layers, in blocks of two.

    Layers: ``stem`` (Dense + ReLU), ``hidden_1`` ... ``hidden_{depth}`` (Dense, ReLU between
    the two layers of each block), ``block_1`` ... ``block_{depth / 2}`` (the ReLU that ends each
    block), ``logits`` (Dense, no activation). With ``residual``, each block adds its input back
    before its last ReLU.

    Every hidden kernel is He-normal with its own seed, so networks built with the same ``seed``
    share their weights layer by layer. In the residual network the second layer of each block
    starts from those same weights divided by sqrt(depth / 2): each shortcut passes the signal on
    unchanged, so full-size blocks would add up and the activations would grow from block to
    block; scaled down, each block adds a small correction (``activation_sizes`` measures both).
    (ResNet-50 keeps its activations in check with batch normalisation instead; a common variant
    starts the scale of the last normalisation of each block at zero.)

    Args:
        depth: number of hidden layers, even and positive.
        residual: add an identity shortcut around every block of two hidden layers.
        n_inputs: length of an input vector.
        width: units of every hidden layer.
        n_classes: number of outputs (logits).
        seed: seed of the initial weights.
        scale_branches: in the residual network, divide the second layer's initial weights of
            each block by sqrt(depth / 2); False keeps plain He initialisation there too.

    Returns:
        An uncompiled model mapping (m, n_inputs) float32 to logits (m, n_classes).
    """
    if depth <= 0 or depth % 2:
        raise ValueError(f"depth must be a positive even number, got {depth}")
    keras.utils.set_random_seed(seed)
    kernels = _kernel_initializers(depth, residual and scale_branches, seed)

    inputs = keras.Input(shape=(n_inputs,), name="thumbnail")
    a = keras.layers.Dense(
        width, activation="relu", kernel_initializer=kernels["stem"], name="stem"
    )(inputs)
    for block in range(depth // 2):
        first, second = f"hidden_{2 * block + 1}", f"hidden_{2 * block + 2}"
        z = keras.layers.Dense(width, kernel_initializer=kernels[first], name=first)(a)
        z = keras.layers.Activation("relu")(z)
        z = keras.layers.Dense(width, kernel_initializer=kernels[second], name=second)(z)
        if residual:
            z = keras.layers.Add(name=f"shortcut_{block + 1}")([a, z])
        a = keras.layers.Activation("relu", name=f"block_{block + 1}")(z)
    logits = keras.layers.Dense(n_classes, kernel_initializer=kernels["logits"], name="logits")(a)
    kind = "residual" if residual else "plain"
    return keras.Model(inputs, logits, name=f"{kind}_{depth}")


def _kernel_initializers(depth: int, scaled: bool, seed: int) -> dict[str, keras.Initializer]:
    """{layer name: kernel initializer} of ``build_network(depth, ..., seed=seed)``, seeded so
    that they give the same weights every time; ``scaled``: the second layer of each block
    divided by sqrt(depth / 2), as in the residual network."""
    blocks = depth // 2

    def he(layer: int, scale: float = 1.0) -> keras.Initializer:
        return keras.initializers.VarianceScaling(
            2.0 * scale, mode="fan_in", distribution="truncated_normal", seed=seed * 1000 + layer
        )

    kernels = {"stem": he(0)}
    for block in range(blocks):
        first, second = 2 * block + 1, 2 * block + 2
        kernels[f"hidden_{first}"] = he(first)
        kernels[f"hidden_{second}"] = he(second, 1.0 / blocks) if scaled else he(second)
    kernels["logits"] = keras.initializers.GlorotUniform(seed=seed * 1000 + 999)
    return kernels


def reinitialize(model: keras.Model, seed: int) -> keras.Model:
    """Give a network from ``build_network`` (with the default ``scale_branches``) the initial
    weights it would have been built with for ``seed`` (seeded kernels, zero biases): the same
    network as a new build, without the time a build takes.

    Returns:
        The model, changed in place.
    """
    hidden = hidden_kernels(model)
    residual = any(layer.name.startswith("shortcut_") for layer in model.layers)
    kernels = _kernel_initializers(len(hidden), residual, seed)
    for layer in model.layers:
        if layer.name in kernels:
            layer.kernel.assign(kernels[layer.name](tuple(layer.kernel.shape)))
            layer.bias.assign(keras.ops.zeros(tuple(layer.bias.shape)))
    return model


def activation_sizes(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """How large the activations are after the stem and after each block of the network.

    Args:
        model: a network from ``build_network`` with depth hidden layers.
        x: inputs of shape (m, n_inputs).

    Returns:
        float64 array of shape (depth / 2 + 1,): entry 0 for the stem's output, entry k for the
        output of ``block_k``; each the root mean square of the (m, width) activations.
    """
    blocks = [layer for layer in model.layers if layer.name.startswith("block_")]
    blocks.sort(key=lambda layer: int(layer.name.split("_")[1]))
    outputs = [model.get_layer("stem").output] + [layer.output for layer in blocks]
    activations = keras.Model(model.input, outputs)(x)
    return np.array([np.sqrt(np.mean(np.square(np.asarray(a, "float64")))) for a in activations])


def hidden_kernels(model: keras.Model) -> list[keras.Variable]:
    """The kernels of ``hidden_1``, ``hidden_2``, ...: first layer first."""
    layers = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    layers.sort(key=lambda layer: int(layer.name.split("_")[1]))
    return [layer.kernel for layer in layers]


def _cross_entropy(y, logits) -> tf.Tensor:
    """Mean softmax cross-entropy of logits (m, n_classes) for integer labels y (m,)."""
    losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    return keras.ops.mean(losses)


def gradient_norms(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The Frobenius norm of d(loss)/d(kernel) of every hidden layer.

    Args:
        model: a network from ``build_network`` with depth hidden layers.
        x: inputs of shape (m, n_inputs).
        y: integer labels of shape (m,).

    Returns:
        float64 array of shape (depth,): entry i for ``hidden_{i + 1}``; the loss is the mean
        cross-entropy over the m examples.
    """
    kernels = hidden_kernels(model)
    with tf.GradientTape() as tape:
        loss = _cross_entropy(y, model(x))
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])


def gradient_norms_over_seeds(
    x: np.ndarray,
    y: np.ndarray,
    depth: int = DEEP,
    seeds: range | list[int] = range(10),
    width: int = WIDTH,
) -> dict[str, np.ndarray]:
    """Per-layer gradient norms at initialisation of the plain and the residual network, for
    several initialisations.

    Args:
        x: inputs of shape (m, n_inputs).
        y: integer labels of shape (m,).
        depth: number of hidden layers of both networks.
        seeds: the seeds of the initial weights; the two networks share each seed.
        width: units of every hidden layer.

    Returns:
        {"plain": (len(seeds), depth), "residual": (len(seeds), depth)}: row k holds
        ``gradient_norms`` of the network built with ``seeds[k]``.
    """
    keras.backend.clear_session(free_memory=False)  # small models: no need to collect
    models = {
        name: build_network(depth, residual, n_inputs=x.shape[1], width=width)
        for name, residual in (("plain", False), ("residual", True))
    }
    norms: dict[str, list[np.ndarray]] = {name: [] for name in models}
    for seed in seeds:
        for name, model in models.items():
            norms[name].append(gradient_norms(reinitialize(model, seed), x, y))
    return {name: np.array(rows) for name, rows in norms.items()}


def evaluate_network(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``model`` on x (m, n_inputs), y (m,)."""
    logits = model(x)
    accuracy = np.mean(np.argmax(np.asarray(logits), axis=1) == y)
    return float(_cross_entropy(y, logits)), float(accuracy)


def train_network(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Train ``model`` with Adam on mini-batches; record the training loss after every epoch.

    Args:
        model: a network from ``build_network``; its weights are updated in place.
        x: inputs of shape (m, n_inputs), float32.
        y: integer labels of shape (m,).
        epochs: passes over the data; each visits the m examples in a new random order.
        batch_size: examples per step (the last batch of an epoch may be smaller).
        learning_rate: Adam's learning rate.
        seed: seed of the order of the examples.

    Returns:
        {"loss": (epochs + 1,), "accuracy": (epochs + 1,)}: the mean cross-entropy and the
        accuracy on all of (x, y), before training (entry 0) and after each epoch.
    """
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)
    signature = [
        tf.TensorSpec((None, x.shape[1]), tf.float32),
        tf.TensorSpec((None,), tf.int32),
    ]

    @tf.function(input_signature=signature)
    def step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            loss = _cross_entropy(y_batch, model(x_batch, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)

    x, y = np.asarray(x, "float32"), np.asarray(y, "int32")
    order = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": []}
    for epoch in range(epochs + 1):
        if epoch > 0:
            perm = order.permutation(len(x))
            for start in range(0, len(x), batch_size):
                batch = perm[start : start + batch_size]
                step(x[batch], y[batch])
        loss, accuracy = evaluate_network(model, x, y)
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
    return {key: np.array(values) for key, values in history.items()}


def representation_similarity(model: keras.Model, x: np.ndarray) -> float:
    """How alike the network's last hidden activations are for different inputs.

    Args:
        model: a network from ``build_network``.
        x: inputs of shape (m, n_inputs), m >= 2.

    Returns:
        The mean cosine similarity between the activations, of shape (width,), that the last
        hidden block passes on for two different examples, over all pairs: 1 when the network
        maps every input to the same direction.
    """
    last = model.get_layer("logits").input
    a = np.asarray(keras.Model(model.input, last)(x), dtype="float64")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    cos = a @ a.T
    m = len(a)
    return float((cos.sum() - np.trace(cos)) / (m * (m - 1)))


def run_experiment(
    x: np.ndarray,
    y: np.ndarray,
    networks: dict[str, tuple[int, bool]] | None = None,
    epochs: int = EPOCHS,
    width: int = WIDTH,
    seed: int = 0,
    **train_options,
) -> dict[str, dict]:
    """Build, measure and train each network on the same data, from the same seed.

    Args:
        x: inputs of shape (m, n_inputs), e.g. from ``load_features``.
        y: integer labels of shape (m,).
        networks: {name: (depth, residual)}; default ``NETWORKS`` (shallow, plain, residual).
        epochs: training epochs of each network.
        width: units of every hidden layer.
        seed: seed of the initial weights and of the order of the examples.
        **train_options: ``batch_size`` or ``learning_rate``, passed on to ``train``.

    Returns:
        {name: {"depth": int, "residual": bool,
                "grad_norms": (depth,) gradient norms per hidden layer at initialisation,
                "similarity": float, ``representation_similarity`` at initialisation,
                "loss": (epochs + 1,), "accuracy": (epochs + 1,) as returned by ``train``,
                "seconds": float, the wall time of the training}}.
    """
    results = {}
    for name, (depth, residual) in (networks or NETWORKS).items():
        keras.backend.clear_session(free_memory=False)  # small models: no need to collect
        model = build_network(depth, residual, n_inputs=x.shape[1], width=width, seed=seed)
        result = {
            "depth": depth,
            "residual": residual,
            "grad_norms": gradient_norms(model, x, y),
            "similarity": representation_similarity(model, x),
        }
        started = time.perf_counter()
        result.update(train_network(model, x, y, epochs=epochs, seed=seed, **train_options))
        result["seconds"] = time.perf_counter() - started
        results[name] = result
    return results
