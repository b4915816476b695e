"""``noisy_labels.py``'s report: its tables, the header, the plot, merged runs."""

import math

import cleanlab
import numpy as np
import pandas as pd
import sklearn
import skorch
import torch

import sklilaw
from _bench.common import command_line, commit, cpu, fmt, markdown, versions
from _bench.noisy_data import TEST_FRACTION, parse_noise, skip_reason
from _bench.noisy_methods import (
    CV_FOLDS,
    PATIENCE,
    PLAIN_EARLY_STOPPING,
    RECOMMENDED,
    REFIT,
    TIE,
    VALIDATION_FRACTION,
    WEIGHTED,
)

FOCUS_NOISE = "sym-40"  # the setting of the table with all test metrics
# columns that every row of a run records: what made it (the command is one more)
RUN_SETTINGS = ("environment", "commit", "epochs")
# columns that every row of a data set records
DATASET_SETTINGS = ("description", "n_samples", "n_train", "n_features", "n_classes")


def environment():
    """This process's versions, cores and torch threads: the first line of the header."""
    return f"{versions(sklilaw, torch, skorch, sklearn, cleanlab, np)}; {cpu()}"


def run_settings(args):
    """The run's settings, for every row: a report made from the CSV reads them back."""
    return {
        "epochs": args.epochs,
        "environment": environment(),
        "command": command_line(),
        "commit": commit(),
    }


def setting(rows, column):
    """The value of ``column`` in ``rows``; where merged runs differ, each value and its files."""
    values = rows[column].unique()
    if len(values) == 1:
        return str(values[0])
    if "source" not in rows:  # one run, whose cells differ (e.g. features one-hot by seed)
        return f"({'; '.join(map(str, values))})"
    by_value = [
        f"{value} in {', '.join(rows.loc[rows[column] == value, 'source'].unique())}"
        for value in values
    ]
    return f"({'; '.join(by_value)})"


def differing(rows, columns):
    """Which of ``columns`` have more than one value in ``rows``."""
    return [column for column in columns if rows[column].nunique() > 1]


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


def report(args, results, timing, runs=None, report_command=None):
    """The Markdown report of the fits in ``results``, for ``args``' data sets, noise, methods.

    What the header and each data set's section say of the runs (versions, command, commit,
    epochs, data set sizes) comes from the rows of ``runs``: those of ``results`` or, for a
    report of merged CSV files, all their rows, the fits that ``results`` drops as repeats
    included; ``report_command`` is then the command of the report.
    """
    runs = results if runs is None else runs
    methods = list(args.methods)
    sections = [header(args, runs, timing, report_command)]
    for name in args.datasets:
        noise_settings = list(args.noise)
        cell = results[results.dataset == name]
        fitted = [m for m in methods if (cell.method == m).any()]  # runs may differ
        described = runs[runs.dataset == name]
        first = described.iloc[0]  # the first run's, if merged runs differ (said below)
        n_train, n_samples = int(first.n_train), int(first.n_samples)
        n_classes = int(first.n_classes)
        parts = [
            f"## {name}: {first.description}",
            f"{n_samples} samples ({n_train} train with noisy labels, {n_samples - n_train} "
            f"clean test), {int(first.n_features)} features, {n_classes} classes; "
            f"{cell.seed.nunique()} seeds; medians over seeds.",
        ]
        differ = differing(described, DATASET_SETTINGS)
        if differ:
            parts.append(
                "**The cells or merged runs differ on this data set** (the line above is "
                "the first one's): "
                + " ".join(f"{column} {setting(described, column)}." for column in differ)
            )
        skipped = [(n, skip_reason(n, n_classes)) for n in noise_settings]
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
    floor = early_stopping_table(results, methods)
    if floor:
        sections.append(
            "\n\n".join(
                [
                    f"## The recommended configuration against `{PLAIN_EARLY_STOPPING}`",
                    "In every cell, the recommended configuration's median test accuracy "
                    f"minus that of `{PLAIN_EARLY_STOPPING}` (the goal: never below "
                    f"-{TIE}); cells below it in bold.",
                    floor,
                ]
            )
        )
    return "\n\n".join(sections) + "\n"


