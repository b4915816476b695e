"""Command line: ``sklilaw demo``, ``sklilaw audit`` and ``sklilaw fairness`` (also
``python -m sklilaw ...``)."""

import argparse
import os
import sys

from ._adult import (
    LABEL_QUALITY_METHODS,
    METHODS,
    plot_audit,
    plot_label_quality,
    run_audit,
    summarize_audit,
    summarize_label_quality,
)
from ._audit import read_table
from ._demo import DATASETS, RECOMMENDED, run_demo, summarize
from ._runtime import torch_threads


def _positive_int(text):
    """An argument that counts something: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _share(text):
    """A share of the training labels: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1), got {value}")
    return value


def _label_noise(text):
    """``none``, ``sym-R`` or ``women-R``, R a percentage below 100."""
    kind, _, percent = text.partition("-")
    if text != "none" and (
        kind not in ("sym", "women") or not percent.isdigit() or int(percent) >= 100
    ):
        raise argparse.ArgumentTypeError(
            f"expected none, sym-R or women-R with R a percentage below 100, got {text!r}"
        )
    return text


def _output_file(text):
    """A file to write: its folder must exist, so that no training is wasted."""
    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text) or not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: "
            + ("it is a folder" if os.path.isdir(text) else f"the folder {folder} does not exist")
        )
    return text


def _folder(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder")
    return text


def _source(value):
    """How a parameter value is written in code: a class by its name, others by repr."""
    return value.__name__ if isinstance(value, type) else repr(value)


def _demo(args):
    with torch_threads(args.threads):
        results = run_demo(
            dataset=args.dataset,
            noise_rate=args.noise,
            seeds=range(args.seeds),
            max_epochs=args.epochs,
        )
    print(
        f"\n{args.dataset}: {args.noise:.0%} of training labels flipped (symmetric), "
        f"clean test set, {args.epochs} epochs, median of {args.seeds} seeds\n"
    )
    print(summarize(results).to_markdown(floatfmt=".3f"))
    print(
        "\nLiLAW, recommended for noisy labels: "
        + ", ".join(f"{name}={_source(value)}" for name, value in RECOMMENDED.items())
        + " (why: docs/noisy_labels.md)"
    )


def _fairness(args):
    if args.label_quality_plot and not set(args.methods) & set(LABEL_QUALITY_METHODS):
        sys.exit(
            "sklilaw fairness: --label-quality-plot needs a method that records label "
            f"issues, one of {', '.join(repr(m) for m in LABEL_QUALITY_METHODS)}."
        )
    with torch_threads(args.threads):
        results = run_audit(
            methods=args.methods,
            seeds=range(args.seeds),
            max_epochs=args.epochs,
            sensitive=args.sensitive,
            data_home=args.data_home,
            n_samples=args.n_samples,
            label_noise=args.label_noise,
        )
    rows = "all rows" if args.n_samples is None else f"a subsample of {args.n_samples} rows"
    noise = "" if args.label_noise == "none" else f" (label noise {args.label_noise})"
    print(
        f"\nUCI Adult ({rows}): trained on the training part{noise} without "
        f"{', '.join(args.sensitive)}, audited on the test part; positive label '>50K'; "
        f"{args.epochs} epochs, median of {args.seeds} seeds\n"
    )
    tables = summarize_audit(results)
    for attribute, (by_group, across) in tables.items():
        print(f"By {attribute}:\n")
        formats = [".3f"] * (by_group.shape[1] + 1) + [".0f"]  # method, group, ..., count
        print(by_group.reset_index().to_markdown(index=False, floatfmt=formats))
        print()
        print(across.to_markdown(floatfmt=".3f"))
        print()
    quality = summarize_label_quality(results)
    for attribute, table in quality.items():
        print(f"The training labels by {attribute}, as the fits' label_issues_ judge them:\n")
        print(table.reset_index().to_markdown(index=False, floatfmt=".3f"))
        print()
    if args.plot:
        plot_audit(tables).savefig(args.plot)
        print(f"Plot saved to {args.plot}")
    if args.label_quality_plot:
        plot_label_quality(quality).savefig(args.label_quality_plot)
        print(f"Label quality plot saved to {args.label_quality_plot}")


def _audit(args):
    from tqdm.auto import tqdm

    from ..fairness import audit
    from ..fairness._html import require_html_dependencies

    try:
        require_html_dependencies()
        table = read_table(args.data, args.data_home)
        with torch_threads(args.threads):
            result = audit(
                table,
                args.target,
                sensitive_features=args.sensitive,
                cv=args.cv,
                test_size=args.test_size,
                pos_label=args.pos_label,
                n_boot=args.n_boot or None,
                min_group_size=args.min_group_size,
                random_state=args.seed,
                progress=tqdm,
            )
    except (ImportError, ValueError, TypeError) as error:
        sys.exit(f"sklilaw audit: {error}")
    print(
        f"\nFairness audit of {args.data} by {', '.join(result.sensitive)}: {result.n_rows} "
        f"rows scored, {result.evaluation}; positive label {result.pos_label!r}\n"
    )
    print(result.summary.to_markdown(floatfmt=".3f"))
    result.to_html(args.output)
    print(f"\nReport (tables by group, figures, label quality) written to {args.output}")


def _add_threads(command):
    command.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads (small networks: 1 is fastest)",
    )


