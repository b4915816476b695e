"""Can a group's label bias be seen from the rest of the data? A diagnostic, measured.

What it measures
----------------
The diagnostic: for each group of a sensitive column, fit a model on the *other* groups'
rows (the sensitive column left out of the features), predict the group's rows, and
compare the group's recorded positive rate with the model's mean predicted probability
of the positive label. The gap (recorded minus predicted) gets a bootstrap interval (the
group's rows resampled, ``--n-boot`` times, the predictions held fixed); the group is
*flagged* when the interval excludes 0. The model: scikit-learn's
``HistGradientBoostingClassifier`` behind ``sklilaw.tabular_preprocessor()``.

The data: UCI Adult (``$SKLILAW_DATA/adult``), sensitive column ``sex``, positive label
``'>50K'``. Its labels are corrupted, for each seed: ``none``; ``women-R`` (R% of the
women's ``'>50K'`` recorded as ``'<=50K'``, the men's left alone: the women's labels are
biased); ``sym-R`` (R% of all labels flipped to the other class: noisy, but no group's
more than the other's). The table gives, per setting, the median gap of each group and
how often (share of seeds) each group is flagged: under ``women-R`` with R > 0, flagging
the women is a detection and flagging the men a false alarm; under ``none`` and
``sym-R`` any flag is a false alarm.

Usage::

    python benchmarks/label_bias.py --output benchmarks/results/label_bias.md
"""

import argparse

import numpy as np
import pandas as pd
import sklearn
from _bench.common import command_line, commit, cpu, publish, versions
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

import sklilaw
from sklilaw import tabular_preprocessor
from sklilaw.datasets import load_adult
from sklilaw.noise import group_label_noise, symmetric_label_noise

SETTINGS = ("none", "women-20", "women-40", "sym-20")


def corrupt(y, sex, setting, seed):
    """Training labels (1: '>50K') as ``setting`` corrupts them."""
    if setting == "none":
        return y
    kind, _, percent = setting.partition("-")
    rate = int(percent) / 100
    if kind == "sym":
        return symmetric_label_noise(y, rate, random_state=seed)[0]
    return group_label_noise(
        y, sex, rate, group="Female", from_label=1, to_label=0, random_state=seed
    )[0]


def label_bias(X, y, groups, n_boot, seed):
    """Per group: recorded and predicted positive rates, their gap and its interval."""
    rows = []
    rng = np.random.RandomState(seed)
    for group in np.unique(groups):
        inside = groups == group
        model = make_pipeline(
            tabular_preprocessor(), HistGradientBoostingClassifier(random_state=0)
        )
        model.fit(X[~inside], y[~inside])
        predicted = model.predict_proba(X[inside])[:, 1]
        recorded = y[inside].astype(float)
        gaps = recorded - predicted
        draws = rng.randint(0, len(gaps), size=(n_boot, len(gaps)))
        lower, upper = np.quantile(gaps[draws].mean(axis=1), [0.025, 0.975])
        rows.append(
            {
                "group": group,
                "recorded": recorded.mean(),
                "predicted": predicted.mean(),
                "gap": gaps.mean(),
                "lower": lower,
                "upper": upper,
                "flagged": not lower <= 0 <= upper,
            }
        )
    return rows


def run(args):
    frame = load_adult(args.data_home).frame
    y_clean = (frame.pop("class") == ">50K").to_numpy().astype(int)
    sex = frame.pop("sex").to_numpy(dtype=object)
    results = []
    for setting in args.settings:
        for seed in range(args.seeds):
            y = corrupt(y_clean, sex, setting, seed)
            for row in label_bias(frame, y, sex, args.n_boot, seed):
                results.append({"setting": setting, "seed": seed, **row})
    return pd.DataFrame(results)


def report(results, args):
    table = results.groupby(["setting", "group"], sort=False).agg(
        recorded=("recorded", "median"),
        predicted=("predicted", "median"),
        gap=("gap", "median"),
        flagged=("flagged", "mean"),
    )
    return "\n".join(
        [
            "# Label bias by group on UCI Adult (sex): recorded vs predicted from the other group",
            "",
            f"{versions(sklearn, sklilaw)}; {cpu()}.",
            "",
            f"Command: `{command_line()}`",
            "",
            f"Commit: {commit()}. {args.seeds} seeds per setting, {args.n_boot} bootstrap "
            "resamples; medians over the seeds, `flagged`: share of seeds.",
            "",
            table.to_markdown(floatfmt=".3f"),
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-boot", type=int, default=500)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    publish(report(run(args), args), args.output)


if __name__ == "__main__":
    main()
