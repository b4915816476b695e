"""The weight functions, their closed-form meta-gradient and the meta update."""

import math
import re

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


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lilaw_md_meta_gradient(a, m, losses, alpha, beta, delta):
    """``dL/dp = mean_i(dW_p/dp (sample i) * l_i)`` with the closed forms of LILAW.md, in numpy."""
    w_alpha = _sigmoid(alpha * a - m)
    w_beta = _sigmoid(-(beta * a - m))
    w_delta = np.exp(-((delta * a - m) ** 2) / 2)
    d_alpha = w_alpha * (1 - w_alpha) * a
    d_beta = -w_beta * (1 - w_beta) * a
    d_delta = -w_delta * (delta * a - m) * a
    return np.array([np.mean(d_p * losses) for d_p in (d_alpha, d_beta, d_delta)])


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


# a batch of (a, m) pairs, its losses and the meta parameters
gradient_cases = given(
    pairs=pairs,
    losses=st.lists(st.floats(0.0, 20.0), min_size=20, max_size=20),
    alpha=meta_value,
    beta=meta_value,
    delta=meta_value,
)


@settings(max_examples=200)
@gradient_cases
def test_closed_form_gradient_equals_autograd(pairs, losses, alpha, beta, delta):
    a, m = _batch(pairs)
    per_sample = torch.tensor(losses[: len(a)], dtype=torch.float64)
    params = torch.tensor([alpha, beta, delta], dtype=torch.float64, requires_grad=True)
    objective = (lilaw_weights(a, m, params).total * per_sample).mean()
    (expected,) = torch.autograd.grad(objective, params)
    closed_form = meta_gradient(a, m, per_sample, params.detach())
    torch.testing.assert_close(closed_form, expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=200)
@gradient_cases
def test_meta_gradient_is_the_closed_form_of_lilaw_md(pairs, losses, alpha, beta, delta):
    a, m = _batch(pairs)
    per_sample = np.array(losses[: len(a)])
    params = torch.tensor([alpha, beta, delta], dtype=torch.float64)
    grad = meta_gradient(a, m, torch.from_numpy(per_sample), params)
    expected = _lilaw_md_meta_gradient(a.numpy(), m.numpy(), per_sample, alpha, beta, delta)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_a_sample_with_zero_label_probability_adds_nothing_to_the_meta_gradient():
    # dW_p/dp carries a factor a: with a == 0 the sample adds exactly 0, even with an
    # infinite loss (where 0 * inf would be NaN); the mean still divides by all 3 samples
    a = np.array([0.0, 0.3, 0.6])
    m = np.array([0.5, 0.4, 0.6])
    losses = np.array([np.inf, 1.0, 2.0])
    alpha, beta, delta = 1.5, 0.5, 3.0
    params = torch.tensor([alpha, beta, delta], dtype=torch.float64)
    grad = meta_gradient(*map(torch.from_numpy, (a, m, losses)), params)
    others = _lilaw_md_meta_gradient(a[1:], m[1:], losses[1:], alpha, beta, delta)
    np.testing.assert_allclose(grad.numpy(), others * 2 / 3, rtol=1e-12)


def test_half_precision_inputs_are_computed_in_float32():
    # values exact in float16; float16 arithmetic would be off by ~1e-3
    a = np.array([0.25, 0.5, 0.125, 0.75])
    m = np.array([0.5, 0.5, 0.75, 0.75])
    losses = np.array([1.5, 0.25, 3.0, 0.5])
    alpha, beta, delta = 1.5, 0.5, 3.0
    p_label, p_max = (torch.tensor(v, dtype=torch.float16) for v in (a, m))
    params = torch.tensor([alpha, beta, delta], dtype=torch.float16)
    weights = lilaw_weights(p_label=p_label, p_max=p_max, meta_params=params)  # by keyword
    assert weights.easy.dtype == weights.moderate.dtype == weights.hard.dtype == torch.float32
    np.testing.assert_allclose(weights.easy.numpy(), _sigmoid(alpha * a - m), rtol=1e-6)
    np.testing.assert_allclose(weights.hard.numpy(), _sigmoid(-(beta * a - m)), rtol=1e-6)
    moderate = np.exp(-((delta * a - m) ** 2) / 2)
    np.testing.assert_allclose(weights.moderate.numpy(), moderate, rtol=1e-6)
    grad = meta_gradient(p_label, p_max, torch.tensor(losses, dtype=torch.float16), params)
    assert grad.dtype == torch.float32
    expected = _lilaw_md_meta_gradient(a, m, losses, alpha, beta, delta)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-5)


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


def test_the_largest_finite_learning_rate_is_accepted():
    params = torch.tensor([2.0, 1.5, 2.5])
    largest = torch.finfo(torch.float32).max
    meta_update(params, torch.zeros(3), lr=largest, weight_decay=0.0)
    assert params.tolist() == [2.0, 1.5, 2.5]


@pytest.mark.parametrize("lr", [1e39, -1e39, math.inf])
def test_a_learning_rate_beyond_the_dtype_is_rejected(lr):
    params = torch.tensor([2.0, 1.5, 2.5])
    message = f"The meta learning rate {lr} overflows torch.float32."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        meta_update(params, torch.zeros(3), lr=lr, weight_decay=0.0)
    assert params.tolist() == [2.0, 1.5, 2.5]


@pytest.mark.parametrize(
    "grad, lr", [([math.nan, 0.0, 0.0], 0.5), ([0.0, math.inf, 0.0], 0.5), ([1e10, 0.0, 0.0], 1e30)]
)
def test_a_non_finite_meta_step_is_refused_with_its_values_and_both_causes(grad, lr):
    params = torch.tensor([2.0, 1.5, 2.5])
    g = torch.tensor(grad)
    stepped = [2.0 * (1 - lr * 0.25) - lr * grad[0], 1.5 * (1 - lr * 0.25) - lr * grad[1]]
    largest = torch.finfo(torch.float32).max
    assert not all(abs(p) <= largest for p in stepped)  # NaN, or beyond float32
    with pytest.raises(ValueError) as error:
        meta_update(params, g, lr=lr, weight_decay=0.25)
    message = str(error.value)
    assert message.startswith("The meta step would make (alpha, beta, delta) non-finite: [")
    values = f"] from [2.0, 1.5, 2.5] with gradient {g.tolist()}, lr={lr}, weight_decay=0.25."
    assert values in message
    assert message.endswith(
        " A non-finite gradient comes from non-finite losses or model outputs on the validation"
        " batch; a finite one from a meta learning rate too large."
    )
    assert params.tolist() == [2.0, 1.5, 2.5]  # left as they were
