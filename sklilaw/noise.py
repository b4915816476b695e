"""Label-noise generators for experiments with noisy labels.

Each takes clean labels of any type and a ``random_state`` and returns
``(y_noisy, flipped)``: the noisy labels, of the same type, and a boolean mask of the
samples whose label changed.
"""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.multiclass import check_classification_targets


def _encode(y):
    y = column_or_1d(y)
    check_classification_targets(y)
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError("Label noise needs at least 2 classes in y.")
    return classes, encoded


def _check_rate(noise_rate):
    if not 0 <= noise_rate <= 1:
        raise ValueError(f"noise_rate must be in [0, 1], got {noise_rate}.")


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
    classes, encoded = _encode(y)
    _check_rate(noise_rate)
    rng = check_random_state(random_state)
    flipped = np.zeros(len(encoded), dtype=bool)
    flipped[rng.choice(len(encoded), size=round(noise_rate * len(encoded)), replace=False)] = True
    # an offset in 1..n_classes-1 moves every flipped label to a different class
    offset = rng.randint(1, len(classes), size=int(flipped.sum()))
    noisy = encoded.copy()
    noisy[flipped] = (encoded[flipped] + offset) % len(classes)
    return classes[noisy], flipped


def asymmetric_label_noise(y, noise_rate, *, mapping=None, random_state=None):
    """Flip a share of each class's labels to one fixed other class ("asymmetric" noise).

    The benchmarks call it class-pair noise (``asym-R`` in their tables): every class
    has one class its wrong labels go to. By default that is the next class, a cycle
    (0 to 1, 1 to 2, ..., the last to 0), not pairs of classes swapping labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    noise_rate : float in [0, 1]
        Share of each class's samples that flip (``round(noise_rate * n_class)``).
    mapping : dict, default=None
        ``{label: label it flips to}``; a class missing from it keeps its labels. By
        default every class flips to the next one in sorted order (the last to the
        first).
    random_state : int, RandomState instance or None, default=None
        Seeds which samples flip.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels after flipping.
    flipped : ndarray of bool, shape (n_samples,)
        Which samples were flipped.
    """
    classes, encoded = _encode(y)
    _check_rate(noise_rate)
    if mapping is None:
        target = (np.arange(len(classes)) + 1) % len(classes)
    else:
        unknown = (set(mapping) | set(mapping.values())) - set(classes.tolist())
        if unknown:
            raise ValueError(
                f"mapping names labels that are not in y: {sorted(map(str, unknown))}."
            )
        target = np.array([np.searchsorted(classes, mapping.get(c, c)) for c in classes])
    rng = check_random_state(random_state)
    noisy = encoded.copy()
    for c in np.flatnonzero(target != np.arange(len(classes))):
        members = np.flatnonzero(encoded == c)
        chosen = rng.choice(members, size=round(noise_rate * len(members)), replace=False)
        noisy[chosen] = target[c]
    return classes[noisy], noisy != encoded


def transition_matrix_noise(y, transition_matrix, *, random_state=None):
    """Draw each noisy label from its clean class's row of a transition matrix.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    transition_matrix : array-like of shape (n_classes, n_classes)
        ``T[i, j]`` is the probability that a sample of class ``i`` (classes in sorted
        order) is labelled ``j``; rows are non-negative and sum to 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The noisy labels.
    flipped : ndarray of bool, shape (n_samples,)
        Which samples were flipped.
    """
    classes, encoded = _encode(y)
    T = np.asarray(transition_matrix, dtype=float)
    if T.shape != (len(classes), len(classes)):
        raise ValueError(
            f"transition_matrix has shape {T.shape}, but y has {len(classes)} classes: "
            f"expected ({len(classes)}, {len(classes)})."
        )
    if not np.all(np.isfinite(T)) or (T < 0).any():
        raise ValueError("transition_matrix must hold finite, non-negative probabilities.")
    if not np.allclose(T.sum(axis=1), 1.0):
        raise ValueError(f"Each row of transition_matrix must sum to 1; sums: {T.sum(axis=1)}.")
    rng = check_random_state(random_state)
    cumulative = np.cumsum(T, axis=1)[encoded]
    draws = rng.uniform(size=(len(encoded), 1))
    noisy = np.minimum((draws > cumulative).sum(axis=1), len(classes) - 1)
    return classes[noisy], noisy != encoded


