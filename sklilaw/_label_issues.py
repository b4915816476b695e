"""Label issues from training dynamics: running per-sample statistics and their verdict."""

import numpy as np
import pandas as pd
import torch

from ._weighting import CATEGORIES


class TrainingDynamics:
    """Per-sample running sums over the epochs of one fit (no per-epoch history).

    Memory is ``n_samples * (n_classes + 4)`` floats on the device.

    Parameters
    ----------
    n_samples, n_classes : int
        Size of the training set and number of classes.
    device : str or torch.device
        Where the sums live (the device of the training batches).
    """

    def __init__(self, n_samples, n_classes, device):
        self.count = torch.zeros(n_samples, device=device)
        self.probability_sum = torch.zeros(n_samples, n_classes, device=device)
        self.weight_sum = torch.zeros(3, n_samples, device=device)

    @torch.no_grad()
    def update(self, index, logits, weights):
        """Add one training batch: its rows, the module's logits and LiLAW's weights."""
        probabilities = torch.softmax(logits.detach().float(), dim=1)
        self.count.index_add_(0, index, torch.ones_like(probabilities[:, 0]))
        self.probability_sum.index_add_(0, index, probabilities)
        self.weight_sum.index_add_(1, index, torch.stack(weights))

    def means(self):
        """Mean class probabilities (n, k) and weight components (3, n), NaN if never seen."""
        count = self.count.cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            probabilities = self.probability_sum.cpu().numpy() / count[:, None]
            weights = self.weight_sum.cpu().numpy() / count
        return probabilities, weights


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
    n_classes = probabilities.shape[1]
    seen = ~np.isnan(probabilities).any(axis=1)
    thresholds = np.array(
        [
            probabilities[seen & (labels == j), j].mean()
            if np.any(seen & (labels == j))
            else np.inf
            for j in range(n_classes)
        ]
    )
    confident = probabilities >= thresholds
    best = np.where(confident, probabilities, -np.inf).argmax(axis=1)
    return seen & confident.any(axis=1) & (best != labels)


def label_issue_frame(probabilities, labels, weights, classes):
    """The ``label_issues_`` table for one source of probabilities.

    Parameters
    ----------
    probabilities : ndarray of shape (n_samples, n_classes)
        Class probabilities of the samples.
    labels : ndarray of shape (n_samples,)
        Given labels as class indices.
    weights : ndarray of shape (3, n_samples)
        LiLAW's easy, moderate and hard weight components.
    classes : ndarray of shape (n_classes,)
        The labels behind the class indices.

    Returns
    -------
    pandas.DataFrame
        ``is_label_issue``, ``label_quality`` (probability of the given label),
        ``given_label``, ``predicted_label``, ``difficulty`` and ``lilaw_weight``.
    """
    rows = np.arange(len(labels))
    seen = ~np.isnan(probabilities).any(axis=1)
    predicted = np.where(seen, np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1), labels)
    difficulty = np.where(seen, CATEGORIES[np.nan_to_num(weights, nan=-1.0).argmax(axis=0)], None)
    return pd.DataFrame(
        {
            "is_label_issue": confident_learning_issues(probabilities, labels),
            "label_quality": probabilities[rows, labels],
            "given_label": classes[labels],
            "predicted_label": classes[predicted],
            "difficulty": pd.Categorical(difficulty, categories=CATEGORIES),
            "lilaw_weight": weights.sum(axis=0),
        }
    )
