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


def _skip_without_adult(path):
    """Examples that load UCI Adult read it from $SKLILAW_DATA (CI has no network)."""
    folder = os.environ.get("SKLILAW_DATA", "")
    if "load_adult" in path.read_text() and not Path(folder, "adult", "adult.test").is_file():
        pytest.skip(f"{path.name} needs UCI Adult: set SKLILAW_DATA to the folder with adult/")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    _skip_without_adult(path)
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out  # each example reports what it found


def test_readme_quickstart_runs(capsys):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has a Python quickstart"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "category" in capsys.readouterr().out  # the difficulty table was printed
