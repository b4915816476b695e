"""``sklilaw demo``: plain skorch vs LiLAW vs LiLAW as recommended, on noisy labels."""

import time

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder, MinMaxScaler, StandardScaler
from skorch.dataset import ValidSplit
from tqdm.auto import tqdm

from .._classifier import LiLAWClassifier
from .._networks import MLP
from ..baselines import plain_skorch
from ..noise import symmetric_label_noise
from ._runtime import warm_up_torch

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "iris": load_iris}
# as benchmarks/noisy_labels.py scales them: pixels to [0, 1], measurements standardised
SCALERS = {"digits": MinMaxScaler, "breast_cancer": StandardScaler, "iris": StandardScaler}


# the configuration the README recommends for noisy labels; why: docs/noisy_labels.md
RECOMMENDED = {"noise_handling": "auto"}
METHODS = ("plain skorch", "LiLAW", "LiLAW, recommended for noisy labels")


def run_demo(dataset="digits", noise_rate=0.4, seeds=(0, 1, 2), max_epochs=50, progress=True):
    """Fit plain skorch, LiLAW and LiLAW as recommended on noisy labels; score on clean labels.

    Parameters
    ----------
    dataset : {'digits', 'breast_cancer', 'iris'}, default='digits'
        A data set bundled with scikit-learn, scaled as ``benchmarks/noisy_labels.py``
        scales it (digits' pixels to [0, 1], the others standardised), so that the
        demo's numbers are the benchmark's.
    noise_rate : float, default=0.4
        Share of training labels flipped to another class (symmetric noise).
    seeds : sequence of int, default=(0, 1, 2)
        One run per seed (test split, noise, model initialisation and batches).
    max_epochs : int, default=50
        Epochs for every model (at most, with early stopping).
    progress : bool, default=True
        Show a progress bar over the runs.

    Returns
    -------
    pandas.DataFrame
        One row per method and seed: accuracy and balanced accuracy on the clean test
        set, fit time in seconds and, for the LiLAW rows, the injected label errors, the
        labels flagged as issues and the injected errors among them.
    """
    X, y = DATASETS[dataset](return_X_y=True)
    y = LabelEncoder().fit_transform(y)
    warm_up_torch()
    runs = [(seed, method) for seed in seeds for method in METHODS]
    rows = []
    for seed, method in tqdm(runs, desc=f"{dataset}, {noise_rate:.0%} noise", disable=not progress):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        scaler = SCALERS[dataset]().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        y_noisy, flipped = symmetric_label_noise(y_train, noise_rate, random_state=seed)
        found = {}
        start = time.perf_counter()
        if method == "plain skorch":
            torch.manual_seed(seed)
            model = plain_skorch(
                MLP(X.shape[1], len(np.unique(y))),
                max_epochs=max_epochs,
                train_split=ValidSplit(0.15, stratified=True, random_state=seed),
            )
            model.fit(X_train.astype(np.float32), y_noisy.astype(np.int64))
            predicted = model.predict(X_test.astype(np.float32))
        else:
            params = RECOMMENDED if method != "LiLAW" else {}
            model = LiLAWClassifier(max_epochs=max_epochs, random_state=seed, **params)
            predicted = model.fit(X_train, y_noisy).predict(X_test)
            flagged = model.label_issues_["is_label_issue"].to_numpy()
            found = {
                "errors_injected": flipped.sum(),
                "flagged": flagged.sum(),
                "errors_found": (flagged & flipped).sum(),
            }
        elapsed = time.perf_counter() - start
        rows.append(
            {
                "method": method,
                "seed": seed,
                "accuracy": accuracy_score(y_test, predicted),
                "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
                "fit_seconds": elapsed,
                **found,
            }
        )
    return pd.DataFrame(rows)


def summarize(results):
    """Median over seeds per method, with the fit time as a ratio to plain skorch.

    For LiLAW also the label issues it flagged (``label_issues_``) among the training
    labels, and how many of them were injected errors.
    """
    counts = [c for c in ("errors_injected", "flagged", "errors_found") if c in results]
    columns = ["accuracy", "balanced_accuracy", "fit_seconds", *counts]
    table = results.groupby("method", sort=False)[columns].median()
    table["fit_time_vs_plain"] = table["fit_seconds"] / table.loc["plain skorch", "fit_seconds"]
    for column in counts:  # whole numbers, blank where a method finds no label issues
        table[column] = table[column].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    return table
