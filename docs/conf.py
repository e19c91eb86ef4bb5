"""Sphinx configuration for the sklearn_slstm documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
Set ``SKLEARN_SLSTM_FAST=1`` to run the gallery examples in their fast mode.
The build needs no network: there is no intersphinx, and the examples use
only generated data and data sets bundled with installed packages.
"""

import os
import re
import sys
from pathlib import Path

import sklearn_slstm

DOCS_DIR = Path(__file__).resolve().parent
# Makes docs/sphinxext importable, for the gallery's sort key.
sys.path.insert(0, str(DOCS_DIR / "sphinxext"))

project = "sklearn_slstm"
author = "The sklearn_slstm developers"
copyright = "the sklearn_slstm developers"
release = sklearn_slstm.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "literal"

# -- API reference -------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True}
# numpydoc renders the docstring sections; the class template lists members.
numpydoc_show_class_members = False

# -- Gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every examples/plot_*.py is executed, not only shown.
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sklearn_slstm",),
    "backreferences_dir": "generated/backreferences",
    # Links code to this package's API pages only; None means local, no network.
    "reference_url": {"sklearn_slstm": None},
    "download_all_examples": False,
    "remove_config_comments": True,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_slstm {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False


def _check_api_reference(app, config):
    """Warn (an error under ``-W``) if a public name is missing from api.rst."""
    from sphinx.util import logging

    listed = set(
        re.findall(r"^\s{3,}(\w+)\s*$", (DOCS_DIR / "api.rst").read_text(), re.M)
    )
    missing = sorted(set(sklearn_slstm.__all__) - listed)
    if missing:
        logging.getLogger(__name__).warning(
            "docs/api.rst does not list the public name(s) %s of "
            "sklearn_slstm.__all__; add them to an autosummary table.",
            ", ".join(missing),
        )


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out the members that scikit-learn defines.

    Inherited members are documented only when this package defines them
    (the family's base class); scikit-learn's own (``get_params``,
    ``score``, the generated ``set_*_request`` methods of metadata routing)
    are documented by scikit-learn, and the class template names them.
    """
    module = getattr(obj, "__module__", None) or ""
    if re.fullmatch(r"set_\w+_request", name) or module.startswith("sklearn."):
        return True
    return None


def _write_cli_help(app):
    """Write ``python -m sklearn_slstm --help`` for the user guide to include."""
    from sklearn_slstm.__main__ import build_parser

    # argparse wraps to the terminal width; fix it so the page is stable.
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        text = build_parser().format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    path = DOCS_DIR / "generated" / "cli_help.txt"
    path.parent.mkdir(exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    app.connect("config-inited", _check_api_reference)
    app.connect("builder-inited", _write_cli_help)
    app.connect("autodoc-skip-member", _skip_foreign_members)
