"""Noisy tabular labels: LiLAW against what a scikit-learn user would pick instead.

What it measures
----------------
For every data set, seed and noise setting, the rows are split 75/25 (stratified, seeded
by the seed); label noise is injected into the training labels only (seeded by the seed),
every method is fitted on the noisy training labels and scored on the *clean* test
labels. Every method is the last step of the same pipeline, the one a user would write
for a table: numeric columns imputed by their median and standardised, the other columns
imputed by their most frequent value and one-hot encoded (``_bench/tabular.py``).

Methods, each with its library's defaults except where said:

* ``logistic regression``: ``LogisticRegression(max_iter=1000)``;
* ``HistGradientBoosting``: ``HistGradientBoostingClassifier(early_stopping=True)``;
* ``cleanlab(HistGradientBoosting)``: cleanlab's ``CleanLearning`` around that booster
  (5 folds of out-of-fold probabilities, confident learning, a final fit on the rows not
  flagged);
* ``MLPClassifier``: ``MLPClassifier(early_stopping=True)``;
* ``plain skorch``: ``sklilaw.baselines.plain_skorch`` (skorch's ``NeuralNetClassifier``
  on ``sklilaw.MLP``, Adam, lr 1e-3, weight decay 1e-4, batches of 128, 100 epochs) with a
  stratified 15% validation split, as a skorch user writes it;
* ``LiLAWClassifier()`` and ``LiLAWClassifier(noise_handling='auto')``: the package's
  defaults and its configuration for noisy labels;
* ``LiLAW, 100 epochs, no early stopping``: the package's default before it stopped
  early (``early_stopping=False, max_epochs=100``), the reference of the clean-label
  target; not a peer (left out of ranks and counts).
* ``LiLAWClassifier(reweight=False)``: the default's *unweighted twin*, the same
  estimator, split, batches and early stopping with unit weights and no meta step; not
  a peer. The default against it is what LiLAW's weights add on tables.

Noise settings: ``none``; ``sym-30`` (30% of the labels, each to another class drawn
uniformly); ``pair-30`` (30% of each class to the next class); ``inst-lr-30`` and
``inst-gb-30`` (30% of the rows, drawn by how little a model's 5-fold out-of-fold
probabilities believe their clean label, flipped to the class it confuses them with most;
the model is a logistic regression, or a gradient-boosted model, behind the same
preprocessing: a logistic regression wins the noise its own confusions shape).

A *cell* is a data set and a noise setting; the score of a method in a cell is its mean
test accuracy over the seeds. Tables: per noise setting, accuracy (and balanced
accuracy) by data set and method; over all cells, how often each method is within 0.01 of
the cell's best peer, its mean rank among the peers, its mean gap to the best, and its fit
time as a ratio to the booster's in the same cell and seed (median over cells and
seeds). Then the targets of ``LiLAWClassifier()`` and ``'auto'``, each as met or missed,
with the cells that miss.

Data sets: the eight CSV files of ``$SKLILAW_DATA/tabular`` (missing values,
categoricals, imbalance, 344-9,857 rows), UCI Adult (``$SKLILAW_DATA/adult``, a
stratified subsample of ``--adult-samples`` rows) and scikit-learn's breast cancer.

Everything is seeded (split, noise, models), and torch runs one thread per process:
rerunning a command gives the same accuracies. Fit times are wall times of
``pipeline.fit``, measured one fit at a time in each worker process; with ``--jobs 2``
two processes share the machine, which slows all methods alike (the ratios hold, the
seconds do not).

Usage::

    python benchmarks/tabular_peers.py --jobs 2 --csv benchmarks/results/tabular_peers.csv \\
        --output benchmarks/results/tabular_peers.md
    python benchmarks/tabular_peers.py --datasets penguins spam --seeds 0 --jobs 2   # a smoke run
    python benchmarks/tabular_peers.py --from-csv benchmarks/results/tabular_peers.csv
"""

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from _bench.common import Clock, command_line, commit, cpu, markdown, publish
from _bench.tabular import (
    AUTO,
    BOOSTER,
    DATASETS,
    DEFAULT,
    METHODS,
    NOISE,
    NOISE_DESCRIPTIONS,
    PEERS,
    PREVIOUS_DEFAULT,
    REFERENCES,
    UNWEIGHTED_TWIN,
    add_noise,
    load_table,
    model,
    noise_kind,
    split,
)

