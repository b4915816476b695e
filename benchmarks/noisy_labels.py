"""Accuracy under noisy training labels: LiLAW against plain training, a robust loss and cleanlab.

What it measures
----------------
For every data set, seed and noise setting, the data are split 75/25 (stratified,
seeded by the seed); label noise is injected into the training part only, with
``sklilaw.noise`` (seeded by the seed), and every method is fitted on the noisy training
labels and scored on the *clean* test labels. The methods (all with the same network,
Adam with lr 1e-3 and weight decay 1e-4, batches of 128, the same number of epochs, and
15% of the training data held out, stratified, as validation data):

1. ``plain skorch``: ``sklilaw.baselines.plain_skorch(module, max_epochs=E,
   train_split=ValidSplit(0.15, stratified=True, random_state=seed))``, fed float32 ``X``
   and int64 ``y``. The module instance is built, and ``fit`` runs, inside
   ``torch.random.fork_rng()`` after ``torch.manual_seed(seed)``. (So the skorch rows
   and the LiLAW rows start from different initial weights and validation splits, each
   drawn from the seed; the LiLAW rows share theirs.)
2. ``plain skorch + early stopping``: the same with
   ``callbacks=[EarlyStopping(patience=PATIENCE, load_best=True)]`` (skorch's defaults
   otherwise: monitor ``valid_loss``, relative threshold 1e-4).
3. ``GCE (q=0.7)``: plain skorch with ``criterion=sklilaw.GeneralizedCrossEntropy`` and
   ``criterion__reduction="mean"`` (skorch's ``get_loss`` wants a scalar). skorch applies
   a softmax in ``predict_proba`` only for ``CrossEntropyLoss``, so this row sets
   ``predict_nonlinearity`` to a softmax (it changes no prediction, only the AUROC input).
4. ``LiLAW, no meta step``: ``LiLAWClassifier(warmup_epochs=E, max_epochs=E,
   random_state=seed)``: the package's training without any re-weighting, with the
   *same* initial weights, validation split and batch order as the LiLAW rows (the same
   ``random_state``), so that it isolates what the weights and meta steps change. Not a
   method anyone would choose; an ablation. Its early-stopping twin, ``LiLAW, no meta
   step + early stopping`` (``early_stopping=True, n_iter_no_change=PATIENCE``),
   separates what LiLAW's early stopping does from what its weights do.
5. ``LiLAW``: ``LiLAWClassifier(max_epochs=E, random_state=seed)``, the paper's method
   with the package defaults (those of the authors' code).
6. ``LiLAW + early stopping``: ``early_stopping=True, n_iter_no_change=PATIENCE``.
7. ``LiLAW + refit (prune)`` / ``LiLAW + refit (downweight)``:
   ``label_issues_refit="prune"`` / ``"downweight"``: a second training from scratch
   without (or with less weight on) the rows that the first training's ``label_issues_``
   flags.
8. ``LiLAW + GCE``: ``criterion=sklilaw.GeneralizedCrossEntropy`` (q=0.7), LiLAW's
   weights on the robust loss's per-sample values.
9. Combinations, candidates for the configuration the README recommends:
   ``LiLAW + early stopping + refit (prune)``, ``LiLAW + GCE + early stopping + refit
   (prune)``, and the latter's twin without meta steps (``warmup_epochs=E``), which
   says how much of the combination's result is due to LiLAW's weights.
10. ``cleanlab CleanLearning``: ``cleanlab.classification.CleanLearning(clf=wrapper,
   seed=seed, cv_n_folds=5)``: 5-fold cross-validated out-of-sample probabilities,
   confident learning to find label issues, then a final fit on the rows not flagged.
   The wrapper is ``LiLAWClassifier(warmup_epochs=E, max_epochs=E, random_state=seed)``,
   i.e. row 4: the same network and data path with an unweighted loss and no meta step.
   It was chosen over plain skorch because CleanLearning needs what a scikit-learn
   classifier has and skorch's ``NeuralNetClassifier`` lacks: it ``clone``s the estimator
   for every fold; it passes ``sample_weight=`` to the *final* ``fit`` (class weights
   ``1 / noise_matrix[k, k]`` that restore the class balance after pruning, because
   ``fit`` has a ``sample_weight`` parameter; skorch would hand it to the module's
   ``forward``); and it calls ``predict_proba``/``predict`` with any labels ``0..K-1``.
   ``LiLAWClassifier`` with ``warmup_epochs=max_epochs`` does all of that, is seeded by
   ``random_state`` (each clone gets the same seed), and weights each sample's loss by
   ``sample_weight``.

Metrics, on the clean test set: accuracy, balanced accuracy, macro-F1 and AUROC
(one-vs-rest macro average for more than two classes). Label-issue detection, on the
training set, where the flipped rows are known: the AUROC of ``-label_quality`` against
"flipped", the precision among the ``k`` rows of lowest ``label_quality`` where ``k`` is
the number of flipped rows (precision at the true noise count, which is also the recall
there), and the precision and recall of ``is_label_issue``. LiLAW's come from
``label_issues_`` (training rows: class probabilities averaged over the epochs of
training; rows of its internal validation split: the fitted model's out-of-sample
probabilities); the refit rows report the first training's verdict (which
``label_issues_`` keeps). cleanlab's come from ``CleanLearning.label_issues_df``, whose
``label_quality`` is the out-of-fold probability of the given label (cleanlab's
"self_confidence", the same definition as LiLAW's) and whose ``is_label_issue`` is
``cleanlab.filter.find_label_issues`` on those probabilities. Fit time is the wall time of
``fit`` (cleanlab: of ``CleanLearning.fit``, the 5 fold fits and the final fit), and its
ratio to plain skorch's fit in the same data set / noise / seed cell.

Output, per data set (Markdown on stdout and in ``--output``; one row per fit in
``--csv``): test accuracy by noise setting with the median fit time and its ratio to plain
skorch; all test metrics at 40% symmetric noise; label-issue ranking (AUROC, precision
at k) and the ``is_label_issue`` verdict (precision, recall, share flagged) by noise
setting; LiLAW's weights of clean and of flipped rows and the learned ``alpha``,
``beta``, ``delta``. All are medians over the seeds. ``--plot`` draws test accuracy
against the symmetric noise rate, one panel per data set.

Noise settings: ``sym-R`` flips R% of the training labels, each to a uniformly drawn
other class; ``asym-R`` flips R% of each class to the next class (``c -> c + 1 mod K``);
``inst-R`` flips R% of the rows, drawn with probability proportional to how little a
5-fold logistic regression believes their clean label, to the class it confuses them
with most. A setting in which a wrong label would be the most frequent label of a class
(symmetric noise at R >= (K - 1) / K, e.g. 60% symmetric noise on a binary data set,
which inverts the labels; class-pair noise at R >= 50%) is skipped and shown as "n/a".

Data sets (``--datasets``, all five by default): ``digits`` (``load_digits``, scaled to
[0, 1], the default MLP with one hidden layer of 100), ``digits_cnn`` (the same data, a
small CNN, :class:`SmallCNN`, that reshapes the 64 inputs to 1x8x8, the same module for
every method), ``breast_cancer`` (``load_breast_cancer``, standardised, the MLP),
``adult`` (UCI Adult through ``sklilaw.datasets.load_adult``, which reads
``$SKLILAW_DATA/adult/``; one-hot categories and standardised numbers; a stratified
subsample of ``--adult-samples`` rows, since 48,842 rows times all the fits above takes
hours on 2 cores) and ``ecg5000`` (ECG5000's training part through
``sklilaw.datasets.load_ecg5000``, from ``$SKLILAW_DATA/ecg5000/``; 500 heartbeats of
140 values; :class:`ECGNet`, a 1-D CNN with jitter and scaling augmentations in training
mode; the class of 2 heartbeats is dropped, see ``MIN_CLASS_SIZE``). A new data set is
one more entry in ``DATASETS``: a function that returns a :class:`Dataset`.

Everything is seeded: the split, the noise, the initial weights, the validation splits,
the batches, cleanlab's folds. Rerunning a command gives the same tables (up to the fit
times). Fits run one after another in one process, after one untimed 1-epoch fit of
every method per data set (torch's lazy set-up); the order of the methods is rotated
from cell to cell, so that drift of a shared machine spreads over all of them.

Usage::

    python benchmarks/noisy_labels.py                    # the default run
    python benchmarks/noisy_labels.py --datasets digits --seeds 0 --epochs 5   # a smoke run
    python benchmarks/noisy_labels.py --output /tmp/noisy.md --plot /tmp/noisy.png \\
        --csv /tmp/noisy.csv
    # two processes, one report
    python benchmarks/noisy_labels.py --datasets digits_cnn ecg5000 --csv /tmp/a.csv &
    python benchmarks/noisy_labels.py --datasets digits breast_cancer adult --csv /tmp/b.csv
    python benchmarks/noisy_labels.py --from-csv /tmp/a.csv /tmp/b.csv --output /tmp/noisy.md
"""

