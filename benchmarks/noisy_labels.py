"""Accuracy under noisy training labels: LiLAW against plain training, a robust loss and cleanlab.

What it measures
----------------
For every data set, seed and noise setting, the data are split 75/25 (stratified,
seeded by the seed; ECG5000 keeps the UCR archive's own split); label noise is injected
into the training part only, with ``sklilaw.noise`` (seeded by the seed), and every
method is fitted on the noisy training labels and scored on the *clean* test labels. The
methods (all with the same network, Adam with lr 1e-3 and weight decay 1e-4, batches of
128, the same number of epochs, and 15% of the training data held out, stratified, as
validation data):

1. ``plain skorch``: ``sklilaw.baselines.plain_skorch(module, max_epochs=E,
   train_split=ValidSplit(0.15, stratified=True, random_state=seed))``, fed float32 ``X``
   and int64 ``y``. The module instance is built, and ``fit`` runs, inside
   ``torch.random.fork_rng()`` after ``torch.manual_seed(seed)``. (So the skorch rows
   and the LiLAW rows start from different initial weights and validation splits, each
   drawn from the seed; the LiLAW rows share theirs.)
2. ``plain skorch + early stopping``: the same with
   ``callbacks=[EarlyStopping(patience=PATIENCE, load_best=True)]`` (skorch's defaults
   otherwise: monitor ``valid_loss``, relative threshold 1e-4).
3. ``GCE (q=0.7)``: plain skorch with ``criterion=sklilaw.GeneralizedCrossEntropy`` and
   ``criterion__reduction="mean"`` (skorch's ``get_loss`` wants a scalar). skorch applies
   a softmax in ``predict_proba`` only for ``CrossEntropyLoss``, so this row sets
   ``predict_nonlinearity`` to a softmax (it changes no prediction, only the AUROC input).
4. ``unweighted twin``: ``LiLAWClassifier(reweight=False, max_epochs=E,
   random_state=seed)``: the package's training without any re-weighting, with the
   *same* initial weights, validation split and batch order as the LiLAW rows (the same
   ``random_state``), so that it isolates what the weights and meta steps change. Not a
   method anyone would choose; an ablation. Its early-stopping variant, ``unweighted twin
   + early stopping`` (``early_stopping=True, n_iter_no_change=PATIENCE``),
   separates what LiLAW's early stopping does from what its weights do.
5. ``LiLAW``: ``LiLAWClassifier(max_epochs=E, random_state=seed)``, the paper's method
   with the package defaults (those of the authors' code, the weights detached).
   ``LiLAW (authors' gradient, warm-up 1)``: ``detach_weights=False, warmup_epochs=1``,
   the weights differentiated through the softmax and one unweighted first epoch, as
   the authors' code trains.
6. ``LiLAW + early stopping``: ``early_stopping=True, n_iter_no_change=PATIENCE``.
7. ``LiLAW + refit (prune)`` / ``LiLAW + refit (downweight)``:
   ``label_issues_refit="prune"`` / ``"downweight"``: a second training from scratch
   without (or with less weight on) the training rows that the first training's
   ``label_issues_`` flags, validated on the first training's validation rows and kept
   only if its accuracy there is at least the first model's.
8. ``LiLAW + GCE``: ``criterion=sklilaw.GeneralizedCrossEntropy`` (q=0.7), LiLAW's
   weights on the robust loss's per-sample values.
9. ``LiLAW + early stopping + refit (prune)`` and ``LiLAW + GCE + early stopping + refit
   (prune)`` (the configuration the README recommended before ``noise_handling``).
10. ``noise_handling='auto'``: ``LiLAWClassifier(noise_handling="auto",
   n_iter_no_change=PATIENCE)``, the configuration the README recommends: two trainings
   with early stopping (``criterion`` and GCE), the one of higher validation accuracy
   kept, then its guarded pruning refit.
11. ``cleanlab CleanLearning``: ``cleanlab.classification.CleanLearning(clf=wrapper,
   seed=seed, cv_n_folds=5)``: 5-fold cross-validated out-of-sample probabilities,
   confident learning to find label issues, then a final fit on the rows not flagged.
   The wrapper is ``LiLAWClassifier(reweight=False, max_epochs=E, random_state=seed)``,
   i.e. row 4: the same network and data path with an unweighted loss and no meta step.
   It was chosen over plain skorch because CleanLearning needs what a scikit-learn
   classifier has and skorch's ``NeuralNetClassifier`` lacks: it ``clone``s the estimator
   for every fold; it passes ``sample_weight=`` to the *final* ``fit`` (class weights
   ``1 / noise_matrix[k, k]`` that restore the class balance after pruning, because
   ``fit`` has a ``sample_weight`` parameter; skorch would hand it to the module's
   ``forward``); and it calls ``predict_proba``/``predict`` with any labels ``0..K-1``.
   ``LiLAWClassifier`` with ``reweight=False`` does all of that, is seeded by
   ``random_state`` (each clone gets the same seed), and weights each sample's loss by
   ``sample_weight``.

Metrics, on the clean test set: accuracy, balanced accuracy, macro-F1 and AUROC
(one-vs-rest macro average for more than two classes). Label-issue detection, on the
training set, where the flipped rows are known: the AUROC of ``-label_quality`` against
"flipped", the precision among the ``k`` rows of lowest ``label_quality`` where ``k`` is
the number of flipped rows (precision at the true noise count, which is also the recall
there), and the precision and recall of ``is_label_issue``. LiLAW's come from
``label_issues_`` (training rows: class probabilities averaged over the epochs of
training; rows of its internal validation split: the fitted model's out-of-sample
probabilities); the refit rows report the first training's verdict (which
``label_issues_`` keeps). cleanlab's come from ``CleanLearning.label_issues_df``, whose
``label_quality`` is the out-of-fold probability of the given label (cleanlab's
"self_confidence", the same definition as LiLAW's) and whose ``is_label_issue`` is
``cleanlab.filter.find_label_issues`` on those probabilities. Fit time is the wall time of
``fit`` (cleanlab: of ``CleanLearning.fit``, the 5 fold fits and the final fit), and its
ratio to plain skorch's fit in the same data set / noise / seed cell.

Output, per data set (Markdown on stdout and in ``--output``; one row per fit in
``--csv``): test accuracy by noise setting with the median fit time and its ratio to plain
skorch; all test metrics at 40% symmetric noise; label-issue ranking (AUROC, precision
at k) and the ``is_label_issue`` verdict (precision, recall, share flagged) by noise
setting; LiLAW's weights of clean and of flipped rows and the learned ``alpha``,
``beta``, ``delta``. All are medians over the seeds. ``--plot`` draws test accuracy
against the symmetric noise rate, one panel per data set. Every row of ``--csv`` also
records how its run was made (epochs, versions and torch threads, command, commit) and
its data set (description, sizes, classes): a report made ``--from-csv`` takes all of it
from the files, and says where merged files disagree.

Noise settings: ``sym-R`` flips R% of the training labels, each to a uniformly drawn
other class; ``asym-R`` flips R% of each class to the next class (``c -> c + 1 mod K``);
``inst-R`` flips R% of the rows, drawn with probability proportional to how little a
5-fold logistic regression believes their clean label, to the class it confuses them
with most. A setting in which a wrong label would be the most frequent label of a class
(symmetric noise at R >= (K - 1) / K, e.g. 60% symmetric noise on a binary data set,
which inverts the labels; class-pair noise at R >= 50%) is skipped and shown as "n/a".

Data sets (``--datasets``, all five by default): ``digits`` (``load_digits``, scaled to
[0, 1], the default MLP with one hidden layer of 100), ``digits_cnn`` (the same data, a
small CNN, ``SmallCNN`` of ``_bench/models.py``, that reshapes the 64 inputs to 1x8x8,
the same module for every method), ``breast_cancer`` (``load_breast_cancer``,
standardised, the MLP), ``adult`` (UCI Adult through ``sklilaw.datasets.load_adult``,
which reads ``$SKLILAW_DATA/adult/``; one-hot categories and standardised numbers; a
stratified subsample of ``--adult-samples`` rows, since 48,842 rows times all the fits
above takes hours on 2 cores) and ``ecg5000`` (ECG5000 through
``sklilaw.datasets.load_ecg5000``, from ``$SKLILAW_DATA/ecg5000/``, heartbeats of 140
values, split as the UCR archive splits it: the methods train on its training part of
500 heartbeats and are scored on its test part of 4,500, the same for every seed;
``BenchFCN`` of ``_bench/models.py``, ``sklilaw.FCN`` with a quarter of the paper's
channels; class 5, with 2 training heartbeats, is left out of both parts, see
``MIN_CLASS_SIZE``). A new data set is one more entry in ``DATASETS`` of
``_bench/noisy_data.py``: a function that returns a ``Dataset``; a new method is one
more entry in ``METHODS`` of ``_bench/noisy_methods.py``.

Everything is seeded: the split, the noise, the initial weights, the validation splits,
the batches, cleanlab's folds. Rerunning a command gives the same tables (up to the fit
times). Fits run one after another in one process, after one untimed 1-epoch fit of
every method per data set (torch's lazy set-up); the order of the methods is rotated
from cell to cell, so that drift of a shared machine spreads over all of them.

Usage::

    python benchmarks/noisy_labels.py                    # the default run
    python benchmarks/noisy_labels.py --datasets digits --seeds 0 --epochs 5   # a smoke run
    python benchmarks/noisy_labels.py --output /tmp/noisy.md --plot /tmp/noisy.png \\
        --csv /tmp/noisy.csv
    # two processes, one report
    python benchmarks/noisy_labels.py --datasets digits_cnn ecg5000 --csv /tmp/a.csv &
    python benchmarks/noisy_labels.py --datasets digits breast_cancer adult --csv /tmp/b.csv
    python benchmarks/noisy_labels.py --from-csv /tmp/a.csv /tmp/b.csv --output /tmp/noisy.md
"""