from sklilaw import tabular_preprocessor

TIE = 0.01  # within this of the best accuracy counts as a tie
IMBALANCED = 0.2  # a data set whose smallest class is under this share of the rows


# ------------------------------------------------------------------------------ fits
def fit_unit(dataset, seed, noise_settings, methods, adult_samples):
    """Every fit of one data set and seed: one row per noise setting and method."""
    import torch

    torch.set_num_threads(1)
    table = load_table(dataset, adult_samples)
    X_train, X_test, y_train, y_test = split(table, seed)
    n_features = tabular_preprocessor().fit(X_train).transform(X_train.iloc[:1]).shape[1]
    rows = []
    for shift, noise in enumerate(noise_settings):
        y_noisy = add_noise(noise, X_train, y_train, seed)
        order = methods[shift % len(methods) :] + methods[: shift % len(methods)]
        for method in order:
            pipeline = model(method, seed, n_features, table.n_classes)
            with warnings.catch_warnings(), torch.random.fork_rng():
                warnings.simplefilter("ignore")  # convergence and refit notices
                torch.manual_seed(seed)  # plain skorch draws from torch's global state
                start = time.perf_counter()
                pipeline.fit(X_train, y_noisy)
                seconds = time.perf_counter() - start
            # cleanlab's CleanLearning is no scikit-learn estimator that check_is_fitted
            # knows as fitted, so the pipeline's steps predict one after the other
            predicted = pipeline[-1].predict(pipeline[:-1].transform(X_test))
            rows.append(
                {
                    "dataset": dataset,
                    "noise": noise,
                    "seed": seed,
                    "method": method,
                    "accuracy": float(np.mean(predicted == y_test)),
                    "balanced_accuracy": _balanced_accuracy(y_test, predicted),
                    "fit_seconds": seconds,
                    "flipped_share": float(np.mean(y_noisy != y_train)),
                    "majority_rate": float(np.bincount(y_test).max() / len(y_test)),
                    "minority_share": table.minority_share,
                    "n_rows": len(table.y),
                    "n_features": n_features,
                    "n_classes": table.n_classes,
                    "best_params": str(getattr(pipeline[-1], "best_params_", "")),
                }
            )
    return rows


def _balanced_accuracy(y_true, y_pred):
    recalls = [np.mean(y_pred[y_true == label] == label) for label in np.unique(y_true)]
    return float(np.mean(recalls))


def run(args):
    units = [(d, s) for d in args.datasets for s in args.seeds]
    arguments = [(d, s, args.noise, args.methods, args.adult_samples) for d, s in units]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(fit_unit, *a) for a in arguments]
        for done, future in enumerate(futures, 1):
            rows += future.result()
            if not args.quiet:
                print(f"{done}/{len(futures)} data set x seed done", file=sys.stderr)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- report
def cell_scores(results, metric="accuracy"):
    """Mean over seeds of ``metric``: rows (dataset, noise), one column per method."""
    scores = results.pivot_table(
        index=["dataset", "noise"], columns="method", values=metric, aggfunc="mean"
    )
    return scores[[m for m in METHODS if m in scores]]


def summary(results):
    """Over all cells, per peer: ties with the best, mean rank, mean gap, time ratio."""
    scores = cell_scores(results)
    peers = [m for m in PEERS if m in scores]
    best = scores[peers].max(axis=1)
    gaps = scores.sub(best, axis=0).mul(-1)
    ranks = scores[peers].rank(axis=1, ascending=False, method="min")
    times = results.pivot_table(
        index=["dataset", "noise", "seed"], columns="method", values="fit_seconds"
    )
    ratio = times.div(times[BOOSTER], axis=0).median() if BOOSTER in times else None
    table = pd.DataFrame(
        {
            f"within {TIE} of the best": [
                f"{(gaps[m] <= TIE).sum()} of {len(gaps)}" for m in scores
            ],
            "mean rank": [f"{ranks[m].mean():.2f}" if m in ranks else "" for m in scores],
            "mean gap to best": [f"{gaps[m].mean():.3f}" for m in scores],
            "fit time / booster": [f"{ratio[m]:.2f}" if ratio is not None else "" for m in scores],
        },
        index=pd.Index(list(scores), name="method"),
    )
    return table, gaps, ranks


