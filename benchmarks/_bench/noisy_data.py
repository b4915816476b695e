"""``noisy_labels.py``'s data sets, their splits and its noise settings."""

import argparse
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)

from _bench.models import ECGNet, SmallCNN
from sklilaw.noise import (
    asymmetric_label_noise,
    instance_dependent_label_noise,
    symmetric_label_noise,
)

TEST_FRACTION = 0.25
# ECG5000 has a class of 2 heartbeats: a 25% stratified test split, a 15% validation split
# and a training part cannot each hold one, so classes below this size are dropped
MIN_CLASS_SIZE = 5


@dataclass
class Dataset:
    """A data set before splitting, and how to model it.

    ``preprocessor`` is an unfitted transformer (fitted on the training part of each
    split); ``module`` is the network class, called as ``module(n_features, n_classes)``;
    ``None`` means the package's default MLP (``sklilaw.MLP`` with one hidden layer of
    100, which ``LiLAWClassifier(module=None)`` builds).
    """

    name: str
    description: str
    X: object  # array or DataFrame
    y: np.ndarray  # class indices 0..K-1
    preprocessor: Callable[[], object]
    module: type | None = None

    @property
    def n_classes(self):
        return len(np.unique(self.y))


@dataclass
class Split:
    """One seed's split: preprocessed float32 features, int64 clean labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits_mlp(args):
    X, y = load_digits(return_X_y=True)
    return Dataset("digits", "load_digits, scaled to [0, 1]; MLP (100)", X, y, MinMaxScaler)


def load_digits_cnn(args):
    X, y = load_digits(return_X_y=True)
    description = "load_digits as 1x8x8 images, scaled to [0, 1]; SmallCNN (16, 32 channels)"
    return Dataset("digits_cnn", description, X, y, MinMaxScaler, module=SmallCNN)


def load_breast_cancer_mlp(args):
    X, y = load_breast_cancer(return_X_y=True)
    return Dataset(
        "breast_cancer", "load_breast_cancer, standardised; MLP (100)", X, y, StandardScaler
    )


def load_adult_mlp(args):
    """UCI Adult from ``$SKLILAW_DATA`` (sklilaw.datasets), a stratified subsample."""
    from sklilaw.datasets import load_adult  # only needed for this data set

    X, y = load_adult(return_X_y=True)
    y = LabelEncoder().fit_transform(y)
    if args.adult_samples and args.adult_samples < len(y):
        X, _, y, _ = train_test_split(
            X, y, train_size=args.adult_samples, stratify=y, random_state=0
        )

    def preprocessor():
        return ColumnTransformer(
            [
                (
                    "categories",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    make_column_selector(dtype_include="category"),
                ),
                ("numbers", StandardScaler(), make_column_selector(dtype_include="number")),
            ]
        )

    description = (
        f"UCI Adult, stratified subsample of {len(y)} rows; one-hot categories "
        "(missing as a category), standardised numbers; MLP (100)"
    )
    return Dataset("adult", description, X, y, preprocessor)


def load_ecg5000_cnn(args):
    """ECG5000's training part from ``$SKLILAW_DATA``, without its class of 2 heartbeats."""
    from sklilaw.datasets import load_ecg5000  # only needed for this data set

    X, y = load_ecg5000(return_X_y=True)
    counts = pd.Series(y).value_counts()
    kept = np.isin(y, counts.index[counts >= MIN_CLASS_SIZE])
    X, y = X[kept], LabelEncoder().fit_transform(y[kept])
    description = (
        f"ECG5000 training part, classes with fewer than {MIN_CLASS_SIZE} heartbeats "
        f"dropped ({int((~kept).sum())} rows); the UCR series are already z-normalised "
        "per heartbeat, so no further scaling; ECGNet (1-D CNN, 16, 32 channels) with "
        "jitter and scaling augmentations"
    )
    return Dataset("ecg5000", description, X, y, FunctionTransformer, module=ECGNet)


DATASETS = {
    "digits": load_digits_mlp,
    "digits_cnn": load_digits_cnn,
    "breast_cancer": load_breast_cancer_mlp,
    "adult": load_adult_mlp,
    "ecg5000": load_ecg5000_cnn,
}


def split(data, seed):
    """Stratified 75/25 split seeded by ``seed``; the preprocessor is fitted on the 75%."""
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_FRACTION, stratify=data.y, random_state=seed
    )
    preprocessor = make_pipeline(data.preprocessor())
    X_train = np.asarray(preprocessor.fit_transform(X_train), dtype=np.float32)
    X_test = np.asarray(preprocessor.transform(X_test), dtype=np.float32)
    return Split(X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64))


# ----------------------------------------------------------------------------- noise
def parse_noise(name):
    """``'sym-40'`` -> ``('sym', 0.4)``."""
    kind, _, percent = name.partition("-")
    if kind not in ("sym", "asym", "inst") or not percent.isdigit():
        raise argparse.ArgumentTypeError(
            f"noise setting {name!r}: expected sym-R, asym-R or inst-R with R in percent"
        )
    return kind, int(percent) / 100


def skip_reason(noise, n_classes):
    """Why a noise setting makes no sense for ``n_classes`` classes, or None."""
    kind, rate = parse_noise(noise)
    if kind == "sym" and rate >= (n_classes - 1) / n_classes:
        return (
            f"{rate:.0%} symmetric noise with {n_classes} classes leaves fewer correct "
            "labels than wrong labels of one class"
            + (" (for 2 classes it inverts the labels)" if n_classes == 2 else "")
        )
    if kind == "asym" and rate >= 0.5:
        return f"{rate:.0%} class-pair noise makes the wrong label the majority of every class"
    return None


def add_noise(noise, X, y, seed):
    """Noisy labels and the mask of flipped rows, seeded by ``seed``."""
    kind, rate = parse_noise(noise)
    if kind == "sym":
        return symmetric_label_noise(y, rate, random_state=seed)
    if kind == "asym":
        return asymmetric_label_noise(y, rate, random_state=seed)
    return instance_dependent_label_noise(X, y, rate, random_state=seed)
