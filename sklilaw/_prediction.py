"""What a fitted LiLAWClassifier answers: its classes, its meta parameters, predictions and
every sample's difficulty."""

import pandas as pd
import torch
from sklearn.utils import column_or_1d
from sklearn.utils.validation import check_is_fitted, validate_data

from ._label_issues import difficulty_frame
from ._streaming import input_shape
from ._validation import INPUT, check_dataset_input, check_labels, dense, encode
from ._weighting import class_probabilities


class LiLAWPrediction:
    """The fitted attributes and prediction methods of :class:`~sklilaw.LiLAWClassifier`,
    mixed in before skorch's ``NeuralNetClassifier``.

    The estimator provides ``criterion_`` and ``forward``; :meth:`fit` sets ``_classes``.
    """

    @property
    def classes_(self):
        """Class labels, in the order of the module's output columns."""
        if "_classes" not in vars(self):
            raise AttributeError(f"{type(self).__name__} is not fitted yet: no classes_.")
        return self._classes

    @property
    def alpha_(self):
        """The learned ``alpha`` (weight of easy samples)."""
        check_is_fitted(self)
        return self.criterion_.alpha

    @property
    def beta_(self):
        """The learned ``beta`` (weight of hard samples)."""
        check_is_fitted(self)
        return self.criterion_.beta

    @property
    def delta_(self):
        """The learned ``delta`` (weight of moderate samples)."""
        check_is_fitted(self)
        return self.criterion_.delta

    def _logits(self, X):
        check_is_fitted(self)
        if isinstance(X, torch.utils.data.Dataset):
            check_dataset_input(self, input_shape(X), reset=False)
            return self.forward(X)
        X = dense(validate_data(self, X, reset=False, **INPUT))
        return self.forward(X)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the module's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch.utils.data.Dataset
            Input data; a ``Dataset`` (items ``(x, y)`` or ``x``) is read in batches.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return torch.softmax(self._logits(X).double(), dim=1).numpy()

    def predict(self, X):
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or torch.utils.data.Dataset
            Input data; a ``Dataset`` (items ``(x, y)`` or ``x``) is read in batches.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        indices = self._logits(X).argmax(dim=1).numpy()
        return self.classes_[indices]

    def difficulty(self, X, y):
        """Per-sample LiLAW weights and difficulty under the fitted model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,)
            Observed labels (from ``classes_``).

        Returns
        -------
        pandas.DataFrame
            One row per sample (indexed like ``X`` when it is a DataFrame) with
            ``label_quality`` (probability of the observed label, ``a``), ``p_max``
            (largest probability, ``m``), ``w_easy``, ``w_moderate``, ``w_hard``
            (``W_alpha``, ``W_delta``, ``W_beta``), ``lilaw_weight`` (their sum) and
            ``difficulty`` (``'easy'``, ``'moderate'`` or ``'hard'``: the component
            that dominates the weight): the names of ``label_issues_``.
        """
        logits = self._logits(X)
        y = column_or_1d(y)
        if len(y) != len(logits):
            raise ValueError(f"X has {len(logits)} samples but y has {len(y)}.")
        check_labels(y, "y")
        target = encode(y, self.classes_, "y")
        probabilities = class_probabilities(logits.double()).numpy()
        frame = difficulty_frame(probabilities, target, self.criterion_.meta_params)
        if isinstance(X, pd.DataFrame):
            frame.index = X.index
        return frame
