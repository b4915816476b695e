"""Synthetic training rows: do they help, and does LiLAW help use them?

What it measures
----------------
For every data set, share of real training rows, generator and seed:

1. The data set is split into a training and a test part (as ``noisy_labels.py`` does:
   75/25 stratified, seeded by the seed; ECG5000 keeps the UCR archive's split). A
   stratified ``--fractions`` share of the training part is the *real* training set
   (at least ``MIN_PER_CLASS`` rows of every class), the rest is unused. The test part
   is real, with clean labels: every model is scored on it.
2. 15% of the real rows, stratified, are held out as the validation rows of every
   method (``X_val, y_val``): the meta steps, and the choice of the constant below, see
   real rows only, and no generator sees them.
3. A generator makes as many synthetic rows of each class as there are real training
   rows (``_bench/generators.py``): imbalanced-learn's ``SMOTE``; scikit-learn's
   ``GaussianMixture`` fitted per class; and a *degraded* mixture, twice as wide, with
   30% of each class's rows drawn from another class's mixture but labelled as the
   class (wrong labels made by the generator).

The methods, all ``LiLAWClassifier`` with the package defaults (MLP of 100, Adam, lr
1e-3, batches of 128, ``--epochs`` epochs, ``random_state=seed``; ECG5000 the FCN of
``noisy_labels.py``), fitted with ``synthetic=`` marking the synthetic rows:

- ``real only``: the real training rows, without re-weighting (``warmup_epochs`` =
  epochs).
- ``+ synthetic``: real and synthetic rows, without re-weighting.
- ``+ synthetic, LiLAW``: real and synthetic rows, LiLAW re-weighting, meta steps on the
  real validation rows.
- ``+ synthetic, LiLAW (authors' gradient)``: the same with ``detach_weights=False``.
- ``+ synthetic, down-weighted``: without re-weighting, every synthetic row's
  ``sample_weight`` a constant from ``CONSTANTS``, the one of best accuracy on the real
  validation rows (the simple baseline any user could try; it costs one fit per
  constant, and its fit time is their sum).

Reported: test accuracy and balanced accuracy, the mean LiLAW weight of the real and of
the synthetic training rows in the last epoch (``history``'s ``mean_weight_real``,
``mean_weight_synthetic``), the constant chosen and the fit time; medians over seeds,
and for each cell whether the synthetic rows help (``+ synthetic`` against ``real
only``) and whether LiLAW helps use them (against ``+ synthetic``).

Usage::

    python benchmarks/synthetic_data.py                          # all, 3 seeds
    python benchmarks/synthetic_data.py --datasets digits --fractions 0.1 --seeds 1

Adult and ECG5000 are read from ``$SKLILAW_DATA`` (or ``--data-home``; Adult else
downloaded).
"""

import argparse
import time
from functools import partial

import numpy as np
import pandas as pd
from _bench.common import add_run_arguments, command_line, cpu, fitted_rows, publish
from _bench.generators import GENERATORS
from _bench.noisy_data import DATASETS, split
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from sklilaw import LiLAWClassifier
from sklilaw._cli._runtime import warm_up_torch

MIN_PER_CLASS = 4
VALIDATION_FRACTION = 0.15
CONSTANTS = (0.1, 0.25, 0.5, 1.0)
MARGINS = (0.005, 0.01)
REAL = "real only"
PLAIN = "+ synthetic"
LILAW = "+ synthetic, LiLAW"
AUTHORS = "+ synthetic, LiLAW (authors' gradient)"
CONSTANT = "+ synthetic, down-weighted"
METHODS = (REAL, PLAIN, LILAW, AUTHORS, CONSTANT)
DEFAULT_DATASETS = ("digits", "breast_cancer", "adult", "ecg5000")


def real_subset(y, fraction, seed):
    """Positions of a stratified ``fraction`` of the rows, at least MIN_PER_CLASS a class."""
    rng = np.random.RandomState(seed)
    rows = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        n = min(len(members), max(MIN_PER_CLASS, round(fraction * len(members))))
        rows.append(rng.choice(members, size=n, replace=False))
    return np.sort(np.concatenate(rows))


def estimator(data, n_features, epochs, seed, **params):
    if data.module is not None:
        params.update(
            module=data.module, module__n_features=n_features, module__n_classes=data.n_classes
        )
    # the paper's method, a fixed number of epochs, as this benchmark was measured
    return LiLAWClassifier(max_epochs=epochs, early_stopping=False, random_state=seed, **params)


def fit_one(method, make, train, synthetic, validation):
    """Fit ``method``; return the fitted model, the chosen constant and the fit seconds.

    ``make(**params)`` builds the estimator of the cell with ``params``.
    """
    (X, y), (X_syn, y_syn), (X_val, y_val) = train, synthetic, validation
    if method == REAL:
        X_fit, y_fit, mask = X, y, np.zeros(len(y), dtype=bool)
    else:
        X_fit, y_fit = np.concatenate([X, X_syn]), np.concatenate([y, y_syn])
        mask = np.repeat([False, True], [len(y), len(y_syn)])
    unweighted = {"reweight": False}
    start = time.perf_counter()
    constant = np.nan
    if method == CONSTANT:
        best = -1.0
        for candidate in CONSTANTS:
            model = make(**unweighted).fit(
                X_fit,
                y_fit,
                np.where(mask, candidate, 1.0),
                X_val=X_val,
                y_val=y_val,
                synthetic=mask,
            )
            score = model.score(X_val, y_val)
            if score > best:
                best, kept, constant = score, model, candidate
        model = kept
    else:
        params = {REAL: unweighted, PLAIN: unweighted, LILAW: {}}.get(
            method, {"detach_weights": False}
        )
        model = make(**params).fit(X_fit, y_fit, X_val=X_val, y_val=y_val, synthetic=mask)
    return model, constant, time.perf_counter() - start


