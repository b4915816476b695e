"""Fit-time overhead of LiLAW against plain skorch, hand-written PyTorch loops and MLPClassifier.

What it measures
----------------
The wall-clock time of ``fit`` for the same network (``sklilaw.MLP`` with one hidden
layer of 100 units, or on the CNN row ``SmallCNN``; a fresh instance per fit built from
the repeat's seed, so every method starts from the same weights), on the same data,
with the same batch size, number of epochs, optimizer (Adam, lr 1e-3, weight decay
1e-4) and the same 15% stratified validation split (made once here with
``train_test_split`` and given to every method), on the CPU. The rows are:

1. ``plain skorch``: ``skorch.NeuralNetClassifier`` with cross-entropy, fed float32
   ``X`` and int64 ``y`` through skorch's default ``Dataset``/``DataLoader`` path; the
   validation split is given with ``train_split=predefined_split(...)``.
2. ``unweighted twin``: ``LiLAWClassifier(reweight=False)``, i.e. the
   package's own data path (``TensorBatches`` slicing tensors on the device) with the
   unweighted loss and no meta step. It isolates the cost of the data path.
3. ``LiLAW``: ``LiLAWClassifier`` with its default meta step (closed-form gradient of
   ``alpha, beta, delta`` on a gradient-free validation forward pass).
4. ``LiLAW, authors' meta step``: a subclass whose meta step does what the authors'
   public code does: a validation forward pass with a graph, in training mode, and a
   full backward pass through the network, whose gradients are thrown away.
5. ``LiLAW (DataLoader)``: ``LiLAWClassifier`` with ``torch.utils.data.DataLoader`` as
   training and validation iterator, to show what the lean data path buys.
6. ``floor: plain loop`` and ``floor: LiLAW loop``: minimal hand-written PyTorch loops
   (``_bench/floor.py``), fused Adam, one validation pass per epoch; the LiLAW loop adds
   exactly LiLAW's arithmetic with the package's own functions, and nothing else.
7. ``MLPClassifier``: scikit-learn's, with the same layer, Adam, batches and epochs, on
   the same training rows (no validation, never stopping early); MLP rows only.

Data: digits; ``make_classification`` at ``--synthetic-*`` (20,000 x 200 by default)
and at 5,000 x 16 with 26 classes; digits as 8x8 images with ``SmallCNN``.

All methods are fitted side by side in one process, interleaved per repeat (the order of
the methods is rotated each repeat, so drift of a shared, noisy machine spreads over all
of them), with the same seed for every method within a repeat. The tables report the
median fit time, its ratios to the plain floor and to plain skorch, the min/max fit time
and the median test accuracy on a held-out 25% test split. The accuracy is only there to
show that the speed is not bought with a broken model; it is not what this benchmark is
about.

Targets, each printed under its table as met or not: on the MLP rows, LiLAW at most
1.25x the LiLAW floor, and the unweighted twin at most 1.10x
the plain floor and no slower than ``MLPClassifier``; on the CNN, LiLAW at most 1.25x
its unweighted twin.

Threads: by default torch's own choice (one intra-op thread per core) is left alone and
printed in the header; ``--threads N`` calls ``torch.set_num_threads(N)`` once, for all
methods. On a shared machine with few cores, use ``--threads 1``: when another process
holds a core, every multi-threaded torch op waits for it, and with these small batches
fits became about 25x slower (2 cores, a test suite running alongside), swamping the
differences this script measures.

Usage::

    python benchmarks/overhead.py                      # defaults: 5 repeats, 20 epochs
    python benchmarks/overhead.py --repeats 9 --epochs 30 --threads 1 --output out.md
"""

import argparse
import gc
import statistics
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
import skorch
import torch
from _bench.common import (
    Clock,
    add_threads_argument,
    command_line,
    cpu,
    markdown,
    pin_threads,
    publish,
    rotated,
    timed,
    versions,
)
from _bench.floor import floor_fit
from _bench.models import SeededSkorch, SmallCNN, fixed_epochs_mlp_classifier, seeded_module
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from skorch.helper import predefined_split

from sklilaw import (
    MLP,
    LiLAWClassifier,
    label_probabilities,
    lilaw_weights,
    meta_gradient,
    meta_update,
)

BATCH_SIZE = 128
LR = 1e-3
WEIGHT_DECAY = 1e-4
VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.25
HIDDEN_LAYER_SIZES = (100,)
LILAW_TARGET = 1.25  # LiLAW against the LiLAW floor, MLP rows
UNWEIGHTED_TARGET = 1.10  # the unweighted path against the plain floor, MLP rows
CNN_TARGET = 1.25  # LiLAW against its unweighted twin, CNN row


