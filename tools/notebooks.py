"""Execute the chapters and store their outputs: the one way stored outputs are made.

    python tools/notebooks.py run              # every chapter
    python tools/notebooks.py run 02 05        # chapters whose names start with these
    python tools/notebooks.py new 08_deeper "Deeper and wider"   # a new chapter skeleton

Each chapter is written in its jupytext twin `chapters/NN_slug.py` (percent format). `run`
reads the twin, executes it in a fresh kernel with the same environment as the test suite
(tools/harness.py: one thread, no progress bars), and writes both files, so the pair is
always in sync and the stored outputs are exactly what a re-run gives.

It prints each chapter's wall-clock time and the CPU time of its kernel, against the
target (two thirds of the budget). On a machine busy with other work the wall-clock time
inflates; the kernel's CPU time, with one thread, is the cost of the chapter itself.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
sys.path.insert(0, str(ROOT))

from rnnbook import REPO_URL, launch_links  # noqa: E402
from tools.harness import apply_environment, budget, target  # noqa: E402

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def chapter_files(prefixes: list[str]) -> list[Path]:
    twins = sorted(CHAPTERS.glob("[0-9][0-9]_*.py"))
    if prefixes:
        twins = [p for p in twins if any(p.name.startswith(x) for x in prefixes)]
        if not twins:
            raise SystemExit(f"no chapter matches {prefixes}")
    return twins


def kernel_cpu_seconds(client: NotebookClient) -> float:
    """CPU seconds used so far by the kernel process of `client` and its children."""
    process = psutil.Process(client.km.provisioner.process.pid)
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def stable_ids(nb) -> None:
    """Give each cell an id made from its content, so that re-running a chapter changes
    the ids of edited cells only and the notebook's diff shows what really changed."""
    seen: set[str] = set()
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        cell_id, k = digest, 1
        while cell_id in seen:
            cell_id, k = f"{digest}-{k}", k + 1
        seen.add(cell_id)
        cell.id = cell_id


def execute(twin: Path) -> tuple[float, float]:
    """Execute a chapter's twin and store both files. Returns (wall, kernel CPU) seconds."""
    source = twin.read_text()
    nb = jupytext.reads(source, fmt="py:percent")
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(CHAPTERS)}})
    # NotebookClient.execute(), written out so that the kernel's CPU time can be read
    # before the kernel shuts down.
    client.reset_execution_trackers()
    with client.setup_kernel():
        reply = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = reply["content"]["language_info"]
        cpu_start, start = kernel_cpu_seconds(client), time.time()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        seconds, cpu = time.time() - start, kernel_cpu_seconds(client) - cpu_start
        client.set_widgets_metadata()
    stable_ids(nb)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    if twin.read_text() != source:
        raise SystemExit(f"{twin.name} was edited while it ran; nothing written: run it again")
    nbformat.write(nb, twin.with_suffix(".ipynb"))
    jupytext.write(nb, twin, fmt="py:percent")
    return seconds, cpu


HEADER = """# {title}

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})
[![Binder](https://mybinder.org/badge_logo.svg)]({binder})

**What you will learn**

- ...
"""

INSTALL_CELL = '''\
# On Colab, install the book's package first. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "rnnbook[data] @ git+{repo}"], check=True)'''


def new(stem: str, title: str) -> None:
    twin = CHAPTERS / f"{stem}.py"
    if twin.exists():
        raise SystemExit(f"{twin} exists already")
    colab, binder = launch_links(f"{stem}.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(HEADER.format(title=title, colab=colab,
                                                             binder=binder)),
                nbformat.v4.new_code_cell(INSTALL_CELL.format(repo=REPO_URL))]
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    jupytext.write(nb, twin, fmt="py:percent")
    print(f"wrote {twin.relative_to(ROOT)}; write the chapter there, then run it")


def main(argv: list[str]) -> None:
    if len(argv) >= 1 and argv[0] == "run":
        pass_ = apply_environment()
        print(f"executing in the {pass_} pass's environment; wall and kernel CPU seconds "
              f"[target on the author's machine / budget]")
        total = total_cpu = 0.0
        for twin in chapter_files(argv[1:]):
            seconds, cpu = execute(twin)
            total, total_cpu = total + seconds, total_cpu + cpu
            flag = ("  OVER BUDGET" if seconds > budget(twin.name) else
                    "  over target" if max(seconds, cpu) > target(twin.name) else "")
            print(f"{seconds:6.1f} s  {cpu:6.1f} s cpu  [{target(twin.name)} / "
                  f"{budget(twin.name)} s]  {twin.name}{flag}", flush=True)
        print(f"{total:6.1f} s  {total_cpu:6.1f} s cpu  in all")
    elif len(argv) == 3 and argv[0] == "new":
        new(argv[1], argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
