"""Command line: ``sklilaw demo`` (also ``python -m sklilaw demo``)."""

import argparse
import sys

from ._demo import DATASETS, run_demo, summarize


def _demo(args):
    results = run_demo(
        dataset=args.dataset, noise_rate=args.noise, seeds=range(args.seeds), max_epochs=args.epochs
    )
    print(
        f"\n{args.dataset}: {args.noise:.0%} of training labels flipped (symmetric), "
        f"clean test set, {args.epochs} epochs, median of {args.seeds} seeds\n"
    )
    print(summarize(results).to_markdown(floatfmt=".3f"))


def main(argv=None):
    """Entry point of the ``sklilaw`` console script."""
    parser = argparse.ArgumentParser(prog="sklilaw", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="plain skorch vs LiLAW on noisy labels")
    demo.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    demo.add_argument("--noise", type=float, default=0.4, help="share of labels flipped")
    demo.add_argument("--seeds", type=int, default=3, help="number of seeds")
    demo.add_argument("--epochs", type=int, default=50, help="epochs per model")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
