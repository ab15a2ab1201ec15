"""The protocol of brief runs (course_utils.training.brief_runs): chapter 9's `train_briefly`, and
the original recipe it shares with the momentum ablation."""

import keras
import numpy as np
import pytest
from keras import layers

from course_tools import momentum_ablation
from course_utils import variants
from course_utils.training import brief_runs
from course_utils.training.recipes import ORIGINAL

TINY_STAGES = ((2, (4, 4), 1, 1), (3, (8, 8), 1, 2))


def _tiny_data(m=12, size=32):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (m, size, size, 3)).astype("float32")
    y = np.eye(6)[rng.integers(0, 6, m)]
    return x[: m - 4], y[: m - 4], x[m - 4 :], y[m - 4 :]


def _tiny_build(built=None):
    def build():
        model = variants.build_resnet(
            TINY_STAGES, variants.basic_block, variants.basic_block, (32, 32, 3), name="tiny"
        )
        if built is not None:
            built.append(model)
        return model

    return build


def test_train_briefly_runs_the_protocol_and_reports_it():
    built = []
    build = _tiny_build(built)
    result = brief_runs.train_briefly(build, _tiny_data(), epochs=1, seed=3)
    model = built[0]
    assert result["name"] == "tiny"
    assert result["parameters"] == model.count_params()
    assert len(result["epoch_seconds"]) == 1 and result["seconds_per_epoch"] > 0
    assert result["n_val"] == 4
    assert result["val_correct"] == round(result["final_val_accuracy"] * 4)
    assert result["best_val_accuracy"] == max(result["history"]["val_accuracy"])
    assert set(result["history"]) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert model.optimizer.learning_rate.numpy() == pytest.approx(brief_runs.LEARNING_RATE)
    momenta = {
        layer.momentum for layer in model.layers if isinstance(layer, layers.BatchNormalization)
    }
    assert momenta == {brief_runs.BATCHNORM_MOMENTUM}
    again = brief_runs.train_briefly(build, _tiny_data(), epochs=1, seed=3)
    assert again["history"] == result["history"]


def test_load_split_arrays_scales_and_one_hot_encodes(monkeypatch):
    x_train = np.full((5, 64, 64, 3), 255, dtype=np.uint8)
    x_val = np.zeros((2, 64, 64, 3), dtype=np.uint8)
    y_train, y_val = np.array([[0, 1, 2, 3, 5]]), np.array([[4, 0]])
    monkeypatch.setattr(
        brief_runs, "load_validation_split", lambda data_dir=None: (x_train, y_train, x_val, y_val)
    )
    data = brief_runs.load_split_arrays()
    assert data.x_train.dtype == np.float32 and data.x_train.max() == 1.0
    assert data.x_val.shape == (2, 64, 64, 3) and data.x_val.max() == 0.0
    np.testing.assert_array_equal(data.y_train.argmax(axis=1), [0, 1, 2, 3, 5])
    assert data.y_val.shape == (2, 6)


def test_the_protocol_is_the_original_recipe_that_the_momentum_ablation_shipped():
    # The shipped course_utils/assets/momentum_ablation.json was computed with mini-batches of 32
    # and optimizer="adam" (Adam with its default learning rate 1e-3): the shared protocol must
    # keep both, and the ablation must use it.
    assert (brief_runs.BATCH_SIZE, brief_runs.LEARNING_RATE) == (32, 1e-3)
    assert (ORIGINAL.batch_size, ORIGINAL.learning_rate) == (32, 1e-3)
    assert momentum_ablation.BATCH_SIZE is brief_runs.BATCH_SIZE
    assert momentum_ablation.load_split_arrays is brief_runs.load_split_arrays
    model = brief_runs.fresh_compiled_model(_tiny_build(), seed=0, batchnorm_momentum=0.99)
    compiled = model.optimizer.get_config()
    assert model.loss == "categorical_crossentropy"
    keras.backend.clear_session()
    assert compiled == keras.optimizers.get("adam").get_config()


def test_a_fresh_compiled_model_sets_the_momentum_it_is_given():
    model = brief_runs.fresh_compiled_model(_tiny_build(), seed=0, batchnorm_momentum=0.5)
    momenta = {
        layer.momentum for layer in model.layers if isinstance(layer, layers.BatchNormalization)
    }
    assert momenta == {0.5}
