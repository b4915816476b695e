"""sklilaw.FCN, the network of Wang et al. (2017): alone and inside the estimator."""

import numpy as np
import pytest
import torch
from torch import nn

from sklilaw import FCN, LiLAWClassifier

LENGTH = 30


def _series(n, seed=0):
    return torch.randn(n, LENGTH, generator=torch.Generator().manual_seed(seed))


def test_the_published_architecture():
    net = FCN(LENGTH, 5)
    convolutions = [block[1] for block in net.blocks]
    assert [conv.out_channels for conv in convolutions] == [128, 256, 128]
    assert [conv.kernel_size for conv in convolutions] == [(8,), (5,), (3,)]
    layers = [nn.ConstantPad1d, nn.Conv1d, nn.BatchNorm1d, nn.ReLU]
    assert all([type(layer) for layer in block] == layers for block in net.blocks)
    assert (net.head.in_features, net.head.out_features) == (128, 5)
    # 'same' padding: every block keeps the length of the series, even kernel size 8
    assert net.blocks(torch.zeros(2, 1, LENGTH)).shape == (2, 128, LENGTH)


def test_output_shape_for_flat_and_channel_input():
    net = FCN(LENGTH, 3, channels=(4, 8, 4)).eval()
    x = _series(6)
    assert net(x).shape == (6, 3)
    torch.testing.assert_close(net(x.unsqueeze(1)), net(x))


def test_one_kernel_size_per_convolution():
    with pytest.raises(ValueError, match=r"channels=\(4, 8\) and kernel_sizes=\(8, 5, 3\)"):
        FCN(LENGTH, 3, channels=(4, 8))
    assert len(FCN(LENGTH, 3, channels=(4, 8), kernel_sizes=(5, 3)).blocks) == 2


def test_batch_norm_in_train_and_eval_mode():
    net = FCN(LENGTH, 3, channels=(4, 8, 4))
    x = _series(8)
    # training mode: batch statistics, so a series' logits depend on its batch, and
    # the running statistics move
    before = net.blocks[0][2].running_mean.clone()
    assert not torch.allclose(net(x)[:2], net(x[:2]))
    assert not torch.equal(net.blocks[0][2].running_mean, before)
    # evaluation mode: running statistics, each series on its own
    net.eval()
    running = net.blocks[0][2].running_mean.clone()
    torch.testing.assert_close(net(x)[:2], net(x[:2]))
    assert torch.equal(net.blocks[0][2].running_mean, running)


def _data():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=90)
    X = rng.normal(size=(90, LENGTH)) + y[:, None] * np.sin(np.linspace(0, 3, LENGTH))
    return X.astype(np.float32), y


def _classifier(**params):
    return LiLAWClassifier(
        module=FCN,
        module__n_features=LENGTH,
        module__n_classes=3,
        module__channels=(4, 8, 4),
        max_epochs=2,
        batch_size=32,
        **params,
    )


def test_fcn_in_the_estimator():
    X, y = _data()
    clf = _classifier(random_state=0).fit(X, y)
    assert isinstance(clf.module_, FCN) and clf.module_.head.out_features == 3
    assert len(clf.history) == 2
    assert np.isfinite(clf.history[:, "alpha"]).all()
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # prediction runs in evaluation mode: the same probabilities again, row by row too
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    np.testing.assert_allclose(clf.predict_proba(X[:1]), proba[:1], rtol=1e-5, atol=1e-6)


def test_the_same_random_state_gives_the_same_fit():
    X, y = _data()
    first = _classifier(random_state=1).fit(X, y).predict_proba(X)
    second = _classifier(random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = _classifier(random_state=2).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)
