"""LiLAW with Hugging Face Accelerate: data parallelism over processes, mixed precision."""

from contextlib import contextmanager

import torch
from skorch.hf import AccelerateMixin
from skorch.utils import noop

from ._classifier import LiLAWClassifier


class _Share(tuple):
    """The columns of one process's rows of a batch.

    ``fraction`` is the part of the batch that these rows count for: their number over
    the batch's, or 0 where they are lent (another process counts them).
    """

    def __new__(cls, columns, fraction):
        share = super().__new__(cls, columns)
        share.fraction = fraction
        return share


class _Shards:
    """This process's share of every batch of ``batches``: rows ``rank``, ``rank + n``, ...

    Every process draws the same batches (the shuffling is seeded alike), so the shares
    are disjoint and together make up the batch. A batch with fewer rows than processes
    lends a row to each process that has none, so that no process gets an empty share;
    a lent row counts for nothing there.
    """

    def __init__(self, batches, rank, n_processes):
        self.batches = batches
        self.rank = rank
        self.n_processes = n_processes

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        for batch in self.batches:
            n_rows = len(batch[0])
            if self.rank < n_rows:
                rows = torch.arange(self.rank, n_rows, self.n_processes)
                fraction = len(rows) / n_rows
            else:
                rows, fraction = torch.tensor([self.rank % n_rows]), 0.0
            rows = rows.to(batch[0].device)
            yield _Share((column.index_select(0, rows) for column in batch), fraction)


