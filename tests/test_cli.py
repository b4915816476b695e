"""The command line: ``sklilaw demo``, ``sklilaw audit`` and ``sklilaw fairness``."""

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from sklilaw._cli import main


def test_demo_prints_a_table_of_the_three_methods(capsys):
    threads = torch.get_num_threads()
    main(["demo", "--dataset", "iris", "--noise", "0.2", "--seeds", "2", "--epochs", "20"])
    assert torch.get_num_threads() == threads  # --threads applies to the demo only
    out = capsys.readouterr().out
    assert "iris: 20% of training labels flipped" in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in table[1:]] == [
        "plain skorch",
        "LiLAW",
        "LiLAW, recommended for noisy labels",
    ]
    assert "fit_time_vs_plain" in table[0]
    header = [cell.strip() for cell in table[0].split("|")]
    for row in table[2:]:
        lilaw = dict(zip(header, [cell.strip() for cell in row.split("|")], strict=True))
        assert int(lilaw["errors_injected"]) == 22  # 20% of the 112 training labels
        # flagging beats chance: more of the flagged labels are flipped than of all labels
        assert int(lilaw["errors_found"]) / int(lilaw["flagged"]) > 0.2
    assert "recommended for noisy labels: noise_handling='auto' (why:" in out


def test_demo_rejects_an_unknown_dataset(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["demo", "--dataset", "mnist"])
    assert excinfo.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--seeds", "0"], "--seeds: expected at least 1, got 0"),
        (["demo", "--threads", "0"], "--threads: expected at least 1, got 0"),
        (["demo", "--noise", "1.5"], "--noise: expected a share in [0, 1), got 1.5"),
        (["demo", "--epochs", "many"], "--epochs: expected a whole number, got 'many'"),
        (["fairness", "--label-noise", "sym-120"], "--label-noise: expected none, sym-R or"),
        (["fairness", "--n-samples", "-3"], "--n-samples: expected at least 1, got -3"),
        (["fairness", "--plot", "{missing}/a.png"], "the folder {missing} does not exist"),
        (["fairness", "--data-home", "{missing}"], "'{missing}' is not a folder"),
    ],
)
def test_bad_arguments_are_usage_errors_before_any_work(capsys, tmp_path, argv, message):
    missing = str(tmp_path / "missing")
    argv = [argument.format(missing=missing) for argument in argv]
    message = message.format(missing=missing)
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    err = capsys.readouterr()
    assert message in err.err and err.out == ""


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklilaw", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--noise" in result.stdout


def test_fairness_audit_prints_tables_and_saves_a_plot(tmp_path, capsys):
    folder = os.environ.get("SKLILAW_DATA")
    if not folder or not os.path.isfile(os.path.join(folder, "adult", "adult.test")):
        pytest.skip("needs UCI Adult: set SKLILAW_DATA to the folder that holds adult/")
    matplotlib.use("Agg")
    plot, quality_plot = tmp_path / "audit.png", tmp_path / "quality.png"
    threads = torch.get_num_threads()
    argv = ["fairness", "--n-samples", "1500", "--epochs", "2", "--seeds", "2"]
    main(
        [
            *argv,
            *("--sensitive", "sex", "race"),
            *("--plot", str(plot), "--label-quality-plot", str(quality_plot)),
        ]
    )
    assert torch.get_num_threads() == threads  # --threads applies to the audit only
    out = capsys.readouterr().out
    assert "UCI Adult (a subsample of 1500 rows)" in out and "median of 2 seeds" in out
    assert "By sex:" in out and "By race:" in out
    by_sex = out[out.index("By sex:") : out.index("By race:")]
    rows = [line.split("|")[1:3] for line in by_sex.splitlines() if line.startswith("| ")]
    by_group = [(m.strip(), g.strip()) for m, g in rows if g.strip() in ("overall", "Female")]
    assert by_group == [(m, g) for m in ("plain skorch", "LiLAW") for g in ("overall", "Female")]
    assert "demographic_parity_difference" in out and "worst_group_accuracy" in out
    start, end = out.index("training labels by sex"), out.index("training labels by race")
    quality = out[start:end]
    rows = [line.split("|")[1:5] for line in quality.splitlines() if line.startswith("| ")]
    assert [cell.strip() for cell in rows[0]] == [
        "method",
        "group",
        "flagged share",
        "mean label_quality",
    ]
    assert {(m.strip(), g.strip()) for m, g, *_ in rows[1:]} == {
        ("LiLAW", group) for group in ("overall", "Female", "Male")
    }
    assert all(0 <= float(share) <= 1 for _, _, share, _ in rows[1:])
    assert plot.stat().st_size > 0 and quality_plot.stat().st_size > 0
    assert f"Label quality plot saved to {quality_plot}" in out
    matplotlib.pyplot.close("all")


