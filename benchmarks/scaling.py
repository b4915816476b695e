"""Fit time and peak memory as the rows grow: LiLAW against its floor, plain skorch and
MLPClassifier.

What it measures
----------------
Synthetic data of ``--features`` float32 features and ``--classes`` classes
(``make_classification``, seeded) at each of ``--sizes`` rows, split once into fit rows
(85%) and validation rows (15%). Every method trains the same network (``sklilaw.MLP``
with one hidden layer of 100, the same initial weights), ``--epochs`` epochs of
mini-batches of ``--batch-size``, Adam with lr 1e-3 and weight decay 1e-4, one torch
thread, on ``--device``; ``--network cnn`` trains the overhead benchmark's ``SmallCNN``
instead, on the features as square images (``--features`` must then be a square):

* ``floor: LiLAW loop``: a hand-written PyTorch loop with all of LiLAW's arithmetic and a
  validation pass at the end of every epoch (``_bench/floor.py``): what a fit of LiLAW
  must do, and nothing else;
* ``LiLAW``: ``LiLAWClassifier(early_stopping=False)`` with the validation rows as
  ``X_val`` (the paper's method for a fixed number of epochs, as the floor trains);
* ``plain skorch``: skorch's ``NeuralNetClassifier`` with cross-entropy, the validation
  rows given by ``predefined_split``;
* ``MLPClassifier``: scikit-learn's, same layer and optimizer, on the fit rows (up to
  ``--max-sklearn`` rows: it is much slower; on the CPU whatever the device, and not with
  ``--network cnn``).

Each fit runs in a fresh process that first builds the data and a warm-up fit of 2,000
rows (torch's start-up), then resets its peak resident memory (Linux ``VmHWM``) and
fits; the report gives the fit's wall time, its ratio to the floor, and what the fit
added to the process's memory at its peak next to the fit rows' size in float32 (what the
network trains on: a fit that copies its data once into float32 adds about that); on a
CUDA device, also the peak of the device memory torch allocated during the fit. The
methods of one size run interleaved, ``--repeats`` times (the order rotated each time);
the tables give medians.

Targets, printed as met or not: LiLAW at most 1.15x the floor at every size, and LiLAW's
added memory at most the fit rows' float32 size plus a constant (the largest added
memory of the smallest size).

Usage::

    python benchmarks/scaling.py --output benchmarks/results/scaling.md
    python benchmarks/scaling.py --device cuda --output scaling_cuda.md   # on a GPU
    python benchmarks/scaling.py --network cnn --features 64 --sizes 20000 200000
"""

import argparse
import gc
import json
import platform
import subprocess
import sys
import time
import warnings

import numpy as np

SEED = 0
LR, WEIGHT_DECAY = 1e-3, 1e-4
FLOOR, LILAW, PLAIN, SKLEARN = "floor: LiLAW loop", "LiLAW", "plain skorch", "MLPClassifier"
METHODS = (FLOOR, LILAW, PLAIN, SKLEARN)
TARGET = 1.15


class Data:
    """Fit and validation rows of the synthetic set, float32 features, int64 labels."""

    def __init__(self, rows, features, classes):
        from sklearn.datasets import make_classification

        X, y = make_classification(
            rows,
            features,
            n_informative=features // 2,
            n_classes=classes,
            n_clusters_per_class=1,
            random_state=SEED,
        )
        n_val = int(0.15 * rows)
        self.X_fit, self.y_fit = X[n_val:].astype(np.float32), y[n_val:].astype(np.int64)
        self.X_val, self.y_val = X[:n_val].astype(np.float32), y[:n_val].astype(np.int64)
        self.n_features, self.n_classes = features, classes


