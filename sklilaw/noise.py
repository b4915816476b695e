"""Label-noise generators for experiments with noisy labels."""

import numpy as np
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets


def symmetric_label_noise(y, noise_rate, *, random_state=None):
    """Flip a share of the labels, each to a different class drawn uniformly.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    noise_rate : float in [0, 1]
        Share of samples whose label is flipped (exactly ``round(noise_rate * n)``).
    random_state : int, RandomState instance or None, default=None
        Seeds which samples flip and to which class.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels after flipping, of the same type as ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Which samples were flipped.

    Examples
    --------
    >>> from sklilaw.noise import symmetric_label_noise
    >>> y_noisy, flipped = symmetric_label_noise(["a", "b", "c"] * 10, 0.2, random_state=0)
    >>> int(flipped.sum())
    6
    """
    y = column_or_1d(y)
    check_classification_targets(y)
    if not 0 <= noise_rate <= 1:
        raise ValueError(f"noise_rate must be in [0, 1], got {noise_rate}.")
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("Symmetric label noise needs at least 2 classes in y.")
    rng = check_random_state(random_state)
    flipped = np.zeros(len(y), dtype=bool)
    flipped[rng.choice(len(y), size=round(noise_rate * len(y)), replace=False)] = True
    # an offset in 1..n_classes-1 moves every flipped label to a different class
    offset = rng.randint(1, len(classes), size=int(flipped.sum()))
    noisy = encoded.copy()
    noisy[flipped] = (encoded[flipped] + offset) % len(classes)
    return classes[noisy], flipped
