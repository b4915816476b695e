"""Plots of LiLAW's weights and meta parameters (matplotlib: ``pip install sklilaw[plot]``)."""

import numpy as np
import pandas as pd
import torch

from ._weighting import lilaw_weights


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("sklilaw's plots need matplotlib: pip install 'sklilaw[plot]'") from error
    return plt


def plot_meta_params(estimator, *, ax=None):
    """Plot ``alpha``, ``beta`` and ``delta`` at the end of every epoch.

    Parameters
    ----------
    estimator : LiLAWClassifier
        A fitted estimator (its skorch history holds the values).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        One line per meta parameter, epochs on the x axis.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    epochs = estimator.history[:, "epoch"]
    for name in ("alpha", "beta", "delta"):
        ax.plot(epochs, estimator.history[:, name], marker=".", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value at the end of the epoch")
    ax.set_title("LiLAW meta parameters")
    ax.legend()
    return ax


def plot_weight_landscape(alpha=2.0, beta=2.0, delta=2.0, *, resolution=101):
    """Plot each LiLAW weight over ``p_label`` (a) and ``p_max`` (m).

    Only ``a <= m`` can occur (the observed label's probability is at most the
    largest); the rest of each panel is left blank.

    Parameters
    ----------
    alpha, beta, delta : float, default=2.0
        The meta parameters, e.g. a fitted estimator's ``alpha_``, ``beta_``, ``delta_``.
    resolution : int, default=101
        Grid points along each axis.

    Returns
    -------
    matplotlib.figure.Figure
        Four panels: ``W_alpha`` (easy), ``W_delta`` (moderate), ``W_beta`` (hard) and
        their sum, the sample's weight.
    """
    plt = _pyplot()
    grid = torch.linspace(0, 1, resolution, dtype=torch.float64)
    p_max, p_label = torch.meshgrid(grid, grid, indexing="ij")
    weights = lilaw_weights(
        p_label.flatten(), p_max.flatten(), torch.tensor([alpha, beta, delta], dtype=torch.float64)
    )
    panels = {
        "easy, W_alpha": weights.easy,
        "moderate, W_delta": weights.moderate,
        "hard, W_beta": weights.hard,
        "weight (sum)": weights.total,
    }
    impossible = (p_label > p_max).numpy()
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), constrained_layout=True)
    for ax, (title, values) in zip(axes, panels.items(), strict=True):
        image = np.ma.masked_where(impossible, values.view(resolution, resolution).numpy())
        mesh = ax.pcolormesh(grid.numpy(), grid.numpy(), image, shading="auto")
        fig.colorbar(mesh, ax=ax)
        ax.set_title(title)
        ax.set_xlabel("p_label (probability of the observed label)")
        ax.set_ylabel("p_max (largest probability)")
    fig.suptitle(f"LiLAW weights, alpha={alpha:.3g}, beta={beta:.3g}, delta={delta:.3g}")
    return fig


def plot_difficulty(difficulty, *, is_label_issue=None, ax=None):
    """Box plots of the three weight components and the weight, by difficulty category.

    Parameters
    ----------
    difficulty : pandas.DataFrame
        The frame returned by :meth:`LiLAWClassifier.difficulty`.
    is_label_issue : array-like of bool, default=None
        Flags, one per row (e.g. known flipped labels, or flagged label issues); when
        given, every category is split into flagged and not flagged samples.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        One box per (category, flag), the weight on the y axis; the x tick labels give
        the category, its flag and its sample count.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    frame = pd.DataFrame(
        {"category": difficulty["difficulty"], "weight": difficulty["lilaw_weight"]}
    )
    if is_label_issue is None:
        frame["group"] = frame["category"].astype(str)
    else:
        flags = np.asarray(is_label_issue, dtype=bool)
        if len(flags) != len(frame):
            raise ValueError(
                f"is_label_issue has {len(flags)} values but difficulty has {len(frame)} rows."
            )
        frame["group"] = frame["category"].astype(str) + np.where(flags, ", flagged", "")
    groups = [(name, part["weight"].to_numpy()) for name, part in frame.groupby("group")]
    ax.boxplot([values for _, values in groups])
    ax.set_xticks(
        range(1, len(groups) + 1), [f"{name}\n(n={len(values)})" for name, values in groups]
    )
    ax.set_ylabel("LiLAW weight")
    ax.set_title("Weights by difficulty category")
    return ax