def _status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def _fit(method, data, args, epochs):
    """Fit ``method`` on ``data``; return its wall time (the device's work done)."""
    import torch
    from _bench.floor import floor_fit
    from _bench.models import SeededSkorch, SmallCNN, fixed_epochs_mlp_classifier, seeded_module
    from sklearn.exceptions import ConvergenceWarning
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    from sklilaw import MLP, LiLAWClassifier

    network = SmallCNN if args.network == "cnn" else MLP
    module = seeded_module(SEED, network, data.n_features, data.n_classes)
    batch_size, device = args.batch_size, args.device
    gc.collect()
    start = time.perf_counter()
    if method == FLOOR:
        floor_fit(
            module,
            data,
            epochs=epochs,
            batch_size=batch_size,
            lr=LR,
            weight_decay=WEIGHT_DECAY,
            seed=SEED,
            lilaw=True,
            device=device,
        )
    elif method == LILAW:
        LiLAWClassifier(
            module,
            max_epochs=epochs,
            early_stopping=False,
            batch_size=batch_size,
            lr=LR,
            weight_decay=WEIGHT_DECAY,
            random_state=SEED,
            device=device,
        ).fit(data.X_fit, data.y_fit, X_val=data.X_val, y_val=data.y_val)
    elif method == PLAIN:
        valid = Dataset(data.X_val, data.y_val)
        SeededSkorch(
            module,
            SEED,
            max_epochs=epochs,
            batch_size=batch_size,
            train_split=predefined_split(valid),
            device=device,
        ).fit(data.X_fit, data.y_fit)
    else:
        net = fixed_epochs_mlp_classifier(
            (100,), lr=LR, weight_decay=WEIGHT_DECAY, batch_size=batch_size, epochs=epochs,
            seed=SEED,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(data.X_fit, data.y_fit)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure(method, rows, args):
    """In this process: warm up, build the data, fit once; the time and added memory."""
    import torch

    torch.set_num_threads(1)
    cuda = args.device.startswith("cuda")
    _fit(method, Data(2000, args.features, args.classes), args, epochs=1)
    data = Data(rows, args.features, args.classes)
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    before = _status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts anew from here
    seconds = _fit(method, data, args, args.epochs)
    return {
        "method": method,
        "rows": rows,
        "seconds": seconds,
        "added_mb": _status_mb("VmHWM") - before,
        "data_mb": data.X_fit.nbytes / 1024**2,
        "device_peak_mb": torch.cuda.max_memory_allocated() / 1024**2 if cuda else np.nan,
    }


def run(args):
    results = []
    for rows in args.sizes:
        sklearn = rows <= args.max_sklearn and args.network == "mlp"
        methods = [m for m in METHODS if m != SKLEARN or sklearn]
        for repeat in range(args.repeats):
            shift = repeat % len(methods)
            for method in methods[shift:] + methods[:shift]:
                command = [sys.executable, __file__, "--measure", method, str(rows)]
                command += _passed_options(args)
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"{rows} rows, {method}: {results[-1]['seconds']:.1f} s", file=sys.stderr)
    return results


def _passed_options(args):
    return [
        "--epochs", str(args.epochs),
        "--batch-size", str(args.batch_size),
        "--features", str(args.features),
        "--classes", str(args.classes),
        "--device", args.device,
        "--network", args.network,
    ]  # fmt: skip


def report(results, args):
    import pandas as pd
    import sklearn
    import skorch
    import torch
    from _bench.common import command_line, commit, versions

    import sklilaw

    frame = pd.DataFrame(results)
    columns = ["seconds", "added_mb", "data_mb", "device_peak_mb"]
    table = frame.groupby(["rows", "method"], sort=False)[columns].median().reset_index()
    floor = table[table.method == FLOOR].set_index("rows")["seconds"]
    table["ratio"] = table["seconds"] / table["rows"].map(floor)
    cuda = args.device.startswith("cuda")
    lines = [
        "| rows | method | fit s | / floor | added MB at peak | fit rows, float32 MB |"
        + (" device peak MB |" if cuda else ""),
        "|---:|---|---:|---:|---:|---:|" + ("---:|" if cuda else ""),
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.rows:,} | {row.method} | {row.seconds:.2f} | {row.ratio:.2f}x | "
            f"{row.added_mb:.0f} | {row.data_mb:.0f} |"
            + (f" {row.device_peak_mb:.0f} |" if cuda else "")
        )
    lilaw = table[table.method == LILAW].set_index("rows")
    ratios = ", ".join(f"{rows:,}: {r:.2f}x" for rows, r in lilaw["ratio"].items())
    met = (lilaw["ratio"] <= TARGET).all()
    constant = lilaw["added_mb"].iloc[0] - lilaw["data_mb"].iloc[0]
    over = lilaw["added_mb"] - lilaw["data_mb"]
    memory_met = (over <= max(constant, 0) + 1e-9).all()
    header = (
        f"{args.network.upper()}, {args.features} features, {args.classes} classes, "
        f"{args.epochs} epochs, batches of {args.batch_size}, one torch thread, on "
        f"{_device_name(args.device)}; medians of {args.repeats} fits per method."
    )
    return "\n".join(
        [
            "# Scaling with the rows: LiLAW against its floor\n\n"
            f"{versions(torch, skorch, sklearn, sklilaw)}; "
            f"command: `{command_line()}`; commit {commit()}.",
            "",
            header,
            "",
            *lines,
            "",
            f"- LiLAW at most {TARGET}x its floor at every size: "
            f"**{'met' if met else 'NOT met'}** ({ratios})",
            "- LiLAW's added memory at most the fit rows in float32 plus the smallest size's "
            f"excess ({constant:.0f} MB): **{'met' if memory_met else 'NOT met'}** "
            f"(excess by size: {', '.join(f'{r:,}: {v:.0f} MB' for r, v in over.items())})",
        ]
    )


def _device_name(device):
    import torch

    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"the CPU ({platform.processor() or platform.machine()})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000, 2_000_000])
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-sklearn", type=int, default=200_000)
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda'")
    parser.add_argument("--network", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--output", help="also write the report here")
    parser.add_argument("--measure", nargs=2, metavar=("METHOD", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        method, rows = args.measure
        print(json.dumps(measure(method, int(rows), args)))
        return
    text = report(run(args), args)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            file.write(text + "\n")


if __name__ == "__main__":
    main()