import argparse
import math
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass
from typing import Callable

import cleanlab
import numpy as np
import pandas as pd
import sklearn
import skorch
import torch
from cleanlab.classification import CleanLearning
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    StandardScaler,
)
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch import nn
from tqdm.auto import tqdm

import sklilaw
from sklilaw import MLP, GeneralizedCrossEntropy, LiLAWClassifier
from sklilaw.baselines import plain_skorch
from sklilaw.noise import (
    asymmetric_label_noise,
    instance_dependent_label_noise,
    symmetric_label_noise,
)

TEST_FRACTION = 0.25
VALIDATION_FRACTION = 0.15
PATIENCE = 10  # epochs without improvement of valid_loss, for both early-stopping rows
CV_FOLDS = 5
DEFAULT_EPOCHS = 50
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_DATASETS = ("digits", "digits_cnn", "breast_cancer", "adult", "ecg5000")
DEFAULT_NOISE = ("sym-0", "sym-20", "sym-40", "sym-60", "asym-40", "inst-40")
# ECG5000 has a class of 2 heartbeats: a 25% stratified test split, a 15% validation split
# and a training part cannot each hold one, so classes below this size are dropped
MIN_CLASS_SIZE = 5
FOCUS_NOISE = "sym-40"  # the setting of the table with all test metrics


