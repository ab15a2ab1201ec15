"""The reference ResNet-50 keeps the original contract: counts, names, shapes, repeatability."""

import keras
import numpy as np
import pytest

from course_utils.resnet import ResNet50, convolutional_block, identity_block


@pytest.fixture(scope="module")
def model():
    keras.backend.clear_session()
    return ResNet50()


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def test_resnet50_has_the_original_parameter_counts(model):
    assert model.count_params() == 23_600_006
    assert _count(model.trainable_weights) == 23_546_886
    assert _count(model.non_trainable_weights) == 53_120


def test_resnet50_weight_shapes_match_keras_applications_one_for_one(model):
    other = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
    ours = [tuple(w.shape) for w in model.weights]
    theirs = [tuple(w.shape) for w in other.weights]
    assert len(ours) == len(theirs) == 320
    assert sorted(ours) == sorted(theirs)
    # Layer by layer: the same sequence of convolution kernels and dense weights.
    kernels = [s for s in ours if len(s) in (2, 4)]
    other_kernels = [s for s in theirs if len(s) in (2, 4)]
    assert sorted(kernels) == sorted(other_kernels)
    assert len(kernels) == 54  # 53 convolutions and the dense layer


def test_resnet50_keeps_the_original_layer_names(model):
    for name in [
        "conv1",
        "bn_conv1",
        "res2a_branch2a",
        "bn2a_branch2a",
        "res2a_branch1",
        "bn2a_branch1",
        "res3d_branch2c",
        "res4f_branch2b",
        "res5c_branch2c",
        "avg_pool",
        "fc6",
    ]:
        model.get_layer(name)
    assert model.name == "ResNet50"


def test_resnet50_maps_images_to_class_probabilities(model):
    x = np.random.default_rng(0).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    p = keras.ops.convert_to_numpy(model(x, training=False))  # no predict: its trace is long
    assert p.shape == (2, 6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet50_stage_output_shapes(model):
    expected = {
        "res2c_branch2c": (15, 15, 256),
        "res3d_branch2c": (8, 8, 512),
        "res4f_branch2c": (4, 4, 1024),
        "res5c_branch2c": (2, 2, 2048),
    }
    for name, shape in expected.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape


def test_resnet50_builds_twice_with_identical_initial_weights(model):
    again = ResNet50()
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resnet50_other_classes_and_input_shapes():
    keras.backend.clear_session()
    other = ResNet50(input_shape=(96, 96, 3), classes=10)
    assert tuple(other.output.shape) == (None, 10)
    assert other.get_layer("fc10").kernel.shape == (2048, 10)


def test_identity_block_keeps_the_shape():
    X = keras.Input((7, 7, 16))
    Y = identity_block(X, f=3, filters=(4, 8, 16), stage=1, block="a")
    assert tuple(Y.shape) == (None, 7, 7, 16)


@pytest.mark.parametrize(("s", "size"), [(1, 9), (2, 5), (3, 3)])
def test_convolutional_block_strides_both_paths(s, size):
    X = keras.Input((9, 9, 6))
    Y = convolutional_block(X, f=3, filters=(4, 5, 12), stage=1, block="a", s=s)
    assert tuple(Y.shape) == (None, size, size, 12)
