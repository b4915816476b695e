"""Oversampling in front of LiLAW: synthetic rows that train, real rows that validate."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._classifier import LiLAWClassifier


class OversampledClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Oversample the training rows with a sampler; validate on real rows only.

    ``fit`` holds out a stratified ``validation_fraction`` of the real rows first, then
    lets ``sampler`` (e.g. imbalanced-learn's ``SMOTE``) add synthetic rows to the rest,
    and fits ``estimator`` on them with ``synthetic=`` marking the new rows and the
    held-out real rows as ``X_val, y_val``: the meta steps and early stopping see real
    rows only, and no synthetic row is made from a validation row (SMOTE interpolates
    between neighbours, so oversampling before the split would leak the validation rows
    into training).

    Parameters
    ----------
    sampler : object
        Has ``fit_resample(X, y)`` returning the original rows first, in order, then
        the new ones, as imbalanced-learn's over-samplers (``SMOTE``,
        ``RandomOverSampler``, ``ADASYN``...) do; checked in ``fit``. It is cloned.
    estimator : classifier, default=None
        Takes ``fit(X, y, synthetic=..., X_val=..., y_val=...)``; cloned. None:
        ``LiLAWClassifier()``.
    validation_fraction : float, default=0.15
        Share of the real rows held out for validation.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split (the sampler and the estimator have their own).

    Attributes
    ----------
    estimator_ : classifier
        The fitted ``estimator`` (its ``label_issues_`` and history show the weights
        of the real and the synthetic rows).
    synthetic_ : ndarray of bool
        For each row ``estimator_`` trained on, whether the sampler made it.
    classes_ : ndarray
        The class labels.

    Examples
    --------
    >>> from imblearn.over_sampling import SMOTE
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklilaw import LiLAWClassifier, OversampledClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = (X - X.mean(0)) / X.std(0)
    >>> clf = OversampledClassifier(
    ...     SMOTE(random_state=0), LiLAWClassifier(max_epochs=5, random_state=0),
    ...     random_state=0,
    ... ).fit(X, y)
    >>> int(clf.synthetic_.sum())  # the minority class, oversampled to the majority's
    123
    """

    _parameter_constraints = {
        "sampler": [HasMethods(["fit_resample"])],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, sampler, estimator=None, *, validation_fraction=0.15, random_state=None):
        self.sampler = sampler
        self.estimator = estimator
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Split off real validation rows, oversample the rest, fit the estimator.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The real rows.
        y : array-like of shape (n_samples,)
            Their labels.

        Returns
        -------
        self : OversampledClassifier
            The fitted estimator.
        """
        rows = np.arange(_num_samples(X))
        train, val = train_test_split(
            rows,
            test_size=self.validation_fraction,
            stratify=y,
            random_state=self.random_state,
        )
        X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
        X_res, y_res = clone(self.sampler).fit_resample(X_train, y_train)
        _check_originals_first(self.sampler, X_train, y_train, X_res, y_res)
        synthetic = np.arange(_num_samples(X_res)) >= len(train)
        estimator = LiLAWClassifier() if self.estimator is None else clone(self.estimator)
        estimator.fit(
            X_res,
            y_res,
            synthetic=synthetic,
            X_val=_safe_indexing(X, val),
            y_val=_safe_indexing(y, val),
        )
        self.estimator_, self.synthetic_ = estimator, synthetic
        return self

    @property
    def classes_(self):
        """The class labels, those of ``estimator_``."""
        check_is_fitted(self)
        return self.estimator_.classes_

    def predict(self, X):
        """The fitted estimator's predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """The fitted estimator's class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)


def _check_originals_first(sampler, X, y, X_res, y_res):
    """Raise unless the resampled rows begin with the original rows, unchanged."""
    n = _num_samples(X)
    kept = _num_samples(X_res) >= n and np.array_equal(
        np.asarray(_safe_indexing(y_res, np.arange(n))), np.asarray(y)
    )
    if kept:
        originals = _safe_indexing(X_res, np.arange(n))
        kept = np.array_equal(np.asarray(originals), np.asarray(X))
    if not kept:
        raise ValueError(
            f"{type(sampler).__name__}.fit_resample must return the original rows first, "
            "unchanged and in order, then the new ones (as imbalanced-learn's "
            "over-samplers do): only then are the synthetic rows known. Under-samplers "
            "and cleaning samplers drop or reorder rows."
        )