# --------------------------------------------------------------------------- modules
class SmallCNN(nn.Module):
    """A small CNN for square single-channel images given as flat rows of pixels.

    ``x.view(-1, 1, side, side)``, two 3x3 convolutions (``channels``) with ReLU, a 2x2
    max-pool, a hidden layer of ``hidden`` units, one logit per class.
    """

    def __init__(self, n_features=64, n_classes=10, channels=(16, 32), hidden=64):
        super().__init__()
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(f"n_features={n_features} is not a square image.")
        self.side = side
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * (side // 2) ** 2, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.head(self.features(x.view(-1, 1, self.side, self.side)))


class ECGNet(nn.Module):
    """A small 1-D CNN for heartbeats, with train-time jitter and scaling augmentations.

    In training mode each series is multiplied by ``1 + scaling * N(0, 1)`` (one factor
    per series) and gets ``jitter * N(0, 1)`` added to every value, the simple
    augmentations of the LiLAW paper's ECG experiments. In eval mode, which is what
    ``LiLAWClassifier``'s meta step and prediction use, the input is left as it is.
    Then two convolutions (7 and 5 wide, ``channels``) with ReLU and max-pooling, a global
    average pool and one logit per class.
    """

    def __init__(self, n_features=140, n_classes=4, channels=(16, 32), jitter=0.03, scaling=0.1):
        super().__init__()
        self.jitter, self.scaling = jitter, scaling
        c1, c2 = channels
        self.layers = nn.Sequential(
            nn.Conv1d(1, c1, 7, padding=3),
            nn.ReLU(),
            nn.MaxPool1d(2),
            nn.Conv1d(c1, c2, 5, padding=2),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(c2, n_classes),
        )

    def forward(self, x):
        x = x.view(len(x), 1, -1)
        if self.training:
            x = x * (1 + self.scaling * torch.randn(len(x), 1, 1, device=x.device))
            x = x + self.jitter * torch.randn_like(x)
        return self.layers(x)


def softmax(logits):
    """skorch ``predict_nonlinearity`` for losses other than cross-entropy."""
    return torch.softmax(logits, dim=-1)


# ------------------------------------------------------------------------------ data
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


# --------------------------------------------------------------------------- methods
def new_module(data, n_features, seed):
    """A fresh network instance, its initial weights drawn from ``seed``."""
    cls = data.module or MLP
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return cls(n_features, data.n_classes)


class SeededSkorch:
    """A skorch net whose module is built and whose fit runs after ``torch.manual_seed``.

    Only ``fit``, ``predict`` and ``predict_proba`` are used by this script.
    """

    def __init__(self, data, n_features, epochs, seed, **params):
        self.seed = seed
        self.net = plain_skorch(
            new_module(data, n_features, seed),
            max_epochs=epochs,
            train_split=ValidSplit(VALIDATION_FRACTION, stratified=True, random_state=seed),
            **params,
        )

    def fit(self, X, y):
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)  # batch shuffling
            self.net.fit(X, y)
        return self

    def predict(self, X):
        return self.net.predict(X)

    def predict_proba(self, X):
        return self.net.predict_proba(X)


def lilaw(data, n_features, epochs, seed, **params):
    """``LiLAWClassifier`` with the package defaults, the data set's module, and ``params``."""
    if data.module is not None:
        n_classes = data.n_classes
        params = dict(
            module=data.module,
            module__n_features=n_features,
            module__n_classes=n_classes,
            **params,
        )
    return LiLAWClassifier(max_epochs=epochs, random_state=seed, **params)


def clean_learning(data, n_features, epochs, seed):
    wrapper = lilaw(data, n_features, epochs, seed, warmup_epochs=epochs)
    return CleanLearning(clf=wrapper, seed=seed, cv_n_folds=CV_FOLDS)


