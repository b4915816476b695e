"""The preprocessing a user writes for a table: imputed, scaled numbers; imputed one-hot
categories."""

from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def tabular_preprocessor():
    """A ``ColumnTransformer`` for a DataFrame of numbers and categories.

    Numeric columns: missing values imputed by the column's median, then standardised.
    Every other column: missing values imputed by the most frequent value, then one-hot
    encoded (categories unseen in ``fit`` become all zeros). The output is a dense float
    array.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; its steps are named ``'numbers'`` and ``'categories'``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklilaw import tabular_preprocessor
    >>> X = pd.DataFrame({"age": [30, None, 50], "city": ["a", "b", None]})
    >>> tabular_preprocessor().fit_transform(X).shape
    (3, 3)
    """
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("numbers", numbers, make_column_selector(dtype_include="number")),
            ("categories", categories, make_column_selector(dtype_exclude="number")),
        ]
    )
