"""``tabular_peers.py``'s data sets, preprocessing, noise settings and methods.

Every method is the last step of the same scikit-learn pipeline, the one a user would
write for a table: numeric columns imputed by their median and standardised, the others
imputed by their most frequent value and one-hot encoded (`sklilaw.tabular_preprocessor`).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cleanlab.classification import CleanLearning
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, LabelEncoder
from skorch.dataset import ValidSplit

from sklilaw import MLP, LiLAWClassifier, tabular_preprocessor
from sklilaw.baselines import plain_skorch
from sklilaw.noise import (
    asymmetric_label_noise,
    instance_dependent_label_noise,
    symmetric_label_noise,
)

TEST_FRACTION = 0.25

# file in $SKLILAW_DATA/tabular -> target column (see shared/data/README.md)
TABULAR = {
    "attrition": "Attrition",
    "credit_data": "Status",
    "hpc_data": "class",
    "lending_club": "Class",
    "mlc_churn": "churn",
    "penguins": "species",
    "spam": "type",
    "wa_churn": "churn",
}


@dataclass
class Table:
    """A data set as a user has it: a DataFrame of features and its labels."""

    name: str
    X: pd.DataFrame
    y: np.ndarray  # class indices 0..K-1

    @property
    def n_classes(self):
        return len(np.unique(self.y))

    @property
    def minority_share(self):
        return np.bincount(self.y).min() / len(self.y)


def data_home():
    folder = os.environ.get("SKLILAW_DATA")
    if not folder:
        raise SystemExit("Set $SKLILAW_DATA to the folder with tabular/ and adult/.")
    return Path(folder)


def load_table(name, adult_samples=10000):
    """The data set ``name``: a CSV of ``$SKLILAW_DATA/tabular``, ``adult`` (a stratified
    subsample of ``adult_samples`` rows) or ``breast_cancer`` (scikit-learn's)."""
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        return Table(name, X, y.to_numpy())
    if name == "adult":
        from sklilaw.datasets import load_adult

        X, y = load_adult(data_home(), return_X_y=True)
        y = LabelEncoder().fit_transform(y)
        if adult_samples and adult_samples < len(y):
            X, _, y, _ = train_test_split(
                X, y, train_size=adult_samples, stratify=y, random_state=0
            )
        return Table(name, X.reset_index(drop=True), y)
    frame = pd.read_csv(data_home() / "tabular" / f"{name}.csv")
    target = TABULAR[name]
    return Table(name, frame.drop(columns=target), LabelEncoder().fit_transform(frame[target]))


DATASETS = [*TABULAR, "adult", "breast_cancer"]


def split(table, seed):
    """Stratified 75/25 split of the rows, seeded."""
    return train_test_split(
        table.X, table.y, test_size=TEST_FRACTION, stratify=table.y, random_state=seed
    )


# ----------------------------------------------------------------------------- noise
NOISE = ("none", "sym-30", "pair-30", "inst-lr-30", "inst-gb-30")
NOISE_DESCRIPTIONS = {
    "none": "clean labels",
    "sym": "symmetric: each flipped label moves to another class drawn uniformly",
    "pair": "class-pair: each class's flipped labels move to the next class (a cycle)",
    "inst-lr": "instance-dependent, shaped by a logistic regression's out-of-fold "
    "confusions: the rows it finds hardest flip to the class it confuses them with",
    "inst-gb": "instance-dependent, shaped by a gradient-boosted model's out-of-fold "
    "confusions (HistGradientBoostingClassifier)",
}


def noise_kind(noise):
    """``'inst-lr-30'`` -> ``('inst-lr', 0.3)``; ``'none'`` -> ``('none', 0.0)``."""
    if noise == "none":
        return "none", 0.0
    kind, _, percent = noise.rpartition("-")
    if kind not in NOISE_DESCRIPTIONS or not percent.isdigit():
        raise ValueError(f"noise {noise!r}: expected none, sym-R, pair-R, inst-lr-R or inst-gb-R")
    return kind, int(percent) / 100


def add_noise(noise, X, y, seed):
    """Noisy training labels, seeded; the instance-dependent kinds shape the noise by a
    model on the preprocessed features."""
    kind, rate = noise_kind(noise)
    if kind == "none":
        return y
    if kind == "sym":
        return symmetric_label_noise(y, rate, random_state=seed)[0]
    if kind == "pair":
        return asymmetric_label_noise(y, rate, random_state=seed)[0]
    shaper = (
        LogisticRegression(max_iter=1000)
        if kind == "inst-lr"
        else HistGradientBoostingClassifier(random_state=seed)
    )
    model = make_pipeline(tabular_preprocessor(), shaper)
    return instance_dependent_label_noise(X, y, rate, estimator=model, random_state=seed)[0]


# --------------------------------------------------------------------------- methods
def _booster(seed):
    return HistGradientBoostingClassifier(early_stopping=True, random_state=seed)


def _plain_skorch(seed, n_features, n_classes):
    net = plain_skorch(
        MLP,
        module__n_features=n_features,
        module__n_classes=n_classes,
        train_split=ValidSplit(0.15, stratified=True, random_state=seed),
    )
    to_float32 = FunctionTransformer(np.asarray, kw_args={"dtype": np.float32})
    return make_pipeline(to_float32, net)


BOOSTER = "HistGradientBoosting"
DEFAULT = "LiLAWClassifier()"
AUTO = "LiLAWClassifier(noise_handling='auto')"
PREVIOUS_DEFAULT = "LiLAW, 100 epochs, no early stopping"
UNWEIGHTED_TWIN = "LiLAWClassifier(reweight=False)"
# name -> factory(seed, n_features, n_classes) -> the pipeline's last step
METHODS = {
    "logistic regression": lambda seed, f, k: LogisticRegression(max_iter=1000),
    BOOSTER: lambda seed, f, k: _booster(seed),
    f"cleanlab({BOOSTER})": lambda seed, f, k: CleanLearning(_booster(seed), seed=seed),
    "MLPClassifier": lambda seed, f, k: MLPClassifier(early_stopping=True, random_state=seed),
    "plain skorch": _plain_skorch,
    DEFAULT: lambda seed, f, k: LiLAWClassifier(random_state=seed),
    AUTO: lambda seed, f, k: LiLAWClassifier(noise_handling="auto", random_state=seed),
    PREVIOUS_DEFAULT: lambda seed, f, k: LiLAWClassifier(
        early_stopping=False, max_epochs=100, random_state=seed
    ),
    UNWEIGHTED_TWIN: lambda seed, f, k: LiLAWClassifier(reweight=False, random_state=seed),
}
# references, not peers: the previous default, and the default without LiLAW's weights
REFERENCES = (PREVIOUS_DEFAULT, UNWEIGHTED_TWIN)
# the peers the targets compare with
PEERS = [name for name in METHODS if name not in REFERENCES]


def model(method, seed, n_features, n_classes):
    """The method as a pipeline behind the shared preprocessing."""
    return make_pipeline(tabular_preprocessor(), METHODS[method](seed, n_features, n_classes))