PLAIN = "plain skorch"
# the configuration the README recommends for noisy labels (sklilaw/_demo.py), and the
# largest gap in median test accuracy to the best method that still counts as a tie
RECOMMENDED = "LiLAW + GCE + early stopping + refit (prune)"
TIE = 0.01
EARLY_STOPPING = {"early_stopping": True, "n_iter_no_change": PATIENCE}
# name -> factory(data, n_features, epochs, seed) -> unfitted estimator
METHODS = {
    PLAIN: lambda d, f, e, s: SeededSkorch(d, f, e, s),
    "plain skorch + early stopping": lambda d, f, e, s: SeededSkorch(
        d, f, e, s, callbacks=[EarlyStopping(patience=PATIENCE, load_best=True)]
    ),
    "GCE (q=0.7)": lambda d, f, e, s: SeededSkorch(
        d,
        f,
        e,
        s,
        criterion=GeneralizedCrossEntropy,
        criterion__q=0.7,
        criterion__reduction="mean",
        predict_nonlinearity=softmax,
    ),
    "LiLAW, no meta step": lambda d, f, e, s: lilaw(d, f, e, s, warmup_epochs=e),
    "LiLAW, no meta step + early stopping": lambda d, f, e, s: lilaw(
        d, f, e, s, warmup_epochs=e, **EARLY_STOPPING
    ),
    "LiLAW": lambda d, f, e, s: lilaw(d, f, e, s),
    "LiLAW + early stopping": lambda d, f, e, s: lilaw(d, f, e, s, **EARLY_STOPPING),
    "LiLAW + GCE": lambda d, f, e, s: lilaw(d, f, e, s, criterion=GeneralizedCrossEntropy),
    "LiLAW + refit (prune)": lambda d, f, e, s: lilaw(d, f, e, s, label_issues_refit="prune"),
    "LiLAW + refit (downweight)": lambda d, f, e, s: lilaw(
        d, f, e, s, label_issues_refit="downweight"
    ),
    "LiLAW + early stopping + refit (prune)": lambda d, f, e, s: lilaw(
        d, f, e, s, label_issues_refit="prune", **EARLY_STOPPING
    ),
    "LiLAW + GCE + early stopping + refit (prune)": lambda d, f, e, s: lilaw(
        d, f, e, s, criterion=GeneralizedCrossEntropy, label_issues_refit="prune", **EARLY_STOPPING
    ),
    "LiLAW, no meta step + GCE + early stopping + refit (prune)": lambda d, f, e, s: lilaw(
        d,
        f,
        e,
        s,
        warmup_epochs=e,
        criterion=GeneralizedCrossEntropy,
        label_issues_refit="prune",
        **EARLY_STOPPING,
    ),
    "cleanlab CleanLearning": clean_learning,
}
# the rows of the weight table (they learn alpha, beta, delta) and rows left out of the
# detection tables (their label_issues_ is the first training's, i.e. another row's)
WEIGHTED = ("LiLAW", "LiLAW + early stopping", "LiLAW + GCE")
REFIT = (
    "LiLAW + refit (prune)",
    "LiLAW + refit (downweight)",
    "LiLAW + early stopping + refit (prune)",
)


# --------------------------------------------------------------------------- metrics
def test_metrics(model, split_):
    proba = np.asarray(model.predict_proba(split_.X_test), dtype=np.float64)
    predicted = np.asarray(model.predict(split_.X_test))
    y = split_.y_test
    if proba.shape[1] == 2:
        auroc = roc_auc_score(y, proba[:, 1])
    else:
        auroc = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    return {
        "accuracy": accuracy_score(y, predicted),
        "balanced_accuracy": balanced_accuracy_score(y, predicted),
        "macro_f1": f1_score(y, predicted, average="macro"),
        "auroc": auroc,
    }


def label_issue_table(model):
    """The method's per-training-row verdict (cleanlab's columns), or None."""
    if isinstance(model, CleanLearning):
        return model.label_issues_df
    return getattr(model, "label_issues_", None)


def detection_metrics(issues, flipped):
    """How well ``label_quality`` and ``is_label_issue`` find the flipped rows."""
    quality = issues["label_quality"].to_numpy(dtype=np.float64)
    flagged = issues["is_label_issue"].to_numpy(dtype=bool)
    if len(quality) != len(flipped):
        raise ValueError(f"{len(quality)} label-issue rows for {len(flipped)} training rows")
    n_flipped = int(flipped.sum())
    n_flagged = int(flagged.sum())
    hits = int((flagged & flipped).sum())
    result = {"flagged_share": n_flagged / len(flipped)}
    if n_flipped:
        lowest = np.argsort(quality, kind="stable")[:n_flipped]
        result.update(
            detection_auroc=roc_auc_score(flipped, -quality),
            precision_at_k=float(flipped[lowest].mean()),
            issue_precision=hits / n_flagged if n_flagged else np.nan,
            issue_recall=hits / n_flipped,
        )
    return result


def weight_statistics(issues, flipped):
    """``label_issues_``'s LiLAW weight and difficulty of training rows, clean vs flipped.

    For the rows the network trained on, ``label_issues_`` gives the LiLAW weight
    (``lilaw_weight``) and its dominant component (``difficulty``) of the row's class
    probabilities averaged over the epochs of training, under the final ``alpha, beta,
    delta`` (see ``LiLAWClassifier.label_issues_``). Rows of the internal validation split
    (judged by the fitted model instead) are left out.
    """
    if "lilaw_weight" not in issues:
        return {}
    trained = ~issues["in_validation"].to_numpy(dtype=bool)
    weight = issues["lilaw_weight"].to_numpy(dtype=np.float64)
    category = issues["difficulty"].astype(str).to_numpy()
    clean, noisy = trained & ~flipped, trained & flipped
    return {
        "weight_clean": weight[clean].mean(),
        "weight_flipped": weight[noisy].mean() if noisy.any() else np.nan,
        "moderate_share": float((category[trained] == "moderate").mean()),
        "easy_share_clean": float((category[clean] == "easy").mean()),
        "hard_share_flipped": float((category[noisy] == "hard").mean()) if noisy.any() else np.nan,
    }