def per_noise_tables(results, metric):
    """One table per noise setting: data sets by methods, the best peer's score in bold."""
    scores = cell_scores(results, metric)
    best = scores[[m for m in PEERS if m in scores]].max(axis=1)
    parts = []
    for noise in scores.index.get_level_values("noise").unique():
        rows = scores.xs(noise, level="noise")
        top = best.xs(noise, level="noise")
        shown = pd.DataFrame(
            {
                method: [
                    f"**{v:.3f}**" if method in PEERS and v >= b - 1e-12 else f"{v:.3f}"
                    for v, b in zip(rows[method], top, strict=True)
                ]
                for method in rows
            },
            index=rows.index.rename("data set"),
        )
        parts.append(f"### {noise}\n\n{markdown(shown)}")
    return "\n\n".join(parts)


def targets(results):
    """The issue's targets, each met or missed, with the cells that miss."""
    scores = cell_scores(results)
    balanced = cell_scores(results, "balanced_accuracy")
    lines = []
    noisy = scores.index.get_level_values("noise") != "none"
    majority = results.groupby(["dataset", "noise"])["majority_rate"].first()

    def report(name, misses, total):
        verdict = "met" if not misses else f"missed in {len(misses)} of {total}"
        lines.append(f"- {name}: **{verdict}**" + (f" ({'; '.join(misses)})" if misses else ""))

    if DEFAULT in scores and "MLPClassifier" in scores:
        gap = scores.loc[noisy, "MLPClassifier"] - scores.loc[noisy, DEFAULT]
        misses = [f"{d} {n}: {g:+.3f}" for (d, n), g in gap.items() if g > TIE]
        report(
            f"`{DEFAULT}` never more than {TIE} below `MLPClassifier(early_stopping=True)` "
            "in a noisy cell",
            misses,
            noisy.sum(),
        )
        below = scores.loc[noisy, DEFAULT] - majority[noisy]
        misses = [f"{d} {n}: {b:+.3f}" for (d, n), b in below.items() if b < 0]
        report(
            f"`{DEFAULT}` never below the majority-class rate in a noisy cell", misses, noisy.sum()
        )
    if DEFAULT in scores and PREVIOUS_DEFAULT in scores:
        clean = ~noisy
        gap = scores.loc[clean, PREVIOUS_DEFAULT] - scores.loc[clean, DEFAULT]
        misses = [f"{d}: {g:+.3f}" for (d, _), g in gap.items() if g > 0.005]
        report(
            f"`{DEFAULT}` with clean labels never more than 0.005 below the previous default",
            misses,
            clean.sum(),
        )
    if AUTO in scores:
        table, gaps, ranks = summary(results)
        ties = int((gaps[AUTO] <= TIE).sum())
        share = ties / len(gaps)
        lines.append(
            f"- `{AUTO}` within {TIE} of the best in at least 85% of the cells: "
            f"**{'met' if share >= 0.85 else 'missed'}** ({ties} of {len(gaps)}, {share:.0%})"
        )
        mean_ranks = ranks.mean()
        best_rank = mean_ranks.idxmin()
        lines.append(
            f"- `{AUTO}` has the best mean rank: **{'met' if best_rank == AUTO else 'missed'}** "
            f"({mean_ranks[AUTO]:.2f}; best {best_rank} {mean_ranks[best_rank]:.2f})"
        )
        if DEFAULT in balanced:
            imbalanced = results.groupby("dataset")["minority_share"].first() < IMBALANCED
            rows = balanced.index.get_level_values("dataset").isin(imbalanced[imbalanced].index)
            gap = balanced.loc[rows, DEFAULT] - balanced.loc[rows, AUTO]
            misses = [f"{d} {n}: {g:+.3f}" for (d, n), g in gap.items() if g > TIE]
            report(
                f"`{AUTO}`'s balanced accuracy never more than {TIE} below the default's on "
                f"imbalanced data (smallest class under {IMBALANCED:.0%})",
                misses,
                rows.sum(),
            )
        times = results.pivot_table(
            index=["dataset", "noise", "seed"], columns="method", values="fit_seconds"
        )
        cleanlab = f"cleanlab({BOOSTER})"
        if cleanlab in times:
            ratio = (times[AUTO] / times[cleanlab]).median()
            lines.append(
                f"- `{AUTO}` at most cleanlab(booster)'s fit time: "
                f"**{'met' if ratio <= 1 else 'missed'}** (median ratio {ratio:.2f})"
            )
    return "\n".join(lines)


