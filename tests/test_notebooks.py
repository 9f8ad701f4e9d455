"""Hygiene of every chapter: structure, links, pairing with its twin, stored outputs.

nbval checks that the notebooks run and reproduce their outputs; these tests check that
they are fit to read.
"""

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from rnnbook import REPO_URL, launch_links

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
AUTHOR_PATHS = re.compile(r"(/home/\w|/Users/\w|/root/|/tmp/|/work/|[A-Z]:\\\\Users)")
MAX_NOTEBOOK_BYTES = 3_000_000
MAX_TEXT_OUTPUT_CHARS = 12_000


def test_chapters_exist_and_are_numbered_uniquely():
    assert NOTEBOOKS, "no chapters found"
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert len(numbers) == len(set(numbers)), f"two chapters share a number: {numbers}"
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in NOTEBOOKS)


def test_every_twin_has_a_notebook():
    twins = {p.stem for p in CHAPTERS.glob("[0-9][0-9]_*.py")}
    assert twins == {p.stem for p in NOTEBOOKS}


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, nbformat.read(path, as_version=4)


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", [])))
            for c in nb.cells]


def test_pair_in_sync(notebook):
    path, nb = notebook
    twin = jupytext.read(path.with_suffix(".py"))
    assert _cells(twin) == _cells(nb), (
        f"{path.name} and its .py twin differ: run `make notebooks CHAPTERS={path.name[:2]}`")


def test_opening(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "needs a title"
    assert re.search(r"what you will learn", first.source, re.I), "needs 'What you will learn'"
    colab, binder = launch_links(path.name)
    assert colab in first.source, f"the Open-in-Colab link must point to {colab}"
    assert binder in first.source, f"the Binder link must point to {binder}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a chapter without code"
    install = code[0].source
    assert '"google.colab" in sys.modules' in install and "pip" in install
    assert f"git+{REPO_URL}" in install, "the Colab cell must install rnnbook from REPO_URL"


def test_has_summary_and_exercises(notebook):
    path, nb = notebook
    headings = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r"^## .*summary", headings, re.I | re.M), "needs a '## Summary' section"
    if not path.name.startswith("00"):
        assert re.search(r"^## .*exercises", headings, re.I | re.M), "needs '## Exercises'"
        assert re.search(r"^## References", headings, re.M), "needs '## References'"


def test_outputs_are_stored_clean_and_in_order(notebook):
    path, nb = notebook
    assert nb.metadata.kernelspec.name == "python3"
    counts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"code cell {i} was not executed"
        counts.append(cell.execution_count)
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {i} stored an error"
            text = out.get("text", "") or out.get("data", {}).get("text/plain", "")
            assert len(text) <= MAX_TEXT_OUTPUT_CHARS, f"cell {i} prints {len(text)} chars"
            assert not AUTHOR_PATHS.search(text), f"cell {i} output shows a local path"
        assert not AUTHOR_PATHS.search(cell.source), f"cell {i} uses a local path"
    assert counts == list(range(1, len(counts) + 1)), "cells were not executed in order"
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, f"{path.name} is too large"


def test_has_figures_and_assertions(notebook):
    path, nb = notebook
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    images = sum("image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for out in c.outputs)
    assert images >= 1, "a chapter needs at least one figure"
    assert len(re.findall(r"^\s*assert ", code, re.M)) >= 3, "a chapter asserts its claims"


def test_no_progress_bars_or_widgets_stored(notebook):
    _, nb = notebook
    text = json.dumps(nb)
    assert "application/vnd.jupyter.widget-view+json" not in text
    assert "it/s]" not in text


# ---------------------------------------------------------------------------
# Results that hold on any machine (CONTRIBUTING.md)
# ---------------------------------------------------------------------------

DIRECT_SEEDING = re.compile(r"torch\.manual_seed\(|Generator\(\)\.manual_seed\(|"
                            r"np\.random\.(seed|default_rng)\(|\brandom\.seed\(")


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def test_seeds_go_through_rnnbook(notebook):
    """RNNBOOK_SEED_SHIFT reaches a seed only through rnnbook.seeding."""
    _, nb = notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            found = DIRECT_SEEDING.search(cell.source)
            assert not found, (f"cell {i} seeds with {found.group(0)!r}: use seed_everything, "
                               f"rnnbook.generator or rnnbook.numpy_rng")


def test_compared_outputs_are_opted_in(notebook):
    """nbval runs with --nbval-lax: a cell is compared only if tagged nbval-check-output,
    and every chapter compares some deterministic output."""
    _, nb = notebook
    checked = 0
    for i, cell in enumerate(nb.cells):
        tags = _tags(cell)
        assert "nbval-ignore-output" not in tags, (
            f"cell {i}: nothing is compared unless tagged nbval-check-output; drop the tag")
        if "nbval-check-output" in tags:
            assert cell.cell_type == "code" and cell.outputs, f"cell {i} compares nothing"
            checked += 1
    assert checked >= 1, "tag the cells whose output is the same on every machine and seed"


def _exercise_code_cells(nb):
    """The code cells after the '## Exercises' heading, up to the next '## ' heading."""
    inside, cells = False, []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    inside = bool(re.match(r"## .*exercises", line, re.I))
        elif inside and cell.source.strip():
            cells.append((i, cell))
    return cells


def test_exercise_solutions_are_hidden_but_run(notebook):
    """Solutions do not sit in plain view: collapsed in JupyterLab, hidden on the site."""
    path, nb = notebook
    if path.name.startswith("00"):
        return
    cells = _exercise_code_cells(nb)
    assert cells, "exercises need worked solutions whose code runs"
    assert any("assert " in cell.source for _, cell in cells), "solutions assert their claims"
    for i, cell in cells:
        assert "hide-input" in _tags(cell), f"solution cell {i} needs the tag hide-input"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"solution cell {i} needs jupyter.source_hidden: true (collapsed in JupyterLab)")


CHAPTER_REFERENCE = re.compile(
    r"\b[Cc]hapters?\s+(\d{1,2})((?:\s*(?:,|and|or|to|through|–|-)\s*\d{1,2}\b)*)")


def referenced_chapters(text: str) -> set[int]:
    """Chapter numbers a text refers to: 'chapter 4', 'chapters 05 and 06', 'chapters 4-6'."""
    found = set()
    for match in CHAPTER_REFERENCE.finditer(text):
        numbers = [int(match.group(1))]
        rest = match.group(2)
        for sep, number in re.findall(r"(,|and|or|to|through|–|-)\s*(\d{1,2})", rest):
            if sep in ("to", "through", "–", "-"):
                numbers.extend(range(numbers[-1] + 1, int(number) + 1))
            else:
                numbers.append(int(number))
        found.update(numbers)
    return found


def test_reference_finder():
    assert referenced_chapters("see chapter 4, and chapters 05 and 06") == {4, 5, 6}
    assert referenced_chapters("Chapters 01 to 03; chapter 8-9") == {1, 2, 3, 8, 9}


def test_no_reference_to_a_missing_chapter():
    existing = {int(p.name[:2]) for p in NOTEBOOKS}
    root = CHAPTERS.parent
    sources = [*CHAPTERS.glob("[0-9][0-9]_*.py"), *(root / "rnnbook").rglob("*.py"),
               root / "README.md", root / "CONTRIBUTING.md"]
    missing = {}
    for path in sources:
        absent = referenced_chapters(path.read_text()) - existing
        if absent:
            missing[str(path.relative_to(root))] = sorted(absent)
    assert not missing, f"references to chapters that do not exist: {missing}"
