"""Mini-batches of rows: sliced from tensors in memory, or read from a torch ``Dataset``.

In memory, :class:`TensorBatches` slices tensors that already sit on the device. A torch
``Dataset`` stays where it keeps its data (on disk, in a memory map, ...): a split is a
list of row indices (:class:`Rows`), and a batch reads only its own rows through a
``DataLoader`` (:class:`StreamedBatches`). Both draw one ``torch.randperm`` per pass from
the same generator, so a fit on a dataset sees the same batches as a fit on the
equivalent arrays.
"""

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, Subset, default_collate


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


def features(item):
    """The input of a dataset item: ``x`` of an ``(x, y)`` pair, else the item itself."""
    return item[0] if isinstance(item, (tuple, list)) else item


def _label(item):
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise ValueError(
            "y=None reads the labels from the dataset's items, which must then be (x, y) "
            f"pairs, but an item is a {type(item).__name__}"
            + (f" of {len(item)}" if isinstance(item, (tuple, list)) else "")
            + "; pass y to fit."
        )
    label = item[1]
    return label.item() if isinstance(label, (torch.Tensor, np.ndarray)) else label


def _labels(items):
    return [_label(item) for item in items]


def read_labels(dataset, batch_size):
    """The ``y`` of every ``(x, y)`` item, in one pass over ``dataset``.

    Every item is read once, its input included: this costs about one epoch of reading
    the data, without the network.
    """
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=_labels)
    return np.asarray([label for batch in loader for label in batch])


def input_shape(dataset):
    """The shape of the input of the dataset's first item."""
    x = features(dataset[0])
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


class Rows(Dataset):
    """Rows ``indices`` of ``dataset`` beside per-row columns held in memory.

    ``rows[positions]`` takes a list of positions and returns a whole batch: the inputs
    read from ``dataset`` (through its ``__getitems__`` when it has one) and stacked,
    then each column at those positions. Only the inputs come from ``dataset``; the
    indices and columns cost a few bytes per row.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Items ``(x, y)`` or ``x``.
    indices : sequence of int
        The rows of ``dataset`` taken, in order.
    *columns : array-like of shape (len(indices),)
        Per-row values, e.g. class indices and sample weights.
    """

    def __init__(self, dataset, indices, *columns):
        self.subset = Subset(dataset, np.asarray(indices))
        self.columns = [torch.as_tensor(column) for column in columns]

    def __len__(self):
        return len(self.subset)

    def __getitem__(self, positions):
        index = torch.as_tensor(positions)
        dataset = self.subset.dataset
        if isinstance(dataset, SparseRows):  # the batch made dense at once, no copy of it
            inputs = torch.from_numpy(dataset.batch(np.asarray(self.subset.indices)[positions]))
            return (inputs, *(column[index] for column in self.columns))
        inputs = [features(item) for item in self.subset.__getitems__(positions)]
        if all(isinstance(x, np.ndarray) for x in inputs):
            # one copy for the batch: default_collate makes a tensor of every row first
            inputs = torch.from_numpy(np.stack(inputs))
        else:
            inputs = default_collate(inputs)
        return (inputs, *(column[index] for column in self.columns))


class SparseRows(Dataset):
    """The rows of a CSR matrix as a torch ``Dataset``, made dense a batch at a time.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The rows.
    """

    def __init__(self, X):
        self.X = X

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, index):
        return self.X[index].toarray()[0]

    def batch(self, indices):
        """The rows ``indices`` as one dense array."""
        return self.X[indices].toarray()


class _Permutation(Sampler):
    """A new ``torch.randperm`` at every pass, drawn like :class:`TensorBatches` draws it."""

    def __init__(self, n, generator):
        self.n = n
        self.generator = generator

    def __len__(self):
        return self.n

    def __iter__(self):
        yield from torch.randperm(self.n, generator=self.generator).tolist()


class StreamedBatches:
    """Mini-batches of a :class:`Rows` dataset through a ``DataLoader``, moved to ``device``.

    Floating-point inputs become ``dtype``, as in-memory inputs do.

    Parameters
    ----------
    dataset : Rows
        The rows to iterate over.
    device : str or torch.device
        Where the batches go.
    batch_size, shuffle, drop_last, generator
        As for :class:`~sklilaw.TensorBatches`.
    dtype : torch.dtype, default=torch.float32
        The dtype of floating-point inputs: that of the network.
    **loader_kwargs
        Passed to :class:`torch.utils.data.DataLoader`, e.g. ``num_workers``.
    """

    def __init__(
        self,
        dataset,
        device,
        batch_size=128,
        shuffle=False,
        drop_last=False,
        generator=None,
        dtype=torch.float32,
        **loader_kwargs,
    ):
        self.dataset = dataset
        self.device = device
        self.dtype = dtype
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.loader_kwargs = loader_kwargs

    def __len__(self):
        return len(BatchSampler(range(len(self.dataset)), self.batch_size, self.drop_last))

    def __iter__(self):
        n = len(self.dataset)
        order = _Permutation(n, self.generator) if self.shuffle else range(n)
        batches = BatchSampler(order, self.batch_size, self.drop_last)
        # batch_size=None: the dataset gets a whole batch of positions at a time
        loader = DataLoader(self.dataset, sampler=batches, batch_size=None, **self.loader_kwargs)
        for inputs, *columns in loader:
            dtype = self.dtype if inputs.is_floating_point() else None
            yield (
                inputs.to(self.device, dtype),
                *(column.to(self.device) for column in columns),
            )