def instance_dependent_label_noise(X, y, noise_rate, *, estimator=None, random_state=None):
    """Flip the labels of the samples a model finds hardest, to the class it confuses them with.

    A model's out-of-fold probabilities (5-fold ``cross_val_predict``) give each sample
    ``p``, the probability of its clean label; ``round(noise_rate * n)`` samples are
    drawn without replacement with probability proportional to ``1 - p`` and relabelled
    as the most probable *other* class. Noise thus concentrates near class boundaries
    and follows the classes' confusions, as real annotation errors do.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features the flip probabilities depend on.
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    noise_rate : float in [0, 1]
        Share of samples flipped.
    estimator : classifier with ``predict_proba``, default=None
        The model whose confusion shapes the noise; default a logistic regression.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The noisy labels.
    flipped : ndarray of bool, shape (n_samples,)
        Which samples were flipped.
    """
    classes, encoded = _encode(y)
    _check_rate(noise_rate)
    estimator = LogisticRegression(max_iter=1000) if estimator is None else clone(estimator)
    proba = cross_val_predict(estimator, X, encoded, cv=5, method="predict_proba")
    rng = check_random_state(random_state)
    n_flips = round(noise_rate * len(encoded))
    hardness = 1 - proba[np.arange(len(encoded)), encoded] + 1e-12  # every sample can flip
    chosen = rng.choice(len(encoded), size=n_flips, replace=False, p=hardness / hardness.sum())
    others = proba.copy()
    others[np.arange(len(encoded)), encoded] = -np.inf
    noisy = encoded.copy()
    noisy[chosen] = others[chosen].argmax(axis=1)
    return classes[noisy], noisy != encoded


def group_label_noise(y, groups, noise_rate, *, group, from_label, to_label, random_state=None):
    """Flip a share of one group's labels of one class to another class, and no others.

    Biased labelling as it happens: one group's positives recorded as negatives more
    often than another's (e.g. ``group='Female', from_label='>50K', to_label='<=50K'``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Clean labels, of any type.
    groups : array-like of shape (n_samples,)
        Group membership of every sample.
    noise_rate : float in [0, 1]
        Share of the samples of ``group`` labelled ``from_label`` that are flipped
        (exactly ``round(noise_rate * m)`` of those ``m`` samples).
    group : object
        The group whose labels are flipped.
    from_label, to_label : object
        The labels (from ``y``) flipped from and to.
    random_state : int, RandomState instance or None, default=None
        Seeds which samples flip.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels after flipping, of the same type as ``y``.
    flipped : ndarray of bool, shape (n_samples,)
        Which samples were flipped.

    Examples
    --------
    >>> from sklilaw.noise import group_label_noise
    >>> y = [1, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    >>> groups = ["a"] * 5 + ["b"] * 5
    >>> y_noisy, flipped = group_label_noise(
    ...     y, groups, 0.5, group="a", from_label=1, to_label=0, random_state=0
    ... )
    >>> int(flipped.sum()), bool(flipped[5:].any())
    (2, False)
    """
    classes, encoded = _encode(y)
    _check_rate(noise_rate)
    groups = column_or_1d(groups)
    if len(groups) != len(encoded):
        raise ValueError(f"groups has {len(groups)} samples but y has {len(encoded)}.")
    for name, label in (("from_label", from_label), ("to_label", to_label)):
        if label not in classes:
            raise ValueError(f"{name}={label!r} is not a label of y ({classes.tolist()}).")
    if group not in set(groups.tolist()):
        raise ValueError(f"group={group!r} is not in groups.")
    source = np.flatnonzero((groups == group) & (classes[encoded] == from_label))
    rng = check_random_state(random_state)
    chosen = rng.choice(source, size=round(noise_rate * len(source)), replace=False)
    noisy = encoded.copy()
    noisy[chosen] = np.flatnonzero(classes == to_label)[0]
    return classes[noisy], noisy != encoded