def weights_added(results):
    """The default against its unweighted twin, cell by cell: where the weights help."""
    scores = cell_scores(results)
    if DEFAULT not in scores or UNWEIGHTED_TWIN not in scores:
        return f"(needs `{DEFAULT}` and `{UNWEIGHTED_TWIN}`)"
    gain = scores[DEFAULT] - scores[UNWEIGHTED_TWIN]
    noisy = gain.index.get_level_values("noise") != "none"
    rows = []
    for name, part in (("noisy labels", gain[noisy]), ("clean labels", gain[~noisy])):
        rows.append(
            {
                "cells": name,
                f"weights better by > {TIE}": f"{(part > TIE).sum()} of {len(part)}",
                f"within {TIE}": f"{(part.abs() <= TIE).sum()} of {len(part)}",
                f"weights worse by > {TIE}": f"{(part < -TIE).sum()} of {len(part)}",
                "median gain": f"{part.median():+.3f}",
                "mean gain": f"{part.mean():+.3f}",
            }
        )
    largest = gain.abs().sort_values(ascending=False).index[:6]
    cells = "; ".join(f"{d} {n}: {gain[d, n]:+.3f}" for d, n in largest)
    return (
        f"Accuracy of `{DEFAULT}` minus that of `{UNWEIGHTED_TWIN}`, per cell.\n\n"
        f"{markdown(pd.DataFrame(rows).set_index('cells'))}\n\nLargest differences: {cells}."
    )


def report(results, header):
    table, _, _ = summary(results)
    noise_lines = "\n".join(f"- `{kind}`: {text}" for kind, text in NOISE_DESCRIPTIONS.items())
    seeds = ", ".join(map(str, sorted(results["seed"].unique())))
    return f"""# Noisy tabular labels: LiLAW against the peers

{header}

Data sets: {", ".join(results["dataset"].unique())}; seeds {seeds};
noise settings {", ".join(results["noise"].unique())}:

{noise_lines}

Scores are test accuracies on clean labels, means over the seeds; in bold the best peer
of each row. {" and ".join(f"`{name}`" for name in REFERENCES)} are references, not peers.

## Over all cells

{markdown(table)}

## Targets

{targets(results)}

## What LiLAW's weights add

{weights_added(results)}

## Accuracy by noise setting

{per_noise_tables(results, "accuracy")}

## Balanced accuracy by noise setting

{per_noise_tables(results, "balanced_accuracy")}
"""


def header(clock=None, source=None):
    import cleanlab
    import sklearn
    import skorch
    import torch

    import sklilaw

    versions = ", ".join(
        f"{m.__name__} {m.__version__}" for m in (sklilaw, torch, skorch, sklearn, cleanlab, np)
    )
    lines = [
        f"{versions}; {cpu()}.",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Commit: {commit()}.",
    ]
    if clock is not None:
        lines += ["", clock.summary()]
    if source is not None:
        lines += ["", f"Tables from {source}."]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=DATASETS)
    parser.add_argument("--noise", nargs="+", default=list(NOISE), type=_noise)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--methods", nargs="+", choices=list(METHODS), default=list(METHODS), metavar="METHOD"
    )
    parser.add_argument("--adult-samples", type=int, default=10000)
    parser.add_argument(
        "--jobs", type=int, default=1, help="worker processes (one torch thread each)"
    )
    parser.add_argument("--csv", help="write one row per fit to this CSV file")
    parser.add_argument("--from-csv", help="fit nothing: report on this CSV")
    parser.add_argument("--output", help="also write the Markdown report here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def _noise(text):
    try:
        noise_kind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def main(argv=None):
    args = parse_args(argv)
    if args.from_csv:
        results = pd.read_csv(args.from_csv)
        text = report(results, header(source=args.from_csv))
    else:
        clock = Clock()
        results = run(args)
        if args.csv:
            results.to_csv(args.csv, index=False)
        text = report(results, header(clock))
    publish(text, args.output)


if __name__ == "__main__":
    main()
