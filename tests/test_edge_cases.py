"""Numerical edge cases: saturated softmax, half-precision autocast, extreme meta settings."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from sklilaw import (
    LiLAWClassifier,
    LiLAWLoss,
    label_probabilities,
    lilaw_weights,
    meta_gradient,
    meta_update,
)

FAST = dict(max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _assert_inside_clamps(meta_params):
    alpha, beta, delta = meta_params
    assert np.isfinite(meta_params).all()
    assert alpha >= 1.0 and delta >= beta


def _assert_weights_valid(weights):
    total = weights.total
    assert torch.isfinite(total).all() and (total > 0).all() and (total < 3).all()


# ------------------------------------------------------------------ saturated softmax
SATURATED = torch.tensor(
    [
        [0.0, -200.0, 0.0],  # p_label = exp(-200) == 0 in float32, finite loss
        [200.0, 0.0, 0.0],  # p_label == 1 exactly, loss 0
        [3e38, -3e38, 0.0],  # p_label == 0 and a loss of inf
        [-3e38, 3e38, 1.0],  # p_label == 1, p of the others exactly 0
    ]
)
SATURATED_TARGET = torch.tensor([1, 0, 1, 1])


def test_saturated_probabilities_are_exactly_zero_and_one():
    p_label, p_max = label_probabilities(SATURATED, SATURATED_TARGET)
    assert p_label.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert torch.isfinite(p_max).all()


def test_saturated_logits_give_finite_weights_and_meta_gradient():
    p_label, p_max = label_probabilities(SATURATED, SATURATED_TARGET)
    params = torch.tensor([2.0, 2.0, 2.0])
    _assert_weights_valid(lilaw_weights(p_label, p_max, params))
    losses = F.cross_entropy(SATURATED, SATURATED_TARGET, reduction="none")
    assert torch.isinf(losses[2])
    # dW/dp carries a factor p_label: a sample with p_label == 0 adds nothing to the
    # gradient, whatever its loss (0 * inf would be NaN)
    grad = meta_gradient(p_label, p_max, losses, params)
    expected = meta_gradient(p_label[[0, 1, 3]], p_max[[0, 1, 3]], losses[[0, 1, 3]], params)
    torch.testing.assert_close(grad, expected * 3 / 4)
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    criterion.meta_step(SATURATED, SATURATED_TARGET, lr=0.5, weight_decay=0.01)
    _assert_inside_clamps(criterion.meta_params.numpy())


def test_the_weighted_loss_of_finite_saturated_logits_is_finite_and_differentiable():
    logits = SATURATED[:2].clone().requires_grad_(True)
    loss = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))(logits, SATURATED_TARGET[:2])
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


class _Saturating(nn.Module):
    """A linear model whose logits are scaled up until the softmax saturates."""

    def __init__(self, scale=1e4):
        super().__init__()
        self.linear = nn.Linear(4, 3)
        self.scale = scale

    def forward(self, x):
        return self.linear(x) * self.scale


def test_fit_on_a_saturating_module_stays_finite(iris):
    X, y = iris
    clf = LiLAWClassifier(_Saturating, **FAST).fit(X, y)
    _assert_inside_clamps(np.array([clf.alpha_, clf.beta_, clf.delta_]))
    proba = clf.predict_proba(X)
    assert ((proba == 0) | (proba == 1)).mean() > 0.5  # most rows are saturated
    frame = clf.difficulty(X, y)
    assert np.isfinite(frame[["label_quality", "p_max", "lilaw_weight"]].to_numpy()).all()
    assert frame["lilaw_weight"].between(0, 3, inclusive="neither").all()


# --------------------------------------------------------------------------- autocast
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_weights_and_meta_gradient_under_cpu_autocast(dtype):
    generator = torch.Generator().manual_seed(0)
    model = nn.Linear(4, 3)
    with torch.no_grad():
        model.weight.mul_(50)  # large logits: some probabilities saturate in half precision
    x = torch.randn(64, 4, generator=generator)
    target = torch.randint(0, 3, (64,), generator=generator)
    params = torch.tensor([1.5, 2.0, 2.5])
    with torch.autocast("cpu", dtype=dtype):
        logits = model(x)
        assert logits.dtype == dtype
        p_label, p_max = label_probabilities(logits, target)
        weights = lilaw_weights(p_label, p_max, params)
        losses = F.cross_entropy(logits, target, reduction="none")
        grad = meta_gradient(p_label, p_max, losses, params)
        criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), 1.5, 2.0, 2.5)
        loss = criterion(logits, target)
        criterion.meta_step(logits.detach(), target, lr=0.1, weight_decay=0.01)
    assert p_label.dtype == weights.total.dtype == grad.dtype == torch.float32
    _assert_weights_valid(weights)
    assert torch.isfinite(grad).all() and torch.isfinite(loss)
    _assert_inside_clamps(criterion.meta_params.numpy())
    loss.backward()
    assert torch.isfinite(model.weight.grad).all()
    # the same half-precision logits, upcast outside autocast, give the same numbers
    reference = logits.detach().float()
    ref_label, ref_max = label_probabilities(reference, target)
    torch.testing.assert_close(weights.total, lilaw_weights(ref_label, ref_max, params).total)
    ref_losses = F.cross_entropy(reference, target, reduction="none")
    torch.testing.assert_close(grad, meta_gradient(ref_label, ref_max, ref_losses, params))


# -------------------------------------------------------------- extreme meta settings
@pytest.mark.parametrize(
    "params",
    [
        dict(meta_lr=5e-324),  # the smallest float: the step underflows to nothing
        dict(meta_lr=1e-30),
        dict(meta_lr=100.0, meta_weight_decay=0.0),
        dict(alpha_init=1.0),  # at the clamp
        dict(alpha_init=0.5),  # below: the first meta step clamps it
        dict(alpha_init=-3.0, meta_lr=0.0),  # and with meta_lr=0 too
        dict(beta_init=5.0, delta_init=1.0),  # beta above delta
        dict(alpha_init=1e30, beta_init=-1e30, delta_init=1e30),
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()),
)
def test_meta_parameters_and_weights_stay_finite_and_inside_the_clamps(iris, params):
    X, y = iris
    clf = LiLAWClassifier(**FAST, **params).fit(X, y)
    for epoch in clf.history:
        _assert_inside_clamps(np.array([epoch["alpha"], epoch["beta"], epoch["delta"]]))
        assert 0 < epoch["mean_weight"] < 3
        assert all(0 < b["lilaw_weight"] < 3 for b in epoch["batches"] if "lilaw_weight" in b)
        assert np.isfinite([epoch["train_loss"], epoch["valid_loss"]]).all()
    if 0 < params.get("meta_lr", 0.01) < 1e-20:
        assert clf.alpha_ == params.get("alpha_init", 2.0)
    weights = clf.difficulty(X, y)[["w_easy", "w_moderate", "w_hard", "lilaw_weight"]].to_numpy()
    assert np.isfinite(weights).all()


def test_a_diverging_meta_step_names_epoch_and_batch(iris):
    X, y = iris
    clf = LiLAWClassifier(**FAST, meta_lr=1e30)  # each step multiplies by -1e28
    with pytest.raises(ValueError, match=r"[Mm]eta step at epoch 1, batch 2.*meta_lr"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


class _NaNInEvalMode(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x):
        out = self.linear(x)
        return out if self.training else out * float("nan")


def test_non_finite_validation_outputs_stop_the_meta_step_with_epoch_and_batch(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"[Mm]eta step at epoch 1, batch 1.*non-finite"):
        LiLAWClassifier(_NaNInEvalMode, **FAST).fit(X, y)


def test_meta_update_refuses_a_non_finite_result_and_leaves_the_parameters():
    params = torch.tensor([2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="non-finite"):
        meta_update(params, torch.tensor([float("nan"), 0.0, 0.0]), lr=0.01, weight_decay=0.01)
    with pytest.raises(ValueError, match="non-finite"):
        meta_update(params, torch.tensor([1e30, 1.0, 1.0]), lr=1e10, weight_decay=0.0)
    with pytest.raises(ValueError, match="overflows torch.float32"):
        meta_update(params, torch.tensor([1.0, 1.0, 1.0]), lr=1e300, weight_decay=0.0)
    assert params.tolist() == [2.0, 2.0, 2.0]
