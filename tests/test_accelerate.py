"""AcceleratedLiLAWClassifier: LiLAW through Hugging Face Accelerate, on the CPU."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from _threads import torch_threads
from sklearn.base import clone
from sklearn.datasets import load_digits

from sklilaw import AcceleratedLiLAWClassifier, LiLAWClassifier, LiLAWLoss
from sklilaw._accelerate import _Shards

accelerate = pytest.importorskip("accelerate")
from accelerate.state import AcceleratorState  # noqa: E402

X_ALL, y_ALL = load_digits(return_X_y=True)
X_ALL = (X_ALL / 16).astype(np.float32)
X, y = X_ALL[:600], y_ALL[:600]
PARAMS = dict(max_epochs=3, random_state=0, meta_lr=0.5)


@pytest.fixture
def fresh_state():
    """Accelerate keeps one state per process; each test configures its own."""
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def meta_parameters(clf):
    return [clf.alpha_, clf.beta_, clf.delta_]


def test_single_process_equals_lilaw(fresh_state):
    accelerated = AcceleratedLiLAWClassifier(
        accelerator=accelerate.Accelerator(cpu=True), **PARAMS
    ).fit(X, y)
    plain = LiLAWClassifier(**PARAMS).fit(X, y)
    np.testing.assert_array_equal(accelerated.predict_proba(X), plain.predict_proba(X))
    assert meta_parameters(accelerated) == meta_parameters(plain)
    assert accelerated.label_issues_.equals(plain.label_issues_)
    assert type(accelerated.module_) is type(plain.module_)  # unwrapped after training


def test_clone_and_params(fresh_state):
    accelerator = accelerate.Accelerator(cpu=True)
    clf = AcceleratedLiLAWClassifier(accelerator=accelerator, lr=0.01, max_epochs=1)
    params = clf.get_params()
    assert params["accelerator"] is accelerator and params["lr"] == 0.01
    copy = clone(clf)
    assert copy.accelerator is accelerator and copy.lr == 0.01
    copy.fit(X, y)


def test_verbose_set_after_a_fit_prints_and_the_sink_stays_auto(fresh_state, capsys):
    """The print log's sink 'auto' is resolved at every initialisation, never written
    into the parameter: a fit with verbose=0 prints nothing, one after
    set_params(verbose=1) prints its table."""
    clf = AcceleratedLiLAWClassifier(accelerator=accelerate.Accelerator(cpu=True), **PARAMS)
    clf.fit(X, y)
    assert capsys.readouterr().out == ""
    assert clf.get_params(deep=False)["callbacks__print_log__sink"] == "auto"
    clf.set_params(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "valid_loss" in out and len(out.splitlines()) > PARAMS["max_epochs"]
    assert clf.get_params(deep=False)["callbacks__print_log__sink"] == "auto"


def test_routed_sample_weight_reaches_fit(fresh_state):
    import sklearn
    from sklearn.model_selection import cross_validate

    weights = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    params = dict(PARAMS, accelerator=accelerate.Accelerator(cpu=True))
    with sklearn.config_context(enable_metadata_routing=True):
        clf = AcceleratedLiLAWClassifier(**params).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=False)
        routed = cross_validate(clf, X, y, params={"sample_weight": weights}, cv=2)
    unrouted = cross_validate(
        AcceleratedLiLAWClassifier(**params), X, y, params={"sample_weight": weights}, cv=2
    )
    np.testing.assert_array_equal(routed["test_score"], unrouted["test_score"])


def test_bfloat16_mixed_precision(fresh_state):
    accelerator = accelerate.Accelerator(cpu=True, mixed_precision="bf16")
    mixed = AcceleratedLiLAWClassifier(accelerator=accelerator, **PARAMS).fit(X, y)
    assert mixed.infer(torch.as_tensor(X[:2])).dtype == torch.bfloat16
    reference = LiLAWClassifier(**PARAMS).fit(X, y)
    moved = np.abs(np.array(meta_parameters(reference)) - 2.0)
    difference = np.abs(np.array(meta_parameters(mixed)) - meta_parameters(reference))
    assert np.isfinite(meta_parameters(mixed)).all()
    assert (difference < 0.1 * moved).all()


SCRIPT = """
import json
import numpy as np
import torch
from accelerate import Accelerator
from sklearn.datasets import load_digits
from sklilaw import AcceleratedLiLAWClassifier

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X, y = (X[:{n_rows}] / 16).astype(np.float32), y[:{n_rows}]
accelerator = Accelerator(cpu=True)
clf = AcceleratedLiLAWClassifier(accelerator=accelerator, **{params})
clf.fit(X, y)
# one file per process: lines printed by two processes to one pipe can interleave
with open(f"{{__file__}}.rank{{accelerator.process_index}}.json", "w") as f:
    json.dump({{
        "processes": accelerator.num_processes,
        "meta": [clf.alpha_, clf.beta_, clf.delta_],
        "proba": clf.predict_proba(X[:20]).tolist(),
        "unseen_rows": int(clf.label_issues_["label_quality"].isna().sum()),
        "label_quality": clf.label_issues_["label_quality"].tolist(),
    }}, f)
