"""FocalLoss and LiLAWLoss."""

import numpy as np
import pytest
import torch
from torch import nn

from sklilaw import FocalLoss, GeneralizedCrossEntropy, LiLAWLoss

# distinct values, so that a swap of alpha, beta and delta shows
META = dict(alpha=1.5, beta=0.5, delta=3.0)


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(16, 4, generator=generator), torch.randint(0, 4, (16,), generator=generator)


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lilaw_md(logits, target, alpha, beta, delta):
    """From LILAW.md, in numpy: the softmax, ``a``, ``m``, the cross-entropy and ``w``."""
    s = _softmax(np.asarray(logits, dtype=np.float64))
    a = s[np.arange(len(target)), target]
    m = s.max(axis=1)
    w = _sigmoid(alpha * a - m) + _sigmoid(-(beta * a - m)) + np.exp(-((delta * a - m) ** 2) / 2)
    return s, a, m, -np.log(a), w


def _lilaw_md_meta_step(logits, target, losses_scale, params, lr, weight_decay):
    """``p -= lr * (dL/dp + weight_decay * p)`` with LILAW.md's closed forms, then the clamps."""
    alpha, beta, delta = params
    _, a, m, cross_entropy, _ = _lilaw_md(logits, target, alpha, beta, delta)
    losses = cross_entropy * losses_scale
    w_alpha = _sigmoid(alpha * a - m)
    w_beta = _sigmoid(-(beta * a - m))
    w_delta = np.exp(-((delta * a - m) ** 2) / 2)
    grad = np.array(
        [
            np.mean(w_alpha * (1 - w_alpha) * a * losses),
            np.mean(-w_beta * (1 - w_beta) * a * losses),
            np.mean(-w_delta * (delta * a - m) * a * losses),
        ]
    )
    return grad, lambda g: _step_and_clamp(np.asarray(params), g, lr, weight_decay)


def _step_and_clamp(params, grad, lr, weight_decay):
    alpha, beta, delta = params - lr * (grad + weight_decay * params)
    return np.array([max(alpha, 1.0), beta, max(delta, beta)])


def test_focal_loss_with_gamma_zero_is_cross_entropy(batch):
    logits, target = batch
    torch.testing.assert_close(
        FocalLoss(gamma=0.0)(logits, target),
        nn.functional.cross_entropy(logits, target, reduction="none"),
    )


def test_focal_loss_down_weights_confident_samples(batch):
    logits, target = batch
    p = torch.softmax(logits, dim=1)[torch.arange(16), target]
    expected = -((1 - p) ** 2) * torch.log(p)
    torch.testing.assert_close(FocalLoss(gamma=2.0)(logits, target), expected)
    assert FocalLoss(reduction="mean")(logits, target) == pytest.approx(
        expected.mean().item(), rel=1e-6
    )
    assert FocalLoss(reduction="sum")(logits, target) == pytest.approx(
        expected.sum().item(), rel=1e-6
    )


@pytest.mark.parametrize("q", [0.0, -0.5, 1.5])
def test_generalized_cross_entropy_rejects_q_outside_0_1(q):
    with pytest.raises(ValueError, match=r"q must be in \(0, 1\]"):
        GeneralizedCrossEntropy(q=q)


@pytest.mark.parametrize("loss", [FocalLoss, GeneralizedCrossEntropy])
def test_losses_reject_unknown_reduction(loss):
    with pytest.raises(ValueError, match="reduction"):
        loss(reduction="average")


def test_generalized_cross_entropy_between_cross_entropy_and_mae(batch):
    logits, target = batch
    p = torch.softmax(logits, dim=1)[torch.arange(16), target]
    torch.testing.assert_close(GeneralizedCrossEntropy(q=1.0)(logits, target), 1 - p)
    torch.testing.assert_close(GeneralizedCrossEntropy(q=0.7)(logits, target), (1 - p**0.7) / 0.7)
    near_zero = GeneralizedCrossEntropy(q=1e-4)(logits, target)
    torch.testing.assert_close(near_zero, -torch.log(p), rtol=1e-3, atol=1e-3)
    assert GeneralizedCrossEntropy(reduction="sum")(logits, target) == pytest.approx(
        ((1 - p**0.7) / 0.7).sum().item(), rel=1e-6
    )
    with pytest.raises(ValueError, match="q must be"):
        GeneralizedCrossEntropy(q=0.0)


def test_meta_parameters_are_a_buffer_not_a_parameter():
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), alpha=3.0, beta=1.5, delta=2.5)
    assert list(criterion.parameters()) == []
    assert "meta_params" in criterion.state_dict()
    assert (criterion.alpha, criterion.beta, criterion.delta) == (3.0, 1.5, 2.5)


def test_meta_parameters_start_at_the_authors_defaults():
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    assert criterion.meta_params.tolist() == [2.0, 2.0, 2.0]


def test_integer_initial_values_give_float32_meta_parameters():
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), alpha=3, beta=1, delta=2)
    assert criterion.meta_params.dtype == torch.float32
    assert criterion.meta_params.tolist() == [3.0, 1.0, 2.0]


def test_forward_is_the_weighted_mean_of_per_sample_losses(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), **META)
    _, _, _, cross_entropy, w = _lilaw_md(logits.numpy(), target.numpy(), **META)
    loss = criterion(logits, target)
    assert loss.item() == pytest.approx(np.mean(w * cross_entropy), rel=1e-6)


