"""Sphinx configuration of the sklilaw documentation.

Build it with ``python -m sphinx -W -b html docs docs/_build/html``. The example gallery
runs every ``examples/plot_*.py``; those that load UCI Adult read ``$SKLILAW_DATA``.
Nothing is fetched from the network (no intersphinx).
"""

import sklilaw

project = "sklilaw"
author = "sklilaw developers"
copyright = "sklilaw developers"
release = version = sklilaw.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build"]

# API reference: one generated page per object (docs/generated/, not in git)
autosummary_generate = True
autodoc_default_options = {"members": True}
# the class template lists the members itself
numpydoc_show_class_members = False

# the gallery: every examples/plot_*.py is executed; other .py files there are skipped
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"/(?!plot_)[^/]*\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
}

# figures drawn at build time by the user guide's ``.. plot::`` blocks
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

html_theme = "pydata_sphinx_theme"
html_title = f"sklilaw {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