class AcceleratedLiLAWClassifier(AccelerateMixin, LiLAWClassifier):
    """:class:`LiLAWClassifier` trained through Hugging Face Accelerate.

    skorch's ``AccelerateMixin`` with LiLAW's training step: the forward passes run
    under ``accelerator.autocast()`` (mixed precision as the accelerator is configured,
    while LiLAW's weights and meta-gradient stay in float32), the backward pass goes
    through ``accelerator.backward``, and the module and optimizer are prepared by the
    accelerator (wrapped for distributed data parallelism when several processes run).

    With several processes (``accelerate launch --num_processes N script.py``), every
    process draws the same training and meta batches and takes its own share of each
    (every N-th row), so one step covers a batch of ``batch_size`` rows in all. Each
    process's training loss is weighted by its number of rows, so that the gradient
    that distributed data parallelism averages over the processes is that of the mean
    loss over the whole batch, even when the batch does not split evenly. The
    meta-gradient and the row counts are summed over the processes before each meta
    step, so ``alpha``, ``beta`` and ``delta`` stay identical on all of them and are
    the single process's, up to float rounding. The per-sample statistics behind
    ``label_issues_`` are summed over the processes at the end of training. The
    validation loss and predictions are computed on every process in full.

    Parameters
    ----------
    module : torch.nn.Module class or instance, default=None
        As for :class:`LiLAWClassifier`.
    accelerator : accelerate.Accelerator
        The accelerator; with its default ``device_placement=True``, leave ``device``
        as ``None``: the data go to ``accelerator.device``.
    unwrap_after_train : bool, default=True
        Unwrap the module and criterion from the accelerator's wrappers after training.
    device : str or None, default=None
        As for skorch's ``AccelerateMixin``.
    callbacks__print_log__sink : callable or 'auto', default='auto'
        Where skorch's per-epoch log goes; ``'auto'`` prints on the main process only.
    **kwargs
        Any other :class:`LiLAWClassifier` parameter.

    Examples
    --------
    >>> from accelerate import Accelerator
    >>> from sklearn.datasets import load_iris
    >>> from sklilaw import AcceleratedLiLAWClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = AcceleratedLiLAWClassifier(accelerator=Accelerator(cpu=True), max_epochs=2)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        module=None,
        *,
        accelerator,
        unwrap_after_train=True,
        device=None,
        callbacks__print_log__sink="auto",
        **kwargs,
    ):
        super().__init__(
            module,
            accelerator=accelerator,
            unwrap_after_train=unwrap_after_train,
            device=device,
            callbacks__print_log__sink=callbacks__print_log__sink,
            **kwargs,
        )

    def _initialize_callbacks(self):
        # not the mixin's, which writes its choice of sink into the parameter for good:
        # get_params_for resolves 'auto' at every initialisation instead
        return super(AccelerateMixin, self)._initialize_callbacks()

    def get_params_for(self, prefix):
        """skorch's routed parameters; a ``sink`` of ``'auto'`` resolved as documented.

        Parameters
        ----------
        prefix : str
            E.g. ``'callbacks__print_log'``.

        Returns
        -------
        dict
            The parameters with that prefix, without it; the print log's ``sink`` of
            ``'auto'`` is ``accelerator.print`` with ``verbose``, else a no-op.
        """
        params = super().get_params_for(prefix)
        if prefix == "callbacks__print_log" and params.get("sink") == "auto":
            params["sink"] = self.accelerator.print if self.verbose else noop
        return params

    def _initialize_accelerator(self):
        # the criterion holds alpha, beta, delta in a buffer and has no parameters; prepared
        # for several processes it would be wrapped in DistributedDataParallel, which
        # refuses a module without parameters
        criterion, vars(self)["criterion_"] = self.criterion_, None
        try:
            return super()._initialize_accelerator()
        finally:
            vars(self)["criterion_"] = criterion

    @property
    def _data_device(self):
        return self.accelerator.device if self.device is None else self.device

    # every process predicts in full, so there is nothing to gather
    evaluation_step = LiLAWClassifier.evaluation_step

    @contextmanager
    def _weighted_by(self, batch):
        """Within the block, this process's rows count for ``batch.fraction`` of the batch."""
        self._batch_fraction = getattr(batch, "fraction", None)  # None: one process
        try:
            yield
        finally:
            del self._batch_fraction

    def train_step_single(self, batch, **fit_params):
        """LiLAW's training step (not the mixin's, which knows no sample weights).

        On several processes, the loss of this process's share of the batch is weighted
        by its rows; a lent share adds nothing to the gradient or to the statistics
        behind ``label_issues_``.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            As for :meth:`LiLAWClassifier.train_step_single`.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        dict
            ``'loss'`` (this process's weighted mean loss) and ``'y_pred'``.
        """
        # the last column holds the rows' positions in the training set
        lent_rows = batch[-1] if getattr(batch, "fraction", None) == 0 else None
        if lent_rows is not None:
            statistics = self._run.statistics.probability_sum[lent_rows]
        with self._weighted_by(batch):
            step = LiLAWClassifier.train_step_single(self, batch, **fit_params)
        if lent_rows is not None:  # as they were: their owner adds them
            self._run.statistics.probability_sum[lent_rows] = statistics
        return step

    def meta_step(self, batch, **fit_params):
        """LiLAW's meta step, on several processes with the meta-gradient of the whole batch.

        Parameters
        ----------
        batch : tuple of torch.Tensor
            As for :meth:`LiLAWClassifier.meta_step`.
        **fit_params
            Passed to the module's ``forward``.
        """
        with self._weighted_by(batch):
            super().meta_step(batch, **fit_params)

    def infer(self, x, **fit_params):
        """The module's output, under the accelerator's autocast.

        Parameters
        ----------
        x : torch.Tensor
            A batch of inputs.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        torch.Tensor
        """
        with self.accelerator.autocast():
            return super().infer(x, **fit_params)

    def _backward(self, loss):
        if self._batch_fraction is not None:
            # DDP averages the processes' gradients unweighted: so scaled, each process's
            # loss counts by its rows and the average is the whole batch's mean loss's
            loss = loss * (self._batch_fraction * self.accelerator.num_processes)
        self.accelerator.backward(loss)

    @property
    def _reduce_meta_gradient(self):
        # one process: LiLAWClassifier's meta step, to the bit
        return self._sum_over_processes if self.accelerator.num_processes > 1 else None

    def _sum_over_processes(self, summand):
        if not self._batch_fraction:  # lent rows: their owner counts them
            summand = torch.zeros_like(summand)
        return self.accelerator.reduce(summand, reduction="sum")

    def get_iterator(self, dataset, training=False):
        """Mini-batches as :class:`LiLAWClassifier` makes them; in training, this process's share.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
            The data to iterate over.
        training : bool, default=False
            Training (and meta) batches are shared out between the processes.

        Returns
        -------
        iterable of tuple of torch.Tensor
        """
        batches = LiLAWClassifier.get_iterator(self, dataset, training=training)
        if training and self.accelerator.num_processes > 1:
            return _Shards(batches, self.accelerator.process_index, self.accelerator.num_processes)
        return batches

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Sum the per-sample statistics over the processes, then skorch's mixin ends training.

        Parameters
        ----------
        net : AcceleratedLiLAWClassifier
            The estimator.
        X, y : object, default=None
            Passed on to skorch.
        **kwargs
            Passed on to skorch.
        """
        if self._run is not None and self.accelerator.num_processes > 1:
            statistics = self._run.statistics
            statistics.probability_sum = self.accelerator.reduce(
                statistics.probability_sum, reduction="sum"
            )
        return super().on_train_end(net, X=X, y=y, **kwargs)
