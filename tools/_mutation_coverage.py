"""pytest plugin of ``tools/mutation.py``: which test executes which line of one module.

Loaded with ``-p _mutation_coverage`` (``tools/`` on ``PYTHONPATH``) by ``tools/mutation.py run`` once per
session, on the unmutated copy of the tree. coverage.py records the module's lines with the running test's node
id as its context (switched at each test's setup, so fixtures count for the test that first needs them); the
module is imported before the first test, so what runs at import time has the empty context, which every test
depends on. Python processes that a test starts are measured as well (coverage.py's start-up hook, with the
test's node id as their context), so a statement that only runs in them (a CLI run, a distributed worker) is
known by the tests that start them. Writes ``{"lines": {line: [node ids]}, "seconds": {node id: seconds}}`` as JSON to
``$MUTATION_COVERAGE_OUT`` (each test's setup, call and teardown time, so that a mutant's covering tests can run
fastest first).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import coverage

_state: dict = {}


def pytest_configure(config):
    module = os.environ["MUTATION_MODULE"]
    path = str(Path(module).resolve())
    cov = coverage.Coverage(data_file=None, include=[path], config_file=False)
    cov.start()
    importlib.import_module(module.removesuffix(".py").replace("/", "."))
    # Python processes that a test starts (the CLI, torchrun's workers) are measured too, through coverage.py's
    # start-up hook, with the running test's node id (an environment variable they inherit) as their context
    folder = tempfile.mkdtemp(prefix="mutation-coverage-")
    rc = Path(folder) / "subprocess.rc"
    rc.write_text(f"[run]\nparallel = True\ndata_file = {folder}/.coverage\ninclude = {path}\n"
                  "context = ${MUTATION_CONTEXT}\n")
    os.environ["COVERAGE_PROCESS_START"] = str(rc)
    _state.update(cov=cov, path=path, folder=folder, rc=rc)


def pytest_runtest_setup(item):
    _state["cov"].switch_context(item.nodeid)
    os.environ["MUTATION_CONTEXT"] = item.nodeid


def _subprocess_lines() -> dict:
    """``{line: {node ids}}`` measured in the processes the tests started (none if they started none)."""
    if not any(Path(_state["folder"]).glob(".coverage.*")):
        return {}
    sub = coverage.Coverage(data_file=f"{_state['folder']}/.coverage", config_file=str(_state["rc"]))
    sub.combine([_state["folder"]], keep=False)
    return {line: set(ids) for line, ids in sub.get_data().contexts_by_lineno(_state["path"]).items()}


def pytest_runtest_logreport(report):
    seconds = _state.setdefault("seconds", {})
    seconds[report.nodeid] = seconds.get(report.nodeid, 0.0) + report.duration


def pytest_unconfigure(config):
    cov = _state["cov"]
    cov.stop()
    os.environ.pop("COVERAGE_PROCESS_START", None)
    lines = {line: set(ids) for line, ids in cov.get_data().contexts_by_lineno(_state["path"]).items()}
    for line, ids in _subprocess_lines().items():
        lines.setdefault(line, set()).update(ids)
    shutil.rmtree(_state["folder"], ignore_errors=True)
    Path(os.environ["MUTATION_COVERAGE_OUT"]).write_text(
        json.dumps({"lines": {str(line): sorted(set(ids)) for line, ids in sorted(lines.items())},
                    "seconds": {k: round(v, 3) for k, v in sorted(_state.get("seconds", {}).items())}}, indent=0))
