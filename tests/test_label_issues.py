"""Running training statistics and the confident-learning verdict on them."""

import numpy as np
import torch

from sklilaw import Weights
from sklilaw._label_issues import TrainingDynamics, confident_learning_issues, label_issue_frame


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


def test_dynamics_average_over_updates_and_leave_unseen_rows_out():
    dynamics = TrainingDynamics(3, 2, "cpu")
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    ones = torch.ones(2)
    dynamics.update(torch.tensor([0, 1]), logits, Weights(ones, 2 * ones, 3 * ones))
    dynamics.update(torch.tensor([1, 0]), logits, Weights(ones, ones, ones))
    probabilities, weights = dynamics.means()
    expected = (torch.softmax(logits, 1) + torch.softmax(logits, 1).flip(0)) / 2
    np.testing.assert_allclose(probabilities[:2], expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(weights[:, :2], [[1, 1], [1.5, 1.5], [2, 2]])
    assert np.isnan(probabilities[2]).all()

    frame = label_issue_frame(probabilities, np.array([0, 1, 1]), weights, np.array(["a", "b"]))
    assert list(frame["given_label"]) == ["a", "b", "b"]
    assert not frame["is_label_issue"][2] and frame["predicted_label"][2] == "b"
    assert frame["difficulty"].isna().tolist() == [False, False, True]
    assert list(frame["difficulty"][:2]) == ["hard", "hard"]
