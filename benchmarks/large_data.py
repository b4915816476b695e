"""Training on data that stays on disk: a memory-mapped torch Dataset, plain skorch vs LiLAW.

What it measures
----------------
A synthetic classification set (``--features`` float32 features, 4 classes whose labels
come from a fixed random linear teacher plus noise) is written once, chunk by chunk, to
memory-mapped ``.npy`` files in a temporary directory. A ``torch.utils.data.Dataset``
reads rows from them; batches are read with one fancy-indexing read per batch
(``__getitems__``). Each fit runs in a fresh Python process, so that its peak memory is
its own, after a warm-up fit on 2,000 rows (first-call costs of torch and skorch):

* ``plain skorch``: ``skorch.NeuralNetClassifier`` on the Dataset (its ``DataLoader``
  path, a 15% ``ValidSplit`` by index);
* ``LiLAW``: ``LiLAWClassifier`` on the same Dataset (y given, so not read from it):
  the split by index, training batches streamed through a ``DataLoader``, and after
  every training batch one meta step on a validation batch, also read from the Dataset;
* ``reading only``: one pass of a ``DataLoader`` over the same Dataset (85% of the
  rows, shuffled, same batch size) without a network: the floor that reading sets;
* ``LiLAW, arrays``: ``LiLAWClassifier`` on the memory maps passed as arrays, i.e. the
  in-memory path, which copies the data into tensors (run up to ``--max-in-memory``
  rows, for comparison).

Both networks are the same MLP, Adam (lr 1e-3, weight decay 1e-4), one epoch with
batches of ``--batch-size``, one torch thread. Reported: fit time; throughput as
training rows (85% of the rows) per second of fit; peak memory as the process's
anonymous resident memory (sampled every 20 ms: the process's own allocations, without
the pages of the memory-mapped files, which the kernel can drop at any time) and the
peak resident memory ``VmHWM`` (including the mapped pages that were read; not
``ru_maxrss``, which a process inherits from its parent).

Usage::

    python benchmarks/large_data.py                     # 1e4..1e6 rows, then 5e6
    python benchmarks/large_data.py --sizes 10000 100000 --large 0 --output out.md
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pandas as pd
from _bench.common import command_line, markdown, publish, timed, versions

N_CLASSES = 4
SEED = 0


def write_data(directory, n_rows, n_features, chunk=500_000):
    """Write X (float32) and y (int64) as .npy memory maps, chunk by chunk."""
    rng = np.random.default_rng(SEED)
    teacher = rng.standard_normal((n_features, N_CLASSES)).astype(np.float32)
    X = np.lib.format.open_memmap(
        os.path.join(directory, "X.npy"), "w+", np.float32, (n_rows, n_features)
    )
    y = np.lib.format.open_memmap(os.path.join(directory, "y.npy"), "w+", np.int64, (n_rows,))
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        block = rng.standard_normal((stop - start, n_features), dtype=np.float32)
        scores = block @ teacher + rng.standard_normal((stop - start, N_CLASSES))
        X[start:stop], y[start:stop] = block, scores.argmax(axis=1)
    X.flush()
    y.flush()


def status_kib(field):
    """A memory figure of this process from /proc/self/status, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def anonymous_rss_kib():
    return status_kib("RssAnon")


class PeakSampler(threading.Thread):
    """The largest anonymous resident memory seen while running."""

    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval, self.peak, self.running = interval, anonymous_rss_kib(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, anonymous_rss_kib())
            time.sleep(self.interval)

    def stop(self):
        self.running = False
        self.join()
        self.peak = max(self.peak, anonymous_rss_kib())
        return self.peak


