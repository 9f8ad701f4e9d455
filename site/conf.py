"""Sphinx configuration of the book's website. Build it with `python tools/build_site.py`.

The build reads the committed notebooks with the outputs they store (it never executes a
cell), renders equations with a MathJax shipped by a Python package (no CDN), and takes the
landing page from the README (tools/build_site.py stages the sources).
"""

import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE / "_ext"))

from rnnbook import REPO_URL  # noqa: E402

project = "rnnbook"
author = "The rnnbook authors"
copyright = "The rnnbook authors, MIT License"
html_title = "rnnbook"  # the page titles read "Sequences — rnnbook"

extensions = [
    "myst_nb",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax: equations offline
    "rnnbook_site",  # local badges, no image from the internet, links to repository files
]
rnnbook_repo_url = REPO_URL  # links to repository files that are not pages go there
root_doc = "index"

# Notebooks: show what they store, run nothing.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True  # `$$...$$` inside a paragraph, as Jupyter renders it
myst_heading_anchors = 3  # GitHub-style links to sections: 04_vanishing.ipynb#summary

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
# Without a default the theme logs a console error on a reader's first visit.
html_context = {"default_mode": "light"}
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "binderhub_url": "https://mybinder.org",
        "notebook_interface": "jupyterlab",
    },
}