# --------------------------------------------------------------------------- methods
class AuthorsMetaStepLiLAW(LiLAWClassifier):
    """LiLAW whose meta step follows the authors' public code.

    The validation batch goes through the module in training mode *with* a graph, the
    weighted loss ``mean(w_i * l_i)`` is built with ``alpha, beta, delta`` as leaf
    tensors that require a gradient (the weights come from the detached softmax outputs
    ``a = s[y]``, ``m = max(s)``), and ``backward()`` runs through the whole network.
    Only the gradient of the three scalars is used; the network's gradients are
    discarded.

    Since ``a``, ``m`` and ``l_i`` do not depend on ``alpha, beta, delta``, this gives the
    same meta-gradient as the closed form of ``sklilaw.meta_gradient`` (checked once at
    start-up by :func:`check_meta_gradients`); it only costs a backward pass more.
    """

    def authors_meta_gradient(self, batch, **fit_params):
        """The meta-gradient ``dL/d(alpha, beta, delta)`` by autograd through the network."""
        Xv, yv, sample_weight = batch
        self._set_training(True)
        y_pred = self.infer(Xv, **fit_params)  # with a graph through the network
        alpha, beta, delta = (
            p.detach().clone().requires_grad_(True) for p in self.criterion_.meta_params
        )
        p_label, p_max = label_probabilities(y_pred, yv)  # detached, as in the authors' code
        weights = lilaw_weights(p_label, p_max, torch.stack([alpha, beta, delta])).total
        losses = self.criterion_.per_sample_loss(y_pred, yv) * sample_weight
        (weights * losses).mean().backward()  # through the whole network
        grad = torch.stack([alpha.grad, beta.grad, delta.grad])
        self.optimizer_.zero_grad()  # the network's gradients are thrown away
        return grad

    def meta_step(self, batch, **fit_params):
        grad = self.authors_meta_gradient(batch, **fit_params)
        meta_update(self.criterion_.meta_params, grad, self.meta_lr, self.meta_weight_decay)


def new_module(split, seed):
    """A freshly initialised network of the split; the same seed, the same weights."""
    if split.cnn:
        return seeded_module(seed, SmallCNN, split.n_features, split.n_classes)
    return seeded_module(
        seed, MLP, split.n_features, split.n_classes, hidden_layer_sizes=HIDDEN_LAYER_SIZES
    )


def make_plain_skorch(module, epochs, seed, valid_dataset):
    """Plain skorch: skorch's default data path, unweighted cross-entropy, seeded batches."""
    return SeededSkorch(
        module, seed, max_epochs=epochs, train_split=predefined_split(valid_dataset)
    )


def make_lilaw(module, epochs, seed, cls=LiLAWClassifier, **params):
    """A LiLAWClassifier (or subclass) with the shared settings.

    ``weight_decay`` is LiLAWClassifier's own parameter for Adam's weight decay, the
    same as skorch's ``optimizer__weight_decay``; with a module instance,
    ``random_state`` seeds only the shuffling of batches.
    """
    return cls(
        module=module,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=LR,
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH_SIZE,
        max_epochs=epochs,
        early_stopping=False,  # as the floor: every epoch trains, none is restored
        random_state=seed,
        device="cpu",
        verbose=0,
        **params,
    )


PLAIN = "plain skorch"
UNWEIGHTED = "unweighted twin"
FLOOR = "floor: plain loop"
LILAW_FLOOR = "floor: LiLAW loop"
SKLEARN = "MLPClassifier"
METHODS = {
    PLAIN: None,  # built by make_plain_skorch, fitted without X_val
    UNWEIGHTED: lambda module, ep, seed: make_lilaw(module, ep, seed, reweight=False),
    "LiLAW": lambda module, ep, seed: make_lilaw(module, ep, seed),
    "LiLAW, authors' meta step": lambda module, ep, seed: make_lilaw(
        module, ep, seed, cls=AuthorsMetaStepLiLAW
    ),
    "LiLAW (DataLoader)": lambda module, ep, seed: make_lilaw(
        module,
        ep,
        seed,
        iterator_train=torch.utils.data.DataLoader,
        iterator_valid=torch.utils.data.DataLoader,
    ),
    FLOOR: None,  # _bench/floor.py
    LILAW_FLOOR: None,
    SKLEARN: None,  # the MLP rows only
}


def make_mlp_classifier(epochs, seed):
    """scikit-learn's MLPClassifier with the same layer, optimizer, batches and epochs."""
    return fixed_epochs_mlp_classifier(
        HIDDEN_LAYER_SIZES,
        lr=LR,
        weight_decay=WEIGHT_DECAY,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        seed=seed,
    )


