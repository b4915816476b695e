"""Could the meta step's forward share work with the next training forward?

What it measures
----------------
After the optimizer step of batch ``t``, LiLAW's meta step runs the module (in
evaluation mode, without a graph) on a validation batch, and the next training step runs
the same module (in training mode, with a graph) on training batch ``t + 1``: both see
the same parameters, so the two forwards could be one, on the two batches stacked. For
each network this script times, one torch thread, interleaved and repeated:

* ``separate``: the training forward and backward, then the meta forward
  (``torch.no_grad()``, evaluation mode), as ``LiLAWClassifier`` runs them;
* ``shared``: one forward of the stacked batches in training mode, the backward of the
  training half's loss (the validation half's outputs detached);

and compares the validation logits of the two (largest absolute difference, and whether
they are bitwise equal). The networks: ``sklilaw.MLP`` at 32 features and 10 classes
(batches of 512, the scaling benchmark's) and at 16 features and 26 classes (batches of
128, the overhead benchmark's), and the overhead benchmark's ``SmallCNN`` on 8x8 images
(batches of 128). None has batch-norm or dropout, where training and evaluation mode
differ and sharing would change the method.

Usage::

    python benchmarks/meta_forward.py --output benchmarks/results/meta_forward.md
"""

import argparse
import time

import numpy as np
import torch
from _bench.common import command_line, commit, cpu, publish, versions
from _bench.models import SmallCNN, seeded_module
from torch.nn import functional as F

import sklilaw
from sklilaw import MLP

NETWORKS = {
    "MLP, 32 features, 10 classes, batch 512": (MLP, 32, 10, 512),
    "MLP, 16 features, 26 classes, batch 128": (MLP, 16, 26, 128),
    "SmallCNN, 8x8 images, 10 classes, batch 128": (SmallCNN, 64, 10, 128),
}


def separate(module, X_train, y_train, X_val):
    module.train()
    F.cross_entropy(module(X_train), y_train).backward()
    module.eval()
    with torch.no_grad():
        return module(X_val)


def shared(module, X_train, y_train, X_val):
    module.train()
    logits = module(torch.cat([X_val, X_train]))
    F.cross_entropy(logits[len(X_val) :], y_train).backward()
    return logits[: len(X_val)].detach()


def measure(network, repeats, steps):
    cls, n_features, n_classes, batch = NETWORKS[network]
    module = seeded_module(0, cls, n_features, n_classes)
    generator = torch.Generator().manual_seed(0)
    X_train = torch.randn(batch, n_features, generator=generator)
    X_val = torch.randn(batch, n_features, generator=generator)
    y_train = torch.randint(n_classes, (batch,), generator=generator)
    seconds = {separate: [], shared: []}
    for repeat in range(repeats):
        for way in (separate, shared) if repeat % 2 == 0 else (shared, separate):
            start = time.perf_counter()
            for _ in range(steps):
                module.zero_grad()
                way(module, X_train, y_train, X_val)
            seconds[way].append((time.perf_counter() - start) / steps)
    apart, together = (way(module, X_train, y_train, X_val) for way in (separate, shared))
    return {
        "network": network,
        "separate ms": 1e3 * np.median(seconds[separate]),
        "shared ms": 1e3 * np.median(seconds[shared]),
        "largest difference": (apart - together).abs().max().item(),
        "bitwise equal": torch.equal(apart, together),
    }


def report(rows, repeats, steps):
    lines = [
        "| network | separate, ms per step | shared, ms per step | shared / separate "
        "| largest difference of the validation logits | bitwise equal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['network']} | {row['separate ms']:.3f} | {row['shared ms']:.3f} | "
            f"{row['shared ms'] / row['separate ms']:.2f} | {row['largest difference']:.1e} | "
            f"{'yes' if row['bitwise equal'] else 'no'} |"
        )
    return "\n".join(
        [
            "# Sharing the meta forward with the next training forward",
            "",
            f"{versions(torch, sklilaw)}; {cpu()}.",
            "",
            f"Command: `{command_line()}`",
            "",
            f"Commit: {commit()}. Medians of {repeats} timings of {steps} steps each.",
            "",
            *lines,
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--output", help="also write the report here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = [measure(network, args.repeats, args.steps) for network in NETWORKS]
    publish(report(rows, args.repeats, args.steps), args.output)


if __name__ == "__main__":
    main()
