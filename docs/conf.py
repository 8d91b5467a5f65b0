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
    "myst_nb",  # MyST Markdown and notebooks (it brings myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "results/*.md",
]  # results/: generated tables, included by results.md
nitpicky = False

# MyST: $...$ / $$...$$ maths, ::: fences, auto-generated heading anchors for cross-page links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc / napoleon (NumPy-style docstrings).
autodoc_default_options = {"members": True, "undoc-members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "Attributes" sections become :ivar: fields, so that with undoc-members the dataclass fields are
# not described twice (Pattern, SparsePattern).
napoleon_use_ivar = True

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


# -- Build-time check of the hand-written Bravais table in concepts.md -------------------------
# The table is written by hand (a table is not a figure); this check recomputes every entry with
# the library and reports a Sphinx warning (an error under -W) for each cell that disagrees.

_TABLE_START = "<!-- bravais-table:start"
_TABLE_END = "<!-- bravais-table:end"


def _library_bravais_rows() -> dict[str, list[str]]:
    from crystalgroups import bravais_types, pattern

    rows = {}
    for t in bravais_types():
        p = pattern(t.symbol, (2,) * t.dim, warn=False)
        excess = p.automorphisms_exceed_group
        rows[t.symbol] = [
            t.symbol,
            t.name,
            t.symmetry_group,
            t.abstract_point_group,
            str(t.point_group.order),
            str(p.num_edge_colors),
            str(p.metadata["permutation_group_order"]),
            {True: "yes", False: "no", None: "unknown"}[excess],
        ]
    return rows


def _parse_doc_row(line: str) -> list[str]:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    # `aP` -> aP, $C_{2h}$ -> C2h
    return [c.strip("`").replace("$", "").replace("_", "").replace("{", "").replace("}", "") for c in cells]


def _check_bravais_table(app) -> None:
    from sphinx.util import logging

    logger = logging.getLogger("crystalgroups.docs")
    path = Path(app.srcdir) / "concepts.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(_TABLE_START))
        end = next(i for i, line in enumerate(lines) if line.startswith(_TABLE_END))
    except StopIteration:
        logger.warning("Bravais table markers not found in concepts.md", location=str(path))
        return
    body = [(i, line) for i, line in enumerate(lines[start:end], start + 1) if line.startswith("| `")]
    expected = _library_bravais_rows()
    seen = []
    for lineno, line in body:
        row = _parse_doc_row(line)
        symbol = row[0]
        seen.append(symbol)
        if symbol not in expected:
            logger.warning("Bravais table: unknown type %r", symbol, location=(str(path), lineno))
            continue
        if row != expected[symbol]:
            logger.warning(
                "Bravais table row %r disagrees with the library: page %s, library %s",
                symbol,
                row,
                expected[symbol],
                location=(str(path), lineno),
            )
    if seen != list(expected):
        logger.warning("Bravais table lists %s, the library %s", seen, list(expected), location=str(path))


# -- Short names in docstrings --------------------------------------------------------------
# Docstrings say :class:`PointGroup` from modules where the class is only imported, so Sphinx's
# relative lookup misses it. Resolve such a name when exactly one documented crystalgroups object
# has it as its last component.


def _resolve_short_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    name = node.get("reftarget", "").lstrip(".~").rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    matches = [
        (full, entry)
        for full, entry in domain.objects.items()
        if full.startswith("crystalgroups.") and full.rsplit(".", 1)[-1] == name and not entry.aliased
    ]
    if len(matches) != 1:
        return None
    from sphinx.util.nodes import make_refnode

    full, entry = matches[0]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, full)


def setup(app):
    app.connect("builder-inited", _check_bravais_table)
    app.connect("missing-reference", _resolve_short_name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

# Notebooks are run by every build, so their outputs cannot go stale; an error in one fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
