"""TensorBatches, the in-memory mini-batch iterator."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from sklilaw import TensorBatches


@pytest.fixture
def dataset():
    return TensorDataset(torch.arange(10.0).view(10, 1), torch.arange(10))


def test_batches_in_order_match_a_dataloader(dataset):
    ours = [tuple(t.tolist() for t in b) for b in TensorBatches(dataset, batch_size=4)]
    theirs = [tuple(t.tolist() for t in b) for b in DataLoader(dataset, batch_size=4)]
    assert ours == theirs
    assert len(TensorBatches(dataset, batch_size=4)) == 3
    assert len(TensorBatches(dataset, batch_size=4, drop_last=True)) == 2


def test_shuffled_batches_cover_every_row_once_and_reshuffle(dataset):
    batches = TensorBatches(
        dataset, batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    first = torch.cat([y for _, y in batches])
    second = torch.cat([y for _, y in batches])
    assert sorted(first.tolist()) == list(range(10)) == sorted(second.tolist())
    assert not torch.equal(first, second)
    for X, y in batches:  # rows stay aligned across tensors
        assert torch.equal(X.view(-1).long(), y)


def test_same_generator_seed_same_order(dataset):
    def order(seed):
        gen = torch.Generator().manual_seed(seed)
        return torch.cat([y for _, y in TensorBatches(dataset, 4, shuffle=True, generator=gen)])

    assert torch.equal(order(1), order(1))


def test_other_datasets_are_refused_with_advice():
    with pytest.raises(TypeError, match="DataLoader"):
        TensorBatches([1, 2, 3])