import argparse
import os
import sys

from _bench.common import Clock, add_threads_argument, command_line, pin_threads, publish
from _bench.noisy_data import DATASETS, parse_noise
from _bench.noisy_methods import METHODS, PLAIN, run
from _bench.noisy_report import merge_runs, plot, report, run_settings

DEFAULT_EPOCHS = 50
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_DATASETS = ("digits", "digits_cnn", "breast_cancer", "adult", "ecg5000")
DEFAULT_NOISE = ("sym-0", "sym-20", "sym-40", "sym-60", "asym-40", "inst-40")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DEFAULT_DATASETS)
    )
    parser.add_argument(
        "--noise",
        nargs="+",
        default=list(DEFAULT_NOISE),
        help="noise settings: sym-R (symmetric), asym-R (class pairs), inst-R "
        "(instance-dependent), R in percent",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="max epochs per fit")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        metavar="METHOD",
        help=f"methods to fit, from: {', '.join(map(repr, METHODS))}",
    )
    add_threads_argument(parser, default=1)
    parser.add_argument(
        "--adult-samples",
        type=int,
        default=10000,
        help="rows of Adult used (stratified subsample); 0 for all 48,842",
    )
    parser.add_argument("--output", help="also write the Markdown report to this file")
    parser.add_argument(
        "--plot",
        default="/tmp/noisy_labels.png",
        help="PNG of accuracy vs symmetric noise rate ('' for none)",
    )
    parser.add_argument("--csv", help="write one row per fit to this CSV file")
    parser.add_argument(
        "--from-csv",
        nargs="+",
        metavar="CSV",
        help="fit nothing: write the report of the fits in these --csv files (e.g. of "
        "runs over different data sets in parallel processes); data sets, noise settings, "
        "seeds, methods, epochs, sizes, versions and commit are those the files record "
        "(the options for them are ignored), and the report says where the files disagree",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for noise in args.noise:
        parse_noise(noise)
    if PLAIN not in args.methods:
        parser.error(f"--methods must include {PLAIN!r}: fit times are ratios to it")
    args.methods = [m for m in METHODS if m in args.methods]  # the table order
    return args


def main(argv=None):
    args = parse_args(argv)
    pin_threads(args.threads)
    if args.from_csv:
        runs, results, repeats = merge_runs(args.from_csv)
        args.datasets = [d for d in DATASETS if d in set(results.dataset)]
        args.methods = [m for m in METHODS if m in set(results.method)]
        args.noise = list(results.noise.unique())
        args.seeds = sorted(set(results.seed))
        timing = (
            f"Tables from {', '.join(args.from_csv)}; load average (1 min) before the fits: "
            f"median {results.load_1min.median():.2f}, max {results.load_1min.max():.2f} "
            f"({os.cpu_count()} cores). {repeats}"
        )
        text = report(args, results, timing, runs, report_command=command_line())
    else:
        clock = Clock()
        results = run(args).assign(**run_settings(args))
        if args.csv:  # first: the fits outlast a report that fails
            results.to_csv(args.csv, index=False)
        text = report(args, results, clock.summary())
    publish(text, args.output)
    if args.plot:
        plot(results, args.datasets, args.methods, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
