"""The project's own files agree with each other."""

import re
from pathlib import Path

import tomllib
import yaml

import rnnbook

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower()


def test_environment_yml_installs_the_package_with_the_readers_extras():
    """Binder gets its dependencies from pyproject.toml, by construction."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-e .[data,book]"]
    assert {"data", "book"} <= set(PYPROJECT["project"]["optional-dependencies"])


def test_dependencies_have_lower_bounds_and_constraints_pin_them():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    groups = PYPROJECT["project"]["optional-dependencies"]
    extras = groups["book"] + groups["test"] + groups["site"]
    for req in PYPROJECT["project"]["dependencies"] + extras:
        assert ">=" in req, f"{req} needs a lower bound"
        assert _name(req) in pins, f"{req} is not pinned in constraints.txt"
    assert pins["torch"] == "2.13.0", "the CPU wheel on this machine kind is torch 2.13.0"


def test_repository_url_is_defined_once():
    assert PYPROJECT["project"]["urls"]["Repository"] == rnnbook.REPO_URL
    assert rnnbook.__version__ == PYPROJECT["project"]["version"]


def test_every_module_of_the_package_declares_its_public_api():
    """Every module of rnnbook, the applications' included, lists its public names in
    __all__: the names exist, and no public function or class defined there is left out
    (tests/test_bad_input.py then holds the core modules' names to its table)."""
    import importlib
    import pkgutil

    import rnnbook

    for info in pkgutil.iter_modules(rnnbook.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"rnnbook.{info.name}")
        declared = getattr(module, "__all__", None)
        assert declared is not None, f"rnnbook.{info.name} has no __all__"
        assert all(hasattr(module, n) for n in declared), info.name
        public = {n for n, v in vars(module).items() if not n.startswith("_")
                  and getattr(v, "__module__", None) == module.__name__ and callable(v)}
        undeclared = public - set(declared) - INTERNAL.get(info.name, set())
        assert not undeclared, f"rnnbook.{info.name}: public names missing from __all__: " \
                               f"{sorted(undeclared)}"


INTERNAL = {   # helpers other modules of the package use, not part of the reader's API
    "cells": {"register_weights", "reset_uniform", "check_sizes", "check_input", "check_dtype",
              "as_state"},
    "gates": {"check_step"},
    "music": {"main"},                 # python -m rnnbook.music: the build script of the data
}


def test_readme_lists_every_chapter_in_order():
    """The README's chapter table links every notebook in chapters/, once, in order."""
    notebooks = sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| (\d\d) \| \[[^]]+\]\(chapters/(\d\d_\w+\.ipynb)\)", readme, re.M)
    assert [name for _, name in listed] == notebooks
    assert all(name.startswith(number) for number, name in listed)


def test_every_module_is_listed_in_the_package_docstring_and_the_readme():
    import pkgutil

    modules = {info.name for info in pkgutil.iter_modules(rnnbook.__path__)
               if not info.name.startswith("_")}
    docstring = set(re.findall(r"^- `rnnbook\.(\w+)`", rnnbook.__doc__, re.M))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = "\n".join(line for line in readme.splitlines() if line.startswith("| `rnnbook."))
    table = set(re.findall(r"`rnnbook\.(\w+)`", rows))
    assert docstring == modules, f"docstring: {docstring ^ modules}"
    assert table == modules, f"README: {table ^ modules}"


def test_no_test_changes_torchs_global_state_for_others():
    """Tests ask for double precision explicitly: a changed global default dtype has leaked
    into other tests before."""
    offenders = [p.name for p in (ROOT / "tests").glob("*.py")
                 if p.name != "test_project.py" and "set_default_dtype" in p.read_text()]
    assert not offenders, offenders
