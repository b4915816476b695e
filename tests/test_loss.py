"""FocalLoss and LiLAWLoss."""

import pytest
import torch
from torch import nn

from sklilaw import (
    FocalLoss,
    GeneralizedCrossEntropy,
    LiLAWLoss,
    label_probabilities,
    lilaw_weights,
)


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(16, 4, generator=generator), torch.randint(0, 4, (16,), generator=generator)


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


def test_forward_is_the_weighted_mean_of_per_sample_losses(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    p_label, p_max = label_probabilities(logits, target)
    weights = lilaw_weights(p_label, p_max, torch.tensor([2.0, 2.0, 2.0])).total
    expected = (weights * nn.functional.cross_entropy(logits, target, reduction="none")).mean()
    torch.testing.assert_close(criterion(logits, target), expected)


def test_weights_carry_no_gradient_to_the_model(batch):
    logits, target = batch
    logits.requires_grad_(True)
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"))
    criterion(logits, target).backward()
    # only the per-sample loss is differentiated; the weights act as constants
    weights = criterion.weights(logits, target).total
    expected = torch.autograd.grad(
        (weights * nn.functional.cross_entropy(logits, target, reduction="none")).mean(),
        logits,
    )[0]
    torch.testing.assert_close(logits.grad, expected)


def test_a_criterion_that_reduces_is_rejected_with_advice(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss())  # reduction='mean'
    with pytest.raises(ValueError, match="reduction='none'"):
        criterion(logits, target)


def test_meta_step_moves_the_parameters_and_keeps_the_clamps(batch):
    logits, target = batch
    criterion = LiLAWLoss(nn.CrossEntropyLoss(reduction="none"), alpha=1.0, beta=3.0, delta=3.0)
    before = criterion.meta_params.clone()
    criterion.meta_step(logits, target, lr=1.0, weight_decay=0.5)
    after = criterion.meta_params
    assert not torch.equal(before, after)
    assert after[0] >= 1.0 and after[2] >= after[1]
