"""Mixed precision and devices: LiLAW's statistics stay in float32, meta batches on the device."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch.nn import functional as F

from sklilaw import MLP, LiLAWClassifier, label_probabilities, meta_gradient

X, y = load_digits(return_X_y=True)
X = (X[:600] / 16).astype(np.float32)
y = y[:600]

DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    ),
]


def meta_parameters(clf):
    return np.array([clf.alpha_, clf.beta_, clf.delta_])


class BFloat16MLP(MLP):
    """The default MLP with its forward pass under bfloat16 autocast.

    Autocast belongs around the forward pass only: wrapping all of ``fit`` in it would
    also run the backward pass and the optimizer's step under it, which stalls training
    (with or without LiLAW).
    """

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return super().forward(x)


def test_fit_with_a_bfloat16_forward_stays_close_to_float32():
    params = dict(max_epochs=5, random_state=0, meta_lr=0.5)
    reference = LiLAWClassifier(MLP(64, 10), **params).fit(X, y)
    mixed = LiLAWClassifier(BFloat16MLP(64, 10), **params).fit(X, y)
    assert mixed.infer(torch.as_tensor(X[:2])).dtype == torch.bfloat16
    assert np.isfinite(meta_parameters(mixed)).all()
    # the networks drift apart (bfloat16 keeps 8 bits of mantissa), and with them the
    # statistics; the meta parameters still take the same path, within a tenth of it
    moved = np.abs(meta_parameters(reference) - 2.0)
    assert (moved > 0.05).all()
    assert (np.abs(meta_parameters(mixed) - meta_parameters(reference)) < 0.1 * moved).all()
    assert mixed.score(X, y) > 0.5  # it learns (5 epochs: too early to compare accuracies)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_meta_gradient_is_float32_under_cuda_autocast():
    # CUDA's autocast runs torch.mv in float16; the meta-gradient must not
    generator = torch.Generator().manual_seed(0)
    logits = (4 * torch.randn(256, 10, generator=generator)).cuda()
    target = torch.randint(0, 10, (256,), generator=generator).cuda()
    params = torch.tensor([1.5, 2.0, 2.5], device="cuda")
    p_label, p_max = label_probabilities(logits, target)
    losses = F.cross_entropy(logits, target, reduction="none")
    expected = meta_gradient(p_label, p_max, losses, params)
    with torch.autocast("cuda", dtype=torch.float16):
        grad = meta_gradient(p_label, p_max, losses, params)
    assert grad.dtype == torch.float32
    torch.testing.assert_close(grad, expected, rtol=0, atol=0)


class MetaBatchDevices(LiLAWClassifier):
    """Records the devices of the tensors of every meta batch."""

    def meta_step(self, batch, **fit_params):
        vars(self).setdefault("meta_devices", set()).update(t.device for t in batch)
        return super().meta_step(batch, **fit_params)


class Pairs(torch.utils.data.Dataset):
    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], y[i]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_meta_batches_are_on_the_device(device, data):
    clf = MetaBatchDevices(max_epochs=1, device=device, random_state=0)
    clf.fit(*((X, y) if data == "arrays" else (Pairs(), None)))
    assert clf.meta_devices == {
        torch.device(device, 0) if device == "cuda" else torch.device(device)
    }