def early_stopping_table(results, methods):
    """Recommended minus plain skorch with early stopping, data sets x noise settings."""
    if not {RECOMMENDED, PLAIN_EARLY_STOPPING} <= set(methods):
        return None
    medians = results.groupby(["dataset", "noise", "method"], sort=False)["accuracy"].median()
    medians = medians.unstack("method")
    gap = (medians[RECOMMENDED] - medians[PLAIN_EARLY_STOPPING]).unstack("noise")
    order = [n for n in results.noise.unique() if n in gap.columns]
    table = gap[order].map(
        lambda v: "n/a" if pd.isna(v) else (f"**{v:+.3f}**" if v < -TIE else f"{v:+.3f}")
    )
    table.index.name = "data set"
    return markdown(table)


def verdict_table(results, methods):
    """The recommended configuration at 40% noise against the best method of each cell.

    A cell in which the recommended configuration or cleanlab was not fitted (merged runs
    of different methods) is left out.
    """
    cleanlab = "cleanlab CleanLearning"
    if RECOMMENDED not in methods or cleanlab not in methods:
        return None
    rows = []
    at_40 = results[results.noise.map(lambda n: parse_noise(n)[1] == 0.4)]
    for (dataset, noise), cell in at_40.groupby(["dataset", "noise"], sort=False):
        if not {RECOMMENDED, cleanlab} <= set(cell.method):
            continue
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
    return markdown(pd.DataFrame(rows).set_index("data set")) if rows else None


def header(args, runs, timing, report_command=None):
    """Versions, command, commit and settings, as the rows record them; their disagreements."""
    if report_command is None:
        command = f"Command: `{setting(runs, 'command')}`"
    else:
        commands = runs.groupby("command", sort=False)["source"].unique()
        command = (
            "Commands of the runs: "
            + "; ".join(f"`{run}` ({', '.join(files)})" for run, files in commands.items())
            + f". Report: `{report_command}`"
        )
    lines = [
        "# Noisy training labels: LiLAW, plain training, GCE and cleanlab",
        "",
        f"{setting(runs, 'environment')}.",
        "",
        command,
        "",
        f"Commit: {setting(runs, 'commit')}.",
        "",
        f"Settings: epochs {setting(runs, 'epochs')}, seeds "
        f"{', '.join(map(str, args.seeds))}, data sets {', '.join(args.datasets)}, noise "
        f"{', '.join(args.noise)}; test split {TEST_FRACTION:.0%} stratified, or the data "
        "set's own test part where it has one (see its section), with clean labels; "
        f"validation {VALIDATION_FRACTION:.0%} of the training part for every method; "
        f"early stopping patience {PATIENCE} epochs; cleanlab {CV_FOLDS} folds. Adam, lr "
        "1e-3, weight decay 1e-4, batch size 128 for every network.",
        "",
        timing,
    ]
    differ = differing(runs, RUN_SETTINGS)
    if differ:
        lines += [
            "",
            f"**The merged runs differ in {', '.join(differ)}** (values and files above): the "
            "tables mix fits made under different settings.",
        ]
    return "\n".join(lines)


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


# the unweighted twin's rows in runs from before it had the name (and reweight=False)
RENAMED_METHODS = {
    "LiLAW, no meta step": "unweighted twin",
    "LiLAW, no meta step + early stopping": "unweighted twin + early stopping",
}


def merge_runs(paths):
    """The rows of the CSV files of several runs; one table of their fits; a sentence on the
    fits they repeat.

    Each row keeps the file it came from in ``source`` (a row of a CSV that a merged
    report wrote keeps its first file). A fit (data set, noise, seed, method) found in
    several runs is kept from the first run that has it; its test accuracy in the others is
    compared with the kept one, which checks that the runs are reproductions of one another
    (fit times aside).
    """
    runs = []
    for path in paths:
        run = pd.read_csv(path)
        missing = [c for c in ("command", *RUN_SETTINGS, *DATASET_SETTINGS) if c not in run]
        if missing:
            raise ValueError(
                f"{path} has no column {', '.join(missing)}: it was written before the runs "
                "recorded their settings in their rows; rerun the command that wrote it."
            )
        run["method"] = run["method"].replace(RENAMED_METHODS)
        runs.append(run if "source" in run else run.assign(source=path))
    key = ["dataset", "noise", "seed", "method"]
    rows = pd.concat(runs, ignore_index=True)
    repeated = rows.duplicated(key, keep=False)
    if not repeated.any():
        return rows, rows, "No fit is in more than one run."
    first = rows[repeated].groupby(key)["accuracy"].transform("first")
    differ = int((rows.loc[repeated, "accuracy"] != first).sum())
    sentence = (
        f"{int(rows.duplicated(key).sum())} fits are repeated across runs and reported "
        f"from the first; {differ} of the repeats have a different test accuracy."
    )
    return rows, rows.drop_duplicates(key, keep="first"), sentence
