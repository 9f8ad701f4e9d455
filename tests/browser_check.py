"""Open the built website in a real headless browser and check what a reader sees.

    python tests/browser_check.py [_build/site]

The site is served by Python's http.server on 127.0.0.1 and opened in Debian's chromium
(`apt-get install chromium`; another binary with RNNBOOK_CHROMIUM=/path), driven by
Playwright with a fresh profile. Every page request goes through a filter: requests to
loopback pass, any other is blocked before it leaves the machine and reported. On the index
and on every chapter page it checks that the title and the table of contents are visible,
that every equation was typeset by MathJax (none left as raw `$...$`), that every image
loaded (non-zero natural width), and that the console shows no error. Screenshots go to
`<site>/browser-check/`, for CI to keep. `tests/test_site.py` runs this with the suite.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "site"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # Belt and braces: no host name resolves, so even a request the page
                 # filter below never sees (the browser's own) cannot leave the machine.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]
TIMEOUT_MS = 60_000  # generous: CI machines are shared and busy
RAW_MATH = re.compile(r"(?<![\\\w])\$[^$\n]+\$|\\\(|\\\)|\\\[|\\\]|\$\$")

# What the browser measures on a page, run in the page after MathJax has finished.
MEASURE = """() => {
  const visible = (el) => !!el && el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== 'hidden';
  const article = document.querySelector('article.bd-article');
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, mjx-container, script, style, .cell_output')
       .forEach((el) => el.remove());
  const nav = document.querySelector('nav.bd-docs-nav');
  return {
    title: document.title,
    heading: visible(article.querySelector('h1')) ? article.querySelector('h1').innerText : '',
    toc_visible: visible(nav),
    toc: nav ? Array.from(nav.querySelectorAll('a.reference')).filter(visible)
                    .map((a) => a.getAttribute('href')) : [],
    math: article.querySelectorAll('.math').length,
    typeset: article.querySelectorAll('mjx-container').length,
    untypeset: Array.from(article.querySelectorAll('.math'))
                    .filter((m) => !m.querySelector('mjx-container')).length,
    prose: prose.innerText,
    images: Array.from(document.images).map((img) => ({
        src: img.getAttribute('src'), width: img.naturalWidth, complete: img.complete,
        figure: !!img.closest('.cell_output')})),
  };
}"""


@dataclass
class Page:
    """What the browser found on one page."""

    path: str
    title: str = ""
    heading: str = ""
    toc_visible: bool = False
    toc: list[str] = field(default_factory=list)
    math: int = 0
    typeset: int = 0
    untypeset: int = 0
    raw_math: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    requests: int = 0
    screenshots: list[Path] = field(default_factory=list)

    @property
    def figures_loaded(self) -> int:
        return sum(1 for img in self.images if img["figure"] and img["width"] > 0)

    def toc_targets(self) -> list[str]:
        """The pages the table of contents links to, as paths in the site."""
        here = posixpath.dirname(self.path)
        return [posixpath.normpath(posixpath.join(here, urlsplit(href).path
                                                  or posixpath.basename(self.path)))
                for href in self.toc]

    def problems(self, chapters: list[str]) -> list[str]:
        """Everything a reader would notice as broken, in words; empty when all is well."""
        found = []
        if not self.title.strip() or not self.heading.strip():
            found.append("no visible title")
        if not self.toc_visible:
            found.append("table of contents not visible")
        listed = [Path(target).stem for target in self.toc_targets()
                  if target.startswith("chapters/")]
        if listed != chapters:
            found.append(f"table of contents lists {listed}, expected {chapters}")
        if self.untypeset or self.typeset < self.math:
            found.append(f"{self.untypeset} of {self.math} equations not typeset by MathJax")
        if self.raw_math:
            found.append(f"raw TeX left in the text: {self.raw_math[:3]}")
        broken = [img["src"] for img in self.images if not img["width"]]
        if broken:
            found.append(f"images that did not load: {broken}")
        for kind in ("console_errors", "failed_requests", "external_requests"):
            if getattr(self, kind):
                found.append(f"{kind.replace('_', ' ')}: {getattr(self, kind)}")
        return [f"{self.path}: {p}" for p in found]


def find_chromium() -> str | None:
    """The browser binary: RNNBOOK_CHROMIUM, else Debian's chromium on the PATH."""
    if os.environ.get("RNNBOOK_CHROMIUM"):
        return os.environ["RNNBOOK_CHROMIUM"]
    return shutil.which("chromium") or shutil.which("chromium-browser")


