"""Group fairness on UCI Adult: plain skorch vs LiLAW vs LiLAW with a group-aware meta split.

What it measures
----------------
Every method trains the same network (``sklilaw.MLP``, one hidden layer of 100) with
Adam (lr 1e-3, weight decay 1e-4), batches of 128, for the same number of epochs, on
Adult's official training part (``adult.data``, 32,561 rows), of which 15% is held out
as a validation split stratified by the label. Features: the 12 columns left when the
sensitive columns (``sex`` and ``race`` by default) are dropped; numbers standardised,
categories one-hot encoded, missing categories as a category of their own (a
``ColumnTransformer`` in a ``Pipeline``). The models are audited on Adult's official test
part (``adult.test``, 16,281 rows) with :func:`sklilaw.fairness.fairness_report`
(fairlearn's ``MetricFrame``), positive label ``'>50K'``, once per sensitive column.

1. ``plain skorch``: ``sklilaw.baselines.plain_skorch`` (``NeuralNetClassifier``,
   cross-entropy), its validation split used for the validation loss only.
2. ``unweighted twin``: ``LiLAWClassifier(reweight=False)``, the same
   estimator, data path and split as LiLAW, with unit weights and no meta step.
3. ``LiLAW``: ``LiLAWClassifier`` with its defaults; the meta steps run on the
   validation split, stratified by the label.
4. ``LiLAW, group-aware split``: the same, fitted with
   ``sensitive_features=X[sensitive]``: the validation split (and so the meta batches)
   is stratified by label x sex x race.
5. ``LiLAW, noise_handling='auto'``: the recommended noisy-label configuration.
6. ``LiLAW + ThresholdOptimizer`` and ``LiLAW + ExponentiatedGradient``: fairlearn's
   mitigations of LiLAW for demographic parity by the first sensitive column, fitted on
   the same (noisy) training labels; their randomised predictions are seeded by the seed.

Seeds: seed ``s`` seeds the validation split, the initialisation and the batch order of
every method (plain skorch: ``torch.manual_seed(s)`` and ``ValidSplit(random_state=s)``).
Methods are interleaved within each seed. The tables report medians over the seeds and,
for a few columns, the spread (max - min) over seeds, to show how much of a difference
between methods is seed noise.

Threads: ``--threads 1`` by default (see ``benchmarks/overhead.py``: on a shared 2-core
machine more threads only wait for each other).

Usage::

    python benchmarks/fairness_adult.py                    # 5 seeds, 20 epochs
    python benchmarks/fairness_adult.py --seeds 3 --epochs 10 --output out.md

The data is read from ``$SKLILAW_DATA/adult`` (or ``--data-home``), else downloaded.
"""

import argparse

import fairlearn
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
    pin_threads,
    publish,
    versions,
)

from sklilaw._cli._adult import METHODS, run_audit, summarize_audit, summarize_label_quality
from sklilaw.fairness import ACROSS_GROUPS, OVERALL

KEY_COLUMNS = ["accuracy", "balanced_accuracy", "selection_rate"]
DISPARITY_COLUMNS = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "worst_group_accuracy",
]
SHORT = {
    "accuracy": "acc",
    "balanced_accuracy": "bal. acc",
    "selection_rate": "sel. rate",
    "demographic_parity_difference": "DP diff",
    "demographic_parity_ratio": "DP ratio",
    "equalized_odds_difference": "EO diff",
    "worst_group_accuracy": "worst-group acc",
    "fit_seconds": "fit s",
}


def summary_table(results, attribute):
    """One row per method: overall metrics, selection rate by group, disparities (medians)."""
    by_group, across = summarize_audit(results)[attribute]
    overall = by_group.xs(OVERALL, level="group")[KEY_COLUMNS].rename(columns=SHORT)
    rates = by_group["selection_rate"].drop(OVERALL, level="group").unstack("group")
    rates = rates.rename(columns=lambda group: f"sel. rate {group}")
    table = pd.concat([overall, rates, across[[*DISPARITY_COLUMNS, "fit_seconds"]]], axis=1)
    return table.rename(columns=SHORT).reindex(by_group.index.unique("method"))


