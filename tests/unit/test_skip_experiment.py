"""The skip-connection experiment: shapes, shared weights, gradients at initialisation, the
collapse of the deep plain network's representations, and repeatability.

The experiment's findings on the full networks (the residual network's first-layer gradients over
10 seeds, the deep plain network training worse than the shallow and the residual one over 15
epochs) are checked where the course shows them: chapter 08 prints them, and ``pytest --nbval``
compares those lines with the stored ones. These tests check the machinery on small networks, so
that the full experiment runs once per test run, not twice.
"""

import keras
import numpy as np
import pytest

from course_utils import skip_experiment as skip


@pytest.fixture(scope="module")
def data():
    """The course's training set as standardised 8 x 8 thumbnails."""
    return skip.load_features()


def test_thumbnails_are_greyscale_averages_of_the_scaled_pixels():
    X = np.zeros((2, 64, 64, 3), dtype=np.uint8)
    X[0, :8, :8] = 255  # the top-left square of the first image is white
    X[1, :, :, 0] = 51  # the second image has only a little red
    small = skip.thumbnails(X)
    assert small.shape == (2, 64)
    assert small.dtype == np.float32
    assert small[0, 0] == pytest.approx(1.0)
    assert np.all(small[0, 1:] == 0)
    np.testing.assert_allclose(small[1], 51 / 255 / 3, rtol=1e-6)
    assert skip.thumbnails(X, size=16).shape == (2, 256)
    with pytest.raises(ValueError, match="divisible"):
        skip.thumbnails(X, size=10)
    with pytest.raises(ValueError, match="must be uint8"):
        skip.thumbnails(X / 255.0)  # already scaled


def test_features_are_the_standardised_training_set(data):
    x, y = data
    assert x.shape == (1080, skip.THUMBNAIL**2) and x.dtype == np.float32
    assert y.shape == (1080,) and y.dtype == np.int32
    assert set(np.unique(y)) == set(range(skip.N_CLASSES))
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)


def test_networks_share_their_weights_and_differ_only_by_the_shortcuts():
    keras.backend.clear_session()
    plain = skip.build_network(6, residual=False, n_inputs=10, width=4, seed=3)
    residual = skip.build_network(6, residual=True, n_inputs=10, width=4, seed=3)
    shallow = skip.build_network(2, residual=False, n_inputs=10, width=4, seed=3)
    assert plain.count_params() == residual.count_params()
    assert [k.shape for k in skip.hidden_kernels(plain)] == [(4, 4)] * 6
    assert [layer.name for layer in residual.layers if "shortcut" in layer.name] == [
        "shortcut_1",
        "shortcut_2",
        "shortcut_3",
    ]
    assert not any("shortcut" in layer.name for layer in plain.layers)
    p, r, s = ([np.asarray(k) for k in skip.hidden_kernels(m)] for m in (plain, residual, shallow))
    for i in range(6):
        # The second layer of each residual block starts at 1/sqrt(blocks) of the plain weights.
        scale = 1 / np.sqrt(3) if i % 2 else 1.0
        np.testing.assert_allclose(r[i], scale * p[i], rtol=1e-5, atol=1e-7)
    for i in range(2):
        np.testing.assert_array_equal(s[i], p[i])
    for name in ("stem", "logits"):
        np.testing.assert_array_equal(
            plain.get_layer(name).kernel.numpy(), residual.get_layer(name).kernel.numpy()
        )
    out = plain(np.zeros((5, 10), dtype="float32"))
    assert tuple(out.shape) == (5, skip.N_CLASSES)


@pytest.mark.parametrize("residual", [False, True])
def test_reinitialized_networks_have_the_weights_of_a_new_build(residual):
    keras.backend.clear_session()
    built = skip.build_network(6, residual, n_inputs=10, width=4, seed=5)
    trained = skip.build_network(6, residual, n_inputs=10, width=4, seed=0)
    for variable in trained.weights:  # as if trained: nothing of seed 0 is left
        variable.assign(np.ones(variable.shape, dtype="float32"))
    again = skip.reinitialize(trained, 5)
    assert again is trained
    for ours, theirs in zip(again.weights, built.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("depth", [0, 3, -2])
def test_depth_must_be_a_positive_even_number(depth):
    with pytest.raises(ValueError, match="even"):
        skip.build_network(depth, residual=True)


def test_gradient_norms_has_one_positive_entry_per_hidden_layer_first_layer_first(data):
    x, y = data
    keras.backend.clear_session()
    model = skip.build_network(skip.DEEP, residual=True)
    norms = skip.gradient_norms(model, x, y)
    assert norms.shape == (skip.DEEP,)
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)
    # The first layer of each block is reached through the second layer's small weights.
    assert np.all(norms[0::2] < norms[1::2])


def test_gradient_norms_over_seeds_give_each_network_one_row_per_seed(data):
    x, y = data
    norms = skip.gradient_norms_over_seeds(x[:64], y[:64], depth=6, seeds=[0, 1, 0])
    assert norms["plain"].shape == norms["residual"].shape == (3, 6)
    for rows in norms.values():
        assert np.all(np.isfinite(rows)) and np.all(rows > 0)
        np.testing.assert_allclose(rows[0], rows[2], rtol=1e-6)  # the same seed, the same weights
        assert not np.allclose(rows[0], rows[1])


def test_the_deep_plain_network_collapses_its_inputs_to_one_direction(data):
    x, _ = data
    keras.backend.clear_session()
    similarity = {
        name: skip.representation_similarity(skip.build_network(depth, residual), x[:200])
        for name, (depth, residual) in skip.NETWORKS.items()
    }
    assert similarity["plain"] > 0.99
    assert similarity["residual"] < 0.95
    assert similarity["shallow"] < 0.95


def test_the_experiment_trains_every_network_and_reports_its_measurements(data):
    x, y = data
    networks = {"short": (2, False), "deeper": (4, True)}
    results = skip.run_experiment(x[:128], y[:128], networks=networks, epochs=2, batch_size=64)
    assert list(results) == ["short", "deeper"]
    for name, result in results.items():
        depth, residual = networks[name]
        assert (result["depth"], result["residual"]) == (depth, residual)
        assert result["grad_norms"].shape == (depth,) and np.all(result["grad_norms"] > 0)
        assert result["loss"].shape == result["accuracy"].shape == (3,)
        assert result["loss"][-1] < result["loss"][0]
        assert 0 <= result["similarity"] <= 1 and result["seconds"] > 0


def test_training_is_repeatable_with_the_same_seed_and_differs_with_another(data):
    x, y = data
    x, y = x[:128], y[:128]

    def run(seed):
        keras.backend.clear_session()
        model = skip.build_network(4, residual=True, seed=seed)
        return skip.train_network(model, x, y, epochs=2, seed=seed)

    first, again, other = run(0), run(0), run(1)
    assert first["loss"].shape == (3,)
    np.testing.assert_allclose(first["loss"], again["loss"], rtol=1e-6)
    np.testing.assert_allclose(first["accuracy"], again["accuracy"])
    assert not np.allclose(first["loss"], other["loss"])
