"""Helpers of the scripts in ``benchmarks/``; not part of the sklilaw package.

A script run as ``python benchmarks/NAME.py`` has ``benchmarks/`` on ``sys.path``, so it
imports these as ``from _bench.common import ...``.

* ``common``: what every script prints or measures the same way: versions and machine,
  the command and the commit, wall time and load average, thread pinning, Markdown
  tables, the report's output.
* ``models``: the networks of the benchmarks and seeded construction and fitting.
* ``noisy_data``, ``noisy_methods``, ``noisy_report``: ``noisy_labels.py``'s data sets
  and noise settings; its method registry, metrics and fits; its tables and plot.
"""
