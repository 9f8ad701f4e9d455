"""The book as a website: built offline from the stored notebooks, complete, and readable.

The site is built once, as `make site` builds it (`tools/build_site.py` into `_build/site`),
then checked: no build warnings, a page per chapter in the order of the chapters, the
stored figures and outputs on each page, launch links to Colab and Binder, every internal
link, anchor and image resolving, nothing loaded from the internet, and the pages as a
reader sees them in headless chromium (tests/browser_check.py). The last tests show that
the checks fail when something is broken.

Sphinx and Playwright come with the `site` extra, chromium from Debian (`.ci/run`). Without
them the tests are skipped with the reason, except under CI, where they fail.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import importlib.util
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from rnnbook import REPO_URL, launch_links

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import browser_check  # noqa: E402
import build_site  # noqa: E402

SITE = build_site.OUT
NOTEBOOKS = build_site.chapter_notebooks(ROOT)
OWNER_REPO = REPO_URL.removeprefix("https://github.com/")
# Attributes through which a browser loads something by itself, without a click.
LOADED = {("img", "src"), ("img", "srcset"), ("script", "src"), ("iframe", "src"),
          ("source", "src"), ("source", "srcset"), ("video", "src"), ("video", "poster"),
          ("audio", "src"), ("embed", "src"), ("object", "data"), ("input", "src")}
LOADED_LINK_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon",
                    "shortcut", "apple-touch-icon", "manifest", "preconnect", "dns-prefetch"}
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        reason = (f"the site needs {', '.join(missing)}: pip install -c constraints.txt "
                  "-e '.[site]'")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def build():
    """Build the site once for this module, exactly as `make site` does."""
    _require("sphinx", "myst_nb", "sphinx_book_theme", "bs4")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    return run


@pytest.fixture(scope="module")
def site(build):
    assert build.returncode == 0, f"the site did not build:\n{build.stdout}\n{build.stderr}"
    return SITE


@functools.cache
def soup(path: Path):
    """A page parsed once (the site is built once): read it, never change it."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def pages(site: Path) -> list[Path]:
    """The site's pages (not the theme's template leftovers in _static)."""
    return sorted(p for p in site.rglob("*.html")
                  if not {"_static", "_sources", "browser-check"} & set(p.parts))


def title_of(notebook: nbformat.NotebookNode) -> str:
    """The notebook's first `# Title`, as the page shows it."""
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    found = re.search(r"^# +(.+?)\s*$", markdown, re.M)
    assert found, "a chapter without a `# Title`"
    return re.sub(r"[*`]", "", found.group(1)).strip()


def heading_text(tag) -> str:
    tag = copy.copy(tag)
    for link in tag.select("a.headerlink"):
        link.decompose()
    return " ".join(tag.get_text(" ").split())


def local_targets(page: Path, site: Path):
    """Every (kind, url) on a page that points inside the site, with the resolved path."""
    html = soup(page)
    here = page.relative_to(site).parent.as_posix()
    for tag in html.find_all(True):
        for attr in ("href", "src", "data"):
            url = tag.get(attr)
            if not url or REMOTE.match(url) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
                continue
            parts = urlsplit(url)
            path = posixpath.normpath(posixpath.join(here, unquote(parts.path))) \
                if parts.path else page.relative_to(site).as_posix()
            yield tag.name, url, path, parts.fragment


def broken_links(site: Path) -> list[str]:
    """Links, images and anchors inside the site that lead nowhere."""
    ids: dict[str, set[str]] = {}
    problems = []
    for page in pages(site):
        for _name, url, path, fragment in local_targets(page, site):
            source = page.relative_to(site).as_posix()
            target = site / path
            if path.startswith("..") or not target.exists():
                problems.append(f"{source}: {url} -> no such file")
                continue
            if fragment and target.suffix == ".html":
                if path not in ids:
                    ids[path] = {t["id"] for t in soup(target).find_all(id=True)}
                if fragment not in ids[path]:
                    problems.append(f"{source}: {url} -> no anchor #{fragment}")
    return problems


