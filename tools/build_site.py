"""Build the book's website into `_build/site`, offline, from the notebooks' stored outputs.

    python tools/build_site.py              # build, then open _build/site/index.html
    python tools/build_site.py --out DIR    # build somewhere else

Nothing is executed: every page shows the outputs and figures its notebook stores, so the
site is exactly what `tools/notebooks.py run` made and nbval checks. The landing page is
the README; the chapters follow in the order of their numbers. The configuration lives in
`site/conf.py`. The build fails on any Sphinx warning that is not allowed below, with its
reason, so a broken link, a missing image or a malformed equation cannot slip through.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
OUT = ROOT / "_build" / "site"

# Warnings the build may give, as (regular expression, why it is harmless). None so far:
# add one only with a reason a reader of this file would accept.
ALLOWED_WARNINGS: list[tuple[str, str]] = []

WARNING_LINE = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE):")
# Local images shown by the README, in markdown or in HTML: staged with the landing page.
README_IMAGES = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*\bsrc\s*=\s*["']([^"']+)""",
                           re.I)
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


@dataclass
class Build:
    """What a build made: the chapters, its warnings, those not allowed, and its time."""

    out: Path
    chapters: list[str]
    warnings: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def chapter_notebooks(root: Path) -> list[Path]:
    """The chapters' notebooks, in the order of their numbers."""
    return sorted((root / "chapters").glob("[0-9][0-9]_*.ipynb"))


def readme_title(readme: str) -> str:
    """The README's first `# heading`, without markdown markup."""
    match = re.search(r"^# +(.+?)\s*#*\s*$", readme, re.M)
    if not match:
        raise SystemExit("README.md needs a `# Title` line: it is the site's landing page")
    return re.sub(r"[*`]", "", match.group(1)).strip()


def landing_page(readme: str, chapters: list[Path]) -> str:
    """index.md: the README, then the table of contents of the chapters.

    The toctree makes the sidebar and the previous/next links. It is shown on the page
    too unless the README links every chapter itself. Links to other files of the
    repository go to GitHub (site/_ext/rnnbook_site.py).
    """
    readme_title(readme)
    linked = set(re.findall(r"\]\(\s*<?(?:\./)?chapters/([^)#\s>]+\.ipynb)", readme))
    hidden = {p.name for p in chapters} <= linked
    entries = "\n".join(f"chapters/{p.stem}" for p in chapters)
    heading = "" if hidden else "\n## All chapters\n"
    options = ":hidden:" if hidden else ":maxdepth: 1"
    return (f"{readme.rstrip()}\n{heading}\n```{{toctree}}\n:caption: Chapters\n{options}\n\n"
            f"{entries}\n```\n")


def stage(root: Path, src: Path, chapters: list[Path]) -> None:
    """Copy what the site is built from into `src`, laid out as in the repository.

    The chapters' folder comes without the .py twins (a link to a twin goes to GitHub),
    but with anything else a notebook may show, such as images.
    """
    keep = set(chapters)

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if n.endswith(".py") or n in (".ipynb_checkpoints",
                "__pycache__") or (n.endswith(".ipynb") and Path(folder, n) not in keep)]

    shutil.copytree(root / "chapters", src / "chapters", ignore=ignore)
    shutil.copytree(SITE / "badges", src / "_badges")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for match in README_IMAGES.finditer(readme):
        rel = (match.group(1) or match.group(2)).split("#")[0]
        if not EXTERNAL.match(rel) and (root / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, src / rel)
    (src / "index.md").write_text(landing_page(readme, chapters), encoding="utf-8")


def read_warnings(log: str, src: Path) -> list[str]:
    """Sphinx's warnings, one string each, with paths as they are in the repository.

    myst-nb numbers a notebook's lines as 10000 * cell + line: the cell (counting from 1)
    is shown instead.
    """
    entries: list[str] = []
    for line in log.splitlines():
        line = line.replace(f"{src}/", "").replace("index.md:", "README.md:")
        line = re.sub(r"(\.ipynb):(\d+):", lambda m: f"{m[1]}, cell {int(m[2]) // 10000}:",
                      line)
        if WARNING_LINE.search(line) or not entries:
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    return [e for e in entries if e.strip()]


def build(root: Path = ROOT, out: Path = OUT) -> Build:
    """Build the site of the book at `root` into `out`, from scratch."""
    start = time.time()
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    chapters = chapter_notebooks(root)
    if not chapters:
        raise SystemExit(f"no chapters/NN_*.ipynb under {root}")
    if not (root / "README.md").exists():
        raise SystemExit("README.md is missing: it is the site's landing page")
    # Sources, doctrees and myst-nb's jupyter_execute/ go to a work folder next to `out`;
    # the pages are built there too and moved to `out` when done.
    work = out.with_name(out.name + "_work")
    shutil.rmtree(work, ignore_errors=True)
    src, html = work / "src", work / "html"
    stage(root, src, chapters)
    nocolor()
    log = io.StringIO()
    with patch_docutils(SITE), docutils_namespace():
        app = Sphinx(src, SITE, html, work / "doctrees", "html", freshenv=True,
                     confoverrides={"rnnbook_repo_root": str(root)}, status=None,
                     warning=log)
        app.build()
    shutil.rmtree(out, ignore_errors=True)
    html.rename(out)
    warnings = read_warnings(log.getvalue(), src)
    if app.statuscode != 0:
        warnings.append(f"ERROR: Sphinx finished with status {app.statuscode}")
    disallowed = [w for w in warnings
                  if not any(re.search(pattern, w) for pattern, _ in ALLOWED_WARNINGS)]
    return Build(out, [p.stem for p in chapters], warnings, disallowed, time.time() - start)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (_build/site)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the book to build: a folder with README.md and chapters/")
    args = parser.parse_args(argv)
    result = build(args.root.resolve(), args.out.resolve())
    for warning in result.warnings:
        print(("  allowed: " if warning not in result.disallowed else "") + warning)
    print(f"built {len(result.chapters)} chapters in {result.seconds:.1f} s: "
          f"{result.out / 'index.html'}")
    if result.disallowed:
        print(f"FAILED: {len(result.disallowed)} warning(s) not allowed "
              "(fix them, or allow them with a reason in tools/build_site.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
