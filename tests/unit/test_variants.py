"""The variants of the residual block: parameter counts, shapes, where the strides and the
activations sit. (The protocol that trains them: test_brief_runs.py; the check of the learner's
blocks: test_grading_variants.py.)"""

import keras
import numpy as np
import pytest
from keras import layers

from course_utils import resnet, variants

# name: (parameters, trainable parameters) on (64, 64, 3) images and 6 classes.
PARAMETER_COUNTS = {
    "ResNet-50 v1": (23_600_006, 23_546_886),
    "ResNet-50 v1.5": (23_600_006, 23_546_886),
    "ResNet-50 pre-activation": (23_584_902, 23_539_334),
    "ResNet-18": (11_193_990, 11_184_390),
    "ResNet-34": (21_313_286, 21_296_262),
}


def _count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def _kernels(model) -> list[tuple]:
    """The shapes of the convolution kernels and the dense kernel, in graph order."""
    return [tuple(w.shape) for w in model.weights if len(w.shape) in (2, 4)]


def _bn_channels(model) -> int:
    return sum(
        layer.gamma.shape[0]
        for layer in model.layers
        if isinstance(layer, layers.BatchNormalization)
    )


@pytest.fixture(scope="module")
def models():
    keras.backend.clear_session()
    return {name: build() for name, build in variants.VARIANTS.items()}


def test_every_variant_has_its_documented_parameter_count(models):
    assert set(models) == set(PARAMETER_COUNTS)
    for name, model in models.items():
        total, trainable = PARAMETER_COUNTS[name]
        assert model.count_params() == total, name
        assert _count(model.trainable_weights) == trainable, name
        assert model.count_params() == _count(model.weights)


