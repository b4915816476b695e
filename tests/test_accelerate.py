"""AcceleratedLiLAWClassifier: LiLAW through Hugging Face Accelerate, on the CPU."""

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits

from sklilaw import AcceleratedLiLAWClassifier, LiLAWClassifier

accelerate = pytest.importorskip("accelerate")
from accelerate.state import AcceleratorState  # noqa: E402

X, y = load_digits(return_X_y=True)
X = (X[:600] / 16).astype(np.float32)
y = y[:600]
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
X, y = (X[:600] / 16).astype(np.float32), y[:600]
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
    }}, f)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_keep_meta_parameters_identical(tmp_path):
    """Two CPU processes (gloo) on shares of every batch give one model, the single
    process's, up to float rounding."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(params=PARAMS)))
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"),
        *("--master_addr", "127.0.0.1", "--master_port", str(free_port()), str(script)),
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert output.returncode == 0, output.stderr[-3000:]
    ranks = [json.loads(Path(f"{script}.rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [rank["processes"] for rank in ranks] == [2, 2]
    first, second = ranks
    assert first["meta"] == second["meta"]
    assert first["proba"] == second["proba"]
    assert first["unseen_rows"] == 0  # every row's statistics, summed over the processes

    single = LiLAWClassifier(**PARAMS).fit(X, y)
    np.testing.assert_allclose(first["meta"], meta_parameters(single), atol=1e-5)
    np.testing.assert_allclose(first["proba"], single.predict_proba(X[:20]), atol=1e-4)
