"""Running training statistics and the confident-learning verdict on them."""

import numpy as np
import pandas as pd
import torch

from sklilaw import lilaw_weights
from sklilaw._label_issues import (
    SampleStatistics,
    confident_learning_issues,
    label_issue_frame,
    rows_to_keep,
)


def test_confident_learning_flags_confident_off_diagonal_samples():
    probabilities = np.array(
        [
            [0.9, 0.1],  # labelled 0, confidently 0
            [0.7, 0.3],  # labelled 0
            [0.2, 0.8],  # labelled 0 but confidently 1: an issue
            [0.1, 0.9],  # labelled 1
            [0.4, 0.6],  # labelled 1
            [0.5, 0.5],  # labelled 1, reaches no threshold of another class
        ]
    )
    labels = np.array([0, 0, 0, 1, 1, 1])
    # thresholds: class 0 -> mean(0.9, 0.7, 0.2) = 0.6; class 1 -> mean(0.9, 0.6, 0.5) = 0.667
    flags = confident_learning_issues(probabilities, labels)
    np.testing.assert_array_equal(flags, [False, False, True, False, False, False])


def test_statistics_average_over_updates_and_leave_unseen_rows_out():
    statistics = SampleStatistics(3, 2, "cpu")
    first = torch.tensor([[0.5, 0.5], [0.9, 0.1]])
    statistics.update(torch.tensor([0, 1]), first)
    statistics.update(torch.tensor([1, 0]), first)
    probabilities = statistics.mean_probabilities()
    np.testing.assert_allclose(probabilities[:2], [[0.7, 0.3], [0.7, 0.3]], rtol=1e-6)
    assert np.isnan(probabilities[2]).all()

    meta_params = torch.tensor([2.0, 2.0, 2.0])
    frame = label_issue_frame(
        probabilities, np.array([0, 1, 1]), np.array(["a", "b"]), meta_params, in_validation=False
    )
    assert not frame["in_validation"].any()
    assert list(frame["given_label"]) == ["a", "b", "b"]
    assert not frame["is_label_issue"][2] and frame["predicted_label"][2] == "b"
    assert frame["difficulty"].isna().tolist() == [False, False, True]
    expected = lilaw_weights(torch.tensor([0.7, 0.3]), torch.tensor([0.7, 0.7]), meta_params)
    np.testing.assert_allclose(frame["lilaw_weight"][:2], expected.total, rtol=1e-6)
    dominant = torch.stack(expected).argmax(dim=0)
    assert list(frame["difficulty"][:2]) == [["easy", "moderate", "hard"][i] for i in dominant]


def test_pruning_keeps_the_best_flagged_rows_of_a_class_left_too_small():
    issues = pd.DataFrame(
        {
            "given_label": ["a"] * 4 + ["b"] * 3,
            "is_label_issue": [True, True, True, False, True, False, False],
            "label_quality": [0.3, 0.1, 0.2, 0.9, 0.05, 0.8, 0.7],
        }
    )
    # class a: 1 unflagged row, so its flagged row of highest quality (0) stays;
    # class b: 2 unflagged rows already, so its flagged row goes
    np.testing.assert_array_equal(rows_to_keep(issues, 2), [0, 3, 5, 6])
    np.testing.assert_array_equal(rows_to_keep(issues, 3), [0, 2, 3, 4, 5, 6])
    # a class smaller than the floor keeps every row
    np.testing.assert_array_equal(rows_to_keep(issues, 10), np.arange(7))
    np.testing.assert_array_equal(rows_to_keep(issues, 1), [3, 5, 6])


def test_the_verdict_in_chunks_is_that_of_the_whole_table(monkeypatch):
    """Confident learning flags, computed a few rows at a time in float32, are those of
    the textbook computation on the whole float64 table."""
    import sklilaw._label_issues as label_issues

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(7) * 0.5, size=1000).astype(np.float32)
    probabilities[[3, 500]] = np.nan  # never trained on
    labels = rng.integers(0, 7, size=1000)
    whole = probabilities.astype(np.float64)
    seen = ~np.isnan(whole).any(axis=1)
    thresholds = np.array([whole[seen & (labels == j), j].mean() for j in range(7)])
    confident = whole >= thresholds
    best = np.where(confident, whole, -np.inf).argmax(axis=1)
    expected = seen & confident.any(axis=1) & (best != labels)
    monkeypatch.setattr(label_issues, "_CHUNK_SIZE", 64 * 7)  # 64 rows at a time
    np.testing.assert_array_equal(confident_learning_issues(probabilities, labels), expected)
    assert 50 < expected.sum() < 950


def test_the_statistics_are_one_float32_table_divided_in_place():
    statistics = SampleStatistics(4, 3, "cpu")
    statistics.update(torch.tensor([0, 1]), torch.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))
    table = statistics.probability_sum
    means = statistics.mean_probabilities()
    assert means.dtype == np.float32 and np.shares_memory(means, table.numpy())
    np.testing.assert_allclose(means[:2], [[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    assert np.isnan(means[2:]).all()
