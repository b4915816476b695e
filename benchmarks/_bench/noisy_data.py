"""``noisy_labels.py``'s data sets, their splits and its noise settings."""

import argparse
from dataclasses import dataclass
from typing import Callable

import numpy as np
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

from _bench.models import BenchFCN, SmallCNN
from sklilaw.noise import (
    asymmetric_label_noise,
    instance_dependent_label_noise,
    symmetric_label_noise,
)

TEST_FRACTION = 0.25
# ECG5000's class 5 has 2 training heartbeats: two of cleanlab's 5 stratified folds would
# train on one of them, too few for LiLAWClassifier's stratified validation split, and
# instance-dependent noise leaves it 0 or 1 labels; such classes are left out of both parts
MIN_CLASS_SIZE = 5


@dataclass
class Dataset:
    """A data set before splitting, and how to model it.

    ``preprocessor`` is an unfitted transformer (fitted on the training part of each
    split); ``module`` is the network class, called as ``module(n_features, n_classes)``;
    ``None`` means the package's default MLP (``sklilaw.MLP`` with one hidden layer of
    100, which ``LiLAWClassifier(module=None)`` builds). ``test_rows``, a boolean mask
    over the rows, is a test part that comes with the data set: ``split`` then uses it
    for every seed instead of drawing one.
    """

    name: str
    description: str
    X: object  # array or DataFrame
    y: np.ndarray  # class indices 0..K-1
    preprocessor: Callable[[], object]
    module: type | None = None
    test_rows: np.ndarray | None = None

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


def load_ecg5000_fcn(args):
    """ECG5000 from ``$SKLILAW_DATA``: the archive's training part, then its test part.

    Without the classes of fewer than ``MIN_CLASS_SIZE`` training heartbeats, in both parts.
    """
    from sklilaw.datasets import load_ecg5000  # only needed for this data set

    X_train, y_train = load_ecg5000(return_X_y=True)
    X_test, y_test = load_ecg5000(subset="test", return_X_y=True)
    labels, counts = np.unique(y_train, return_counts=True)
    small = labels[counts < MIN_CLASS_SIZE]
    train, test = ~np.isin(y_train, small), ~np.isin(y_test, small)
    channels = ", ".join(map(str, BenchFCN.CHANNELS))
    description = (
        f"ECG5000, the UCR archive's split: trained on its training part ({train.sum()} "
        f"heartbeats), tested on its test part ({test.sum()}), without class "
        f"{', '.join(map(str, small))} (fewer than {MIN_CLASS_SIZE} training heartbeats); "
        "the series are already z-normalised per heartbeat, so no further scaling; FCN "
        "(Wang et al. 2017: convolutions of width 8, 5, 3 with batch norm, global average "
        f"pool) with {channels} channels"
    )
    return Dataset(
        "ecg5000",
        description,
        np.concatenate([X_train[train], X_test[test]]),
        LabelEncoder().fit_transform(np.concatenate([y_train[train], y_test[test]])),
        FunctionTransformer,
        module=BenchFCN,
        test_rows=np.repeat([False, True], [train.sum(), test.sum()]),
    )


DATASETS = {
    "digits": load_digits_mlp,
    "digits_cnn": load_digits_cnn,
    "breast_cancer": load_breast_cancer_mlp,
    "adult": load_adult_mlp,
    "ecg5000": load_ecg5000_fcn,
}


def split(data, seed):
    """Training and test part, the preprocessor fitted on the training part.

    The data set's own test part where it has one (``test_rows``), else a stratified
    75/25 split seeded by ``seed``.
    """
    if data.test_rows is None:
        X_train, X_test, y_train, y_test = train_test_split(
            data.X, data.y, test_size=TEST_FRACTION, stratify=data.y, random_state=seed
        )
    else:
        train = ~data.test_rows
        X_train, X_test = data.X[train], data.X[data.test_rows]
        y_train, y_test = data.y[train], data.y[data.test_rows]
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
