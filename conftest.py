"""Test-suite set-up shared by the unit tests and the notebooks (nbval).

The environment set here reaches the kernels nbval starts, so a notebook runs in the
tests exactly as `make notebooks` ran it when its outputs were stored.
"""

import os
import time
from collections import defaultdict
from pathlib import Path

# One thread: torch's float results then repeat exactly, and two test workers share the
# two cores without fighting. Progress bars off: their rates change on every run.
for key, value in {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "RNNBOOK_QUIET": "1",
                   "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1",
                   "TQDM_DISABLE": "1"}.items():
    os.environ[key] = value

# Seconds each chapter may take to execute on the 2-core machine (BOOK.md, the issues).
BUDGET = {"07": 180}
DEFAULT_BUDGET = 90

_notebook_seconds: dict[str, float] = defaultdict(float)
_wall_start = time.time()


def budget(notebook: str) -> int:
    return BUDGET.get(Path(notebook).name[:2], DEFAULT_BUDGET)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def over_budget() -> list[str]:
    return [path for path, seconds in _notebook_seconds.items() if seconds > budget(path)]


def pytest_sessionfinish(session, exitstatus):
    """A chapter over its time budget fails the run: the budget is a promise to readers."""
    if over_budget() and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    tr = terminalreporter
    tr.section("chapter execution times (budget in brackets)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if seconds > budget(path) else ""
        tr.write_line(f"{seconds:7.1f} s  [{budget(path):3d} s]  {path}{flag}")
    tr.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  in all notebooks "
                  f"({time.time() - _wall_start:.0f} s wall clock for the session)")
    if over_budget():
        tr.write_line(f"FAILED: over their time budget: {', '.join(over_budget())}", red=True)
