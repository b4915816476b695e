"""Hyperparameter sensitivity: does LiLAW work "without excessive tuning"?

What it measures
----------------
For every data set, noise setting and seed (the split and the noise as in
``noisy_labels.py``: 75/25 stratified, symmetric noise on the training part only,
scored on clean test labels), ``LiLAWClassifier`` is fitted with its defaults and then
with one hyperparameter changed at a time, to each value in ``GRID``:

- ``meta_lr``: the meta learning rate of ``alpha, beta, delta``;
- ``init``: the initial ``alpha = beta = delta`` (``alpha_init``, ``beta_init``,
  ``delta_init`` together);
- ``warmup_epochs``: epochs without re-weighting first;
- ``validation_fraction``: the share of the rows held out for the meta steps;
- ``max_epochs`` and ``lr``: the training itself.

Next to each LiLAW fit, its *unweighted twin* (``reweight=False``: the same
estimator, split and batches without any re-weighting) is fitted with the same training
hyperparameters (``validation_fraction``, ``max_epochs``, ``lr``; the meta
hyperparameters do not reach it). The report gives, per data set and noise setting,
the median test accuracy of every setting, and the spread (max - min) of the medians
over each hyperparameter's values: LiLAW is insensitive to a hyperparameter where that
spread is small, and where it is no larger than its twin's under the same change.

Usage::

    python benchmarks/sensitivity.py                  # digits, breast cancer, Adult; 3 seeds
    python benchmarks/sensitivity.py --datasets digits --seeds 1 --noise 0.4
"""

import argparse

import numpy as np
import pandas as pd
from _bench.common import add_run_arguments, command_line, cpu, fitted_rows, publish
from _bench.noisy_data import DATASETS, split
from sklearn.metrics import accuracy_score
from tqdm.auto import tqdm

from sklilaw import LiLAWClassifier
from sklilaw._cli._runtime import warm_up_torch
from sklilaw.noise import symmetric_label_noise

# the package's defaults, but a fixed 50 epochs (as in noisy_labels.py), no early stopping
_PACKAGE = LiLAWClassifier().get_params()
DEFAULTS = {
    "meta_lr": _PACKAGE["meta_lr"],
    "init": _PACKAGE["alpha_init"],
    "warmup_epochs": _PACKAGE["warmup_epochs"],
    "validation_fraction": _PACKAGE["validation_fraction"],
    "max_epochs": 50,
    "lr": _PACKAGE["lr"],
    "early_stopping": False,  # the paper's method: a fixed number of epochs
}
GRID = {
    "meta_lr": (0.001, 0.1),
    "init": (1.0, 4.0),
    "warmup_epochs": (5, 20),
    "validation_fraction": (0.05, 0.3),
    "max_epochs": (25, 100),
    "lr": (3e-4, 3e-3),
}
# the hyperparameters that change the unweighted twin too
TRAINING = ("validation_fraction", "max_epochs", "lr")
DEFAULT_DATASETS = ("digits", "breast_cancer", "adult")


def settings():
    """(hyperparameter, value) pairs: the defaults first, then one change at a time."""
    yield "default", None
    for name, values in GRID.items():
        for value in values:
            yield name, value


def estimator(data, n_features, seed, name, value, *, twin):
    params = dict(DEFAULTS)
    if name != "default":
        params[name] = value
    init = params.pop("init")
    if twin:
        params.update(reweight=False)
    if data.module is not None:
        params.update(
            module=data.module, module__n_features=n_features, module__n_classes=data.n_classes
        )
    return LiLAWClassifier(
        alpha_init=init, beta_init=init, delta_init=init, random_state=seed, **params
    )


def run(args):
    datasets = {name: DATASETS[name](args) for name in args.datasets}
    warm_up_torch()
    grid = list(settings())
    cells = [
        (d, noise, seed)
        for d in args.datasets
        for noise in args.noise
        for seed in range(args.seeds)
    ]
    rows = []
    progress = tqdm(total=len(cells) * len(grid))
    for name, noise, seed in cells:
        data = datasets[name]
        part = split(data, seed)
        y_noisy = (
            symmetric_label_noise(part.y_train, noise, random_state=seed)[0]
            if noise
            else part.y_train
        )
        for hyperparameter, value in grid:
            for twin in (False, True):
                if twin and hyperparameter not in ("default", *TRAINING):
                    continue  # the meta hyperparameters do not reach the twin
                model = estimator(
                    data, part.X_train.shape[1], seed, hyperparameter, value, twin=twin
                )
                model.fit(part.X_train, y_noisy)
                rows.append(
                    {
                        "dataset": name,
                        "noise": noise,
                        "seed": seed,
                        "hyperparameter": hyperparameter,
                        "value": "default" if value is None else value,
                        "method": "unweighted twin" if twin else "LiLAW",
                        "accuracy": accuracy_score(part.y_test, model.predict(part.X_test)),
                    }
                )
            progress.update()
    progress.close()
    return pd.DataFrame(rows)


