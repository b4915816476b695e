"""
Fairness audit of your own table
================================

Audit a table in one call with :func:`sklilaw.fairness.audit`: a telecom's customers
(``$SKLILAW_DATA/tabular/wa_churn.csv``, 7,043 customers), the label ``churn`` (did the
customer leave?), the sensitive column ``senior_citizen`` (1 for customers of 65 and
over: age is a protected attribute in many laws). The audit fits plain skorch,
``LiLAWClassifier()`` and ``LiLAWClassifier(noise_handling='auto')`` behind the
preprocessing a user would write, scores them by group on a held-out quarter with
bootstrap intervals, post-processes the most accurate with fairlearn's
``ThresholdOptimizer``, and judges the training labels by group. The same audit from a
shell: ``sklilaw audit wa_churn.csv --target churn --sensitive senior_citizen``.
"""

# %%
# The table
# ---------
# Numbers and categories, as a CSV holds them; ``senior_citizen`` will be left out of
# the features and used only to group the rows. Senior customers leave more often.
import os
import tempfile
from pathlib import Path

import pandas as pd

from sklilaw.fairness import audit

table = pd.read_csv(Path(os.environ["SKLILAW_DATA"], "tabular", "wa_churn.csv"))
print(table.shape, table["churn"].value_counts().to_dict())
print(table.groupby("senior_citizen")["churn"].apply(lambda y: (y == "Yes").mean()).round(3))

# %%
# The audit
# ---------
# ``'Yes'`` (left) is the positive label: a model that *selects* more of one group
# predicts that more of that group leave. The summary is the trade-off, one row per model:
# accuracy against the disparities between the groups.
result = audit(table, "churn", sensitive_features="senior_citizen", random_state=0)
print(result.evaluation)
print(result.summary.round(3).to_markdown())

# %%
# The trade-off at a glance: each marker a model, accuracy up, disparity left.
result.plot_trade_off()

# %%
# By group
# --------
# The most accurate model's metrics for younger (0) and senior (1) customers, each with
# its 95% bootstrap interval. With a few hundred senior customers among the test rows,
# their intervals are wide: read a gap between the groups against them.
best = result.reports[result.best_model]
print(result.best_model)
print(best.to_markdown())

# %%
# The models predict churn for far more senior customers than younger ones (a
# demographic-parity difference near 0.2, as in the recorded labels). The
# demographic-parity mitigation, fitted on the training rows, brings the difference in
# selection rates on the test rows close to 0, at some accuracy; the equalized-odds one
# equalises the true and false positive rates instead.
mitigated = f"{result.best_model} + ThresholdOptimizer(demographic_parity)"
print(result.summary.loc[[result.best_model, mitigated],
                         ["accuracy", "demographic_parity_difference"]].round(3))  # fmt: skip

# %%
# Whose labels look noisy
# -----------------------
# From ``LiLAWClassifier()``'s label issues on the training rows: the share of labels
# it flags per group, and their mean ``label_quality``. The senior customers' labels
# disagree with the model more often than the younger customers' (their intervals of
# the flagged share do not overlap): their churn is harder to predict from the other
# columns, or their labels are noisier; the label quality alone cannot say which.
print(result.label_quality.by_group.round(3).to_markdown())

# %%
# The report
# ----------
# ``to_html`` writes all of it to one file, figures embedded, which opens without a
# network; ``to_markdown`` and ``to_frame`` give the same numbers as text and as a table.
path = Path(tempfile.mkdtemp(), "churn_audit.html")
result.to_html(path)
print(f"{path.name}: {path.stat().st_size // 1024} kB")
