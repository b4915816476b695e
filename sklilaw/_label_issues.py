"""Label issues from training dynamics: running per-sample statistics, their verdict, the
``label_issues_`` table and its schema, the rows a pruning refit keeps, and per-sample
difficulty."""

import numpy as np
import pandas as pd
import torch

from ._weighting import CATEGORIES, lilaw_weights

# pruning keeps at least this many rows of each class (its best flagged ones if need be)
MIN_KEPT_PER_CLASS = 5

# the columns of label_issues_ and what each holds: "flag" (bool), "number" (float),
# "label" (a label from classes_), "difficulty" (a category of CATEGORIES); "synthetic"
# only after a fit with a synthetic mask. Fitting and persistence both follow it.
LABEL_ISSUE_COLUMNS = {
    "is_label_issue": "flag",
    "label_quality": "number",
    "given_label": "label",
    "predicted_label": "label",
    "difficulty": "difficulty",
    "lilaw_weight": "number",
    "in_validation": "flag",
    "synthetic": "flag",
}


class SampleStatistics:
    """Per-sample running sums of class probabilities over the epochs of one training.

    Memory is one float32 array of ``n_samples * n_classes`` on the device; no per-epoch
    history, and the verdict at the end of training works on it in place and in chunks
    (no other array of that size). As each row of probabilities sums to 1, a row's sum
    also counts its updates. With a
    ``synthetic`` mask, it also sums the LiLAW weights of the real and of the
    synthetic rows over the current epoch, on the device (no synchronisation per batch).

    Parameters
    ----------
    n_samples, n_classes : int
        Size of the training set and number of classes.
    device : str or torch.device
        Where the sums live (the device of the training batches).
    synthetic : ndarray of bool, shape (n_samples,), default=None
        True for the synthetic training rows.
    """

    def __init__(self, n_samples, n_classes, device, synthetic=None):
        self.probability_sum = torch.zeros(n_samples, n_classes, device=device, dtype=torch.float32)
        self.origin = None if synthetic is None else torch.as_tensor(synthetic, device=device)
        # by origin (real, synthetic): the epoch's sum of weights and count of rows
        self.origin_sums = torch.zeros(2, 2, device=device, dtype=torch.float32)

    @torch.no_grad()
    def update(self, index, probabilities):
        """Add one training batch: its rows and the module's class probabilities."""
        self.probability_sum.index_add_(0, index, probabilities.float())

    @torch.no_grad()
    def update_weights(self, index, weights):
        """Add one training batch's LiLAW weights (None: unit weights) by origin."""
        if self.origin is None:
            return
        origin = self.origin[index].long()
        weights = torch.ones(len(index), device=index.device) if weights is None else weights
        weight_and_count = torch.stack([weights.float(), torch.ones_like(weights.float())], 1)
        self.origin_sums.index_add_(0, origin, weight_and_count)

    def pop_origin_means(self):
        """The epoch's mean weight of the real and of the synthetic rows; starts a new epoch.

        Returns
        -------
        dict or None
            ``{'mean_weight_real': ..., 'mean_weight_synthetic': ...}`` (NaN for an
            origin without rows), None without a ``synthetic`` mask.
        """
        if self.origin is None:
            return None
        (real_sum, n_real), (synthetic_sum, n_synthetic) = self.origin_sums.tolist()
        self.origin_sums.zero_()
        return {
            "mean_weight_real": real_sum / n_real if n_real else float("nan"),
            "mean_weight_synthetic": synthetic_sum / n_synthetic if n_synthetic else float("nan"),
        }

    @torch.no_grad()
    def mean_probabilities(self):
        """Mean class probabilities, float32 of shape (n, k), NaN for rows never trained
        on: the sums divided in place (the statistics are spent)."""
        sums = self.probability_sum
        sums /= sums.sum(dim=1, keepdim=True)
        return sums.cpu().numpy()


def weight_components(p_label, p_max, meta_params):
    """LiLAW's (easy, moderate, hard) weights, shape (3, n), of ``a`` and ``m``."""
    p_label, p_max = (torch.as_tensor(p, dtype=torch.float64) for p in (p_label, p_max))
    meta_params = meta_params.detach().to("cpu", torch.float64)
    return torch.stack(lilaw_weights(p_label, p_max, meta_params)).numpy()


# probabilities flagged at a time (rows x classes): the temporary arrays stay this small
_CHUNK_SIZE = 1 << 22


