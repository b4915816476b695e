"""Plots, drawn with the Agg backend and checked for their data."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_iris

from sklilaw import LiLAWClassifier, lilaw_weights
from sklilaw.plotting import plot_difficulty, plot_meta_params, plot_weight_landscape

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    X, y = load_iris(return_X_y=True)
    return LiLAWClassifier(max_epochs=4, batch_size=32, random_state=0).fit(X, y), X, y


def test_meta_params_plot_draws_the_history(fitted):
    clf, _, _ = fitted
    ax = plot_meta_params(clf)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"alpha", "beta", "delta"}
    for name, line in lines.items():
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(line.get_ydata(), clf.history[:, name])


def test_weight_landscape_shows_the_weights_where_p_label_le_p_max():
    import torch

    fig = plot_weight_landscape(alpha=3.0, beta=1.5, delta=2.5, resolution=11)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [
        "easy, W_alpha",
        "moderate, W_delta",
        "hard, W_beta",
        "weight (sum)",
    ]
    total = panels[3].collections[0].get_array()  # rows: p_max, columns: p_label
    assert total.shape == (11, 11)
    assert total.mask[2, 5] and not total.mask[5, 2]  # p_label 0.5 > p_max 0.2 is blank
    expected = lilaw_weights(
        torch.tensor([0.2]), torch.tensor([0.5]), torch.tensor([3.0, 1.5, 2.5])
    ).total
    assert total[5, 2] == pytest.approx(expected.item())


def test_difficulty_plot_splits_categories_by_flags(fitted):
    clf, X, y = fitted
    frame = clf.difficulty(X, y)
    ax = plot_difficulty(frame)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    counts = frame["difficulty"].value_counts()
    assert sorted(labels) == sorted(f"{c}\n(n={n})" for c, n in counts.items() if n)
    flags = np.arange(len(y)) < 10
    ax = plot_difficulty(frame, is_label_issue=flags)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert sum(int(label.split("n=")[1][:-1]) for label in labels if "flagged" in label) == 10
    with pytest.raises(ValueError, match="is_label_issue has 3 values"):
        plot_difficulty(frame, is_label_issue=[True, False, True])
