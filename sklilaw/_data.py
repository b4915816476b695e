"""A lean mini-batch iterator for data that already sits in memory as tensors."""

import torch
from torch.utils.data import BatchSampler


class TensorBatches:
    """Iterate over a :class:`torch.utils.data.TensorDataset` in mini-batches by slicing.

    A drop-in for :class:`torch.utils.data.DataLoader` (same ``batch_size``, ``shuffle``,
    ``drop_last`` and ``generator`` arguments) for tensors that are already on the
    compute device: a batch is one ``index_select`` per tensor, with no per-sample
    ``__getitem__`` and no collation. This is why LiLAW's extra forward pass per batch
    costs little in :class:`~sklilaw.LiLAWClassifier`.

    Parameters
    ----------
    dataset : torch.utils.data.TensorDataset
        Tensors with the same first dimension, all on the same device.
    batch_size : int, default=128
        Samples per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new permutation at the start of every pass.
    drop_last : bool, default=False
        Drop the last, incomplete batch.
    generator : torch.Generator, default=None
        Source of the permutations, for reproducible shuffling.
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, drop_last=False, generator=None):
        if not isinstance(dataset, torch.utils.data.TensorDataset):
            raise TypeError(
                "TensorBatches iterates over a torch.utils.data.TensorDataset, got "
                f"{type(dataset).__name__}; pass iterator_train=torch.utils.data.DataLoader "
                "(and iterator_valid) for other datasets."
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator

    def __len__(self):
        return len(BatchSampler(range(len(self.dataset)), self.batch_size, self.drop_last))

    def __iter__(self):
        tensors = self.dataset.tensors
        n = len(self.dataset)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(tensors[0].device)
        for batch in range(len(self)):
            start = batch * self.batch_size
            stop = min(start + self.batch_size, n)
            if self.shuffle:
                index = order[start:stop]
                yield tuple(t.index_select(0, index) for t in tensors)
            else:
                yield tuple(t[start:stop] for t in tensors)
