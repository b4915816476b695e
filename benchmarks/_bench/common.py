"""What the benchmark scripts print and measure the same way."""

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time

import pandas as pd
import torch

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the names under which the reports cite a module whose import name differs
DISPLAY_NAMES = {"sklearn": "scikit-learn"}


# ------------------------------------------------------------------ what ran, where
def versions(*modules):
    """``"torch 2.13.0, skorch 1.4.0, ..., Python 3.11.7"``: the modules' versions, Python's."""
    names = [f"{DISPLAY_NAMES.get(m.__name__, m.__name__)} {m.__version__}" for m in modules]
    return ", ".join([*names, f"Python {platform.python_version()}"])


def cpu():
    """The machine's cores and this process's torch threads."""
    return f"CPU, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}"


def command_line():
    """The command that ran this script, as typed from the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO_ROOT)
    return shlex.join(["python", script, *sys.argv[1:]])


def commit():
    """The checkout's commit, noting changes to tracked files; "unknown" outside git."""

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} with uncommitted changes" if changed else head


# -------------------------------------------------------------------------- timing
def load_1min():
    """The machine's load average over the last minute."""
    return os.getloadavg()[0]


class Clock:
    """Wall time and the machine's load average from the moment of creation."""

    def __init__(self):
        self.load_start = load_1min()
        self.start = time.perf_counter()

    def seconds(self):
        return time.perf_counter() - self.start

    def summary(self):
        """Wall time so far and the load at start and now: how busy the machine was."""
        return (
            f"Wall time {self.seconds() / 60:.1f} min; load average (1 min) at start "
            f"{self.load_start:.2f}, at end {load_1min():.2f} ({os.cpu_count()} cores; this "
            f"run adds about {torch.get_num_threads()})."
        )


def timed(function, *args, **kwargs):
    """The wall time in seconds of ``function(*args, **kwargs)``, whose result is dropped."""
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def rotated(items, shift):
    """``items`` rotated left by ``shift``: the order of the fits of one cell or repeat.

    Rotating the order from one cell to the next spreads the drift of a shared machine
    over all methods instead of charging it to whichever runs last.
    """
    shift %= len(items)
    return items[shift:] + items[:shift]


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_threads_argument(parser, default):
    """``--threads``: the value for ``torch.set_num_threads``, see :func:`pin_threads`."""
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=default,
        help="torch.set_num_threads value (not given: torch's default, one per core); use 1 "
        "on a shared machine with few cores, where every multi-threaded op waits for the "
        "busiest core",
    )


def pin_threads(threads):
    """``torch.set_num_threads(threads)``; ``None`` leaves torch's default."""
    if threads is not None:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------------------- report
def fmt(value, digits=3):
    """A number with ``digits`` decimals; NaN (a skipped or undefined cell) as n/a."""
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:.{digits}f}"


def markdown(frame, align=None):
    """A DataFrame of strings as a Markdown table, its index the first column.

    ``align`` has one letter per column, the index first: ``l`` left, ``r`` right; by
    default the index is left-aligned and the other columns right-aligned.
    """
    columns = [frame.index.name or "", *frame.columns]
    align = align or "l" + "r" * len(frame.columns)
    if len(align) != len(columns):
        raise ValueError(f"align={align!r} has {len(align)} letters for {len(columns)} columns")
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "".join({"l": "---|", "r": "---:|"}[a] for a in align),
    ]
    for index, row in frame.iterrows():
        lines.append("| " + " | ".join([str(index), *map(str, row)]) + " |")
    return "\n".join(lines)


def publish(report, output=None):
    """Print the report and, if ``output`` is given, write it to that file too."""
    print(report)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(report)


def add_run_arguments(parser):
    """The options of a benchmark that fits and reports: data, threads, CSV in and out."""
    parser.add_argument("--data-home", default=None, help="default: $SKLILAW_DATA")
    add_threads_argument(parser, default=1)
    parser.add_argument("--csv", help="also write every fit's row to this CSV file")
    parser.add_argument(
        "--from-csv", help="report on the rows of an earlier run's --csv instead of fitting"
    )
    parser.add_argument("--output", help="also write the Markdown report to this file")


def fitted_rows(args, run):
    """``run(args)``'s rows (or those of ``--from-csv``), written to ``--csv``; and a Clock."""
    if args.data_home:
        os.environ["SKLILAW_DATA"] = args.data_home
    pin_threads(args.threads)
    clock = Clock()
    results = pd.read_csv(args.from_csv) if args.from_csv else run(args)
    if args.csv:
        results.to_csv(args.csv, index=False)
    return results, clock
