"""Noise handling: which trainings a fit runs, and which of their models it keeps.

A fit trains once, as configured, unless it handles label noise: ``label_issues_refit``
trains once more on the data that the first training's ``label_issues_`` change, and
``noise_handling='auto'`` trains a few candidate configurations, then refits the best.
:class:`NoiseHandling` is that plan. It says what to train next (:class:`Step`: a name,
public parameters that depart from the estimator's, and the rows and sample weights to
train on), takes each finished :class:`Training`, and decides, by ordinary return values,
which model is kept: every training after the first uses the first one's validation rows,
which no training fits on, and replaces the model kept so far only if its log-loss there
is at most as high. The log-loss is a proper score: unlike the accuracy, it does not
reward a model for giving up a rare class, and on a few hundred validation rows it
varies less. A refit or a candidate that does worse (a refit that pruned away a class's
signal, say) is not kept. The estimator runs the trainings; this module never calls it.
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._label_issues import MIN_KEPT_PER_CLASS, rows_to_keep
from ._loss import GeneralizedCrossEntropy


class Candidate(NamedTuple):
    """A configuration to train: public parameters that depart from the estimator's."""

    name: str
    params: dict


AS_CONFIGURED = Candidate("as configured", {})
# noise_handling='auto' trains these, keeps the best, and refits it without its label
# issues: early stopping stops before the network memorises wrong labels, and the
# robust loss bounds their pull; which one helps depends on the noise
AUTO_CANDIDATES = (
    Candidate("early stopping", {"early_stopping": True}),
    Candidate(
        "GCE + early stopping",
        {"early_stopping": True, "criterion": GeneralizedCrossEntropy},
    ),
)
AUTO_REFIT = "prune"


class Training(NamedTuple):
    """What one training of a fit leaves for the trainings after it."""

    train_rows: np.ndarray  # positions in X of the rows trained on
    valid_rows: np.ndarray  # positions in X of the validation rows (empty with X_val)
    validation_accuracy: float
    validation_log_loss: float
    epochs: int


class Step(NamedTuple):
    """The next training of a fit.

    ``split`` (training and validation rows, positions in ``X``) is None for the first
    training, which draws its own; ``sample_weight`` None keeps those given to ``fit``.
    """

    name: str
    params: dict
    split: tuple | None = None
    sample_weight: np.ndarray | None = None
    is_refit: bool = False


def check_noise_handling(estimator, *, continuing):
    """Errors for combinations of parameters that noise handling cannot honour."""
    if estimator.noise_handling is not None and estimator.label_issues_refit is not None:
        raise ValueError(
            "noise_handling='auto' chooses its own refit; leave label_issues_refit=None "
            f"(got {estimator.label_issues_refit!r})."
        )
    if continuing and (estimator.noise_handling or estimator.label_issues_refit):
        name = "noise_handling='auto'" if estimator.noise_handling else "label_issues_refit"
        raise ValueError(
            f"{name} trains from scratch; it cannot continue a fitted model with "
            "warm_start=True (use partial_fit to train the kept model further)."
        )


def trainings_frame(rows):
    """``trainings_``: one row per training; ``kept`` marks the last kept one only."""
    frame = pd.DataFrame(rows)
    frame["kept"] = frame.index == frame.index[frame["kept"]].max()
    return frame


def log_row(name, training, *, kept):
    """The row of ``trainings_`` of one training."""
    return {
        "training": name,
        "validation_accuracy": training.validation_accuracy,
        "validation_log_loss": training.validation_log_loss,
        "n_train_rows": len(training.train_rows),
        "epochs": training.epochs,
        "kept": kept,
    }