# ------------------------------------------------------------------------------ data
class Split:
    """One data set, split once: fit / validation (15%) / test (25%), all stratified."""

    def __init__(self, name, X, y, scaler, seed=0, cnn=False):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=TEST_FRACTION, stratify=y, random_state=seed
        )
        scaler.fit(X_train)
        X_train = scaler.transform(X_train).astype(np.float32)
        X_test = scaler.transform(X_test).astype(np.float32)
        X_fit, X_val, y_fit, y_val = train_test_split(
            X_train, y_train, test_size=VALIDATION_FRACTION, stratify=y_train, random_state=seed
        )
        self.name = name
        self.X_fit, self.y_fit = X_fit, y_fit.astype(np.int64)
        self.X_val, self.y_val = X_val, y_val.astype(np.int64)
        self.X_test, self.y_test = X_test, y_test.astype(np.int64)
        self.n_features = X.shape[1]
        self.n_classes = len(np.unique(y))
        self.cnn = cnn

    @property
    def methods(self):
        """The methods this split times: MLPClassifier has no CNN."""
        return [method for method in METHODS if not (self.cnn and method == SKLEARN)]

    def describe(self):
        return (
            f"{self.name}: {len(self.y_fit)} fit / {len(self.y_val)} validation / "
            f"{len(self.y_test)} test samples, {self.n_features} features, "
            f"{self.n_classes} classes"
        )


def digits_split():
    X, y = load_digits(return_X_y=True)
    return Split("digits (load_digits, scaled to [0, 1])", X, y, MinMaxScaler())


def digits_cnn_split():
    X, y = load_digits(return_X_y=True)
    name = "digits as 8x8 images, SmallCNN (16, 32 channels)"
    return Split(name, X, y, MinMaxScaler(), cnn=True)


def synthetic_split(n_samples, n_features, n_classes):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(n_features, 40),
        n_redundant=min(max(n_features - 40, 0), 40),
        n_classes=n_classes,
        class_sep=1.0,
        random_state=0,
    )
    name = f"synthetic (make_classification, {n_samples} x {n_features}, standardised)"
    return Split(name, X, y, StandardScaler())