def measure(method, directory, n_rows, batch_size, hidden):
    """One fit in this process; returns its measurements as a dict."""
    import torch
    from skorch import NeuralNetClassifier
    from skorch.dataset import ValidSplit

    from sklilaw import MLP, LiLAWClassifier

    torch.set_num_threads(1)

    class MemmapRows(torch.utils.data.Dataset):
        """Rows of the memory-mapped X and y: items (x, y), batches in one read."""

        def __init__(self, X, y):
            self.X, self.y = X, y

        def __len__(self):
            return len(self.X)

        def __getitem__(self, i):
            return self.X[i], self.y[i]

        def __getitems__(self, indices):
            X, y = self.X[indices], self.y[indices]
            return list(zip(X, y, strict=True))

    def fit(n):
        X = np.load(os.path.join(directory, "X.npy"), mmap_mode="r")[:n]
        y = np.load(os.path.join(directory, "y.npy"), mmap_mode="r")[:n]
        module = MLP(X.shape[1], N_CLASSES, hidden)
        common = dict(max_epochs=1, batch_size=batch_size, lr=1e-3, early_stopping=False)
        if method == "plain skorch":
            net = NeuralNetClassifier(
                module,
                optimizer=torch.optim.Adam,
                optimizer__weight_decay=1e-4,
                train_split=ValidSplit(0.15, stratified=False, random_state=SEED),
                iterator_train__shuffle=True,
                verbose=0,
                **common,
            )
            net.fit(MemmapRows(X, y), None)
        elif method == "reading only":
            rows = np.random.default_rng(SEED).permutation(n)[: int(0.85 * n)]
            batches = torch.utils.data.DataLoader(
                torch.utils.data.Subset(MemmapRows(X, y), rows), batch_size=batch_size
            )
            for _ in batches:
                pass
        elif method == "LiLAW":
            labels = np.asarray(y)
            LiLAWClassifier(module, random_state=SEED, **common).fit(MemmapRows(X, y), labels)
        else:
            LiLAWClassifier(module, random_state=SEED, **common).fit(X, y)

    fit(2_000)  # warm-up: torch's and skorch's first-call costs stay out of the timing
    sampler = PeakSampler()
    sampler.start()
    seconds = timed(fit, n_rows)
    peak_anonymous = sampler.stop()
    return {
        "method": method,
        "rows": n_rows,
        "seconds": seconds,
        "train_rows_per_s": 0.85 * n_rows / seconds,
        "peak_anonymous_mib": peak_anonymous / 1024,
        "peak_rss_mib": status_kib("VmHWM") / 1024,
    }


def run(method, directory, n_rows, args):
    command = [
        sys.executable,
        __file__,
        "--measure",
        method,
        directory,
        str(n_rows),
        "--batch-size",
        str(args.batch_size),
        "--hidden",
        str(args.hidden),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    result = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"  {method:>14} {n_rows:>9,} rows: {result['seconds']:.1f} s", file=sys.stderr)
    return result


def table(results, reference):
    rows = [
        {
            "rows": f"{r['rows']:,}",
            "method": r["method"],
            "fit s": f"{r['seconds']:.1f}",
            "training rows/s": f"{r['train_rows_per_s']:,.0f}",
            "time / plain skorch": f"{r['seconds'] / reference.get(r['rows'], float('nan')):.2f}x",
            "peak anonymous MiB": f"{r['peak_anonymous_mib']:,.0f}",
            "peak RSS MiB": f"{r['peak_rss_mib']:,.0f}",
        }
        for r in results
    ]
    return markdown(pd.DataFrame(rows).set_index("rows"), align="rlrrrrr")


def scaling(results, method):
    """Fit time per million rows, relative to the largest size: 1.00 is linear growth."""
    runs = sorted((r for r in results if r["method"] == method), key=lambda r: r["rows"])
    per_row = [r["seconds"] / r["rows"] for r in runs]
    return ", ".join(
        f"{r['rows']:,}: {1e6 * p:.1f} s per 1M rows ({p / per_row[-1]:.2f})"
        for r, p in zip(runs, per_row, strict=True)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--large", type=int, default=5_000_000, help="0 to skip")
    parser.add_argument("--max-in-memory", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument("--measure", nargs=3, metavar=("METHOD", "DIR", "ROWS"))
    args = parser.parse_args(argv)
    if args.measure:
        method, directory, n_rows = args.measure
        result = measure(method, directory, int(n_rows), args.batch_size, (args.hidden,))
        print(json.dumps(result))
        return

    import skorch
    import torch

    n_max = max([*args.sizes, args.large])
    methods = ["reading only", "plain skorch", "LiLAW", "LiLAW, arrays"]
    results = []
    with tempfile.TemporaryDirectory(prefix="sklilaw-large-") as directory:
        seconds = timed(write_data, directory, n_max, args.features)
        print(f"wrote {n_max:,} rows in {seconds:.0f} s", file=sys.stderr)
        for n_rows in sorted(set(args.sizes)) + ([args.large] if args.large else []):
            for method in methods:
                if method == "LiLAW, arrays" and n_rows > args.max_in_memory:
                    continue
                results.append(run(method, directory, n_rows, args))
    reference = {r["rows"]: r["seconds"] for r in results if r["method"] == "plain skorch"}
    data_mib = n_max * args.features * 4 / 2**20
    report = "\n".join(
        [
            f"{versions(torch, skorch, np)}; {os.cpu_count()} logical cores, one torch "
            f"thread per fit; MLP {args.features}-{args.hidden}-{N_CLASSES}, one epoch, "
            f"batch size {args.batch_size}; X of {n_max:,} rows is {data_mib:,.0f} MiB "
            "of float32 on disk.",
            "",
            f"Command: `{command_line()}`",
            "",
            table(results, reference),
            "",
            "Fit time per row, relative to the largest size (1.00 = linear growth):",
            "",
            *(f"- {method}: {scaling(results, method)}" for method in methods),
            "",
        ]
    )
    publish(report, args.output)


if __name__ == "__main__":
    main()
