"""The weight functions, their closed-form meta-gradient and the meta update."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklilaw import label_probabilities, lilaw_weights, meta_gradient, meta_update

probability = st.floats(0.0, 1.0, allow_nan=False)
meta_value = st.floats(-5.0, 5.0, allow_nan=False)


def _batch(draw_pairs):
    """(a, m) pairs with a <= m, as softmax outputs always satisfy."""
    a = torch.tensor([min(p) for p in draw_pairs], dtype=torch.float64)
    m = torch.tensor([max(p) for p in draw_pairs], dtype=torch.float64)
    return a, m


pairs = st.lists(st.tuples(probability, probability), min_size=1, max_size=20)


@given(pairs=pairs, alpha=meta_value, beta=meta_value, delta=meta_value)
def test_weights_match_the_formulas_of_lilaw_md(pairs, alpha, beta, delta):
    a, m = _batch(pairs)
    w = lilaw_weights(a, m, torch.tensor([alpha, beta, delta], dtype=torch.float64))
    for i, (a_i, m_i) in enumerate(zip(a.tolist(), m.tolist(), strict=True)):
        sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
        assert w.easy[i].item() == pytest.approx(sigmoid(alpha * a_i - m_i), rel=1e-12)
        assert w.hard[i].item() == pytest.approx(sigmoid(-(beta * a_i - m_i)), rel=1e-12)
        moderate = math.exp(-((delta * a_i - m_i) ** 2) / 2)
        assert w.moderate[i].item() == pytest.approx(moderate, rel=1e-12, abs=1e-300)
    total = w.total
    assert torch.all(total > 0) and torch.all(total < 3)
    assert torch.equal(total, w.easy + w.moderate + w.hard)


@settings(max_examples=200)
@given(
    pairs=pairs,
    losses=st.lists(st.floats(0.0, 20.0), min_size=20, max_size=20),
    alpha=meta_value,
    beta=meta_value,
    delta=meta_value,
)
def test_closed_form_gradient_equals_autograd(pairs, losses, alpha, beta, delta):
    a, m = _batch(pairs)
    per_sample = torch.tensor(losses[: len(a)], dtype=torch.float64)
    params = torch.tensor([alpha, beta, delta], dtype=torch.float64, requires_grad=True)
    objective = (lilaw_weights(a, m, params).total * per_sample).mean()
    (expected,) = torch.autograd.grad(objective, params)
    closed_form = meta_gradient(a, m, per_sample, params.detach())
    torch.testing.assert_close(closed_form, expected, rtol=1e-10, atol=1e-12)


@given(
    params=st.tuples(meta_value, meta_value, meta_value),
    grad=st.tuples(meta_value, meta_value, meta_value),
    lr=st.floats(0.0, 1.0),
    weight_decay=st.floats(0.0, 1.0),
)
def test_meta_update_is_decayed_gradient_descent_then_clamps(params, grad, lr, weight_decay):
    p = torch.tensor(params, dtype=torch.float64)
    g = torch.tensor(grad, dtype=torch.float64)
    stepped = [p_i - lr * (g_i + weight_decay * p_i) for p_i, g_i in zip(params, grad, strict=True)]
    alpha = max(stepped[0], 1.0)
    beta = stepped[1]
    delta = max(stepped[2], beta)
    out = meta_update(p, g, lr, weight_decay)
    assert out is p  # in place
    np.testing.assert_allclose(p.numpy(), [alpha, beta, delta], rtol=1e-12, atol=1e-12)
    assert p[0] >= 1 and p[2] >= p[1]


def test_label_probabilities_are_softmax_of_the_observed_label_and_the_max():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]], requires_grad=True)
    target = torch.tensor([2, 1])
    p_label, p_max = label_probabilities(logits, target)
    softmax = torch.softmax(logits.detach(), dim=1)
    torch.testing.assert_close(p_label, softmax[[0, 1], [2, 1]])
    torch.testing.assert_close(p_max, softmax.max(dim=1).values)
    assert not p_label.requires_grad and not p_max.requires_grad


def test_label_probabilities_of_half_precision_logits_are_float32():
    logits = torch.randn(4, 3).to(torch.bfloat16)
    p_label, p_max = label_probabilities(logits, torch.tensor([0, 1, 2, 0]))
    assert p_label.dtype == torch.float32 and p_max.dtype == torch.float32
