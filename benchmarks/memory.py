"""Peak memory of a fit: sparse input, and many classes with a given validation set.

What it measures
----------------
Each case runs in a fresh Python process, which builds its data, then fits
``LiLAWClassifier``. The process's resident memory just before ``fit``, and its peak
resident memory during ``fit`` (Linux's ``VmHWM``, reset just before), give what the fit
added.
Next to it, what the fit needs at the least:

* **sparse**: a CSR matrix of 1,000 rows x 100,000 features (about 13,000 non-zeros,
  0.16 MB of data), 10 classes, the default MLP (one hidden layer of 100), 2 epochs. The
  fit keeps the matrix sparse and makes one batch of rows dense at a time; the least it
  needs is the dense float32 batch (128 x 100,000) and the model: its parameters, their
  gradients and Adam's two moments (4 x the parameters, in float32). The target: the fit
  adds at most 2x the batch plus the model. ``dense float64 input`` fits the same rows as
  a dense float64 array, for comparison: the array itself is 0.8 GB. Every case trains
  its 2 epochs without early stopping (which would add one copy of the parameters, the
  best epoch's).
* **many classes**: 10,000 classes of one row each (5 float32 features: 200 KB), with
  ``X_val`` the same rows, 2 epochs. Its label-issue bookkeeping is one float32 array of
  rows x classes (0.4 GB), which the verdict at the end of training divides in place and
  reads in chunks; the validation outputs are scored a batch at a time, never kept whole.
  The least it needs is that array and the model.

Usage::

    python benchmarks/memory.py
"""

import argparse
import json
import subprocess
import sys

MB = 1024**2


def _status_mb(field):
    """``VmRSS`` (resident now) or ``VmHWM`` (peak) of this process, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak():
    """Start the peak anew from what is resident now (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _model_mb(clf):
    parameters = sum(p.numel() for p in clf.module_.parameters())
    return 4 * parameters * 4 / MB  # float32 parameters, gradients, Adam's two moments


def case(name):
    """Build the case's data, fit, and return what it measured."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from sklilaw import LiLAWClassifier

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    if name in ("sparse", "dense float64 input"):
        rows, columns = rng.integers(0, 1000, 13_000), rng.integers(0, 100_000, 13_000)
        X = sp.csr_matrix((rng.normal(size=13_000), (rows, columns)), shape=(1000, 100_000))
        y = rng.integers(0, 10, size=1000)
        X = X.toarray() if name == "dense float64 input" else X
        params, fit_params = dict(max_epochs=2, early_stopping=False, random_state=0), {}
        floor_mb = 128 * 100_000 * 4 / MB
    else:
        X = rng.normal(size=(10_000, 5)).astype(np.float32)
        y = np.arange(10_000)
        params = dict(max_epochs=2, early_stopping=False, random_state=0)
        fit_params = dict(X_val=X, y_val=y)
        floor_mb = 10_000 * 10_000 * 4 / MB  # the label-issue statistics
    clf = LiLAWClassifier(**params)
    before = _status_mb("VmRSS")
    _reset_peak()
    clf.fit(X, y, **fit_params)
    added = _status_mb("VmHWM") - before
    input_mb = (
        (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / MB
        if sp.issparse(X)
        else X.nbytes / MB
    )
    model = _model_mb(clf)
    return {
        "case": name,
        "input MB": round(input_mb, 2),
        "fit added MB": round(added, 1),
        "least needed MB (data, model)": f"{floor_mb:.0f} + {model:.0f}",
        "ratio": round(added / (floor_mb + model), 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(case(args.case)))
        return
    rows = []
    for name in ("sparse", "dense float64 input", "many classes"):
        out = subprocess.run(
            [sys.executable, __file__, "--case", name], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
