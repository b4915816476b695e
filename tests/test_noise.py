"""Label-noise generators."""

import numpy as np
import pytest
from sklearn.datasets import load_iris

from sklilaw.noise import (
    asymmetric_label_noise,
    group_label_noise,
    instance_dependent_label_noise,
    symmetric_label_noise,
    transition_matrix_noise,
)

LABELS = np.repeat(["cat", "dog", "emu", "fox"], 250)


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.6, 1.0])
def test_symmetric_noise_flips_the_requested_share_to_other_classes(rate):
    y_noisy, flipped = symmetric_label_noise(LABELS, rate, random_state=0)
    assert flipped.sum() == round(rate * 1000)
    np.testing.assert_array_equal(y_noisy != LABELS, flipped)
    assert y_noisy.dtype == LABELS.dtype
    if rate == 1.0:  # every other class is reached, about equally often
        _, counts = np.unique(y_noisy[LABELS == "cat"], return_counts=True)
        assert len(counts) == 3 and counts.min() > 60


@pytest.mark.parametrize(
    "make_noise",
    [
        lambda y, seed: symmetric_label_noise(y, 0.3, random_state=seed),
        lambda y, seed: asymmetric_label_noise(y, 0.3, random_state=seed),
        lambda y, seed: transition_matrix_noise(y, np.full((5, 5), 0.2), random_state=seed),
    ],
    ids=["symmetric", "asymmetric", "transition"],
)
def test_noise_is_reproducible(make_noise):
    y = np.arange(100) % 5
    first, second = make_noise(y, 1), make_noise(y, 1)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], make_noise(y, 2)[0])


def test_asymmetric_noise_flips_each_class_to_its_pair():
    y_noisy, flipped = asymmetric_label_noise(LABELS, 0.4, random_state=0)
    for label, pair in [("cat", "dog"), ("dog", "emu"), ("emu", "fox"), ("fox", "cat")]:
        changed = y_noisy[(LABELS == label) & flipped]
        assert len(changed) == 100 and set(changed) == {pair}
    y_noisy, flipped = asymmetric_label_noise(LABELS, 0.5, mapping={"cat": "fox"}, random_state=0)
    assert set(LABELS[flipped]) == {"cat"} and set(y_noisy[flipped]) == {"fox"}
    assert flipped.sum() == 125


def test_asymmetric_noise_rejects_unknown_labels_in_the_mapping():
    with pytest.raises(ValueError, match="not in y"):
        asymmetric_label_noise(LABELS, 0.5, mapping={"cat": "gnu"})


def test_transition_matrix_noise_follows_the_matrix():
    T = np.array([[0.7, 0.3, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8]])
    y = np.repeat([10, 20, 30], 4000)
    y_noisy, flipped = transition_matrix_noise(y, T, random_state=0)
    np.testing.assert_array_equal(y_noisy != y, flipped)
    for i, label in enumerate([10, 20, 30]):
        observed = [np.mean(y_noisy[y == label] == other) for other in (10, 20, 30)]
        np.testing.assert_allclose(observed, T[i], atol=0.02)


@pytest.mark.parametrize(
    "matrix, message",
    [
        (np.eye(2), r"expected \(3, 3\)"),
        (np.array([[0.5, 0.5, 0.1], [0, 1, 0], [0, 0, 1]]), "sum to 1"),
        (np.array([[1.5, -0.5, 0], [0, 1, 0], [0, 0, 1]]), "non-negative"),
    ],
)
def test_transition_matrix_is_validated(matrix, message):
    with pytest.raises(ValueError, match=message):
        transition_matrix_noise([0, 1, 2], matrix)


def test_instance_dependent_noise_hits_hard_samples_and_confused_classes():
    X, y = load_iris(return_X_y=True)
    y_noisy, flipped = instance_dependent_label_noise(X, y, 0.2, random_state=0)
    assert flipped.sum() == 30
    # setosa (0) is linearly separable: versicolor and virginica absorb the noise
    assert np.sum(flipped & (y == 0)) < np.sum(flipped & (y > 0)) / 4
    assert np.mean(y_noisy[flipped & (y == 1)] == 2) > 0.8  # the classes it confuses
    assert np.mean(y_noisy[flipped & (y == 2)] == 1) > 0.8


@pytest.mark.parametrize("rate", [1.5, -0.1])
def test_bad_rates_are_rejected(rate):
    with pytest.raises(ValueError, match="noise_rate"):
        symmetric_label_noise([0, 1, 0, 1], rate)
    with pytest.raises(ValueError, match="noise_rate"):
        asymmetric_label_noise([0, 1, 0, 1], rate)


def test_noise_needs_two_classes():
    with pytest.raises(ValueError, match="2 classes"):
        symmetric_label_noise([1, 1, 1], 0.5)


def test_group_noise_flips_only_the_chosen_group_and_class():
    rng = np.random.RandomState(0)
    y = rng.choice(["<=50K", ">50K"], 400)
    groups = rng.choice(["Female", "Male"], 400)
    y_noisy, flipped = group_label_noise(
        y, groups, 0.4, group="Female", from_label=">50K", to_label="<=50K", random_state=0
    )
    source = (groups == "Female") & (y == ">50K")
    assert flipped.sum() == round(0.4 * source.sum())
    assert not flipped[~source].any()
    assert (y_noisy[flipped] == "<=50K").all()
    np.testing.assert_array_equal(y_noisy[~flipped], y[~flipped])
    again, _ = group_label_noise(
        y, groups, 0.4, group="Female", from_label=">50K", to_label="<=50K", random_state=0
    )
    np.testing.assert_array_equal(again, y_noisy)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(group="Other", from_label=1, to_label=0), "group='Other' is not in groups"),
        (dict(group="a", from_label=2, to_label=0), "from_label=2 is not a label of y"),
    ],
)
def test_group_noise_names_what_is_wrong(params, message):
    with pytest.raises(ValueError, match=message):
        group_label_noise([0, 1, 1, 0], ["a", "a", "b", "b"], 0.5, **params)
