"""``synthetic_data.py``'s generators of synthetic rows, from well-kept libraries.

Each takes the real training rows and returns as many synthetic rows of each class as
there are real ones (so half of every training set is synthetic), seeded by ``seed``.
"""

import numpy as np
from imblearn.over_sampling import SMOTE
from sklearn.mixture import GaussianMixture

MAX_COMPONENTS = 3
# the degraded mixture: deviations from the component means scaled by this, and this
# share of each class's synthetic rows drawn from another class's mixture
SPREAD = 2.0
OFF_CLASS = 0.3


def smote(X, y, seed):
    """imbalanced-learn's SMOTE, asked to double every class; its new rows only."""
    labels, counts = np.unique(y, return_counts=True)
    sampler = SMOTE(
        sampling_strategy=dict(zip(labels.tolist(), (2 * counts).tolist(), strict=True)),
        k_neighbors=int(min(5, counts.min() - 1)),
        random_state=seed,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    return X_res[len(y) :], y_res[len(y) :]


def _mixtures(X, y, seed):
    """One diagonal Gaussian mixture per class (up to 3 components, fewer for tiny classes).

    They sample from one shared random stream, so that successive draws differ.
    """
    stream = np.random.RandomState(seed)
    mixtures = {}
    for label in np.unique(y):
        rows = X[y == label]
        mixture = GaussianMixture(
            n_components=int(min(MAX_COMPONENTS, len(rows) // 2 or 1)),
            covariance_type="diag",
            reg_covar=1e-3,
            random_state=seed,
        ).fit(rows)
        mixture.random_state = stream
        mixtures[label] = mixture
    return mixtures


def _draw(mixture, n, spread):
    if n == 0:
        return np.empty((0, mixture.means_.shape[1]))
    rows, components = mixture.sample(n)
    means = mixture.means_[components]
    return means + spread * (rows - means)


def gaussian_mixture(X, y, seed):
    """scikit-learn's ``GaussianMixture``, fitted per class, sampled per class."""
    mixtures = _mixtures(X, y, seed)
    parts = [(_draw(mixtures[label], (y == label).sum(), 1.0), label) for label in mixtures]
    return _stack(parts, X.dtype)


def degraded_gaussian_mixture(X, y, seed):
    """The per-class mixtures, spread twice as wide, 30% of each class drawn off-class.

    The off-class rows carry the class's label: they are wrong labels, made by the
    generator.
    """
    mixtures = _mixtures(X, y, seed)
    rng = np.random.RandomState(seed + 1)
    labels = list(mixtures)
    parts = []
    for label in labels:
        n = int((y == label).sum())
        n_off = int(round(OFF_CLASS * n))
        parts.append((_draw(mixtures[label], n - n_off, SPREAD), label))
        others = rng.choice([other for other in labels if other != label], size=n_off)
        for other, count in zip(*np.unique(others, return_counts=True), strict=True):
            parts.append((_draw(mixtures[other], int(count), SPREAD), label))
    return _stack(parts, X.dtype)


def _stack(parts, dtype):
    X = np.concatenate([rows for rows, _ in parts]).astype(dtype)
    y = np.concatenate([np.full(len(rows), label) for rows, label in parts])
    return X, y


GENERATORS = {
    "SMOTE": smote,
    "Gaussian mixture": gaussian_mixture,
    "degraded mixture": degraded_gaussian_mixture,
}
