"""Sphinx configuration for the crystalgroups / ecn documentation.

Build (warnings are errors)::

    .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

The figures in the pages are drawn by :mod:`crystalgroups.plot` at build time through
matplotlib's ``plot`` directive, so they always show what the installed library computes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The project root (one level up), so that autodoc imports the working tree, not an installed copy.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Headless matplotlib for the plot directive.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- Project information ---------------------------------------------------------------------
project = "crystalgroups & ecn"
author = "The ECN developers"
copyright = "The ECN developers"

try:
    from ecn import __version__ as release
except Exception:  # pragma: no cover - the docs should still build without ecn importable
    release = "0.1.0"
version = release

# -- General configuration -------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
nitpicky = False

# MyST: $...$ / $$...$$ maths, ::: fences, auto-generated heading anchors for cross-page links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc / napoleon (NumPy-style docstrings).
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Plot directive: figures drawn by the library itself at build time.
plot_include_source = True
plot_formats = [("png", 100)]
plot_html_show_formats = False
plot_html_show_source_link = False
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\n"
plot_rcparams = {"figure.dpi": 100, "savefig.bbox": "tight"}

# -- HTML output -----------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"crystalgroups {release}"
html_theme_options = {
    "description": "Exact group theory for crystal lattices and equivariant crystal networks",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_static_path: list[str] = []