def run(args):
    rows = []
    cells = [
        (name, fraction, seed)
        for name in args.datasets
        for fraction in args.fractions
        for seed in range(args.seeds)
    ]
    datasets = {name: DATASETS[name](args) for name in args.datasets}
    warm_up_torch()
    progress = tqdm(total=len(cells) * (1 + len(GENERATORS) * (len(METHODS) - 1)))
    for name, fraction, seed in cells:
        data = datasets[name]
        part = split(data, seed)
        real = real_subset(part.y_train, fraction, seed)
        X, y = part.X_train[real], part.y_train[real]
        train, val = train_test_split(
            np.arange(len(y)), test_size=VALIDATION_FRACTION, stratify=y, random_state=seed
        )
        validation = (X[val], y[val])
        make = partial(estimator, data, X.shape[1], args.epochs, seed)
        for generator_name, generator in GENERATORS.items():
            synthetic = generator(X[train], y[train], seed)
            for method in METHODS:
                if method == REAL and generator_name != next(iter(GENERATORS)):
                    continue  # one real-only fit per cell, reported under every generator
                model, constant, seconds = fit_one(
                    method, make, (X[train], y[train]), synthetic, validation
                )
                predicted = model.predict(part.X_test)
                history = model.history[-1]
                record = {
                    "dataset": name,
                    "fraction": fraction,
                    "seed": seed,
                    "n_real": len(train),
                    "n_synthetic": len(synthetic[1]),
                    "method": method,
                    "accuracy": accuracy_score(part.y_test, predicted),
                    "balanced_accuracy": balanced_accuracy_score(part.y_test, predicted),
                    "weight_real": history.get("mean_weight_real", np.nan),
                    "weight_synthetic": history.get("mean_weight_synthetic", np.nan),
                    "constant": constant,
                    "fit_seconds": seconds,
                }
                generators = GENERATORS if method == REAL else [generator_name]
                rows += [{**record, "generator": g} for g in generators]
                progress.update()
    progress.close()
    return pd.DataFrame(rows)


def report(results, args):
    medians = results.groupby(["dataset", "fraction", "generator", "method"], sort=False).median(
        numeric_only=True
    )
    accuracy = medians["accuracy"].unstack("method")[list(METHODS)]
    balanced = medians["balanced_accuracy"].unstack("method")[list(METHODS)]
    comparisons = {
        "synthetic helps": (PLAIN, REAL),
        "LiLAW helps use them": (LILAW, PLAIN),
        "LiLAW beats real only": (LILAW, REAL),
        "LiLAW beats down-weighting": (LILAW, CONSTANT),
    }
    verdict = pd.DataFrame(
        {name: accuracy[a] > accuracy[b] for name, (a, b) in comparisons.items()}
    )
    margins = pd.DataFrame(
        {
            f"by more than {margin}": {
                name: int((accuracy[a] - accuracy[b] > margin).sum())
                for name, (a, b) in comparisons.items()
            }
            for margin in MARGINS
        }
    )
    losses = pd.DataFrame(
        {
            f"loses by more than {margin}": {
                name: int((accuracy[b] - accuracy[a] > margin).sum())
                for name, (a, b) in comparisons.items()
            }
            for margin in MARGINS
        }
    )
    lilaw_rows = medians.xs(LILAW, level="method")
    weights = lilaw_rows[["weight_real", "weight_synthetic"]].assign(
        **{"chosen constant": medians.xs(CONSTANT, level="method")["constant"]}
    )
    seconds = medians["fit_seconds"].unstack("method")[list(METHODS)]
    counts = pd.concat([verdict.sum().astype(int).rename("higher"), margins, losses], axis=1)
    by_generator = verdict.groupby(level="generator", sort=False).sum()
    sections = [
        "# Synthetic training rows: real only vs real + synthetic, with and without LiLAW",
        f"{cpu()}; epochs {args.epochs}; seeds 0-{args.seeds - 1}; the real rows are a "
        f"stratified share of each training part (at least {MIN_PER_CLASS} a class), "
        f"{VALIDATION_FRACTION:.0%} of them held out for validation; as many synthetic "
        "rows as real training rows; scored on the real, clean test part.",
        f"Command: `{command_line()}`",
        "## Test accuracy (medians over seeds)",
        accuracy.to_markdown(floatfmt=".3f"),
        "## Test balanced accuracy (medians over seeds)",
        balanced.to_markdown(floatfmt=".3f"),
        f"## Where it helps: cells (of {len(verdict)}) where the median accuracy is higher, "
        "higher by a margin, and lower by a margin",
        counts.to_markdown(),
        "By generator (cells where it holds):",
        by_generator.to_markdown(),
        verdict.to_markdown(),
        "## LiLAW's mean weight of the real and the synthetic training rows (last epoch), "
        "and the down-weighting baseline's chosen constant",
        weights.to_markdown(floatfmt=".3f"),
        "## Fit seconds (medians)",
        seconds.to_markdown(floatfmt=".2f"),
    ]
    return "\n\n".join(sections) + "\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(DEFAULT_DATASETS), choices=sorted(DATASETS)
    )
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.05, 0.1, 0.25])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument(
        "--adult-samples", type=int, default=10000, help="stratified subsample of Adult"
    )
    add_run_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results, clock = fitted_rows(args, run)
    source = f"The fits are those of {args.from_csv}.\n\n" if args.from_csv else ""
    publish(source + report(results, args) + "\n" + clock.summary() + "\n", args.output)


if __name__ == "__main__":
    main()
