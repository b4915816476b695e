"""The audit as one self-contained HTML page: jinja2 template, matplotlib figures inlined."""

import base64
import io
import os
from importlib import resources

import numpy as np

from ..plotting import _pyplot
from ._metrics import FEW_OUTCOMES, TRADE_OFF_DISPARITIES
from ._report import OVERALL

BY_GROUP_METRICS = ["accuracy", "selection_rate", "true_positive_rate", "false_positive_rate"]


def plot_trade_off(summary, *, figsize=None):
    """Accuracy against each disparity of ``summary``'s columns, one marker per model."""
    plt = _pyplot()
    n = len(TRADE_OFF_DISPARITIES)
    fig, axes = plt.subplots(1, n, figsize=figsize or (3.4 * n, 3.6), squeeze=False)
    markers = "osD^vP*Xh"
    for ax, disparity in zip(axes[0], TRADE_OFF_DISPARITIES, strict=True):
        for i, (model, row) in enumerate(summary.iterrows()):
            # hollow markers, each smaller than the one before: models at the same point
            # show as nested markers, none hidden
            ax.scatter(row[disparity], row["accuracy"], marker=markers[i % len(markers)],
                       s=max(150 - 25 * i, 30), facecolors="none", edgecolors=f"C{i}",
                       linewidths=1.8, label=model)  # fmt: skip
        ax.locator_params(axis="x", nbins=4)
        ax.set_xlabel(disparity.replace("_", " ") + " (lower is fairer)")
        ax.set_ylabel("accuracy")
        ax.grid(alpha=0.3)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center",
               ncol=min(3, len(summary)), frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.08 + 0.05 * (len(summary) // 3), 1, 1))
    return fig


def plot_by_group(reports, *, figsize=None):
    """Selection rate, true and false positive rates and accuracy by group, one bar per
    model, with the bootstrap intervals.

    Up to four groups, the metrics side by side; more, one metric per row, as wide as
    the groups need.
    """
    plt = _pyplot()
    tables = {name: report._tables() for name, report in reports.items()}
    groups = next(iter(tables.values()))["value"].index[1:]
    stacked = len(groups) > 4
    n = len(BY_GROUP_METRICS)
    shape = (n, 1) if stacked else (1, n)
    size = (min(16, 3 + 1.2 * len(groups)), 2.8 * n) if stacked else (3.4 * n, 3.8)
    fig, axes = plt.subplots(*shape, squeeze=False, figsize=figsize or size)
    width = 0.8 / len(reports)
    for ax, metric in zip(axes.ravel(), BY_GROUP_METRICS, strict=True):
        for i, (name, table) in enumerate(tables.items()):
            heights = table["value"].loc[groups, metric].to_numpy(dtype=float)
            errors = None
            if "lower" in table:
                lower, upper = (table[b].loc[groups, metric].to_numpy(dtype=float)
                                for b in ("lower", "upper"))  # fmt: skip
                errors = np.clip([heights - lower, upper - heights], 0, None)
            ax.bar(np.arange(len(groups)) + i * width, heights, width, yerr=errors, capsize=2,
                   label=name)  # fmt: skip
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, groups, rotation=30, ha="right")
        ax.set_title(metric.replace("_", " "))
        ax.set_ylim(0, 1)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center",
               ncol=min(3, len(reports)), frameon=False)  # fmt: skip
    legend_rows = 1 + (len(reports) - 1) // 3
    fig.tight_layout(rect=(0, 0.035 * legend_rows * (1 if stacked else 2.5), 1, 1))
    return fig


def _png(fig):
    """The figure as a data URL (the page needs no other file), then closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _by_group_html(report):
    """The report's metrics by group, each value with its interval, as an HTML table."""
    tables = report._tables()
    values = tables["value"]
    cells = values.astype(object)
    for metric in values.columns:
        for group in values.index:
            value = values.loc[group, metric]
            if metric == "count":
                cells.loc[group, metric] = f"{value:.0f}"
            elif "lower" in tables and np.isfinite(tables["lower"].loc[group, metric]):
                lower = tables["lower"].loc[group, metric]
                upper = tables["upper"].loc[group, metric]
                cells.loc[group, metric] = f"{value:.3f} <small>[{lower:.3f}, {upper:.3f}]</small>"
            else:
                cells.loc[group, metric] = f"{value:.3f}"
    cells.columns = [c.replace("_", " ") for c in cells.columns]
    cells.index = [f"<b>{g}</b>" if g == OVERALL else g for g in cells.index]
    return cells.to_html(escape=False, border=0, classes="numbers")


def require_html_dependencies():
    """Raise an ``ImportError`` that says what to install when jinja2 or matplotlib is
    missing (the command line asks before any training)."""
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"The HTML report needs jinja2 and matplotlib ({error}): pip install 'sklilaw[audit]'"
        ) from error


def write_html(result, path):
    """Render ``result`` (an :class:`~sklilaw.fairness.Audit`) to ``path``."""
    require_html_dependencies()
    import jinja2
    from markupsafe import Markup

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"The folder of {path!r} does not exist.")
    template = jinja2.Template(
        resources.files(__package__).joinpath("templates", "audit.html").read_text("utf-8"),
        autoescape=True,
    )
    summary = result.summary.rename(columns=lambda c: c.replace("_", " ")).rename_axis(None)
    quality = result.label_quality
    page = template.render(
        audit=result,
        summary=Markup(summary.to_html(float_format="{:.3f}".format, border=0, classes="numbers")),
        models={name: Markup(_by_group_html(report)) for name, report in result.reports.items()},
        disparities={
            name: Markup(
                report.disparities.rename(index=lambda d: d.replace("_", " ")).to_html(
                    float_format="{:.3f}".format, border=0, classes="numbers", na_rep=""
                )
            )
            for name, report in result.reports.items()
        },
        few_outcomes=Markup(
            result.few_outcomes.rename_axis(None).to_html(border=0, classes="numbers")
        )
        if len(result.few_outcomes)
        else None,
        few_limit=FEW_OUTCOMES,
        trade_off=_png(plot_trade_off(result.summary)),
        by_group=_png(plot_by_group(result.reports)),
        quality_table=None
        if quality is None
        else Markup(
            quality.by_group.rename_axis(None).to_html(
                float_format="{:.3f}".format, border=0, classes="numbers"
            )
        ),
        quality_plot=None if quality is None else _png(quality.plot()),
    )
    with open(path, "w", encoding="utf-8") as file:
        file.write(page)