def test_weights_carry_no_gradient_to_the_model(batch):
    logits, target = batch
    logits.requires_grad_(True)
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), **META)
    criterion(logits, target).backward()
    # only the per-sample loss is differentiated, the weights act as constants:
    # d mean(w_i * l_i) / d logits_i = w_i * (s_i - onehot(y_i)) / n for the cross-entropy
    s, _, _, _, w = _lilaw_md(logits.detach().numpy(), target.numpy(), **META)
    onehot = np.eye(s.shape[1])[target.numpy()]
    expected = w[:, None] * (s - onehot) / len(target)
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def _authors_loss(logits, target, alpha, beta, delta):
    """``mean(w_i * l_i)`` of LILAW.md in float64 torch, ``w`` built from the softmax with
    its graph, as the authors' code builds it."""
    s = torch.softmax(logits.double(), dim=1)
    a = s[torch.arange(len(target)), target]
    m = s.max(dim=1).values
    w = (
        torch.sigmoid(alpha * a - m)
        + torch.sigmoid(-(beta * a - m))
        + torch.exp(-((delta * a - m) ** 2) / 2)
    )
    return (w * -torch.log(a)).mean()


def test_without_detach_the_weights_carry_their_gradient_to_the_model(batch):
    logits, target = batch
    expected_logits = logits.double().requires_grad_(True)
    _authors_loss(expected_logits, target, **META).backward()
    logits.requires_grad_(True)
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), **META, detach_weights=False)
    criterion(logits, target).backward()
    np.testing.assert_allclose(
        logits.grad.numpy(), expected_logits.grad.numpy(), rtol=1e-4, atol=1e-7
    )
    # and it is another gradient than the detached one
    detached = logits.detach().clone().requires_grad_(True)
    LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), **META)(detached, target).backward()
    assert np.abs(detached.grad.numpy() - logits.grad.numpy()).max() > 1e-3
    assert criterion.meta_params.grad is None


def test_half_precision_logits_give_float32_per_sample_losses(batch):
    logits, target = batch
    half = logits.to(torch.bfloat16)
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    losses = criterion.per_sample_loss(half, target)
    assert losses.dtype == torch.float32
    _, _, _, cross_entropy, _ = _lilaw_md(half.float().numpy(), target.numpy(), 2.0, 2.0, 2.0)
    np.testing.assert_allclose(losses.numpy(), cross_entropy, rtol=1e-6)


def test_a_criterion_that_reduces_is_rejected_with_advice(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss())  # reduction='mean'
    advice = r"^The criterion must return one loss per sample \(shape \(16,\)\), but returned"
    advice += r" shape \(\); construct it with reduction='none'\.$"
    with pytest.raises(ValueError, match=advice):
        criterion(logits, target)


def test_meta_step_moves_the_parameters_and_keeps_the_clamps(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), alpha=1.0, beta=3.0, delta=3.0)
    before = criterion.meta_params.clone()
    criterion.meta_step(logits, target, lr=1.0, weight_decay=0.5)
    after = criterion.meta_params
    assert not torch.equal(before, after)
    assert after[0] >= 1.0 and after[2] >= after[1]


@pytest.mark.parametrize("with_sample_weight", [False, True])
@pytest.mark.parametrize(
    "params, clamped",
    [(list(META.values()), False), ([1.0, 2.0, 2.0], True)],
    ids=["inside-the-clamps", "onto-both-clamps"],
)
def test_meta_step_is_one_decayed_gradient_step_of_lilaw_md_then_the_clamps(
    batch, params, clamped, with_sample_weight
):
    logits, target = batch
    sample_weight = torch.linspace(0.0, 2.0, len(target)) if with_sample_weight else None
    scale = sample_weight.numpy() if with_sample_weight else 1.0
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), *params)
    grad, step = _lilaw_md_meta_step(logits.numpy(), target.numpy(), scale, params, 2.0, 0.1)
    assert np.abs(2.0 * grad).min() > 1e-2  # the gradient term moves every parameter
    unclamped = np.asarray(params) - 2.0 * (grad + 0.1 * np.asarray(params))
    alpha, beta, delta = unclamped
    assert (alpha < 1, delta < beta) == (clamped, clamped)  # whether both clamps act
    criterion.meta_step(logits, target, sample_weight, lr=2.0, weight_decay=0.1)
    np.testing.assert_allclose(criterion.meta_params.numpy(), step(grad), rtol=1e-5)


def test_meta_step_applies_the_gradient_as_reduce_gradient_returns_it(batch):
    """The hook gets this process's meta-gradient summed over its rows and its row count,
    and returns their sums over the processes; the step takes sum / count."""
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), **META)
    params = list(META.values())
    grad, step = _lilaw_md_meta_step(logits.numpy(), target.numpy(), 1.0, params, 2.0, 0.1)
    received = []

    def negate(summand):
        received.append(summand.clone())
        # as if a second process had the same rows with the opposite gradient, three times
        return summand * torch.tensor([-3.0, -3.0, -3.0, 1.0])

    criterion.meta_step(logits, target, lr=2.0, weight_decay=0.1, reduce_gradient=negate)
    (summand,) = received
    n_rows = len(target)
    np.testing.assert_allclose(summand.numpy(), [*(grad * n_rows), n_rows], rtol=1e-5)
    grad = 3 * grad
    np.testing.assert_allclose(criterion.meta_params.numpy(), step(-grad), rtol=1e-5)