def remote_loads(site: Path) -> list[str]:
    """Everything a page would load from the internet by itself: scripts, styles, images."""
    found = []
    for page in pages(site):
        for tag in soup(page).find_all(True):
            rels = set(tag.get("rel") or [])
            for attr in ("src", "srcset", "href", "data", "poster"):
                url = tag.get(attr, "")
                loaded = (tag.name, attr) in LOADED or (
                    tag.name == "link" and attr == "href" and rels & LOADED_LINK_RELS)
                if loaded and REMOTE.match(url.strip()):
                    found.append(f"{page.relative_to(site)}: <{tag.name} {attr}={url}>")
    for css in site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?((?:[a-z]+:)?//[^'\")]+)", css.read_text()):
            found.append(f"{css.relative_to(site)}: url({url})")
    return found


# ---------------------------------------------------------------------------- the build


def test_builds_without_warnings(build):
    assert build.returncode == 0 and "FAILED" not in build.stdout, (
        f"the build failed or warned:\n{build.stdout}\n{build.stderr[-3000:]}")
    assert re.search(rf"built {len(NOTEBOOKS)} chapters in [\d.]+ s", build.stdout)
    for pattern, reason in build_site.ALLOWED_WARNINGS:
        assert pattern and len(reason.split()) >= 3, f"allowed warning {pattern!r} needs a reason"


def test_build_reads_stored_outputs_and_never_executes():
    path = ROOT / "site" / "conf.py"
    conf = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), conf)
    assert conf["nb_execution_mode"] == "off"


def test_every_chapter_has_a_page_with_its_title(site):
    assert NOTEBOOKS, "no chapters"
    for notebook in NOTEBOOKS:
        page = site / "chapters" / f"{notebook.stem}.html"
        assert page.exists(), f"no page for {notebook.name}"
        html = soup(page)
        title = title_of(nbformat.read(notebook, as_version=4))
        assert heading_text(html.find("h1")) == title, f"{page.name} has the wrong heading"
        assert html.title.get_text().startswith(title)


def test_table_of_contents_follows_the_chapter_order(site):
    expected = [p.stem for p in NOTEBOOKS]
    for page in [site / "index.html", *(site / "chapters").glob("*.html")]:
        nav = soup(page).select_one("nav.bd-docs-nav")
        here = page.relative_to(site).parent.as_posix()
        targets = [posixpath.normpath(posixpath.join(here, a["href"].split("#")[0]))
                   if a["href"].split("#")[0] else page.relative_to(site).as_posix()
                   for a in nav.select("a.reference")]
        listed = [Path(t).stem for t in targets if t.startswith("chapters/")]
        assert listed == expected, f"{page.name}: the contents list {listed}"


def test_pages_show_the_stored_figures_and_outputs(site):
    for notebook_path in NOTEBOOKS:
        notebook = nbformat.read(notebook_path, as_version=4)
        html = soup(site / "chapters" / f"{notebook_path.stem}.html")
        shown = {Path(img["src"]).name for img in html.select(".cell_output img")}
        with_output = [c for c in notebook.cells if c.cell_type == "code" and c.outputs]
        assert len(html.select("div.cell_output")) == len(with_output), notebook_path.name
        for cell in with_output:
            for out in cell.outputs:
                if "image/png" in out.get("data", {}):
                    png = base64.b64decode(out["data"]["image/png"])
                    name = hashlib.sha256(png).hexdigest() + ".png"
                    assert name in shown, f"{notebook_path.name}: a stored figure is missing"
                    assert (site / "_images" / name).read_bytes() == png


def test_every_chapter_links_to_colab_and_binder(site):
    for notebook in NOTEBOOKS:
        html = soup(site / "chapters" / f"{notebook.stem}.html")
        hrefs = {a["href"] for a in html.find_all("a", href=True)}
        colab, _ = launch_links(notebook.name)
        assert colab in hrefs, f"{notebook.name}: no Colab link"
        binder = f"https://mybinder.org/v2/gh/{OWNER_REPO}/main?"   # the theme's own format
        assert any(h.startswith(binder) and notebook.name in unquote(h) for h in hrefs), (
            f"{notebook.name}: no Binder link")