def meta_parameters(model):
    """LiLAW's learned alpha, beta, delta (after a refit: the second training's)."""
    if isinstance(model, LiLAWClassifier):
        return {"alpha": model.alpha_, "beta": model.beta_, "delta": model.delta_}
    return {}


def epochs_run(model):
    net = model.net if isinstance(model, SeededSkorch) else model
    if isinstance(net, CleanLearning):
        net = net.clf
    return len(net.history)


# --------------------------------------------------------------------------- running
def run_cell(data, split_, noise, seed, epochs, methods, rotation):
    """Fit every method on one data set / noise setting / seed; one record per method."""
    y_noisy, flipped = add_noise(noise, split_.X_train, split_.y_train, seed)
    y_noisy = np.asarray(y_noisy, dtype=np.int64)
    n_features = split_.X_train.shape[1]
    order = methods[rotation % len(methods) :] + methods[: rotation % len(methods)]
    records = []
    for method in order:
        model = METHODS[method](data, n_features, epochs, seed)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        model.fit(split_.X_train, y_noisy)
        seconds = time.perf_counter() - start
        record = {
            "dataset": data.name,
            "noise": noise,
            "seed": seed,
            "method": method,
            "fit_s": seconds,
            "load_1min": load,
            "epochs_run": epochs_run(model),
            "n_train": len(y_noisy),
            "n_features": n_features,
            "n_flipped": int(flipped.sum()),
            **test_metrics(model, split_),
            **meta_parameters(model),
        }
        issues = label_issue_table(model)
        if issues is not None:
            record.update(detection_metrics(issues, flipped))
            record.update(weight_statistics(issues, flipped))
        records.append(record)
    plain_s = next(r["fit_s"] for r in records if r["method"] == PLAIN)
    for record in records:
        record["time_ratio"] = record["fit_s"] / plain_s
    return records


def warm_up(data, split_, methods):
    """One untimed 1-epoch fit of every method, so that torch's lazy set-up is not timed."""
    n_features = split_.X_train.shape[1]
    for method in methods:
        METHODS[method](data, n_features, 1, 0).fit(split_.X_train, split_.y_train)


def run(args):
    cells = []
    datasets = {}
    for name in args.datasets:
        datasets[name] = DATASETS[name](args)
        for seed in args.seeds:
            for noise in args.noise:
                if skip_reason(noise, datasets[name].n_classes) is None:
                    cells.append((name, seed, noise))
    records = []
    progress = tqdm(cells, desc="cells", file=sys.stderr, disable=args.quiet)
    current, warmed = None, set()
    for index, (name, seed, noise) in enumerate(progress):
        progress.set_postfix_str(f"{name} seed {seed} {noise}")
        if current is None or current[0] != (name, seed):
            current = (name, seed), split(datasets[name], seed)  # one split in memory
        if name not in warmed:
            warm_up(datasets[name], current[1], args.methods)
            warmed.add(name)
        records += run_cell(
            datasets[name], current[1], noise, seed, args.epochs, args.methods, index
        )
    return datasets, pd.DataFrame.from_records(records)


# ---------------------------------------------------------------------------- report
def fmt(value, digits=3):
    """A number with ``digits`` decimals; NaN (a skipped or undefined cell) as n/a."""
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.{digits}f}"


def markdown(frame):
    """A DataFrame of strings as a Markdown table; the first column left-aligned."""
    columns = [frame.index.name or "", *frame.columns]
    lines = [
        "| " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(frame.columns),
    ]
    for index, row in frame.iterrows():
        lines.append("| " + " | ".join([str(index), *map(str, row)]) + " |")
    return "\n".join(lines)


def bold_best(table, columns):
    """Format medians to 3 decimals, bold the largest of each column in ``columns``."""
    out = table.map(fmt).astype(object)
    for column in columns:
        values = table[column].round(3)
        if values.notna().any():
            best = values == values.max()
            out.loc[best, column] = "**" + out.loc[best, column] + "**"
    return out


def medians(results, dataset, value, methods, noise_settings):
    cell = results[results.dataset == dataset]
    table = cell.pivot_table(index="method", columns="noise", values=value, aggfunc="median")
    return table.reindex(index=methods, columns=noise_settings)


def accuracy_table(results, dataset, methods, noise_settings):
    table = medians(results, dataset, "accuracy", methods, noise_settings)
    out = bold_best(table, noise_settings)
    cell = results[results.dataset == dataset].groupby("method")
    out["median fit s"] = cell["fit_s"].median().reindex(methods).map(lambda v: fmt(v, 2))
    out["fit time / plain"] = (
        cell["time_ratio"].median().reindex(methods).map(lambda v: fmt(v, 2) + "x")
    )
    out.index.name = "method"
    return markdown(out)


