"""Command line: ``sklilaw demo`` and ``sklilaw fairness`` (also ``python -m sklilaw ...``)."""

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
    demo.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads (small networks: 1 is fastest)",
    )
    demo.set_defaults(run=_demo)
    fairness = commands.add_parser(
        "fairness", help="group-fairness audit of plain training vs LiLAW on UCI Adult"
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
    fairness.add_argument(
        "--data-home",
        type=_folder,
        default=None,
        help="folder with adult/adult.data and adult/adult.test (default: $SKLILAW_DATA, "
        "else download from OpenML)",
    )
    fairness.add_argument(
        "--plot", type=_output_file, default=None, help="save a plot of the by-group table here"
    )
    fairness.add_argument(
        "--label-quality-plot",
        type=_output_file,
        default=None,
        help="save a plot of the training labels' quality by group (LiLAW methods) here",
    )
    fairness.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads (small networks: 1 is fastest)",
    )
    fairness.set_defaults(run=_fairness)
    args = parser.parse_args(argv)
    args.run(args)
