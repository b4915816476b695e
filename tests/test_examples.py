"""Every example in examples/ and the README's quickstart run without error."""

import os
import re
import runpy
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture(autouse=True)
def _no_windows():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


# the file each loader of sklilaw.datasets reads from $SKLILAW_DATA
LOCAL_DATA = {
    "load_adult": Path("adult", "adult.test"),
    "load_ecg5000": Path("ecg5000", "ECG5000_TRAIN.txt"),
}


def _skip_without_data(path):
    """Examples that load UCI Adult or ECG5000 read them from $SKLILAW_DATA (CI has no
    network, and ECG5000 has no online source)."""
    folder = os.environ.get("SKLILAW_DATA", "")
    source = path.read_text()
    for loader, needed in LOCAL_DATA.items():
        if loader in source and not Path(folder, needed).is_file():
            pytest.skip(f"{path.name} needs {needed}: set SKLILAW_DATA to the folder with it")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    _skip_without_data(path)
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it found


def test_readme_quickstart_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python quickstart"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "category" in capsys.readouterr().out  # the difficulty table was printed