"""


@pytest.mark.parametrize("n_processes", [2, 3])
@pytest.mark.parametrize("n_rows", range(1, 8))
def test_shards_count_every_row_of_a_batch_once(n_rows, n_processes):
    batch = (torch.arange(n_rows) * 10, torch.arange(n_rows))
    shares = [next(iter(_Shards([batch], rank, n_processes))) for rank in range(n_processes)]
    assert all(len(share[0]) for share in shares)  # no process idles: DDP needs them all
    counted = [share for share in shares if share.fraction]
    assert sorted(torch.cat([share[1] for share in counted]).tolist()) == list(range(n_rows))
    for share in counted:
        assert share.fraction == len(share[1]) / n_rows
    for share in shares:
        assert torch.equal(share[0], share[1] * 10)  # the columns stay aligned


def test_meta_step_on_uneven_shares_equals_the_whole_batch():
    """LiLAWLoss's hook contract: with the summands of all shares summed, each share's
    meta step is that of the whole batch (and not the mean of the shares' means)."""
    generator = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(91, 10, generator=generator)
    target = torch.randint(0, 10, (91,), generator=generator)
    shares = (slice(0, 46), slice(46, None))
    step = dict(lr=0.5, weight_decay=0.01)

    def criterion():
        return LiLAWLoss(torch.nn.CrossEntropyLoss(reduction="none"))

    summands = []

    def record(summand):  # one process: the sum over the processes is its own
        summands.append(summand)
        return summand

    for rows in shares:
        criterion().meta_step(logits[rows], target[rows], **step, reduce_gradient=record)
    assert [float(summand[3]) for summand in summands] == [46, 45]  # the row counts
    stepped = []
    for rows in shares:
        share = criterion()
        share.meta_step(logits[rows], target[rows], **step, reduce_gradient=lambda s: sum(summands))
        stepped.append(share.meta_params)
    whole = criterion()
    whole.meta_step(logits, target, **step)
    assert torch.equal(stepped[0], stepped[1])
    # the sum of 91 terms in another order, times lr, moves the step by far less than the
    # float32 spacing of the parameters, which are then rounded once: one ulp at most
    np.testing.assert_array_max_ulp(stepped[0].numpy(), whole.meta_params.numpy(), maxulp=1)


# (rows, batch size): 600 rows split every batch evenly (510 training rows: 3 x 128 + 126,
# a meta batch of 90); 602 rows do not (511 = 3 x 128 + 127: the last batch splits 64/63;
# the meta batch of 91, 46/45); with batches of 30, 511 = 17 x 30 + 1 and 91 = 3 x 30 + 1:
# a batch of one row, which the second process borrows and must not count
@pytest.mark.parametrize("n_rows, batch_size", [(600, 128), (602, 128), (602, 30)])
def test_two_processes_train_the_single_process_model(tmp_path, n_rows, batch_size):
    """Two CPU processes (gloo), each on its share of every batch, train the single
    process's model up to float rounding, however the batches split."""
    params = {**PARAMS, "batch_size": batch_size}
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(params=params, n_rows=n_rows)))
    # torchrun's rendezvous store and the store it opens for the workers (unless
    # TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1) bind port 0: the system assigns free ports,
    # so none is chosen beforehand that another process could take in the meantime
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nnodes", "1"),
        *("--rdzv-backend", "c10d", "--rdzv-endpoint", "127.0.0.1:0"),
        *("--local-addr", "127.0.0.1", "--nproc_per_node", "2", str(script)),
    ]
    env = {**os.environ, "TORCH_DISABLE_SHARE_RDZV_TCP_STORE": "0"}
    output = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert output.returncode == 0, output.stderr[-3000:]
    ranks = [json.loads(Path(f"{script}.rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [rank["processes"] for rank in ranks] == [2, 2]
    first, second = ranks
    assert first["meta"] == second["meta"]
    assert first["proba"] == second["proba"]
    assert first["unseen_rows"] == 0  # every row's statistics, summed over the processes

    X_n, y_n = X_ALL[:n_rows], y_ALL[:n_rows]
    with torch_threads(1):  # as the processes run: only the sharding differs
        single = LiLAWClassifier(**params).fit(X_n, y_n)
    # The two fits differ only in the order of float32 additions: of the meta-gradient's
    # terms and of the model's gradient (over each process's rows, then over the
    # processes). That moves a step by far less than the float32 spacing of what it
    # updates, but each step rounds its result to float32, which can leave the two one
    # unit in the last place (ulp) further apart: at most about one ulp per step. For
    # alpha, beta, delta that is one ulp per meta step.
    n_meta_steps = sum(single.history[:, "train_batch_count"])
    np.testing.assert_array_max_ulp(
        np.float32(first["meta"]), np.float32(meta_parameters(single)), maxulp=n_meta_steps
    )
    # The network's weights (|w| <= 1/8, ulp <= 7.5e-9) seldom round apart (only where a
    # step's tiny difference crosses a rounding boundary), and a logit sums about 100
    # products of such weights with inputs <= 1, of mixed signs: it moves by about 1e-7,
    # and so do the probabilities (the softmax is 1-Lipschitz) and the label statistics,
    # which average them.
    np.testing.assert_allclose(first["proba"], single.predict_proba(X_n[:20]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        first["label_quality"], single.label_issues_["label_quality"], rtol=0, atol=1e-6
    )