def focus_table(results, dataset, methods, noise):
    cell = results[(results.dataset == dataset) & (results.noise == noise)]
    columns = {
        "accuracy": "accuracy",
        "balanced_accuracy": "balanced accuracy",
        "macro_f1": "macro-F1",
        "auroc": "AUROC",
    }
    table = cell.groupby("method")[list(columns)].median().reindex(methods)
    out = bold_best(table, list(columns)).rename(columns=columns)
    out["fit s"] = (
        cell.groupby("method")["fit_s"].median().reindex(methods).map(lambda v: fmt(v, 2))
    )
    out["fit time / plain"] = (
        cell.groupby("method")["time_ratio"]
        .median()
        .reindex(methods)
        .map(lambda v: fmt(v, 2) + "x")
    )
    out["epochs run"] = (
        cell.groupby("method")["epochs_run"].median().reindex(methods).map(lambda v: fmt(v, 0))
    )
    out.index.name = "method"
    return markdown(out)


def detection_tables(results, dataset, methods, noise_settings):
    cell = results[results.dataset == dataset]
    if "detection_auroc" not in cell or cell["flagged_share"].isna().all():
        return None
    detectors = [
        m
        for m in methods
        if m not in REFIT and cell.loc[cell.method == m, "flagged_share"].notna().any()
    ]
    noisy = [n for n in noise_settings if parse_noise(n)[1] > 0]

    def pair(first, second, digits=2):
        """Cells "first / second" of the two medians."""
        a = medians(results, dataset, first, detectors, noisy).map(lambda v: fmt(v, digits))
        b = medians(results, dataset, second, detectors, noisy).map(lambda v: fmt(v, digits))
        return (a + " / " + b).astype(object)

    ranking = pair("detection_auroc", "precision_at_k")
    verdict = pair("issue_precision", "issue_recall")
    flagged = medians(results, dataset, "flagged_share", detectors, noise_settings)
    clean = [n for n in noise_settings if parse_noise(n)[1] == 0]
    for noise in clean:
        verdict[f"{noise}: share flagged"] = flagged[noise].map(lambda v: fmt(v, 3))
    verdict[f"{FOCUS_NOISE}: share flagged"] = (
        flagged[FOCUS_NOISE].map(lambda v: fmt(v, 3)) if FOCUS_NOISE in flagged else "n/a"
    )
    ranking.index.name = verdict.index.name = "method"
    return markdown(ranking), markdown(verdict)


def weight_table(results, dataset, methods, noise_settings):
    """Mean LiLAW weight of clean / flipped training rows, and what the meta steps learned."""
    cell = results[results.dataset == dataset]
    rows = [m for m in WEIGHTED if m in methods]
    if not rows or "weight_clean" not in cell:
        return None
    clean = medians(results, dataset, "weight_clean", rows, noise_settings).map(fmt)
    noisy = medians(results, dataset, "weight_flipped", rows, noise_settings).map(fmt)
    out = (clean + " / " + noisy).astype(object)
    at = cell[cell.method.isin(rows) & (cell.noise == FOCUS_NOISE)]
    learned = (at if len(at) else cell[cell.method.isin(rows)]).groupby("method")
    for column, title in [
        ("alpha", "alpha"),
        ("beta", "beta"),
        ("delta", "delta"),
        ("moderate_share", "share moderate"),
        ("easy_share_clean", "clean rows: share easy"),
        ("hard_share_flipped", "flipped rows: share hard"),
    ]:
        out[title] = learned[column].median().reindex(rows).map(lambda v: fmt(v, 2))
    out.index.name = "method"
    return markdown(out)