def spread_table(results, attribute):
    """Max - min over seeds of the overall metrics and the disparities, per method."""
    columns = [*KEY_COLUMNS, *DISPARITY_COLUMNS]
    rows = results[
        (results["attribute"] == attribute)
        & results["group"].isin([OVERALL, ACROSS_GROUPS])
        & results["metric"].isin(columns)
    ]
    per_seed = rows.pivot_table(index=["method", "seed"], columns="metric", values="value")
    spread = per_seed.groupby(level="method", sort=False).agg(lambda v: v.max() - v.min())
    return spread[columns].rename(columns=SHORT).reindex(results["method"].unique())


def by_group_table(results, attribute):
    """Every metric by (method, group), medians over seeds, as Markdown."""
    by_group, _ = summarize_audit(results)[attribute]
    return by_group.reset_index().to_markdown(
        index=False, floatfmt=[".3f"] * (by_group.shape[1] + 1) + [".0f"]
    )


def header(args, results):
    """Versions, machine, settings and the command line."""
    counts = results[(results["metric"] == "count") & (results["group"] == OVERALL)]
    n_test = int(counts["value"].iloc[0])
    return "\n".join(
        [
            "# Group fairness on UCI Adult: plain skorch vs LiLAW",
            "",
            f"{versions(torch, skorch, sklearn, fairlearn, np, pd)}; {cpu()}; epochs "
            f"{args.epochs}, seeds 0-{args.seeds - 1}; sensitive columns "
            f"{', '.join(args.sensitive)} (dropped from the features).",
            "",
            f"Command: `{command_line()}`",
            "",
            "Trained on adult.data (85% for training, 15% validation split), audited on "
            f"adult.test ({n_test} rows); positive label '>50K'. Medians over seeds.",
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per fit")
    parser.add_argument("--sensitive", nargs="+", default=["sex", "race"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    add_threads_argument(parser, default=1)
    parser.add_argument("--data-home", default=None, help="default: $SKLILAW_DATA")
    parser.add_argument(
        "--n-samples", type=int, default=None, help="subsample of Adult's rows (smoke tests)"
    )
    parser.add_argument(
        "--label-noise",
        nargs="+",
        default=["none"],
        help="noise settings of the training labels, one audit each: none, sym-R (R%% of all "
        "labels flipped), women-R (R%% of the women's '>50K' recorded as '<=50K')",
    )
    parser.add_argument("--output", help="also write the Markdown report to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    pin_threads(args.threads)
    clock = Clock()
    sections = []
    for label_noise in args.label_noise:
        results = run_audit(
            methods=args.methods,
            seeds=range(args.seeds),
            max_epochs=args.epochs,
            sensitive=args.sensitive,
            data_home=args.data_home,
            n_samples=args.n_samples,
            label_noise=label_noise,
        )
        if not sections:
            sections.append(header(args, results))
        if len(args.label_noise) > 1 or label_noise != "none":
            sections.append(f"# Training labels: {label_noise}")
        for attribute in args.sensitive:
            sections += [
                f"## By {attribute}: medians over {args.seeds} seeds",
                summary_table(results, attribute).to_markdown(floatfmt=".3f"),
                f"Spread over seeds (max - min), by {attribute}:",
                spread_table(results, attribute).to_markdown(floatfmt=".3f"),
                f"All metrics by {attribute} (medians):",
                by_group_table(results, attribute),
            ]
        for attribute, table in summarize_label_quality(results).items():
            sections += [
                f"The training labels by {attribute}, as the LiLAW fits' `label_issues_` "
                "judge them (medians):",
                table.reset_index().to_markdown(index=False, floatfmt=".3f"),
            ]
    sections.append(clock.summary())
    publish("\n\n".join(sections) + "\n", args.output)


if __name__ == "__main__":
    main()