class NoiseHandling:
    """The trainings of a fit that handles label noise, and the guard between them.

    Build one with :meth:`of`. The estimator trains :meth:`first_step`, hands each
    finished training to :meth:`record`, and trains the step it returns, until it
    returns None. Then :attr:`kept` is the estimator whose model to keep,
    :attr:`label_issues` the verdict on the training labels (that of the candidate the
    refit was planned from), :attr:`best_params` the parameters by which the kept
    model's training departed from the estimator's, and :meth:`trainings` the record of
    all trainings (``trainings_``).

    Parameters
    ----------
    candidates : sequence of Candidate
        The configurations to train, in order; the first draws the split.
    refit : {None, 'prune', 'downweight'}
        The refit of the best candidate.
    warn : bool
        Warn when a refit is not kept or pruning keeps flagged rows (the plain
        ``label_issues_refit``; ``'auto'`` reports in ``trainings_`` only).
    """

    def __init__(self, candidates, refit, *, warn):
        self.refit = refit
        self.warn = warn
        self.sample_weight = None
        self.kept = None
        self.label_issues = None
        self.best_params = None
        self._pending = list(candidates)
        self._n_candidates = len(self._pending)
        self._first = None  # the first Training: its rows are every later one's split
        self._kept_step = self._kept_training = None
        self._refit_planned = False
        self._log = []

    @classmethod
    def of(cls, estimator):
        """The plan of ``estimator``'s parameters, or None when a fit trains once.

        Parameters
        ----------
        estimator : LiLAWClassifier
            Read for ``noise_handling`` and ``label_issues_refit``.

        Returns
        -------
        NoiseHandling or None
        """
        if estimator.noise_handling == "auto":
            return cls(AUTO_CANDIDATES, AUTO_REFIT, warn=False)
        if estimator.label_issues_refit is not None:
            return cls([AS_CONFIGURED], estimator.label_issues_refit, warn=True)
        return None

    def first_step(self, sample_weight):
        """The first training: the first candidate, on a split of its own.

        Parameters
        ----------
        sample_weight : ndarray of float64
            The sample weights given to ``fit``, one per row of ``X`` (a down-weighting
            refit multiplies them).

        Returns
        -------
        Step
        """
        self.sample_weight = sample_weight
        candidate = self._pending.pop(0)
        return Step(candidate.name, candidate.params)

    def record(self, step, estimator, training, label_issues, *, interrupted):
        """Take a finished training; return the next step, or None when the fit is done.

        Parameters
        ----------
        step : Step
            The step that was trained.
        estimator : LiLAWClassifier
            The estimator it trained, kept if its model is.
        training : Training
            Its rows and validation accuracy.
        label_issues : pandas.DataFrame
            Its ``label_issues_``.
        interrupted : bool
            Whether Ctrl-C arrived during the fit so far.

        Returns
        -------
        Step or None
        """
        if self._first is None:
            self._first = training
            self._keep(step, estimator, training, label_issues)
        elif interrupted:
            warnings.warn(
                f"Training {step.name!r} was interrupted (Ctrl-C): the model of "
                f"{self._kept_step.name!r} is kept.",
                UserWarning,
                stacklevel=4,
            )
        elif training.validation_log_loss <= self._kept_training.validation_log_loss:
            self._keep(step, estimator, training, label_issues)
        else:
            self._log.append(log_row(step.name, training, kept=False))
            if self.warn:
                warnings.warn(
                    f"The {step.name} had a log-loss of {training.validation_log_loss:.3f} "
                    f"on the {len(training.valid_rows) or 'given'} validation rows, above "
                    f"the first training's {self._kept_training.validation_log_loss:.3f}: "
                    "the first training's model is kept (see trainings_).",
                    UserWarning,
                    stacklevel=4,
                )
        return self._next_step(interrupted)

    def trainings(self):
        """``trainings_``: one row per training, ``kept`` marking the model kept."""
        return trainings_frame(self._log)

    def _keep(self, step, estimator, training, label_issues):
        self._log.append(log_row(step.name, training, kept=True))
        self.kept, self._kept_step, self._kept_training = estimator, step, training
        if not step.is_refit:  # a refit keeps the verdict of the training it was planned from
            self.label_issues, self.best_params = label_issues, step.params

    def _next_step(self, interrupted):
        if interrupted:
            if self.refit is not None and not self._refit_planned:
                warnings.warn(
                    f"Training was interrupted (Ctrl-C): the refit ({self.refit}) is "
                    "skipped, the interrupted model kept.",
                    UserWarning,
                    stacklevel=5,
                )
            return None
        if self._pending:
            candidate = self._pending.pop(0)
            split = (self._first.train_rows, self._first.valid_rows)
            return Step(candidate.name, candidate.params, split)
        if self.refit is None or self._refit_planned:
            return None
        self._refit_planned = True
        return self._refit_step()

    def _refit_step(self):
        """The refit of the kept candidate: its split without (or with less weight on)
        the training rows that its ``label_issues_`` flags.

        The validation rows stay those of the kept candidate; its training rows lose
        their flagged rows (``'prune'``, keeping at least ``MIN_KEPT_PER_CLASS`` of each
        class, with a warning where a class needs flagged rows for that) or have their
        sample weight multiplied by their ``label_quality`` (``'downweight'``). Rows are
        positions in ``X``, in the order of ``X``: the refit is the fit of those training
        rows with those validation rows as ``X_val``.
        """
        kept = self._kept_training
        name = f"refit ({self.refit})"
        if self._n_candidates > 1:  # say which candidate is refitted
            name = f"{self._kept_step.name}, {name}"
        trained = self.label_issues.iloc[kept.train_rows]
        split_valid = np.sort(kept.valid_rows)
        if self.refit == "prune":
            keep = rows_to_keep(trained, MIN_KEPT_PER_CLASS)
            short = _classes_kept_short(trained, keep)
            if short and self.warn:
                warnings.warn(
                    f"label issues refit: {short} flagged as label issues; pruning keeps the "
                    f"{MIN_KEPT_PER_CLASS} rows of highest label_quality of such a class "
                    "(or all of a smaller one).",
                    UserWarning,
                    stacklevel=6,
                )
            split = (np.sort(kept.train_rows[keep]), split_valid)
            return Step(name, self._kept_step.params, split, is_refit=True)
        quality = np.ones(len(self.label_issues))
        flagged = trained["is_label_issue"].to_numpy(dtype=bool)
        quality[kept.train_rows] = np.where(flagged, trained["label_quality"].to_numpy(), 1.0)
        weights = quality * self.sample_weight
        split = (np.sort(kept.train_rows), split_valid)
        return Step(name, self._kept_step.params, split, weights, is_refit=True)


def _classes_kept_short(trained, keep):
    """'class c: 8 of 10 training rows' for the classes where pruning kept flagged rows."""
    kept = np.zeros(len(trained), dtype=bool)
    kept[keep] = True
    flagged = trained["is_label_issue"].to_numpy(dtype=bool)
    parts = []
    for label, rows in trained.groupby("given_label", sort=True, observed=True).indices.items():
        if (kept[rows] & flagged[rows]).any():
            parts.append(f"class {label}: {flagged[rows].sum()} of {len(rows)} training rows")
    return "; ".join(parts)
