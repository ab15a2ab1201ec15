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


def test_train_briefly_reports_the_class_it_predicts_for_each_validation_image():
    built = []
    data = _tiny_data()
    result = brief_runs.train_briefly(_tiny_build(built), data, epochs=1, seed=3)
    predicted = built[0].predict(data[2], verbose=0).argmax(axis=1)
    assert result["val_predicted"] == predicted.tolist()
    right = np.array(result["val_predicted"]) == data[3].argmax(axis=1)
    assert int(right.sum()) == result["val_correct"]


def test_reseeding_draws_other_initial_kernels_for_another_seed_and_the_same_for_the_same():
    def kernels(seed):
        keras.backend.clear_session()
        model = _tiny_build()()
        brief_runs.reseed_kernels(model, seed)
        return [layer.kernel.numpy() for layer in model.layers if hasattr(layer, "kernel")]

    unseeded = [
        layer.kernel.numpy() for layer in _tiny_build()().layers if hasattr(layer, "kernel")
    ]
    one, one_again, two = kernels(1), kernels(1), kernels(2)
    assert all(np.array_equal(a, b) for a, b in zip(one, one_again, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(one, unseeded, strict=True))
    # The same distribution: Glorot's uniform limit sqrt(6 / (fan_in + fan_out)) still holds.
    for kernel in one:
        receptive_field = np.prod(kernel.shape[:-2])  # 1 for a Dense kernel
        fan_in, fan_out = receptive_field * kernel.shape[-2], receptive_field * kernel.shape[-1]
        assert np.abs(kernel).max() <= np.sqrt(6 / (fan_in + fan_out)) + 1e-6


def test_the_seed_command_resumes_and_records_each_network_and_seed_once(tmp_path, monkeypatch):
    from course_tools import variant_seeds

    calls = []

    def fake_train_briefly(build, data, epochs, seed, verbose, reseed):
        calls.append((build, seed, reseed))
        return {
            "parameters": 10, "epoch_seconds": [1.0], "final_val_accuracy": 0.5,
            "val_correct": 1, "n_val": 2, "val_predicted": [0, 1],
            "history": {"val_accuracy": [0.5]},
        }  # fmt: skip

    monkeypatch.setattr(variant_seeds, "train_briefly", fake_train_briefly)
    monkeypatch.setattr(variant_seeds, "load_split_arrays", lambda: None)
    monkeypatch.setattr(variant_seeds, "BUILDERS", {"a": "build a", "b": "build b"})
    out = tmp_path / "seeds.json"
    assert variant_seeds.main(["--out", str(out), "--seeds", "1"]) == 0
    assert variant_seeds.main(["--out", str(out), "--seeds", "1", "2"]) == 0
    runs = variant_seeds.load_runs(out)
    assert [(run["network"], run["seed"]) for run in runs] == [
        ("a", 1), ("b", 1), ("a", 2), ("b", 2)
    ]  # fmt: skip
    assert calls == [("build a", 1, True), ("build b", 1, True), ("build a", 2, True),
                     ("build b", 2, True)]  # fmt: skip
    assert runs[0]["val_predicted"] == [0, 1] and runs[0]["val_accuracy"] == [0.5]