def test_a_label_quality_plot_needs_a_lilaw_method(tmp_path):
    plot = tmp_path / "quality.png"
    argv = ["fairness", "--methods", "plain skorch", "--label-quality-plot", str(plot)]
    with pytest.raises(SystemExit, match="--label-quality-plot needs a method that records"):
        main(argv)
    assert not plot.exists()


def test_fairness_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["fairness", "--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    for option in ("--seeds", "--epochs", "--sensitive", "--n-samples", "--data-home", "--plot"):
        assert option in out


# ---------------------------------------------------------------------- sklilaw audit
def _table_csv(tmp_path, rows=240, **columns):
    """A small table as a CSV file: numbers, a category, a group, yes/no labels."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "x": x,
            "kind": rng.choice(["p", "q"], size=rows),
            "group": rng.choice(["a", "b"], size=rows),
            "label": np.where(x + rng.normal(scale=0.5, size=rows) > 0, "yes", "no"),
            **columns,
        }
    )
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_audit_prints_the_summary_and_writes_the_html_report(tmp_path, capsys, suffix):
    data, report = _table_csv(tmp_path), tmp_path / "report.html"
    if suffix == ".parquet":
        data = tmp_path / "table.parquet"
        pd.read_csv(tmp_path / "table.csv").to_parquet(data)
    main(["audit", str(data), "--target", "label", "--sensitive", "group",
          "--output", str(report), "--n-boot", "20"])  # fmt: skip
    out = capsys.readouterr().out
    assert "by group: 60 rows scored" in out and "positive label 'yes'" in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in table[1:]]
    assert names[:3] == [
        "plain skorch",
        "LiLAWClassifier()",
        "LiLAWClassifier(noise_handling='auto')",
    ]
    assert any(name.endswith("ThresholdOptimizer(demographic_parity)") for name in names)
    assert f"written to {report}" in out
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--target", "outcome", "--sensitive", "group"], "target column 'outcome' is not in X"),
        (["--target", "label", "--sensitive", "region"], "unknown columns ['region']"),
        (["--target", "one", "--sensitive", "group"], "for two classes; the target has 1: ['yes']"),
        (["--target", "label", "--sensitive", "small"], "'rare' (3 rows) of ['small']"),
    ],
)
def test_audit_names_bad_columns_before_any_training(tmp_path, capsys, argv, message):
    small = np.where(np.arange(240) < 3, "rare", "common")
    data = _table_csv(tmp_path, one="yes", small=small)
    with pytest.raises(SystemExit) as excinfo:
        main(["audit", str(data), *argv, "--output", str(tmp_path / "r.html")])
    assert message in str(excinfo.value.code)
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("notes.txt", "hello", "expected a .csv, .tsv or .parquet file, got .txt"),
        ("one.csv", "only\n1\n2\n", "is not a table of a target and features: it has 1 column"),
        ("broken.tsv", "\x00\x01\x02", "is not a table of a target and features"),
        ("broken.parquet", "not parquet", "is not a readable table"),
        ("missing.csv", None, "is not a file"),
    ],
)
def test_audit_refuses_a_file_that_is_not_a_table(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as excinfo:
        main(["audit", str(path), "--target", "a", "--sensitive", "b",
              "--output", str(tmp_path / "r.html")])  # fmt: skip
    assert message in str(excinfo.value.code)
