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


def test_environment_yml_lists_every_runtime_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r) for r in pip}
    wanted = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    wanted |= {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["book"]}
    assert wanted <= listed, f"missing from environment.yml: {wanted - listed}"
    assert "-e ." in pip, "Binder must install the local package"


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
