"""course_utils.keras_compat: what it takes from Keras is still there, with the same meaning."""

import inspect

import keras
import numpy as np

from course_utils import keras_compat


def small_model() -> keras.Model:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_keras_still_has_the_build_from_first_batch_method():
    model = small_model()
    assert hasattr(model, keras_compat.SYMBOLIC_BUILD), (
        f"Keras {keras.__version__} has no Model.{keras_compat.SYMBOLIC_BUILD}: multi-worker "
        "training (course_utils.training.distributed.apply_multi_worker_fixes) must find the "
        "new way the model builds itself from its first batch; update course_utils/keras_compat.py."
    )
    parameters = list(inspect.signature(keras_compat.symbolic_build(model)).parameters)
    assert parameters == ["iterator", "data_batch"], (
        f"Keras {keras.__version__} changed Model.{keras_compat.SYMBOLIC_BUILD}'s arguments to "
        f"{parameters}; update course_utils/keras_compat.py and apply_multi_worker_fixes."
    )


def test_fit_builds_the_model_through_the_replaced_method():
    model = small_model()
    keras_build = keras_compat.symbolic_build(model)
    calls = []

    def build(iterator=None, data_batch=None):
        calls.append(iterator is not None or data_batch is not None)
        return keras_build(iterator=iterator, data_batch=data_batch)

    keras_compat.replace_symbolic_build(model, build)
    model.fit(np.zeros((4, 4)), np.zeros((4, 2)), epochs=1, verbose=0)
    assert calls and calls[0], (
        f"Keras {keras.__version__}'s fit no longer builds the model through "
        f"Model.{keras_compat.SYMBOLIC_BUILD}; update course_utils/keras_compat.py."
    )


def test_first_batch_reads_the_epoch_iterator_that_fit_hands_the_build_method():
    model = small_model()
    keras_build = keras_compat.symbolic_build(model)
    firsts = []

    def build(iterator=None, data_batch=None):  # as apply_multi_worker_fixes does
        if iterator is not None:
            data_batch = keras_compat.first_batch(iterator)
            firsts.append(data_batch)
        return keras_build(data_batch=data_batch)

    keras_compat.replace_symbolic_build(model, build)
    x = np.arange(16, dtype="float32").reshape(4, 4)
    y = np.arange(8, dtype="float32").reshape(4, 2)
    model.fit(x, y, batch_size=2, shuffle=False, epochs=1, verbose=0)
    assert firsts, (
        f"Keras {keras.__version__}'s fit gave Model.{keras_compat.SYMBOLIC_BUILD} no iterator"
    )
    batch = [np.asarray(part) for part in keras.tree.flatten(firsts[0])]
    assert (
        len(batch) == 2 and np.array_equal(batch[0], x[:2]) and np.array_equal(batch[1], y[:2])
    ), (
        f"Keras {keras.__version__}'s epoch iterator changed: keras_compat.first_batch found "
        f"{batch} instead of the first batch (x[:2], y[:2]); update course_utils/keras_compat.py."
    )