# --------------------------------------------------------------------------- fitting
def fit_once(method, split, epochs, seed):
    """Fit one method once; return (fit seconds, test accuracy)."""
    module = new_module(split, seed)
    gc.collect()
    if method == PLAIN:
        valid = skorch.dataset.Dataset(split.X_val, split.y_val)
        net = make_plain_skorch(module, epochs, seed, valid)
        seconds = timed(net.fit, split.X_fit, split.y_fit)
    elif method in (FLOOR, LILAW_FLOOR):
        seconds = timed(
            floor_fit,
            module,
            split,
            epochs=epochs,
            batch_size=BATCH_SIZE,
            lr=LR,
            weight_decay=WEIGHT_DECAY,
            seed=seed,
            lilaw=method == LILAW_FLOOR,
        )
        with torch.no_grad():
            module.eval()
            predicted = module(torch.as_tensor(split.X_test)).argmax(1).numpy()
        return seconds, float((predicted == split.y_test).mean())
    elif method == SKLEARN:
        net = make_mlp_classifier(epochs, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds = timed(net.fit, split.X_fit, split.y_fit)
    else:
        net = METHODS[method](module, epochs, seed)
        seconds = timed(net.fit, split.X_fit, split.y_fit, X_val=split.X_val, y_val=split.y_val)
    accuracy = float((net.predict(split.X_test) == split.y_test).mean())
    return seconds, accuracy


def check_meta_gradients(split, seed):
    """Sanity check: the authors' autograd meta-gradient equals the closed form.

    Fits the authors' variant for one epoch (this also warms up torch), then compares
    both gradients on the first validation batch.
    """
    module = new_module(split, seed)
    net = make_lilaw(module, 1, seed, cls=AuthorsMetaStepLiLAW)
    net.fit(split.X_fit, split.y_fit, X_val=split.X_val, y_val=split.y_val)
    Xv = torch.as_tensor(split.X_val[:BATCH_SIZE])
    yv = torch.as_tensor(split.y_val[:BATCH_SIZE])
    batch = (Xv, yv, torch.ones(len(yv)))
    autograd = net.authors_meta_gradient(batch)
    with torch.no_grad():
        net.module_.train()
        logits = net.module_(Xv)
        p_label, p_max = label_probabilities(logits, yv)
        losses = net.criterion_.per_sample_loss(logits, yv)
        closed = meta_gradient(p_label, p_max, losses, net.criterion_.meta_params)
    torch.testing.assert_close(autograd, closed, rtol=1e-4, atol=1e-7)
    return closed


def warm_up(split, epochs, seed):
    """One untimed fit of every method, so lazy initialisation is not timed."""
    for method in split.methods:
        fit_once(method, split, min(epochs, 2), seed)


def run_benchmark(split, epochs, repeats, seed):
    """Fit every method ``repeats`` times, interleaved and rotated; return the results."""
    methods = split.methods
    times = {m: [] for m in methods}
    accuracies = {m: [] for m in methods}
    for repeat in range(repeats):
        for method in rotated(methods, repeat):
            seconds, accuracy = fit_once(method, split, epochs, seed + repeat)
            times[method].append(seconds)
            accuracies[method].append(accuracy)
        print(
            f"  repeat {repeat + 1}/{repeats}: "
            + ", ".join(f"{m} {times[m][-1]:.2f}s" for m in methods),
            file=sys.stderr,
            flush=True,
        )
    return times, accuracies


# ---------------------------------------------------------------------------- report
def _median(times, method):
    return statistics.median(times[method])


def markdown_table(times, accuracies, split):
    """The table of one split, and its ratios against the targets."""
    floor = _median(times, FLOOR)
    rows = {
        method: {
            "median fit s": f"{statistics.median(seconds):.3f}",
            "ratio to the plain floor": f"{statistics.median(seconds) / floor:.2f}x",
            "ratio to plain skorch": f"{statistics.median(seconds) / _median(times, PLAIN):.2f}x",
            "min / max fit s": f"{min(seconds):.3f} / {max(seconds):.3f}",
            "median test accuracy": f"{statistics.median(accuracies[method]):.4f}",
        }
        for method, seconds in times.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
    if split.cnn:
        targets = [("LiLAW / unweighted twin", "LiLAW", UNWEIGHTED, CNN_TARGET)]
    else:
        targets = [
            ("LiLAW / LiLAW floor", "LiLAW", LILAW_FLOOR, LILAW_TARGET),
            ("unweighted twin / plain floor", UNWEIGHTED, FLOOR, UNWEIGHTED_TARGET),
        ]
    lines = []
    for name, method, reference, target in targets:
        ratio = _median(times, method) / _median(times, reference)
        lines.append(f"- {name}: {ratio:.2f}x (target <= {target:.2f}x, {_verdict(ratio, target)})")
    if not split.cnn:
        # per training row: MLPClassifier trains on the same fit rows, validates on none
        ratio = _median(times, UNWEIGHTED) / _median(times, SKLEARN)
        lines.append(
            f"- unweighted twin / MLPClassifier: {ratio:.2f}x (target <= 1.00x, "
            f"{_verdict(ratio, 1.0)})"
        )
    return f"{markdown(table)}\n\n" + "\n".join(lines)


def _verdict(ratio, target):
    return "met" if ratio <= target else "NOT met"


def header(args):
    thread_note = "set by --threads" if args.threads else "torch's default"
    return "\n".join(
        [
            "# LiLAW fit-time overhead versus plain skorch, the floor and MLPClassifier",
            "",
            f"{versions(torch, skorch, sklearn, np)}; {cpu()} ({thread_note}); epochs "
            f"{args.epochs}, batch size {BATCH_SIZE}, repeats {args.repeats}, seed {args.seed}.",
            "",
            f"Command: `{command_line()}`",
            "",
            "Median of the repeats; methods interleaved and rotated per repeat. Test "
            "accuracy only shows the models are sound; it is not what is measured here.",
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--repeats", type=int, default=5, help="fits per method and data set")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit")
    add_threads_argument(parser, default=None)
    parser.add_argument("--synthetic-samples", type=int, default=20000)
    parser.add_argument("--synthetic-features", type=int, default=200)
    parser.add_argument("--synthetic-classes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="seed of repeat 0 (then +1 per repeat)")
    parser.add_argument("--output", help="also write the Markdown report to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    pin_threads(args.threads)
    clock = Clock()
    splits = [
        digits_split(),
        synthetic_split(args.synthetic_samples, args.synthetic_features, args.synthetic_classes),
        synthetic_split(5000, 16, 26),
        digits_cnn_split(),
    ]
    sections = [header(args)]
    for split in splits:
        print(f"{split.describe()}", file=sys.stderr, flush=True)
        grad = check_meta_gradients(split, args.seed)
        print(
            f"  sanity check passed: authors' meta-gradient == closed form {grad.tolist()}",
            file=sys.stderr,
            flush=True,
        )
        warm_up(split, args.epochs, args.seed)
        times, accuracies = run_benchmark(split, args.epochs, args.repeats, args.seed)
        sections.append(f"## {split.describe()}\n\n{markdown_table(times, accuracies, split)}")
    sections.append(clock.summary())
    publish("\n\n".join(sections) + "\n", args.output)


if __name__ == "__main__":
    main()
