"""``sklilaw audit``: a fairness audit of a table in a CSV or Parquet file, or of UCI Adult."""

import os

import pandas as pd

from ..datasets import load_adult

ADULT = "adult"


def read_table(source, data_home=None):
    """The table of ``source``: a ``.csv``, ``.tsv`` or ``.parquet`` file, or ``'adult'``
    (UCI Adult, read as :func:`sklilaw.datasets.load_adult` reads it).

    Raises
    ------
    ValueError
        Naming the file, when it cannot be read as a table of two columns or more.
    """
    if source == ADULT:
        return load_adult(data_home).frame
    if not os.path.isfile(source):
        raise ValueError(f"{source!r} is not a file (or 'adult').")
    suffix = os.path.splitext(source)[1].lower()
    readers = {
        ".csv": pd.read_csv,
        ".tsv": lambda path: pd.read_csv(path, sep="\t"),
        ".parquet": pd.read_parquet,
    }
    if suffix not in readers:
        raise ValueError(
            f"{source!r}: expected a .csv, .tsv or .parquet file, got {suffix or 'no suffix'}."
        )
    try:
        table = readers[suffix](source)
    except ImportError as error:  # Parquet without pyarrow (sklilaw[audit])
        raise ValueError(f"{source!r}: cannot read Parquet here ({error}).") from None
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise ValueError(f"{source!r} is not a readable table: {error}") from None
    if table.shape[1] < 2 or len(table) == 0:
        raise ValueError(
            f"{source!r} is not a table of a target and features: it has "
            f"{table.shape[1]} column(s) and {len(table)} row(s)."
        )
    return table
