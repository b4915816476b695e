"""LiLAW with Hugging Face Accelerate: data parallelism over processes, mixed precision."""

import torch
from skorch.hf import AccelerateMixin
from skorch.utils import noop

from ._classifier import LiLAWClassifier


class _Shards:
    """This process's share of every batch of ``batches``: rows ``rank``, ``rank + n``, ...

    Every process draws the same batches (the shuffling is seeded alike), so the shares
    are disjoint and together make up the batch. A batch with fewer rows than processes
    lends rows again, so that no process gets an empty share.
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
            rows = torch.arange(self.rank, max(n_rows, self.n_processes), self.n_processes)
            rows = (rows % n_rows).to(batch[0].device)
            yield tuple(column.index_select(0, rows) for column in batch)


class AcceleratedLiLAWClassifier(AccelerateMixin, LiLAWClassifier):
    """:class:`LiLAWClassifier` trained through Hugging Face Accelerate.

    skorch's ``AccelerateMixin`` with LiLAW's training step: the forward passes run
    under ``accelerator.autocast()`` (mixed precision as the accelerator is configured,
    while LiLAW's weights and meta-gradient stay in float32), the backward pass goes
    through ``accelerator.backward``, and the module and optimizer are prepared by the
    accelerator (wrapped for distributed data parallelism when several processes run).

    With several processes (``accelerate launch --num_processes N script.py``), every
    process draws the same training and meta batches and takes its own share of each
    (every N-th row), so one step covers a batch of ``batch_size`` rows in all. The
    meta-gradient is averaged over the processes before each meta step, so ``alpha``,
    ``beta`` and ``delta`` stay identical on all of them; the per-sample statistics
    behind ``label_issues_`` are summed over the processes at the end of training. The
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
        if self.callbacks__print_log__sink == "auto":
            # the mixin's choice, accelerator.print, would print even with verbose=0
            self.callbacks__print_log__sink = self.accelerator.print if self.verbose else noop
        return super()._initialize_callbacks()

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

    # LiLAW's training step, not the mixin's (which knows no sample weights)
    train_step_single = LiLAWClassifier.train_step_single
    # every process predicts in full, so there is nothing to gather
    evaluation_step = LiLAWClassifier.evaluation_step

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
        self.accelerator.backward(loss)

    def _reduce_meta_gradient(self, grad):
        return self.accelerator.reduce(grad, reduction="mean")

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
        dynamics = vars(self).get("_dynamics")
        if dynamics is not None and self.accelerator.num_processes > 1:
            dynamics.probability_sum = self.accelerator.reduce(
                dynamics.probability_sum, reduction="sum"
            )
        return super().on_train_end(net, X=X, y=y, **kwargs)