def report(args, datasets, results, timing):
    methods = list(args.methods)
    sections = [header(args, timing)]
    for name, data in datasets.items():
        noise_settings = list(args.noise)
        cell = results[results.dataset == name]
        fitted = [m for m in methods if (cell.method == m).any()]  # runs may differ
        n_train = int(cell["n_train"].iloc[0])
        n_test = len(data.y) - n_train
        parts = [
            f"## {name}: {data.description}",
            f"{len(data.y)} samples ({n_train} train with noisy labels, {n_test} clean test), "
            f"{int(cell['n_features'].iloc[0])} features, {data.n_classes} classes; "
            f"{len(args.seeds)} seeds; medians over seeds.",
        ]
        skipped = [(n, skip_reason(n, data.n_classes)) for n in noise_settings]
        skipped = [(n, reason) for n, reason in skipped if reason]
        if skipped:
            parts.append(
                "Skipped (n/a): " + "; ".join(f"{n}: {reason}" for n, reason in skipped) + "."
            )
        parts += [
            "### Test accuracy (clean labels), by noise setting",
            "Best median per column in bold. Fit time: median over all cells of the data "
            "set; the ratio is taken to plain skorch's fit in the same noise / seed cell.",
            accuracy_table(results, name, fitted, noise_settings),
        ]
        if FOCUS_NOISE in noise_settings and FOCUS_NOISE not in dict(skipped):
            parts += [
                f"### All test metrics at {FOCUS_NOISE}",
                focus_table(results, name, fitted, FOCUS_NOISE),
            ]
        tables = detection_tables(results, name, fitted, noise_settings)
        if tables:
            parts += [
                "### Label-issue detection on the training set: ranking",
                "The refit rows are left out: their `label_issues_` is the first "
                "training's, the same as the LiLAW row's (same `random_state`).",
                "AUROC of `-label_quality` for the flipped rows / precision among the k rows "
                "of lowest `label_quality`, k = number of flipped rows.",
                tables[0],
                "### Label-issue detection: the `is_label_issue` verdict",
                "Precision / recall of `is_label_issue` for the flipped rows; share of "
                "training rows flagged (at 0% noise every flag is a false alarm).",
                tables[1],
            ]
        weights = weight_table(results, name, fitted, noise_settings)
        if weights:
            parts += [
                "### What LiLAW's weights do",
                "Mean `lilaw_weight` of `label_issues_` (LiLAW's weight, in (0, 3), of a "
                "row's class probabilities averaged over the epochs, under the final alpha, "
                "beta, delta) of the clean / the flipped training rows, by noise setting; "
                f"then, at {FOCUS_NOISE} (over all "
                "settings if it was not run), the learned alpha, beta, delta (initial "
                "values 2) and the share of training rows whose dominant component is "
                "moderate, of clean rows that are easy and of flipped rows that are hard.",
                weights,
            ]
        sections.append("\n\n".join(parts))
    verdict = verdict_table(results, methods)
    if verdict:
        sections.append(
            "\n\n".join(
                [
                    f"## The recommended configuration against the goal: `{RECOMMENDED}`",
                    "At 40% noise, per data set: the method of highest median test accuracy, "
                    f"the recommended configuration's accuracy and its gap to that best "
                    f"(tied-best: a gap of at most {TIE}), its balanced accuracy and the "
                    "best balanced accuracy, and its fit time as a share of cleanlab's "
                    "(median over seeds of the ratio of their fit-time ratios to plain "
                    "skorch in the same cell; the goal is at most 0.5).",
                    verdict,
                ]
            )
        )
    return "\n\n".join(sections) + "\n"


def verdict_table(results, methods):
    """The recommended configuration at 40% noise against the best method of each cell."""
    cleanlab = "cleanlab CleanLearning"
    if RECOMMENDED not in methods or cleanlab not in methods:
        return None
    rows = []
    at_40 = results[results.noise.map(lambda n: parse_noise(n)[1] == 0.4)]
    for (dataset, noise), cell in at_40.groupby(["dataset", "noise"], sort=False):
        by_method = cell.groupby("method")
        accuracy = by_method["accuracy"].median()
        balanced = by_method["balanced_accuracy"].median()
        ratios = cell.pivot_table(index="seed", columns="method", values="time_ratio")
        best = accuracy.idxmax()
        rows.append(
            {
                "data set": dataset,
                "noise": noise,
                "best (accuracy)": f"{best} {fmt(accuracy[best])}",
                "recommended": fmt(accuracy[RECOMMENDED]),
                "gap": fmt(accuracy.max() - accuracy[RECOMMENDED]),
                "tied-best": "yes" if accuracy.max() - accuracy[RECOMMENDED] <= TIE else "no",
                "balanced acc.: recommended / best": (
                    f"{fmt(balanced[RECOMMENDED])} / {fmt(balanced.max())}"
                ),
                "fit time / cleanlab's": fmt((ratios[RECOMMENDED] / ratios[cleanlab]).median(), 2),
            }
        )
    return markdown(pd.DataFrame(rows).set_index("data set"))


def header(args, timing):
    command = shlex.join(["python", *sys.argv])
    return "\n".join(
        [
            "# Noisy training labels: LiLAW, plain training, GCE and cleanlab",
            "",
            f"sklilaw {sklilaw.__version__}, torch {torch.__version__}, skorch "
            f"{skorch.__version__}, scikit-learn {sklearn.__version__}, cleanlab "
            f"{cleanlab.__version__}, numpy {np.__version__}, Python "
            f"{platform.python_version()}; CPU, {os.cpu_count()} logical cores, torch "
            f"threads {torch.get_num_threads()}.",
            "",
            f"Command: `{command}`",
            "",
            f"Settings: epochs {args.epochs}, seeds {', '.join(map(str, args.seeds))}, "
            f"data sets {', '.join(args.datasets)}, noise {', '.join(args.noise)}; "
            f"test split {TEST_FRACTION:.0%} stratified with clean labels; validation "
            f"{VALIDATION_FRACTION:.0%} of the training part for every method; early "
            f"stopping patience {PATIENCE} epochs; cleanlab {CV_FOLDS} folds. Adam, lr "
            "1e-3, weight decay 1e-4, batch size 128 for every network.",
            "",
            timing,
        ]
    )