def test_every_variant_maps_images_to_class_probabilities(models):
    x = np.random.default_rng(0).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    for name, model in models.items():
        assert tuple(model.input.shape) == (None, 64, 64, 3), name
        p = keras.ops.convert_to_numpy(model(x, training=False))
        assert p.shape == (2, 6), name
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_resnet18_count_matches_a_count_by_hand(models):
    def conv(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    def bn(c):
        return 4 * c  # gamma, beta, moving mean, moving variance

    total = conv(7, 3, 64) + bn(64)
    channels = 64
    for _, (F, _), n_blocks, stride in variants.RESNET18_STAGES:
        for i in range(n_blocks):
            total += conv(3, channels if i == 0 else F, F) + conv(3, F, F) + 2 * bn(F)
            if i == 0 and (stride != 1 or channels != F):
                total += conv(1, channels, F) + bn(F)
        channels = F
    total += 512 * 6 + 6
    assert models["ResNet-18"].count_params() == total == 11_193_990
    # 17 convolutions on the main path, 3 on the shortcuts, and the dense layer.
    assert len(_kernels(models["ResNet-18"])) == 21


def test_v1_5_has_the_layers_of_v1_and_differs_only_in_strides(models):
    v1, v1_5 = models["ResNet-50 v1"], models["ResNet-50 v1.5"]
    assert [tuple(w.shape) for w in v1.weights] == [tuple(w.shape) for w in v1_5.weights]
    differing = {
        layer.name: (tuple(layer.strides), tuple(v1_5.get_layer(layer.name).strides))
        for layer in v1.layers
        if isinstance(layer, layers.Conv2D)
        and tuple(layer.strides) != tuple(v1_5.get_layer(layer.name).strides)
    }
    assert differing == {
        f"res{stage}a_branch{branch}": strides
        for stage in (3, 4, 5)
        for branch, strides in (("2a", ((2, 2), (1, 1))), ("2b", ((1, 1), (2, 2))))
    }


def test_preactivation_differs_from_v1_only_in_batchnorm(models):
    v1, pre = models["ResNet-50 v1"], models["ResNet-50 pre-activation"]
    assert _kernels(v1) == _kernels(pre)
    # v1 normalises each convolution's output (shortcuts included); pre-activation normalises
    # each main-path convolution's input, then the last block's output.
    v1_channels, pre_channels = 64, 64  # the stem's bn_conv1
    channels = 64
    for _, (F1, F2, F3), n_blocks, _ in resnet.RESNET50_STAGES:
        v1_channels += (F1 + F2 + F3 + F3) + (n_blocks - 1) * (F1 + F2 + F3)
        pre_channels += (channels + F1 + F2) + (n_blocks - 1) * (F3 + F1 + F2)
        channels = F3
    pre_channels += channels  # bn_post
    assert (_bn_channels(v1), _bn_channels(pre)) == (v1_channels, pre_channels)
    assert v1.count_params() - pre.count_params() == 4 * (v1_channels - pre_channels) == 15_104


def test_the_stage_table_builder_rebuilds_the_course_resnet50(models):
    keras.backend.clear_session()
    rebuilt = variants.build_resnet(
        resnet.RESNET50_STAGES, resnet.convolutional_block, resnet.identity_block
    )
    reference = models["ResNet-50 v1"]
    assert [(w.path, tuple(w.shape)) for w in rebuilt.weights] == [
        (w.path, tuple(w.shape)) for w in reference.weights
    ]


def _block_model(block, input_shape, *args, **kwargs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, block(inputs, *args, **kwargs))


def _conv_by_name(model, suffix):
    (layer,) = [
        layer
        for layer in model.layers
        if isinstance(layer, layers.Conv2D) and layer.name.endswith(suffix)
    ]
    return layer


def test_v1_5_block_strides_the_3x3_convolution_not_the_first_1x1():
    keras.backend.clear_session()
    block = _block_model(
        variants.convolutional_block_v1_5, (15, 15, 256), 3, (128, 128, 512), 3, "a", s=2
    )
    assert tuple(block.output.shape) == (None, 8, 8, 512)
    assert tuple(_conv_by_name(block, "branch2a").strides) == (1, 1)
    assert tuple(_conv_by_name(block, "branch2b").strides) == (2, 2)
    assert _conv_by_name(block, "branch2b").padding == "same"
    assert tuple(_conv_by_name(block, "branch2c").strides) == (1, 1)
    assert tuple(_conv_by_name(block, "branch1").strides) == (2, 2)
    v1 = _block_model(resnet.convolutional_block, (15, 15, 256), 3, (128, 128, 512), 3, "a", s=2)
    assert block.count_params() == v1.count_params()


def test_preactivation_identity_block_adds_last_and_applies_no_relu_after():
    keras.backend.clear_session()
    block = _block_model(variants.preactivation_identity_block, (5, 5, 16), 3, (4, 4, 16), 2, "b")
    assert isinstance(block.layers[-1], layers.Add)
    assert tuple(block.output.shape) == (None, 5, 5, 16)
    # BatchNormalization -> ReLU -> Conv2D, three times, then the addition.
    kinds = [type(layer).__name__ for layer in block.layers[1:]]
    assert kinds == ["BatchNormalization", "Activation", "Conv2D"] * 3 + ["Add"]
    # The shortcut is the input itself: negative inputs pass through the addition.
    x = -np.ones((1, 5, 5, 16), dtype="float32")
    assert np.asarray(block(x, training=False)).min() < 0


def test_preactivation_projection_reads_the_preactivated_input():
    keras.backend.clear_session()
    block = _block_model(
        variants.preactivation_convolutional_block, (9, 9, 8), 3, (4, 4, 16), 3, "a", s=2
    )
    assert tuple(block.output.shape) == (None, 5, 5, 16)
    shortcut = _conv_by_name(block, "branch1")
    first = _conv_by_name(block, "branch2a")
    assert shortcut.input is first.input  # both read relu(bn(X)), not X
    relus = [layer for layer in block.layers if isinstance(layer, layers.Activation)]
    assert shortcut.input is relus[0].output
    assert isinstance(block.layers[-1], layers.Add)
    assert not any(layer.name == "bn3a_branch1" for layer in block.layers)


def test_basic_block_projects_the_shortcut_only_when_the_shape_changes():
    keras.backend.clear_session()
    same = _block_model(variants.basic_block, (6, 6, 8), 3, (8, 8), 2, "b")
    assert tuple(same.output.shape) == (None, 6, 6, 8)
    assert not any(layer.name.endswith("branch1") for layer in same.layers)
    assert same.count_params() == 2 * (9 * 8 * 8 + 8) + 2 * 4 * 8
    strided = _block_model(variants.basic_block, (7, 7, 8), 3, (16, 16), 3, "a", s=2)
    assert tuple(strided.output.shape) == (None, 4, 4, 16)
    assert tuple(_conv_by_name(strided, "branch2a").strides) == (2, 2)
    assert tuple(_conv_by_name(strided, "branch1").strides) == (2, 2)
    wider = _block_model(variants.basic_block, (6, 6, 8), 3, (16, 16), 3, "a")
    assert tuple(wider.output.shape) == (None, 6, 6, 16)
    assert tuple(_conv_by_name(wider, "branch1").strides) == (1, 1)