def _add_data_home(command):
    command.add_argument(
        "--data-home",
        type=_folder,
        default=None,
        help="for UCI Adult: the folder with adult/adult.data and adult/adult.test "
        "(default: $SKLILAW_DATA, else download from OpenML)",
    )


def main(argv=None):
    """Entry point of the ``sklilaw`` console script."""
    parser = argparse.ArgumentParser(prog="sklilaw", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="plain skorch vs LiLAW vs LiLAW as recommended, on noisy labels"
    )
    demo.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    demo.add_argument(
        "--noise", type=_share, default=0.4, help="share of labels flipped, in [0, 1)"
    )
    demo.add_argument("--seeds", type=_positive_int, default=3, help="number of seeds")
    demo.add_argument("--epochs", type=_positive_int, default=50, help="epochs per model")
    _add_threads(demo)
    demo.set_defaults(run=_demo)
    audit = commands.add_parser(
        "audit",
        help="fairness audit of a table: models compared by group, mitigated, HTML report",
        description="Fit plain skorch, LiLAWClassifier() and noise_handling='auto' on a "
        "table, score them by group (fairlearn's MetricFrame, bootstrap intervals), "
        "post-process the most accurate with fairlearn's ThresholdOptimizer, judge the "
        "training labels by group, and write a self-contained HTML report.",
    )
    audit.add_argument("data", help="a .csv, .tsv or .parquet file, or 'adult' (UCI Adult)")
    audit.add_argument("--target", required=True, help="the column of the labels (two classes)")
    audit.add_argument(
        "--sensitive",
        nargs="+",
        required=True,
        help="the sensitive column(s), left out of the features; several are audited by "
        "their intersections",
    )
    audit.add_argument(
        "--output", type=_output_file, default="audit.html", help="the HTML report to write"
    )
    audit.add_argument(
        "--cv",
        type=_positive_int,
        default=None,
        help="score out-of-fold predictions of a K-fold cross-validation (default: one "
        "stratified held-out share)",
    )
    audit.add_argument(
        "--test-size", type=_share, default=0.25, help="the held-out share, without --cv"
    )
    audit.add_argument("--pos-label", default=None, help="the positive label (default: the larger)")
    audit.add_argument(
        "--n-boot",
        type=int,
        default=200,
        help="bootstrap resamples for the intervals (0: none)",
    )
    audit.add_argument(
        "--min-group-size",
        type=_positive_int,
        default=20,
        help="a smaller group is an error: too few rows to score",
    )
    audit.add_argument("--seed", type=int, default=0, help="seeds the split and the models")
    _add_data_home(audit)
    _add_threads(audit)
    audit.set_defaults(run=_audit)
    fairness = commands.add_parser(
        "fairness",
        help="the study of docs/fairness.md: plain training vs LiLAW on UCI Adult, over "
        "seeds and label noise (for your own table: sklilaw audit)",
    )
    fairness.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=["plain skorch", "LiLAW"],
        metavar="M",
        help=f"training methods, from: {', '.join(repr(m) for m in METHODS)}",
    )
    fairness.add_argument(
        "--sensitive",
        nargs="+",
        default=["sex"],
        choices=["sex", "race"],
        help="sensitive columns, dropped from the features and audited one by one",
    )
    fairness.add_argument("--seeds", type=_positive_int, default=3, help="number of seeds")
    fairness.add_argument("--epochs", type=_positive_int, default=20, help="epochs per model")
    fairness.add_argument(
        "--label-noise",
        type=_label_noise,
        default="none",
        help="noise on the training labels: none, sym-R (R%% of all flipped) or women-R "
        "(R%% of the women's '>50K' recorded as '<=50K'); the audit uses clean test labels",
    )
    fairness.add_argument(
        "--n-samples", type=_positive_int, default=None, help="random subsample of Adult's rows"
    )
    _add_data_home(fairness)
    fairness.add_argument(
        "--plot", type=_output_file, default=None, help="save a plot of the by-group table here"
    )
    fairness.add_argument(
        "--label-quality-plot",
        type=_output_file,
        default=None,
        help="save a plot of the training labels' quality by group (LiLAW methods) here",
    )
    _add_threads(fairness)
    fairness.set_defaults(run=_fairness)
    args = parser.parse_args(argv)
    args.run(args)