def test_landing_page_is_the_readme(site):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    html = soup(site / "index.html")
    assert heading_text(html.find("h1")) == build_site.readme_title(readme)
    sections = [re.sub(r"[*`]", "", h) for h in re.findall(r"^## +(.+?)\s*$", readme, re.M)]
    shown = [heading_text(h) for h in html.select("article h2")]
    assert [s for s in sections if s in shown] == sections, f"README sections: {shown}"
    linked = {a["href"].split("#")[0] for a in html.select("article a[href]")}
    for notebook in NOTEBOOKS:
        assert f"chapters/{notebook.stem}.html" in linked, f"index does not link {notebook}"


def test_links_anchors_and_images_resolve(site):
    assert broken_links(site) == []
    images = [(page, url, path) for page in pages(site)
              for name, url, path, _ in local_targets(page, site) if name == "img"]
    assert images, "no images at all"
    for page, url, path in images:
        data = (site / path).read_bytes()
        assert data.startswith(b"\x89PNG") or b"<svg" in data[:400], f"{page}: {url}"


def test_nothing_is_loaded_from_the_internet(site):
    assert remote_loads(site) == []


def test_math_renderer_is_shipped(site):
    scripts = [s["src"] for page in pages(site) for s in soup(page).find_all("script", src=True)
               if "mathjax" in s["src"].lower()]
    assert scripts, "no page loads MathJax"
    assert all(not REMOTE.match(src) for src in scripts)
    assert (site / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert list((site / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


def test_in_a_real_browser(site):
    _require("playwright")
    if not browser_check.find_chromium():
        reason = "chromium is not installed: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    visited = browser_check.check(site)
    chapters = [p.stem for p in NOTEBOOKS]
    assert [p.path for p in visited] == ["index.html"] + [f"chapters/{c}.html"
                                                          for c in chapters]
    problems = [problem for page in visited for problem in page.problems(chapters)]
    assert problems == []
    assert any(p.typeset > 0 and p.figures_loaded > 0 for p in visited[1:]), (
        "no chapter page shows both a typeset equation and a figure")
    assert all(p.requests > 0 and p.external_requests == [] for p in visited)
    assert all(shot.stat().st_size > 10_000 for p in visited for shot in p.screenshots)


# ------------------------------------------------------------- the checks can fail


def _notebook(title: str, markdown: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n{markdown}")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_build_fails_on_broken_links_missing_images_and_remote_images(tmp_path):
    _require("sphinx", "myst_nb", "sphinx_book_theme", "bs4")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "LICENSE").write_text("MIT")
    (tmp_path / "README.md").write_text(
        "# A broken book\n\n![ci](https://img.shields.io/badge/ci-passing-green)\n\n"
        "Read [the preface](chapters/00_preface.ipynb) and [the plan](PLAN.md).\n")
    nbformat.write(_notebook("Preface", "See [chapter 9](09_missing.ipynb), "
                                        "[the licence](../LICENSE) and "
                                        "![a plot](figures/none.png)."),
                   tmp_path / "chapters" / "00_preface.ipynb")
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"),
                          "--root", str(tmp_path), "--out", str(tmp_path / "site")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    reported = [line for line in run.stdout.splitlines() if "WARNING" in line]
    assert len(reported) == 4, run.stdout
    for expected in ["README.md:3: WARNING: image https://img.shields.io/badge/ci-passing-green"
                     " would load from the internet",
                     "README.md:5: WARNING: 'myst' cross-reference target not found: 'PLAN.md'",
                     "chapters/00_preface.ipynb, cell 1: WARNING: 'myst' cross-reference "
                     "target not found: '09_missing.ipynb'",
                     "chapters/00_preface.ipynb, cell 1: WARNING: image file not readable: "
                     "chapters/figures/none.png"]:
        assert expected in run.stdout, f"{expected!r} not reported:\n{run.stdout}"
    # The link to a file of the repository that is not a page went to GitHub.
    page = soup(tmp_path / "site" / "chapters" / "00_preface.html")
    assert page.find("a", href=f"{REPO_URL}/blob/main/LICENSE", string="the licence")


def test_landing_page_lists_the_chapters_the_readme_does_not_link():
    chapters = [Path("chapters/00_a.ipynb"), Path("chapters/01_b.ipynb")]
    toctree = "```{toctree}\n:caption: Chapters\n{}\n\nchapters/00_a\nchapters/01_b\n```\n"
    full = build_site.landing_page("# T\n\n[a](chapters/00_a.ipynb), [b](./chapters/01_b.ipynb)",
                                   chapters)
    assert full == "# T\n\n[a](chapters/00_a.ipynb), [b](./chapters/01_b.ipynb)\n\n" + \
        toctree.replace("{}", ":hidden:")
    part = build_site.landing_page("# T\n\n[a](chapters/00_a.ipynb)\n", chapters)
    assert part == "# T\n\n[a](chapters/00_a.ipynb)\n\n## All chapters\n\n" + \
        toctree.replace("{}", ":maxdepth: 1")
    with pytest.raises(SystemExit, match="Title"):
        build_site.landing_page("no title here", chapters)


def test_link_and_remote_checks_catch_what_is_broken(tmp_path):
    _require("bs4")
    (tmp_path / "a.html").write_text(
        '<h2 id="here">x</h2><a href="b.html#there">ok</a><a href="b.html#gone">bad</a>'
        '<a href="c.html">bad</a><a href="https://example.org">a link, loads nothing</a>'
        '<img src="missing.png"><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/f.css">')
    (tmp_path / "b.html").write_text('<p id="there">y</p><a href="a.html#here">ok</a>')
    assert broken_links(tmp_path) == ["a.html: b.html#gone -> no anchor #gone",
                                      "a.html: c.html -> no such file",
                                      "a.html: missing.png -> no such file"]
    assert remote_loads(tmp_path) == [
        "a.html: <script src=https://cdn.example.org/x.js>",
        "a.html: <link href=//fonts.example.org/f.css>"]


def test_only_loopback_counts_as_local():
    for url in ["http://127.0.0.1:8000/x", "http://127.4.5.6/", "http://[::1]:80/",
                "http://localhost:1/", "data:image/png;base64,AAAA", "blob:http://127.0.0.1/x"]:
        assert browser_check.is_loopback(url), url
    for url in ["https://cdn.jsdelivr.net/npm/mathjax@4", "http://10.0.0.1/",
                "http://192.168.1.1/", "http://8.8.8.8/", "https://example.org/"]:
        assert not browser_check.is_loopback(url), url


def test_browser_check_sees_what_a_reader_would(tmp_path):
    """A page with raw TeX, a broken image, a console error and a request to the internet."""
    _require("playwright")
    if not browser_check.find_chromium():
        pytest.skip("chromium is not installed")  # test_in_a_real_browser fails under CI
    (tmp_path / "chapters").mkdir()
    nav = ('<nav class="bd-docs-nav"><a class="reference" href="{}">One</a></nav>')
    body = ('<article class="bd-article"><h1>One</h1><p>Raw $h_t = W h_{{t-1}}$ math.</p>'
            '<div class="cell_output"><img src="gone.png"></div>'
            '<img src="https://example.org/tracker.png"></article>'
            '<script>console.error("boom")</script>')
    (tmp_path / "index.html").write_text(
        "<title>Index</title>" + nav.format("chapters/01_one.html") +
        '<article class="bd-article"><h1>Index</h1></article>')
    (tmp_path / "chapters" / "01_one.html").write_text(
        "<title>One</title>" + nav.format("01_one.html") + body.format())
    index, chapter = browser_check.check(tmp_path)
    assert index.problems(["01_one"]) == []
    found = "\n".join(chapter.problems(["01_one"]))
    for expected in ["raw TeX left in the text: ['$h_t = W h_{t-1}$']",
                     "images that did not load: ['gone.png', 'https://example.org/tracker.png']",
                     "gone.png: HTTP 404",
                     "external requests: ['https://example.org/tracker.png']"]:
        assert expected in found, f"{expected!r} not in:\n{found}"
    # The browser reports console messages in no fixed order: look for ours among them.
    console = [line for line in found.splitlines() if "console errors:" in line]
    assert len(console) == 1 and "'boom (http://127.0.0.1" in console[0], found
