"""Sphinx extension of the book's website: links and images that work as they do on GitHub.

- The chapters open with the Open-in-Colab and Binder badges, which GitHub and Jupyter load
  from colab.research.google.com and mybinder.org. On the website the same badges come
  from local copies in `site/badges/` (the links still go to Colab and Binder: a link is
  followed only when the reader clicks it). Any other image from the internet is reported
  as a warning, which fails the build: the site must read offline.
- A link from the README or a chapter to a file of the repository that is not a page of
  the site (`CONTRIBUTING.md`, `../rnnbook/cells.py`, `rnnbook/`) goes to that file on
  GitHub. A link to a file that does not exist stays a warning.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

# Remote badge -> local copy, staged by tools/build_site.py into the source folder's
# `_badges/` (a leading "/" makes Sphinx read the path from the source folder's root).
BADGES = {
    "https://colab.research.google.com/assets/colab-badge.svg": "/_badges/colab-badge.svg",
    "https://mybinder.org/badge_logo.svg": "/_badges/binder-badge.svg",
}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)
RAW_REMOTE_SRC = re.compile(r"""\bsrc\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I)


class LocalBadges(SphinxTransform):
    """Point badge images at local copies; warn about any other remote image."""

    default_priority = 400  # before Sphinx collects images at doctree-read

    def apply(self, **kwargs) -> None:
        for image in self.document.findall(nodes.image):
            uri = image.get("uri", "")
            if uri in BADGES:
                image["uri"] = BADGES[uri]
            elif REMOTE.match(uri):
                logger.warning("image %s would load from the internet: ship a copy in "
                               "site/badges/ and map it in BADGES (site/_ext/rnnbook_site.py)",
                               uri, location=image, type="rnnbook", subtype="remote_image")
        for raw in self.document.findall(nodes.raw):
            if "html" in raw.get("format", "").split() and RAW_REMOTE_SRC.search(raw.astext()):
                logger.warning("raw HTML loads a resource from the internet: %s",
                               raw.astext().strip()[:120], location=raw, type="rnnbook",
                               subtype="remote_image")


class RepositoryLinks(SphinxPostTransform):
    """Send links to repository files that are not pages to those files on GitHub."""

    default_priority = 8  # before myst's resolver (9) warns that they are not pages

    def run(self, **kwargs) -> None:
        root = Path(self.config.rnnbook_repo_root)
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("reftype") != "myst" or node.get("refdomain"):
                continue
            path, _, fragment = node["reftarget"].partition("#")
            folder = posixpath.dirname(node.get("refdoc", self.env.docname))
            rel = posixpath.normpath(posixpath.join(folder, path))
            if not path or rel.startswith("..") or not (root / rel).exists():
                continue
            kind = "tree" if (root / rel).is_dir() else "blob"
            url = f"{self.config.rnnbook_repo_url}/{kind}/main/{rel}"
            link = nodes.reference("", "", internal=False,
                                   refuri=url + (f"#{fragment}" if fragment else ""))
            link += node.children
            node.replace_self(link)


def setup(app: Sphinx) -> dict:
    app.add_config_value("rnnbook_repo_root", str(Path(__file__).parents[2]), "env")
    app.add_config_value("rnnbook_repo_url", "", "env")
    app.add_transform(LocalBadges)
    app.add_post_transform(RepositoryLinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
