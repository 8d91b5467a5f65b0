"""pytest plugin of ``tools/mutation.py``: which test executes which line of one module.

Loaded with ``-p _mutation_coverage`` (``tools/`` on ``PYTHONPATH``) by ``tools/mutation.py run`` once per
session, on the unmutated copy of the tree. coverage.py records the module's lines with the running test's node
id as its context (switched at each test's setup, so fixtures count for the test that first needs them); the
module is imported before the first test, so what runs at import time has the empty context, which every test
depends on. Writes ``{"lines": {line: [node ids]}, "seconds": {node id: seconds}}`` as JSON to
``$MUTATION_COVERAGE_OUT`` (each test's setup, call and teardown time, so that a mutant's covering tests can run
fastest first).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import coverage

_state: dict = {}


def pytest_configure(config):
    module = os.environ["MUTATION_MODULE"]
    path = str(Path(module).resolve())
    cov = coverage.Coverage(data_file=None, include=[path], config_file=False)
    cov.start()
    importlib.import_module(module.removesuffix(".py").replace("/", "."))
    _state.update(cov=cov, path=path)


def pytest_runtest_setup(item):
    _state["cov"].switch_context(item.nodeid)


def pytest_runtest_logreport(report):
    seconds = _state.setdefault("seconds", {})
    seconds[report.nodeid] = seconds.get(report.nodeid, 0.0) + report.duration


def pytest_unconfigure(config):
    cov = _state["cov"]
    cov.stop()
    lines = cov.get_data().contexts_by_lineno(_state["path"])
    Path(os.environ["MUTATION_COVERAGE_OUT"]).write_text(
        json.dumps({"lines": {str(line): sorted(set(ids)) for line, ids in sorted(lines.items())},
                    "seconds": {k: round(v, 3) for k, v in sorted(_state.get("seconds", {}).items())}}, indent=0))
