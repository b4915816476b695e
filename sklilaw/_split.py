"""The internal validation split: class (x group) strata and a stratified split."""

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def strata(y, groups, rows=None):
    """Stratification codes: class x group, where a cell with one sample joins its class.

    ``y`` holds class indices, ``groups`` the sensitive features of the same rows (a
    DataFrame, as :func:`~sklilaw._validation.sensitive_groups` gives them). Such
    left-over samples of a class form one stratum, or, if they are a single sample, join
    the class's largest cell. With ``rows`` (positions), the codes of those rows only.
    """
    if rows is not None:
        y, groups = y[rows], groups.iloc[rows]
    group_codes, _ = pd.factorize(pd.MultiIndex.from_frame(groups), use_na_sentinel=False)
    _, cells, sizes = np.unique(
        np.c_[y, group_codes], axis=0, return_inverse=True, return_counts=True
    )
    codes = np.where(sizes[cells] >= 2, cells, -1 - y)  # negative: a class's left-overs
    for label in np.unique(y[codes < 0]):
        rest = codes == -1 - label
        in_class = (y == label) & ~rest
        if rest.sum() == 1 and in_class.any():  # else the class is too small: fit says so
            codes[rest] = np.bincount(codes[in_class]).argmax()
    return codes


def stratified_split(y, codes, *, classes, validation_fraction, seed, kind=""):
    """Train and validation indices, stratified by ``codes``, with clear errors.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class indices.
    codes : ndarray of shape (n_samples,)
        Strata: ``y`` itself, or the codes of :func:`strata`.
    classes : ndarray
        The labels behind the class indices, for the error messages.
    validation_fraction : float
        Share of the rows held out.
    seed : int
        Seeds the split.
    kind : str, default=''
        What the rows are, for the error messages (``'real '``: the real rows of a fit
        with synthetic rows).
    """
    n_samples = len(y)
    counts = np.bincount(y, minlength=len(classes))
    present = counts > 0
    fix = "Provide more samples, raise validation_fraction, or pass X_val and y_val."
    if (counts[present] < 2).any():
        smallest = classes[present][np.argmin(counts[present])]
        raise ValueError(
            f"Class {smallest} has only 1 {kind}sample, too few for the stratified "
            "validation split: every class needs at least 2 samples (one for training, "
            f"one for validation). {fix}"
        )
    n_val = math.ceil(validation_fraction * n_samples)
    n_strata = len(np.unique(codes))
    if n_val < n_strata or n_samples - n_val < n_strata:
        what = "class" if codes is y else "class x group cell"
        raise ValueError(
            f"validation_fraction={validation_fraction} splits {n_samples} {kind}samples "
            f"into {n_samples - n_val} for training and {n_val} for validation, but the "
            f"stratified split needs at least {n_strata} (one per {what}) in each. {fix}"
        )
    return train_test_split(
        np.arange(n_samples), test_size=n_val, stratify=codes, random_state=seed
    )
