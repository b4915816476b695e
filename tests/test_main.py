"""The command line: ``sklilaw demo``."""

import subprocess
import sys

import pytest

from sklilaw.__main__ import main


def test_demo_prints_a_table_of_both_methods(capsys):
    main(["demo", "--dataset", "iris", "--noise", "0.2", "--seeds", "2", "--epochs", "3"])
    out = capsys.readouterr().out
    assert "iris: 20% of training labels flipped" in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in table[1:]] == ["plain skorch", "LiLAW"]
    assert "fit_time_vs_plain" in table[0]


def test_demo_rejects_an_unknown_dataset(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["demo", "--dataset", "mnist"])
    assert excinfo.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "sklilaw", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--noise" in result.stdout