def plot(results, datasets, methods, path):
    """Test accuracy against the symmetric noise rate, one panel per data set.

    One colour per method (the recommended configuration drawn thickest); solid lines for
    the package's rows, dashed for the peers.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_cols = min(len(datasets), 3)
    n_rows = math.ceil(len(datasets) / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(5.5 * n_cols, 4.2 * n_rows), squeeze=False)
    colours = plt.get_cmap("tab20").colors
    for ax, name in zip(axes.flat, datasets, strict=False):
        cell = results[(results.dataset == name) & results.noise.str.startswith("sym-")]
        rates = sorted(cell.noise.unique(), key=lambda n: parse_noise(n)[1])
        x = [100 * parse_noise(n)[1] for n in rates]
        for colour, method in zip(colours, methods, strict=False):  # up to 20 methods
            rows = cell[cell.method == method]
            y = rows.groupby("noise")["accuracy"].median().reindex(rates)
            style = "-" if method.startswith("LiLAW") else "--"
            width = 3 if method == RECOMMENDED else 1.3
            ax.plot(x, y.to_numpy(), style, color=colour, lw=width, marker="o", label=method)
        ax.set_title(name)
        ax.set_xlabel("symmetric label noise in training labels (%)")
        ax.set_ylabel("test accuracy (clean labels), median")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(datasets) :]:
        ax.axis("off")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(methods), 3), fontsize=8)
    fig.tight_layout(rect=(0, 0.035 * math.ceil(len(methods) / 3), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------ main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DEFAULT_DATASETS)
    )
    parser.add_argument(
        "--noise",
        nargs="+",
        default=list(DEFAULT_NOISE),
        help="noise settings: sym-R (symmetric), asym-R (class pairs), inst-R "
        "(instance-dependent), R in percent",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="max epochs per fit")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        metavar="METHOD",
        help=f"methods to fit, from: {', '.join(map(repr, METHODS))}",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch.set_num_threads (1 on a shared machine)"
    )
    parser.add_argument(
        "--adult-samples",
        type=int,
        default=10000,
        help="rows of Adult used (stratified subsample); 0 for all 48,842",
    )
    parser.add_argument("--output", help="also write the Markdown report to this file")
    parser.add_argument(
        "--plot",
        default="/tmp/noisy_labels.png",
        help="PNG of accuracy vs symmetric noise rate ('' for none)",
    )
    parser.add_argument("--csv", help="write one row per fit to this CSV file")
    parser.add_argument(
        "--from-csv",
        nargs="+",
        metavar="CSV",
        help="fit nothing: write the report of the fits in these --csv files (e.g. of "
        "runs over different data sets in parallel processes); give the --epochs and "
        "--adult-samples they ran",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for noise in args.noise:
        parse_noise(noise)
    if PLAIN not in args.methods:
        parser.error(f"--methods must include {PLAIN!r}: fit times are ratios to it")
    args.methods = [m for m in METHODS if m in args.methods]  # the table order
    return args


def merge_runs(runs):
    """One table of the fits of several runs, and a sentence on the fits they repeat.

    A fit (data set, noise, seed, method) found in several runs is kept from the first
    run that has it; its test accuracy in the others is compared with the kept one,
    which checks that the runs are reproductions of one another (fit times aside).
    """
    key = ["dataset", "noise", "seed", "method"]
    results = pd.concat(runs, ignore_index=True)
    repeated = results.duplicated(key, keep=False)
    if not repeated.any():
        return results, "No fit is in more than one run."
    first = results[repeated].groupby(key)["accuracy"].transform("first")
    differ = int((results.loc[repeated, "accuracy"] != first).sum())
    sentence = (
        f"{int(results.duplicated(key).sum())} fits are repeated across runs and reported "
        f"from the first; {differ} of the repeats have a different test accuracy."
    )
    return results.drop_duplicates(key, keep="first"), sentence


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.from_csv:
        results, repeats = merge_runs([pd.read_csv(path) for path in args.from_csv])
        args.datasets = [d for d in DATASETS if d in set(results.dataset)]
        args.methods = [m for m in METHODS if m in set(results.method)]
        args.noise = [n for n in args.noise if n in set(results.noise)]
        args.seeds = sorted(set(results.seed))
        datasets = {name: DATASETS[name](args) for name in args.datasets}
        timing = (
            f"Tables from {', '.join(args.from_csv)}; load average (1 min) before the fits: "
            f"median {results.load_1min.median():.2f}, max {results.load_1min.max():.2f} "
            f"({os.cpu_count()} cores). {repeats}"
        )
    else:
        load_start = os.getloadavg()[0]
        start = time.perf_counter()
        datasets, results = run(args)
        timing = (
            f"Wall time {(time.perf_counter() - start) / 60:.1f} min; load average (1 min) "
            f"at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} ({os.cpu_count()} "
            f"cores; this run adds about {torch.get_num_threads()})."
        )
    text = report(args, datasets, results, timing)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    if args.csv:
        results.to_csv(args.csv, index=False)
    if args.plot:
        plot(results, datasets, args.methods, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
