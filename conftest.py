"""Test-suite set-up shared by the unit tests and the notebooks (nbval).

The environment set here (tools/harness.py) reaches the kernels nbval starts, so a
notebook runs in the tests exactly as `make notebooks` ran it when its outputs were stored.
"""

import time
from collections import defaultdict

from tools.harness import apply_environment, budget

PASS = apply_environment()

_notebook_seconds: dict[str, float] = defaultdict(float)
_wall_start = time.time()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def over_budget() -> list[str]:
    if PASS != "normal":          # the robust pass reports its times; the budget binds
        return []                 # the normal pass only
    return [path for path, seconds in _notebook_seconds.items() if seconds > budget(path)]


def pytest_sessionfinish(session, exitstatus):
    """A chapter over its time budget fails the run: the budget is a promise to readers."""
    if over_budget() and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    tr = terminalreporter
    binding = "budget" if PASS == "normal" else "budget of the normal pass, not binding here"
    tr.section(f"chapter execution times, {PASS} pass ({binding} in brackets)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if path in over_budget() else ""
        tr.write_line(f"{seconds:7.1f} s  [{budget(path):3d} s]  {path}{flag}")
    tr.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  in all notebooks "
                  f"({time.time() - _wall_start:.0f} s wall clock for the session)")
    if over_budget():
        tr.write_line(f"FAILED: over their time budget: {', '.join(over_budget())}", red=True)