def report(results):
    medians = results.groupby(
        ["dataset", "noise", "hyperparameter", "value", "method"], sort=False
    )["accuracy"].median()
    table = medians.unstack("method")
    sections = []
    spreads = []
    for (dataset, noise), rows in table.groupby(level=["dataset", "noise"], sort=False):
        rows = rows.droplevel(["dataset", "noise"])
        default = rows.loc[("default", "default")]
        for hyperparameter in GRID:
            values = pd.concat([rows.loc[["default"]], rows.loc[[hyperparameter]]])
            spread = values.max() - values.min()
            spreads.append(
                {
                    "dataset": dataset,
                    "noise": noise,
                    "hyperparameter": hyperparameter,
                    "LiLAW spread": spread["LiLAW"],
                    "twin spread": spread.get("unweighted twin", np.nan)
                    if hyperparameter in TRAINING
                    else np.nan,
                    "LiLAW worst": values["LiLAW"].min(),
                    "LiLAW at defaults": default["LiLAW"],
                    "twin at defaults": default["unweighted twin"],
                }
            )
        sections += [
            f"### {dataset}, {noise:.0%} symmetric noise: median test accuracy",
            rows.to_markdown(floatfmt=".3f"),
        ]
    spread_table = pd.DataFrame(spreads).set_index(["dataset", "noise", "hyperparameter"])
    return [
        "## Spread of the median test accuracy over each hyperparameter's values "
        "(the default included)",
        spread_table.to_markdown(floatfmt=".3f"),
        "## Every setting",
        *sections,
    ]


def plot(results, path):
    """Median accuracy per setting, LiLAW against its twin: a panel per data set and noise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    medians = results.groupby(
        ["dataset", "noise", "hyperparameter", "value", "method"], sort=False
    )["accuracy"].median()
    panels = list(dict.fromkeys(zip(results["dataset"], results["noise"], strict=True)))
    fig, axes = plt.subplots(
        len(panels) // 2, 2, figsize=(12, 2.8 * (len(panels) // 2)), squeeze=False
    )
    for ax, (dataset, noise) in zip(axes.flat, panels, strict=True):
        table = medians.loc[(dataset, noise)].unstack("method")
        labels = ["default" if h == "default" else f"{h}={v}" for h, v in table.index.to_list()]
        positions = np.arange(len(table))
        ax.plot(positions, table["LiLAW"], "o", label="LiLAW")
        ax.plot(positions, table["unweighted twin"], "x", label="unweighted twin")
        ax.axhline(table["LiLAW"].iloc[0], color="tab:blue", linewidth=0.8, linestyle=":")
        ax.set_xticks(positions, labels, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{dataset}, {noise:.0%} noise", fontsize=9)
        ax.set_ylabel("test accuracy")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", default=list(DEFAULT_DATASETS), choices=sorted(DATASETS)
    )
    parser.add_argument("--noise", nargs="+", type=float, default=[0.0, 0.4])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--adult-samples", type=int, default=5000, help="stratified subsample of Adult"
    )
    add_run_arguments(parser)
    parser.add_argument("--plot", help="also save a figure of every setting here (PNG)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results, clock = fitted_rows(args, run)
    if args.plot:
        plot(results, args.plot)
    header = [
        "# Hyperparameter sensitivity of LiLAW and its unweighted twin",
        f"{cpu()}; defaults {DEFAULTS}; one hyperparameter changed at a time to {GRID}; "
        f"seeds 0-{args.seeds - 1}; medians over seeds; clean test labels.",
        f"Command: `{command_line()}`"
        + (f" (the fits of {args.from_csv})" if args.from_csv else ""),
    ]
    publish("\n\n".join(header + report(results)) + "\n\n" + clock.summary() + "\n", args.output)


if __name__ == "__main__":
    main()