def is_loopback(url: str) -> bool:
    """True for a URL that stays on this machine: loopback hosts, or no network at all."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the signature of http.server
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on a free port of 127.0.0.1; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chapter_pages(site: Path) -> list[str]:
    return [p.relative_to(site).as_posix() for p in sorted(site.glob("chapters/[0-9][0-9]_*.html"))]


def visit(context, base: str, path: str, shots: Path) -> Page:
    """Open one page, wait for MathJax and the images, and measure it."""
    page_info = Page(path)
    tab = context.new_page()
    tab.on("console", lambda m: m.type == "error" and page_info.console_errors.append(
        f"{m.text} ({m.location.get('url', '')})"))
    tab.on("pageerror", lambda e: page_info.console_errors.append(f"uncaught: {e}"))
    tab.on("requestfailed", lambda r: is_loopback(r.url) and page_info.failed_requests.append(
        f"{r.url}: {r.failure}"))
    tab.on("response", lambda r: r.status >= 400 and page_info.failed_requests.append(
        f"{r.url}: HTTP {r.status}"))
    tab.on("request", lambda r: setattr(page_info, "requests", page_info.requests + 1))
    tab.goto(base + path, wait_until="load", timeout=TIMEOUT_MS)
    tab.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    shot = shots / (Path(path).stem + ".png")
    tab.screenshot(path=str(shot))
    page_info.screenshots.append(shot)
    # Scroll through the page so that lazily loaded images load, then wait for them all.
    tab.evaluate("""async () => {
        for (let y = 0; y < document.body.scrollHeight; y += window.innerHeight) {
            window.scrollTo(0, y); await new Promise((r) => setTimeout(r, 20)); }
        await Promise.all(Array.from(document.images).map((img) => img.complete ? null
            : new Promise((r) => { img.onload = img.onerror = r; })));
    }""")
    figure = tab.locator(".cell_output img").first
    if figure.count():
        figure.scroll_into_view_if_needed()
        shot = shots / (Path(path).stem + "-figure.png")
        tab.screenshot(path=str(shot))
        page_info.screenshots.append(shot)
    measured = tab.evaluate(MEASURE)
    for key in ("title", "heading", "toc_visible", "toc", "math", "typeset", "untypeset",
                "images"):
        setattr(page_info, key, measured[key])
    page_info.raw_math = RAW_MATH.findall(measured["prose"])
    tab.close()
    return page_info


def check(site: Path = SITE, chromium: str | None = None) -> list[Page]:
    """Visit the index and every chapter page of the site in headless chromium."""
    from playwright.sync_api import sync_playwright

    chromium = chromium or find_chromium()
    if not chromium:
        raise RuntimeError("chromium not found: apt-get install chromium, "
                           "or set RNNBOOK_CHROMIUM to a Chromium binary")
    shots = site / "browser-check"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir()
    pages: list[Page] = []
    blocked: list[str] = []

    def only_loopback(route):
        if is_loopback(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    with serve(site) as base, sync_playwright() as p, \
            tempfile.TemporaryDirectory(prefix="rnnbook-chromium-") as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", only_loopback)
        for path in ["index.html", *chapter_pages(site)]:
            blocked.clear()
            page = visit(context, base, path, shots)
            page.external_requests = list(dict.fromkeys(blocked))
            pages.append(page)
        context.close()
    return pages


def main(argv: list[str]) -> int:
    site = Path(argv[0]).resolve() if argv else SITE
    pages = check(site)
    chapters = [Path(p).stem for p in chapter_pages(site)]
    problems = [problem for page in pages for problem in page.problems(chapters)]
    for page in pages:
        print(f"{page.path}: '{page.title}', {page.typeset}/{page.math} equations typeset, "
              f"{page.figures_loaded} figures loaded, {page.requests} requests "
              f"({len(page.external_requests)} outside loopback, blocked)")
    print("\n".join(problems) or f"all {len(pages)} pages read well; screenshots in "
          f"{site / 'browser-check'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