def confident_learning_issues(probabilities, labels):
    """Flag the samples off the diagonal of the confident joint (Northcutt et al., 2021).

    Class ``j``'s threshold is the mean probability of ``j`` among samples labelled
    ``j``. A sample is flagged when, among the classes whose probability reaches their
    threshold, the most probable one is not its given label.

    Parameters
    ----------
    probabilities : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities (rows of NaN are never flagged).
    labels : ndarray of shape (n_samples,)
        Given labels as class indices.

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    n_samples, n_classes = probabilities.shape
    p_label = probabilities[np.arange(n_samples), labels].astype(np.float64)
    seen = ~np.isnan(p_label)
    counts = np.bincount(labels[seen], minlength=n_classes)
    sums = np.bincount(labels[seen], weights=p_label[seen], minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        thresholds = np.where(counts > 0, sums / counts, np.inf)
    flags = np.zeros(n_samples, dtype=bool)
    rows = max(1, _CHUNK_SIZE // n_classes)
    for start in range(0, n_samples, rows):
        block = probabilities[start : start + rows]
        confident = block >= thresholds
        best = np.where(confident, block, -np.inf).argmax(axis=1)
        flags[start : start + rows] = confident.any(axis=1) & (best != labels[start : start + rows])
    return seen & flags


def label_issue_frame(probabilities, labels, classes, meta_params, *, in_validation):
    """The ``label_issues_`` table for one source of probabilities.

    Parameters
    ----------
    probabilities : ndarray of shape (n_samples, n_classes)
        Class probabilities of the samples (rows of NaN: never seen, never flagged).
    labels : ndarray of shape (n_samples,)
        Given labels as class indices.
    classes : ndarray of shape (n_classes,)
        The labels behind the class indices.
    meta_params : torch.Tensor of shape (3,)
        ``(alpha, beta, delta)`` that weigh the probabilities.
    in_validation : bool
        Whether the samples are validation rows.

    Returns
    -------
    pandas.DataFrame
        ``is_label_issue``, ``label_quality`` (probability of the given label),
        ``given_label``, ``predicted_label``, ``difficulty`` (the dominant weight
        component), ``lilaw_weight`` (their sum) and ``in_validation``.
    """
    p_label = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    p_max = probabilities.max(axis=1).astype(np.float64)  # NaN for rows never seen
    seen = ~np.isnan(p_label)
    weights = weight_components(p_label, p_max, meta_params)
    # argmax over a row of NaN is 0: those rows take their given label, and no difficulty
    predicted = np.where(seen, probabilities.argmax(axis=1), labels)
    difficulty = np.where(seen, weights.argmax(axis=0), -1)
    return pd.DataFrame(
        {
            "is_label_issue": confident_learning_issues(probabilities, labels),
            "label_quality": p_label,
            "given_label": classes[labels],
            "predicted_label": classes[predicted],
            "difficulty": pd.Categorical.from_codes(difficulty, categories=CATEGORIES),
            "lilaw_weight": weights.sum(axis=0),
            "in_validation": np.full(len(labels), in_validation),
        }
    )


def rows_to_keep(issues, min_per_class):
    """Indices of the rows that pruning keeps: the unflagged ones, and enough per class.

    A class left with fewer than ``min_per_class`` unflagged rows keeps its flagged rows
    of highest ``label_quality`` up to that many (all of its rows if it has fewer), so
    that pruning never empties a class or leaves it too small to split for validation.
    """
    flagged = issues["is_label_issue"].to_numpy(dtype=bool)
    keep = ~flagged
    quality = issues["label_quality"].to_numpy(dtype=np.float64)
    for rows in issues.groupby("given_label", sort=False, observed=True).indices.values():
        missing = min_per_class - keep[rows].sum()
        if missing > 0:
            candidates = rows[flagged[rows]]
            best = candidates[np.argsort(-quality[candidates], kind="stable")[:missing]]
            keep[best] = True
    return np.flatnonzero(keep)


def label_issues_of_fit(classes, meta_params, statistics, data, valid_probabilities, index):
    """``label_issues_`` of a training: training rows judged by their mean probabilities
    over the epochs, validation rows by the fitted model's out-of-sample probabilities.

    Parameters
    ----------
    classes : ndarray
        The labels behind the class indices.
    meta_params : torch.Tensor of shape (3,)
        The fitted ``(alpha, beta, delta)``.
    statistics : SampleStatistics
        The training rows' statistics of the training.
    data : TrainingData
        The training's datasets.
    valid_probabilities : ndarray of shape (n_valid, n_classes)
        The fitted model's class probabilities of the validation rows carved from ``X``.
    index : pandas.Index or None
        The index of ``X`` when it was a DataFrame.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`LABEL_ISSUE_COLUMNS`, one row per row of ``X`` trained or
        validated on, in the order of ``X``.
    """
    probabilities = statistics.mean_probabilities()
    parts = [label_issue_frame(probabilities, data.y_train, classes, meta_params,
                               in_validation=False)]  # fmt: skip
    if len(data.valid_rows):
        parts.append(label_issue_frame(valid_probabilities, data.y_valid, classes, meta_params,
                                       in_validation=True))  # fmt: skip
    rows = np.concatenate([data.train_rows, data.valid_rows])
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if np.any(np.diff(rows) < 0):  # in the order of X, with one copy of the table
        order = np.argsort(rows, kind="stable")
        frame, rows = frame.take(order), rows[order]
    frame.index = pd.RangeIndex(len(frame))
    if data.synthetic is not None:
        frame["synthetic"] = data.synthetic[rows]
    if index is not None:  # a refit may train on some of the rows only
        frame.index = index[rows]
    return frame


def difficulty_frame(probabilities, target, meta_params):
    """The table of :meth:`LiLAWClassifier.difficulty` from class probabilities."""
    p_label, p_max = probabilities[np.arange(len(target)), target], probabilities.max(axis=1)
    weights = weight_components(p_label, p_max, meta_params)
    return pd.DataFrame(
        {
            "label_quality": p_label,
            "p_max": p_max,
            "w_easy": weights[0],
            "w_moderate": weights[1],
            "w_hard": weights[2],
            "lilaw_weight": weights.sum(axis=0),
            "difficulty": pd.Categorical(CATEGORIES[weights.argmax(axis=0)], categories=CATEGORIES),
        }
    )
