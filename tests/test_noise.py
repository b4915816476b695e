"""Label-noise generators."""

import numpy as np
import pytest

from sklilaw.noise import symmetric_label_noise


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.6, 1.0])
def test_symmetric_noise_flips_the_requested_share_to_other_classes(rate):
    y = np.repeat(["cat", "dog", "emu", "fox"], 250)
    y_noisy, flipped = symmetric_label_noise(y, rate, random_state=0)
    assert flipped.sum() == round(rate * 1000)
    np.testing.assert_array_equal(y_noisy != y, flipped)
    assert y_noisy.dtype == y.dtype
    if rate == 1.0:  # every other class is reached, about equally often
        _, counts = np.unique(y_noisy[y == "cat"], return_counts=True)
        assert len(counts) == 3 and counts.min() > 60


def test_symmetric_noise_is_reproducible():
    y = np.arange(100) % 5
    first = symmetric_label_noise(y, 0.3, random_state=1)
    second = symmetric_label_noise(y, 0.3, random_state=1)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], symmetric_label_noise(y, 0.3, random_state=2)[0])


@pytest.mark.parametrize("rate, message", [(1.5, "noise_rate"), (-0.1, "noise_rate")])
def test_symmetric_noise_rejects_bad_rates(rate, message):
    with pytest.raises(ValueError, match=message):
        symmetric_label_noise([0, 1, 0, 1], rate)


def test_symmetric_noise_needs_two_classes():
    with pytest.raises(ValueError, match="2 classes"):
        symmetric_label_noise([1, 1, 1], 0.5)
