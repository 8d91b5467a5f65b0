"""Mutation testing of the core modules: one command, never part of ``make test``.

Two parts, both run in a throw-away copy of the tracked files (the working tree is never mutated), with the
tests run by this interpreter (the project's ``.venv``), one thread per test process:

``python tools/mutation.py planted``
    One-line bugs that once survived the suite, planted one by one; each must be killed by its
    test selection. Writes ``benchmarks/results/mutation_planted.json``; exit status 1 if one survives.

``python tools/mutation.py run [MODULE ...] [--timeout S]``
    `cosmic-ray <https://cosmic-ray.readthedocs.io>`_ (a maintained mutation tool) on each core module with that
    module's fast test selection (``SELECTION`` below); per module: killed, survived, timed out, incompetent, and
    the survivors' diffs. A module's session (a copy of the tree and cosmic-ray's database) lives in
    ``--work-dir`` until the module is finished: started again on the same code, an interrupted run goes on with
    the mutants not yet run; on changed code or tests it starts anew. ``--survivors`` (after tests were added for
    the survivors) runs again only the mutants that the module's last finished run did not kill, keeping its
    kills; the module itself must be unchanged (checked by its sha256). ``--continue`` finishes the module's
    unfinished session on the copy of the tree it started with, whatever has changed since (the JSON names the
    commit it measured). Each mutant first runs the selection's tests that execute its statement (a coverage.py
    map measured once per session; ``tests`` is the command cosmic-ray calls for it), then the whole selection if
    they do not kill it; ``--all-tests`` runs only the whole selection, ``--covering-only`` skips that confirmation
    (so a survivor may be one the whole selection kills, and the kill rate is a lower bound). Mutants inside
    annotations (never evaluated) are skipped and left out of the kill rate. ``--jobs N`` runs N mutants at once
    (cosmic-ray's HTTP workers on 127.0.0.1, each in a copy of the tree of its own; N cores). cosmic-ray lives
    in its own virtual environment (``--tool-venv``, default ``~/.cache/ecn-mutation/venv``, created with
    ``pip install cosmic-ray`` on first use), so the project's environment is not changed. Writes
    ``benchmarks/results/mutation_<module>.json`` and prints a table.

``python tools/mutation.py recount [MODULE ...]``
    Counts each module's finished session again into its JSON (as ``run`` counts now: timed-out mutants apart).

``python tools/mutation.py save [MODULE ...]``
    Copies each module's newest session (database, coverage map, commit; not the tree) into
    ``benchmarks/results/mutation-sessions/`` (a run that finishes saves its own there): ``run MODULE --survivors``
    takes a finished one from there, and ``run MODULE --continue`` restores an unfinished one on another
    machine, with the tree of its commit.

Runs are CPU-heavy (a test process per mutant): about 3-6 s per mutant on a 2-core machine.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import difflib
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
#: Saved sessions (``save``, and a run's own when it finishes): ``run --continue`` goes on with an unfinished one,
#: ``run --survivors`` takes its kills from a finished one, also on another machine.
SESSIONS = RESULTS / "mutation-sessions"
#: A saved session: cosmic-ray's database, the settings (module, timeout) and these files copied as they are.
SESSION_COPIED = ("select.json", "commit", "module.sha256", "seconds", "core_seconds", "initialised", "mode",
                  "finished")
SESSION_FILES = ("session.sqlite", *SESSION_COPIED, "settings.json")
PYTEST = "-m pytest -x -q -p no:cacheprovider --no-header"

#: The fast test selection that each core module is mutated against (paths relative to the repository).
SELECTION = {
    "crystalgroups/orbits.py": "crystalgroups/orbits.py tests/crystalgroups/test_orbits.py "
                               "tests/crystalgroups/test_subgroups.py",
    "crystalgroups/patterns.py": "crystalgroups/patterns.py tests/crystalgroups/test_patterns.py "
                                 "tests/crystalgroups/test_subgroups.py tests/crystalgroups/test_plot.py",
    "crystalgroups/groups.py": "crystalgroups/groups.py tests/crystalgroups/test_groups.py "
                               "tests/crystalgroups/test_subgroups.py",
    "crystalgroups/lattice.py": "crystalgroups/lattice.py tests/crystalgroups/test_reduction.py "
                                "tests/crystalgroups/test_lattice.py",
    "ecn/nn/layers.py": "ecn/nn/layers.py tests/ecn/test_layers.py",
    "ecn/train.py": "ecn/train.py tests/ecn/test_behaviour.py tests/ecn/test_train.py tests/ecn/test_run_safety.py "
                    "tests/ecn/test_predict.py",
    "ecn/metrics.py": "ecn/metrics.py tests/ecn/test_behaviour.py -k 'metrics or roc or score'",
    "ecn/data/build.py": "ecn/data/build.py tests/ecn/test_behaviour.py tests/ecn/test_data_build.py "
                         "tests/ecn/test_site_targets.py tests/ecn/test_run_safety.py",
    "ecn/data/graph.py": "ecn/data/graph.py tests/ecn/test_data_graph.py tests/ecn/test_tree_gauges.py "
                         "tests/ecn/test_quotient.py tests/ecn/test_frames.py tests/ecn/test_data_batch.py",
}

#: (name, file, exact text, replacement, test selection): one-line bugs that once survived the suite.
PLANTED = [
    ("optimizer.step() deleted", "ecn/train.py", "            optimizer.step()\n", "            pass\n",
     "tests/ecn/test_behaviour.py -k lowers"),
    ("metrics in normalised units", "ecn/train.py",
     'preds.append((out if config.task == "classification" else normalizer.decode(out))',
     "preds.append((out if True else normalizer.decode(out))", "tests/ecn/test_behaviour.py -k 'decoded or lowers'"),
    ("last epoch kept instead of the best", "ecn/train.py", "improved = best_epoch == 0 or score < best",
     "improved = True", "tests/ecn/test_behaviour.py -k best_epoch"),
    ("classification score sign flipped", "ecn/train.py", 'return -metrics["roc_auc"]', 'return metrics["roc_auc"]',
     "tests/ecn/test_behaviour.py -k score"),
    ("early stopping one epoch late", "ecn/train.py", "epoch - best_epoch > config.early_stopping",
     "epoch - best_epoch > config.early_stopping + 1", "tests/ecn/test_behaviour.py -k early_stopping"),
    ("plateau stop below min_lr", "ecn/train.py", 'optimizer.param_groups[0]["lr"] <= config.min_lr',
     'optimizer.param_groups[0]["lr"] < config.min_lr', "tests/ecn/test_behaviour.py -k plateau"),
    ("extensive targets shifted by their mean", "ecn/train.py", "mean = np.where(ext, 0.0, np.nanmean(y, axis=0))",
     "mean = np.nanmean(y, axis=0)", "tests/ecn/test_behaviour.py -k normaliser"),
    ("MAE replaced by MSE", "ecn/metrics.py", "mae = float(np.mean(np.abs(err)))", "mae = float(np.mean(err**2))",
     "tests/ecn/test_behaviour.py -k metrics"),
    ("sigmoid sign flipped in the cross-entropy", "ecn/metrics.py", "p = 1 / (1 + np.exp(-z))",
     "p = 1 / (1 + np.exp(z))", "tests/ecn/test_behaviour.py -k classification_metrics"),
    ("input sha256 dropped from the cache key", "ecn/data/build.py", '"input": input_sha256, ', "",
     "tests/ecn/test_behaviour.py -k cache"),
    ("format version dropped from the cache key", "ecn/data/build.py", '"format": CACHE_FORMAT_VERSION, ', "",
     "tests/ecn/test_behaviour.py -k rebuilt"),
    ("every row an internal error", "ecn/data/build.py", "    targets = _targets(row, target_names)\n",
     "    targets = _targets(row, target_names) + 1\n", "tests/ecn/test_behaviour.py -k real_build"),
    ("inversion added to every point group (fast path)", "crystalgroups/orbits.py",
     "perms = [supercell.index(cells @ np.asarray(W).T) for W in point_ops]",
     "perms = [supercell.index(cells @ np.asarray(W).T) for W in [*point_ops, -np.eye(supercell.dim, dtype=int)]]",
     "tests/crystalgroups/test_subgroups.py"),
    ("circulant transposed", "crystalgroups/orbits.py", "    out = out.reshape(n, n)\n",
     "    out = out.reshape(n, n).T.copy()\n", "tests/crystalgroups/test_subgroups.py"),
    ("node-colour invariance check removed", "crystalgroups/patterns.py",
     "        if not np.array_equal(beta[g], beta):\n            i = int(np.flatnonzero(beta[g] != beta)[0])\n",
     "        if False:\n            i = int(np.flatnonzero(beta[g] != beta)[0])\n",
     "tests/crystalgroups/test_subgroups.py"),
    ("one factor's node colours ignored in a product", "crystalgroups/patterns.py",
     "node = self.node_colors[:, None] * other.num_node_colors + other.node_colors[None, :]",
     "node = self.node_colors[:, None] * other.num_node_colors + 0 * other.node_colors[None, :]",
     "tests/crystalgroups/test_subgroups.py"),
    ("non-diagonal supercells: block rows offset by one", "crystalgroups/orbits.py",
     "block = cells[None, :, :] - cells[a:a + rows, None, :]", "block = cells[None, :, :] + cells[a:a + rows, None, :]",
     "tests/crystalgroups/test_subgroups.py -k non_diagonal"),
]


def _tracked_files() -> list[bytes]:
    """The tracked files' paths (``git ls-files``), as bytes, sorted."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return sorted(name for name in out.split(b"\0") if name)


def _copy_tree(dest: Path) -> None:
    """The tracked files (as they are in the working tree) into ``dest``."""
    for name in _tracked_files():
        src = REPO / name.decode()
        if src.is_file():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(src.read_bytes())


#: Modules whose mutants can change a graph: their tests build every graph afresh.
GRAPH_MODULES = ("ecn/data/", "crystalgroups/")


def _env(copy: Path, module: str | None = None) -> dict:
    """The tests' environment in a session's copy. For a module outside :data:`GRAPH_MODULES` the graph cache
    (``ECN_GRAPH_CACHE``, which the tests of training keep) is one folder of the copy for every mutant: a cached
    graph is what the copy's unmutated graph code builds for the same key, and each mutant saves the seconds of
    building its tests' graphs again (the tests of the cache itself set their own folder)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("ECN_DATA_DIR", str(REPO.parent / "shared" / "data"))
    env["ECN_CACHE_DIR"] = str(copy / ".ecn-cache")
    if module is not None and not module.startswith(GRAPH_MODULES):
        env["ECN_GRAPH_CACHE"] = str(copy / ".ecn-cache" / "graphs-of-every-mutant")
    return env


def _test_command(selection: str) -> str:
    return f"{sys.executable} {PYTEST} {selection}"


def planted(args) -> int:
    rows, survived = [], 0
    with tempfile.TemporaryDirectory(prefix="ecn-planted-") as tmp:
        copy = Path(tmp)
        _copy_tree(copy)
        chosen = [bug for bug in PLANTED if not args.only or args.only in bug[0]]
        for selection in dict.fromkeys(bug[4] for bug in chosen):  # unmutated, every selection must pass
            proc = subprocess.run(_test_command(selection), shell=True, cwd=copy, env=_env(copy), capture_output=True,
                                  text=True, timeout=args.timeout)
            if proc.returncode != 0:
                raise SystemExit(f"expected the unmutated tests to pass, got exit status {proc.returncode} for "
                                 f"{selection}:\n{proc.stdout[-3000:]}")
        for name, file, old, new, selection in chosen:
            path = copy / file
            original = path.read_text()
            if original.count(old) != 1:
                raise SystemExit(f"expected the text of {name!r} once in {file}, found it {original.count(old)} times")
            path.write_text(original.replace(old, new))
            t0 = time.perf_counter()
            proc = subprocess.run(_test_command(selection), shell=True, cwd=copy, env=_env(copy), capture_output=True,
                                  text=True, timeout=args.timeout)
            path.write_text(original)
            killed = proc.returncode not in (0, 5)  # 5: no test selected, which must not count as a kill
            survived += not killed
            rows.append({"bug": name, "file": file, "tests": selection, "killed": killed,
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(f"{'killed  ' if killed else 'SURVIVED'} {name} ({file}; {selection})", flush=True)
    out = {"date": datetime.date.today().isoformat(), "command": "python tools/mutation.py planted", "bugs": rows}
    if not args.only:
        (RESULTS / "mutation_planted.json").write_text(json.dumps(out, indent=1) + "\n")
    return 1 if survived else 0


def _tool(venv: Path) -> Path:
    exe = venv / "bin" / "cosmic-ray"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "cosmic-ray"], check=True)
    return venv / "bin"


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    r"""The (row, column) start and end of every annotation in ``source`` (rows from 1, columns in characters from
    0, as cosmic-ray counts them): arguments, return values and annotated assignments.

    Under ``from __future__ import annotations`` (every core module has it) an annotation is kept as a string and
    never evaluated by the code or its tests, so a mutant inside one cannot change behaviour: it is equivalent by
    construction, and mutmut does not generate such mutants at all. A module without that import gets no spans.

    >>> source = "from __future__ import annotations\ndef f(x: int | None = 0) -> list[int]:\n    y: int = 1"
    >>> annotation_spans(source)
    [((2, 9), (2, 19)), ((2, 28), (2, 37)), ((3, 7), (3, 10))]
    >>> annotation_spans("def f(x: int | None = None): pass")
    []
    """
    tree = ast.parse(source)
    future = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                 and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
    if not future:
        return []
    lines = source.splitlines()

    def column(row: int, byte_offset: int) -> int:  # ast counts UTF-8 bytes, cosmic-ray (parso) characters
        return len(lines[row - 1].encode()[:byte_offset].decode())

    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            args = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None)]
            found += [x.annotation for x in args if x.annotation is not None]
            if node.returns is not None:
                found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return sorted(((n.lineno, column(n.lineno, n.col_offset)), (n.end_lineno, column(n.end_lineno, n.end_col_offset)))
                  for n in found)


def skip_annotation_mutants(db: Path, source: str) -> int:
    """Mark every mutant of the session ``db`` that lies wholly inside an annotation of ``source`` as skipped (the
    result cosmic-ray's own filters give, so ``exec`` does not run it); returns how many. See
    :func:`annotation_spans` for why such a mutant is equivalent."""
    spans = annotation_spans(source)
    con = sqlite3.connect(db)
    with con:
        rows = con.execute("SELECT job_id, start_pos_row, start_pos_col, end_pos_row, end_pos_col "
                           "FROM mutation_specs").fetchall()
        skipped = [job for job, r0, c0, r1, c1 in rows
                   if any(start <= (r0, c0) and (r1, c1) <= end for start, end in spans)]
        con.executemany("INSERT OR REPLACE INTO work_results (worker_outcome, output, test_outcome, diff, job_id) "
                        "VALUES ('SKIPPED', 'inside an annotation (never evaluated)', NULL, '', ?)",
                        [(job,) for job in skipped])
    con.close()
    return len(skipped)


#: How the output of a kill kept from a finished run begins (``--survivors``), so that the kills of the rerun itself
#: can be told apart and listed with the tests that made them.
KEPT = "kept from the finished run "


def _failed_tests(output: str) -> list[str]:
    """The node ids pytest names as failed or in error in ``output`` (its short summary), else its last line.

    >>> _failed_tests("...\\nFAILED tests/a.py::test_b - AssertionError\\nERROR tests/c.py::test_d\\n1 failed")
    ['tests/a.py::test_b', 'tests/c.py::test_d']
    >>> _failed_tests("Timeout\\n")
    ['Timeout']
    """
    found = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)
    lines = [line for line in output.splitlines() if line.strip()]
    return found or lines[-1:]


def _timed_out(output: str) -> bool:
    """Whether a mutant that cosmic-ray counts as killed ran past the timeout instead (cosmic-ray records such a
    mutant as killed, with the output ``timeout``; a kill kept by a ``--survivors`` rerun keeps that output after
    the line naming the run it came from).

    >>> _timed_out("timeout"), _timed_out(KEPT + "lattice-1\\ntimeout"), _timed_out("1 failed in 2.0s")
    (True, True, False)
    """
    if output.startswith(KEPT):
        output = output.partition("\n")[2]
    return output.strip() == "timeout"


def _outcomes(db: Path) -> dict:
    """Counts of a session's results, every survivor's diff, and for a ``--survivors`` rerun each mutant it killed
    itself (``killed_in_this_run``: the diff and the tests that failed), so that a kill can be checked by hand.
    A mutant whose tests ran past the timeout (:func:`_timed_out`) is counted as timed out, not killed; the kill
    rate counts it as detected (as cosmic-ray, Stryker and PIT do): (killed + timed out) / (killed + timed out +
    survived)."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT worker_outcome, test_outcome, diff, output FROM work_results").fetchall()
    total = con.execute("SELECT COUNT(*) FROM work_items").fetchone()[0]
    con.close()
    counts = {"mutants": total, "killed": 0, "survived": 0, "timed_out": 0, "incompetent": 0, "skipped": 0,
              "not_run": 0}
    survivors, killed_here, rerun = [], [], False
    for worker, test, diff, output in rows:
        worker, test, output = str(worker).lower(), str(test or "").lower(), str(output or "")
        kept = output.startswith(KEPT)
        rerun = rerun or kept
        if "skipped" in worker:
            counts["skipped"] += 1
        elif "timeout" in worker or ("killed" in test and _timed_out(output)):
            counts["timed_out"] += 1
        elif "survived" in test:
            counts["survived"] += 1
            survivors.append(diff)
        elif "killed" in test:
            counts["killed"] += 1
            if not kept:
                killed_here.append({"diff": diff, "failed": _failed_tests(output)})
        else:
            counts["incompetent"] += 1
    counts["not_run"] = total - len(rows)
    detected = counts["killed"] + counts["timed_out"]
    done = detected + counts["survived"]
    counts["kill_rate"] = round(detected / done, 4) if done else None
    return {**counts, "survivors": survivors, **({"killed_in_this_run": killed_here} if rerun else {})}


def statement_starts(source: str) -> dict[int, int]:
    r"""Each line of ``source`` that belongs to a statement, mapped to the first line of the innermost statement
    it belongs to (a compound statement's header lines to the header): the unit in which both coverage.py's
    measured lines and a mutant's changed lines are compared.

    >>> statement_starts("x = (1,\n     2)\nif x:\n    y = [x,\n         x]\n")
    {1: 1, 2: 1, 3: 3, 4: 4, 5: 4}
    """
    starts = {}
    for node in ast.walk(ast.parse(source)):  # breadth first: an inner statement overrides the one around it
        if isinstance(node, ast.stmt):
            for line in range(node.lineno, node.end_lineno + 1):
                starts[line] = node.lineno
    return dict(sorted(starts.items()))


def changed_lines(before: str, after: str) -> list[int]:
    r"""The lines of ``before`` (from 1) that ``after`` replaces or deletes; for a pure insertion, the lines on both
    sides of it.

    >>> changed_lines("a\nb\nc\n", "a\nB\nc\n"), changed_lines("a\nb\n", "a\nx\nb\n"), changed_lines("a", "a")
    ([2], [1, 2], [])
    """
    out = set()
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            out.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":
            out.update({i1, i1 + 1} - {0})
    return sorted(out)


def covering_tests(pristine: str, mutated: str, lines: dict[str, list[str]],
                   seconds: dict[str, float] | None = None) -> list[str] | None:
    r"""The node ids of the tests that execute what ``mutated`` changes in ``pristine``, from ``lines`` (statement
    start -> node ids, as :func:`_coverage_map` measured them), fastest first by ``seconds`` (node id -> seconds
    the test took on the unmutated code; by name among equal times), so that ``pytest -x`` meets a killing test
    early; ``None`` (run the whole selection) when a changed statement runs at import time (every test depends on
    it) or was not seen executing in the test process (it may run in a subprocess, or nowhere).

    >>> covering_tests("a = 1\nb = 2\n", "a = 1\nb = 3\n", {"1": [""], "2": ["t.py::x", "t.py::y"]})
    ['t.py::x', 't.py::y']
    >>> covering_tests("a = 1\nb = 2\n", "a = 1\nb = 3\n", {"2": ["t.py::x", "t.py::y"]}, {"t.py::x": 9.0})
    ['t.py::y', 't.py::x']
    >>> covering_tests("a = 1\nb = 2\n", "a = 0\nb = 2\n", {"1": [""], "2": ["t.py::x"]}) is None
    True
    """
    starts = statement_starts(pristine)
    ids: set[str] = set()
    for line in changed_lines(pristine, mutated):
        found = lines.get(str(starts.get(line, line)))
        if not found or "" in found:
            return None
        ids.update(found)
    seconds = seconds or {}
    return sorted(ids, key=lambda i: (seconds.get(i, 0.0), i)) or None


def _coverage_map(work: Path, copy: Path, module: str, selection: str) -> tuple[dict[str, list[str]], dict]:
    """Run ``selection`` once on the unmutated copy under coverage.py (``tools/_mutation_coverage.py``): statement
    start of ``module`` -> node ids of the tests that execute it ("" for import time), and each test's seconds.
    Also the check that the unmutated selection passes."""
    out = work / "coverage.json"
    env = {**_env(copy), "MUTATION_MODULE": module, "MUTATION_COVERAGE_OUT": str(out),
           "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'tools'}"}
    proc = subprocess.run([sys.executable, *PYTEST.split(), "-p", "_mutation_coverage", *shlex.split(selection)],
                          cwd=copy, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"expected the unmutated selection of {module} to pass, got exit status {proc.returncode}:"
                         f"\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    starts = statement_starts((copy / module).read_text())
    measured = json.loads(out.read_text())
    by_start: dict[str, set[str]] = {}
    for line, ids in measured["lines"].items():
        by_start.setdefault(str(starts.get(int(line), int(line))), set()).update(ids)
    return {line: sorted(ids) for line, ids in by_start.items()}, measured["seconds"]


#: Third-party modules a session's test server imports once (never the project's own, which a mutant changes).
PRELOAD = ("numpy", "scipy", "torch", "torch._dynamo", "pymatgen.core", "sympy", "networkx", "spglib", "pytest",
           "matplotlib.pyplot", "pandas")  # torch._dynamo: imported by a first optimiser step, about 4 s


def serve(args) -> int:
    """A session's test server: imports :data:`PRELOAD` (and ``--preload``) once, then runs each pytest request
    (from :func:`_pytest`) in a fork of itself, so that a mutant's tests start in a fraction of a second instead
    of seconds of imports. The fork reads the project's modules from disk as a fresh process would, runs
    ``pytest.main`` with the caller's working folder, environment and standard streams (passed as file
    descriptors), sends back the exit status, and ends when its caller does (a timed-out mutant's caller is
    killed by cosmic-ray) or after ``--limit`` seconds. Each fork is a process group of its own, ended as a
    whole: a process one of its tests left behind (such as a worker that deadlocked after a fork) would
    otherwise keep cosmic-ray's output pipe open and stall the session."""
    for name in (*PRELOAD, *args.preload):
        try:
            __import__(name)
        except ImportError:
            pass
    path = Path(args.socket)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel; they report over the socket
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    server.settimeout(10.0)
    print("ready", flush=True)
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            if os.getppid() != parent:  # the run that started it is gone: so is its use
                return 0
            continue
        conn.settimeout(None)
        header, fds, _, _ = socket.recv_fds(conn, 16, 3)
        body = _recv_exactly(conn, int.from_bytes(header[:8], "little"))
        if os.fork() == 0:
            server.close()
            _run_request(conn, fds, json.loads(body), args.limit)  # never returns
        conn.close()
        for fd in fds:
            os.close(fd)


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the other end of the test server's connection went away")
        data += chunk
    return data


def _run_request(conn: socket.socket, fds: list[int], request: dict, limit: float) -> None:
    """In a fork of the server: become the caller's pytest process, then report its exit status."""
    code = 3
    try:
        os.setpgid(0, 0)  # a process group of its own: whatever its tests start ends with it (see the end)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.alarm(int(limit) + 10)  # a last guard: SIGALRM's default action ends the fork
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path.insert(0, request["cwd"])  # as `python -m pytest` does

        def watchdog():  # cosmic-ray killed the caller (a timeout), or the limit passed: end the group now
            conn.settimeout(limit)
            try:
                gone = not conn.recv(1)
            except TimeoutError:
                gone = True
            if gone:
                os.killpg(0, signal.SIGKILL)

        threading.Thread(target=watchdog, daemon=True).start()
        import pytest

        code = int(pytest.main(request["args"]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            conn.sendall(code.to_bytes(4, "little", signed=True))
        finally:
            # a process a test left running (a deadlocked worker, say) would hold cosmic-ray's pipe open and
            # stall the session: end the whole group, this fork with it
            os.killpg(0, signal.SIGKILL)


def _pytest(args: list[str]) -> int:
    """``python -m pytest ARGS``'s exit status: run by the session's test server when there is one
    (``$MUTATION_SERVER``, see :func:`serve`), else in a new process."""
    address = os.environ.get("MUTATION_SERVER")
    if address:
        try:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(address)
        except OSError:
            conn = None
        if conn is not None:
            body = json.dumps({"cwd": os.getcwd(), "env": dict(os.environ),
                               "args": [*PYTEST.split()[2:], *args]}).encode()
            sys.stdout.flush()
            sys.stderr.flush()
            socket.send_fds(conn, [len(body).to_bytes(8, "little")], [0, 1, 2])
            conn.sendall(body)
            try:
                return int.from_bytes(_recv_exactly(conn, 4), "little", signed=True)
            except ConnectionError:
                return 1  # the fork died without a word (its time limit, or a crash): count as a failure
    return subprocess.run([sys.executable, *PYTEST.split(), *args]).returncode


def _restore_pristine(work: Path, copy: Path, module: str) -> bool:
    """Put the session copy's module back as it was at the start (a run stopped during a mutant leaves that
    mutant on disk); whether it had to. The text comes from the coverage map, else from the session's commit."""
    if (work / "select.json").exists():
        pristine = json.loads((work / "select.json").read_text())["pristine"]
    else:
        commit = (work / "commit").read_text().strip()
        pristine = subprocess.run(["git", "show", f"{commit}:{module}"], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout
    if (copy / module).read_text() == pristine:
        return False
    (copy / module).write_text(pristine)
    return True


def _start_server(work: Path, copy: Path, module: str, limit: float) -> tuple[subprocess.Popen, str] | None:
    """Start a session's test server in ``copy``; ``None`` (each mutant starts its own process) if it fails."""
    address = str(work / "server.sock")
    preload = ["crystalgroups"] if module.startswith("ecn/") else []  # unchanged by an ecn mutant
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "serve", address,
                             "--limit", str(limit), *(f"--preload={m}" for m in preload)],
                            cwd=copy, env=_env(copy, module), stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        return None
    return proc, address


def run_covering_tests(args) -> int:
    """The test command of a session (cosmic-ray runs it in the mutated copy): first the selection's tests that
    execute the mutated statements (see :func:`covering_tests`), which kill most mutants in a fraction of the
    time; a mutant they do not kill runs the whole selection, so that a survivor is one the whole selection lets
    through (a test can depend on a statement it does not execute itself, through state cached by an earlier
    test). In a ``--covering-only`` session the covering tests' verdict stands (a survivor may be one that the
    whole selection kills: the kill rate is a lower bound). pytest's exit status."""
    info = json.loads((Path(args.work) / "select.json").read_text())
    ids = covering_tests(info["pristine"], Path(info["module"]).read_text(), info["lines"], info.get("seconds"))
    if ids is not None:
        status = _pytest(ids)
        if status not in (0, 4, 5) or (status == 0 and info.get("covering_only")):
            return status  # killed, or let through in a covering-only session; 4: an id pytest could not
            # resolve, 5: nothing collected (both: run the whole selection)
    return _pytest(shlex.split(info["selection"]))


def _write_toml(work: Path, module: str, timeout: float, command: str, workers: list[str] | None = None) -> None:
    """cosmic-ray's configuration of a session: its ``local`` distributor (one mutant at a time, in the session's
    copy), or with ``workers`` its ``http`` distributor, which sends each mutant to the first free worker URL.

    >>> import tempfile, tomllib
    >>> work = Path(tempfile.mkdtemp())
    >>> _write_toml(work, "pkg/m.py", 60.0, "python -m pytest", ["http://127.0.0.1:9001", "http://127.0.0.1:9002"])
    >>> toml = tomllib.loads((work / "cosmic-ray.toml").read_text())["cosmic-ray"]
    >>> toml["distributor"]
    {'name': 'http', 'http': {'worker-urls': ['http://127.0.0.1:9001', 'http://127.0.0.1:9002']}}
    >>> _write_toml(work, "pkg/m.py", 60.0, "python -m pytest")
    >>> tomllib.loads((work / "cosmic-ray.toml").read_text())["cosmic-ray"]["distributor"]
    {'name': 'local'}
    """
    distributor = '[cosmic-ray.distributor]\nname = "local"\n'
    if workers:
        distributor = ('[cosmic-ray.distributor]\nname = "http"\n\n[cosmic-ray.distributor.http]\n'
                       f"worker-urls = {json.dumps(workers)}\n")
    (work / "cosmic-ray.toml").write_text(
        f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\n'
        f'excluded-modules = []\ntest-command = "{command}"\n\n' + distributor)


def worker_trees(work: Path, jobs: int) -> list[Path]:
    """The copies of the tree in which ``jobs`` workers mutate and test, one each: the session's own copy
    (``tree``) and ``tree-1`` ... made afresh from it (a stopped worker may have left a mutant in its copy;
    the session's copy has its module put back before this is called). Copies from an earlier run with more
    workers are removed.

    >>> import tempfile
    >>> work = Path(tempfile.mkdtemp())
    >>> (work / "tree" / "pkg").mkdir(parents=True)
    >>> _ = (work / "tree" / "pkg" / "m.py").write_text("x = 1\\n")
    >>> [t.name for t in worker_trees(work, 3)], (work / "tree-2" / "pkg" / "m.py").read_text()
    (['tree', 'tree-1', 'tree-2'], 'x = 1\\n')
    >>> [t.name for t in worker_trees(work, 1)], (work / "tree-1").exists()
    (['tree'], False)
    """
    if jobs < 1:
        raise ValueError(f"expected at least one worker, got {jobs}")
    for old in work.glob("tree-*"):
        shutil.rmtree(old)
    trees = [work / "tree"]
    for i in range(1, jobs):
        shutil.copytree(work / "tree", work / f"tree-{i}", symlinks=True)
        trees.append(work / f"tree-{i}")
    return trees


#: A cosmic-ray HTTP worker (its own request handler) listening on 127.0.0.1 only; run with the tool's Python.
WORKER = ("import sys; from aiohttp import web; from cosmic_ray.distribution.http import handle_mutate_and_test; "
          "app = web.Application(); app.add_routes([web.post('/', handle_mutate_and_test)]); "
          "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_workers(bin_dir: Path, trees: list[Path], module: str, server: str | None) -> list[tuple]:
    """One cosmic-ray HTTP worker per tree (each mutates and tests in its own copy, with the test server at
    ``server`` if there is one): ``(process, url)`` each, once every one accepts connections."""
    workers = []
    for tree in trees:
        port = _free_port()
        env = {**_env(tree, module), **({"MUTATION_SERVER": server} if server else {})}
        proc = subprocess.Popen([str(bin_dir / "python"), "-c", WORKER, str(port)], cwd=tree, env=env)
        workers.append((proc, f"http://127.0.0.1:{port}", port))
    deadline = time.monotonic() + 120
    for proc, url, port in workers:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    _stop_workers([(p, u) for p, u, _ in workers])
                    raise SystemExit(f"expected a cosmic-ray worker listening at {url}, got "
                                     + (f"exit status {proc.returncode}" if proc.poll() is not None
                                        else "no answer in 120 s"))
                time.sleep(0.2)
    return [(proc, url) for proc, url, _ in workers]


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, their children, ...), read from ``/proc``; empty where there is none
    (or no ``/proc``)."""
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _stop_workers(workers: list[tuple]) -> None:
    """End the workers and what they started: cosmic-ray runs each mutant's tests in a session of their own, which
    would otherwise go on until they end (the test server's fork ends with its caller)."""
    below = [pid for proc, _ in workers for pid in descendants(proc.pid)]
    for proc, _ in workers:
        proc.terminate()
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for proc, _ in workers:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _session_command(work: Path, module: str) -> str:
    """cosmic-ray's test command for the session in ``work``: covering tests first when it has a coverage map."""
    if (work / "select.json").exists():
        return f"{sys.executable} tools/mutation.py tests {work}"
    return _test_command(SELECTION[module]).replace('"', '\\"')


def close_session(work: Path, dest_root: Path) -> None:
    """Mark a session that has run every mutant as finished: its tree copies go (the database stays, for a later
    ``--survivors`` run), it is saved under ``dest_root`` if it started on a commit (replacing a saved unfinished
    copy, for ``--survivors`` on another machine), and the module's other sessions beside it go.

    >>> import tempfile
    >>> runs = Path(tempfile.mkdtemp())
    >>> for folder in ("m-1/tree", "m-1/tree-1", "m-0"):
    ...     (runs / folder).mkdir(parents=True)
    >>> _ = (runs / "m-1" / "commit").write_text("uncommitted\\n")
    >>> close_session(runs / "m-1", runs / "saved")
    >>> sorted(p.name for p in (runs / "m-1").iterdir()), sorted(p.name for p in runs.iterdir())
    (['commit', 'finished'], ['m-1'])
    """
    for tree in [work / "tree", *work.glob("tree-*")]:
        shutil.rmtree(tree, ignore_errors=True)
    (work / "finished").write_text(datetime.datetime.now().isoformat() + "\n")
    commit = (work / "commit").read_text().strip() if (work / "commit").exists() else "unknown"
    if re.fullmatch(r"[0-9a-f]{40}", commit):
        save_session(work, dest_root)
    for other in work.parent.glob(f"{work.name.rsplit('-', 1)[0]}-*"):
        if other != work:
            shutil.rmtree(other, ignore_errors=True)


def save_session(work: Path, dest_root: Path) -> Path:
    """Copy an unfinished session's state (cosmic-ray's database, read as one consistent snapshot, the coverage
    map and the markers; not the tree copy, which its commit gives back) to ``dest_root / work.name``."""
    commit = (work / "commit").read_text().strip()
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise SystemExit(f"expected a session started on a committed tree to save, got {work} started on "
                         f"{commit!r}: finish it here, or start it again on a commit")
    toml = (work / "cosmic-ray.toml").read_text()
    settings = {"module": re.search(r'module-path = "([^"]+)"', toml).group(1),
                "timeout": float(re.search(r"timeout = ([0-9.]+)", toml).group(1))}
    dest = dest_root / work.name
    tmp = dest_root / (work.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    source, copy = sqlite3.connect(work / "session.sqlite"), sqlite3.connect(tmp / "session.sqlite")
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    for name in SESSION_COPIED:
        if (work / name).exists():
            shutil.copyfile(work / name, tmp / name)
    (tmp / "settings.json").write_text(json.dumps(settings) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    for other in dest_root.glob(f"{work.name.rsplit('-', 1)[0]}-*"):  # one saved session per module
        if other != dest:
            shutil.rmtree(other, ignore_errors=True)
    return dest


def restore_session(saved: Path, root: Path, repo: Path = REPO) -> Path:
    """A saved session back under ``root``: its files, the tree of its commit (``git archive``) and a
    cosmic-ray configuration for this machine's paths; ``run --continue`` then goes on with it."""
    work = root / saved.name
    commit = (saved / "commit").read_text().strip()
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"expected the commit {commit} of the saved session {saved} in {repo}, got: "
                         f"{archive.stderr.decode().strip()}")
    shutil.rmtree(work, ignore_errors=True)
    (work / "tree").mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(work / "tree", filter="data")
    for name in SESSION_FILES:
        if (saved / name).exists():
            shutil.copyfile(saved / name, work / name)
    settings = json.loads((saved / "settings.json").read_text())
    _write_toml(work, settings["module"], settings["timeout"], _session_command(work, settings["module"]))
    return work


def save(args) -> int:
    """``save``: copy each module's newest session, unfinished (to continue) or finished (to rerun its survivors
    with ``--survivors``), into ``benchmarks/results/mutation-sessions/``."""
    root = Path(args.work_dir).expanduser()
    saved = 0
    for module in args.modules or list(SELECTION):
        sessions = [w for w in root.glob(f"{_module_name(module)}-*") if (w / "initialised").exists()]
        if not sessions:
            continue
        work = max(sessions, key=lambda w: (w / "initialised").stat().st_mtime)
        done = _outcomes(work / "session.sqlite")
        dest = save_session(work, SESSIONS)
        saved += 1
        state = "finished" if (work / "finished").exists() else "unfinished"
        print(f"{module}: saved the {state} session {work} ({done['mutants'] - done['not_run']} of "
              f"{done['mutants']} mutants run) to {dest.relative_to(REPO)}", flush=True)
    if not saved:
        print(f"no session under {root}", flush=True)
    return 0


def recount(args) -> int:
    """``recount``: the counts of each module's JSON again, from its finished session's database, as :func:`_outcomes`
    counts them now (the module's sha256 and its number of mutants must match the JSON's)."""
    root = Path(args.work_dir).expanduser()
    for module in args.modules or list(SELECTION):
        path = RESULTS / f"mutation_{_module_name(module)}.json"
        done = _finished_run(root, module)
        if done is None or not path.exists():
            print(f"{module}: no finished session under {root} or no {path.name}: left as it is", flush=True)
            continue
        result = json.loads(path.read_text())
        counts = _outcomes(done / "session.sqlite")
        sha = (done / "module.sha256").read_text().strip()
        if result.get("module_sha256", sha) != sha or result["mutants"] != counts["mutants"]:
            print(f"{module}: the finished session at {done} is not the run in {path.name} (sha256 {sha[:12]}, "
                  f"{counts['mutants']} mutants): left as it is", flush=True)
            continue
        result.update(counts)
        path.write_text(json.dumps(result, indent=1) + "\n")
        print(f"{module}: {counts['killed']} killed, {counts['timed_out']} timed out, {counts['survived']} survived "
              f"(kill rate {counts['kill_rate']}) from {done}", flush=True)
    return 0


def _tree_fingerprint() -> str:
    """sha256 over the tracked files' names and contents as they are in the working tree (this script left out: it
    does not change what a test does): a mutation session is resumed only on the code and tests it started on."""
    digest = hashlib.sha256()
    for name in (f for f in _tracked_files() if f != b"tools/mutation.py"):
        src = REPO / name.decode()
        if src.is_file():
            digest.update(name + b"\0" + hashlib.sha256(src.read_bytes()).digest())
    return digest.hexdigest()


def _tree_commit() -> str:
    """HEAD's commit, and whether the tracked files differ from it: what a session measured."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    return head + (" plus uncommitted changes" if dirty else "")


def _module_name(module: str) -> str:
    return module.replace("/", "_").removesuffix(".py")


def _module_sha256(module: str, root: Path = REPO) -> str:
    return hashlib.sha256((root / module).read_bytes()).hexdigest()


def _finished_run(root: Path, module: str, saved: Path = SESSIONS) -> Path | None:
    """The newest finished session of ``module`` under ``root`` (its database and ``finished`` marker kept), else
    one saved under ``saved`` (by ``save`` or at the end of a run, perhaps on another machine), copied under
    ``root`` first."""
    done = [d for d in root.glob(f"{_module_name(module)}-*") if (d / "finished").exists()]
    if not done:
        kept = [d for d in sorted(saved.glob(f"{_module_name(module)}-*")) if (d / "finished").exists()]
        if not kept:
            return None
        shutil.rmtree(root / kept[-1].name, ignore_errors=True)
        shutil.copytree(kept[-1], root / kept[-1].name)
        done = [root / kept[-1].name]
    return max(done, key=lambda d: (d / "finished").stat().st_mtime)


def _start_from_survivors(previous: Path, module: str, db: Path) -> int:
    """Copy the finished session's database and forget every result but the kills, so that ``exec`` runs the
    survivors (and timed-out or incompetent mutants) again on today's tests. Valid only when the module is the one
    that session mutated (the mutants are positions in its text): checked by its sha256."""
    recorded = (previous / "module.sha256").read_text().strip()
    if recorded != _module_sha256(module):
        raise SystemExit(f"expected {module} as the finished run at {previous} mutated it (sha256 {recorded[:12]}), "
                         f"got a changed file (sha256 {_module_sha256(module)[:12]}): run it in full")
    shutil.copyfile(previous / "session.sqlite", db)
    con = sqlite3.connect(db)
    with con:
        kept = con.execute("SELECT COUNT(*) FROM work_results WHERE test_outcome = 'KILLED'").fetchone()[0]
        con.execute("DELETE FROM work_results WHERE test_outcome IS NULL OR test_outcome != 'KILLED'")
        con.execute("UPDATE work_results SET output = ? || COALESCE(output, '') WHERE output IS NULL OR "
                    "output NOT LIKE ?", (f"{KEPT}{previous.name}\n", KEPT + "%"))
    con.close()
    return kept


def run(args) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped with kill: still stop the test server
    bin_dir = _tool(Path(args.tool_venv).expanduser())
    root = Path(args.work_dir).expanduser()
    modules = args.modules or list(SELECTION)
    for module in modules:
        if module not in SELECTION:
            raise SystemExit(f"expected a core module among {list(SELECTION)}, got {module!r}")
    fingerprint = _tree_fingerprint()
    table = []
    if args.jobs < 1:
        raise SystemExit(f"expected --jobs of at least 1, got {args.jobs}")
    if args.all_tests and args.covering_only:
        raise SystemExit("expected at most one of --all-tests and --covering-only, got both")
    mode = (("survivors" if args.survivors else "full") + ("|whole selection" if args.all_tests else "")
            + ("|covering only" if args.covering_only else ""))
    for module in modules:
        name = _module_name(module)
        key = hashlib.sha256(f"{fingerprint}|{SELECTION[module]}|{args.timeout}|{mode}".encode()).hexdigest()[:16]
        work = root / f"{name}-{key}"
        if args.continue_run:  # the module's unfinished session, on the copy of the tree it started with
            unfinished = [d for d in root.glob(f"{name}-*") if (d / "initialised").exists()
                          and not (d / "finished").exists()]
            saved = [d for d in sorted(SESSIONS.glob(f"{name}-*")) if not (d / "finished").exists()]
            if not unfinished and saved:  # saved by `save`, perhaps on another machine
                unfinished = [restore_session(saved[-1], root)]
                print(f"{module}: restored the saved session {saved[-1].relative_to(REPO)}", flush=True)
            if not unfinished:
                raise SystemExit(f"expected an unfinished session of {module} under {root} or saved in "
                                 f"{SESSIONS.relative_to(REPO)} to continue, found none")
            work = max(unfinished, key=lambda d: (d / "initialised").stat().st_mtime)
        copy, db, ready = work / "tree", work / "session.sqlite", work / "initialised"
        if (work / "finished").exists():
            print(f"{module}: already finished on this tree ({work}); its JSON is in {RESULTS}", flush=True)
            continue
        if not ready.exists():  # a new session: copy the tree, list the mutants (or take the last run's survivors)
            previous = _finished_run(root, module) if args.survivors else None
            if args.survivors and previous is None:
                raise SystemExit(f"expected a finished run of {module} under {root} to take the survivors from, "
                                 "found none: run it in full first")
            shutil.rmtree(work, ignore_errors=True)
            copy.mkdir(parents=True)
            commit = _tree_commit()  # read with the copy, not minutes later when the working tree may differ
            _copy_tree(copy)
            module_sha = _module_sha256(module, copy)
            if not args.all_tests:  # each mutant first against the tests that execute it
                lines, seconds = _coverage_map(work, copy, module, SELECTION[module])
                (work / "select.json").write_text(json.dumps(
                    {"module": module, "selection": SELECTION[module], "pristine": (copy / module).read_text(),
                     "lines": lines, "seconds": seconds, "covering_only": args.covering_only}))
                print(f"{module}: {len(lines)} statements executed by the selection, each mutant runs the tests that "
                      "execute it first", flush=True)
            _write_toml(work, module, args.timeout, _session_command(work, module))
            if previous is not None:
                kept = _start_from_survivors(previous, module, db)
                print(f"{module}: {kept} mutants killed by the run at {previous} kept, the others run again",
                      flush=True)
            else:
                subprocess.run([str(bin_dir / "cosmic-ray"), "init", str(work / "cosmic-ray.toml"), str(db)],
                               cwd=copy, env=_env(copy), check=True)
            skipped = skip_annotation_mutants(db, (copy / module).read_text())
            print(f"{module}: {skipped} mutants inside annotations skipped (never evaluated)", flush=True)
            (work / "module.sha256").write_text(module_sha + "\n")
            (work / "commit").write_text(commit + "\n")
            (work / "mode").write_text(mode + "\n")  # how the session was started, for its JSON after --continue
            ready.write_text(fingerprint + "\n")
        else:
            done = _outcomes(db)
            print(f"{module}: resuming {work} ({done['mutants'] - done['not_run']} of {done['mutants']} mutants "
                  "already run)", flush=True)
            if _restore_pristine(work, copy, module):
                print(f"{module}: the copy still held a mutant (the run was stopped during one): put back",
                      flush=True)
        spent = float((work / "seconds").read_text()) if (work / "seconds").exists() else 0.0
        core_spent = float((work / "core_seconds").read_text()) if (work / "core_seconds").exists() else spent
        t0 = time.perf_counter()
        server = _start_server(work, copy, module, args.timeout + 60) if (work / "select.json").exists() else None
        env = {**_env(copy, module), **({"MUTATION_SERVER": server[1]} if server else {})}
        workers = []
        try:  # cosmic-ray runs only the mutants without a result, so an interrupted run goes on where it stopped
            if args.jobs > 1:  # each worker in a copy of its own; the session's test server serves them all
                workers = _start_workers(bin_dir, worker_trees(work, args.jobs), module, server and server[1])
            else:
                worker_trees(work, 1)  # copies left by an earlier run with workers go
            _write_toml(work, module, args.timeout, _session_command(work, module), [u for _, u in workers])
            subprocess.run([str(bin_dir / "cosmic-ray"), "exec", str(work / "cosmic-ray.toml"), str(db)], cwd=copy,
                           env=env, check=True)
        finally:
            wall = time.perf_counter() - t0
            seconds, core_seconds = spent + wall, core_spent + wall * args.jobs
            (work / "seconds").write_text(f"{seconds:.0f}\n")
            (work / "core_seconds").write_text(f"{core_seconds:.0f}\n")
            _stop_workers(workers)
            if server:
                server[0].terminate()
                server[0].wait()
        started = (work / "mode").read_text().strip() if (work / "mode").exists() else mode
        survivors, covering_only = started.startswith("survivors"), "covering only" in started
        command = (f"python tools/mutation.py run {module}" + (" --survivors" if survivors else "")
                   + (" --all-tests" if "whole selection" in started else "")
                   + (" --covering-only" if covering_only else ""))
        tree = (work / "commit").read_text().strip() if (work / "commit").exists() else "unknown"
        module_sha = (work / "module.sha256").read_text().strip()
        result = {"module": module, "module_sha256": module_sha, "tree": tree, "tests": SELECTION[module],
                  "tool": "cosmic-ray", "timeout_s": args.timeout, "date": datetime.date.today().isoformat(),
                  "seconds": round(seconds), "core_seconds": round(core_seconds), "survivors_rerun": survivors,
                  "command": command,
                  "tests_per_mutant": "whole selection" if not (work / "select.json").exists() else
                  ("the selection's tests that execute the mutated statement (the whole selection for a statement "
                   "run at import time or not seen running): the kill rate is a lower bound" if covering_only else
                   "first the selection's tests that execute the mutated statement, then the whole selection if "
                   "they do not kill it"),
                  **_outcomes(db)}
        (RESULTS / f"mutation_{name}.json").write_text(json.dumps(result, indent=1) + "\n")
        table.append(result)
        close_session(work, SESSIONS)
        print(f"{module}: {result['killed']} killed, {result['survived']} survived, {result['timed_out']} timed out, "
              f"{result['incompetent']} incompetent, {result['skipped']} skipped (annotations) of "
              f"{result['mutants']} (kill rate {result['kill_rate']})",
              flush=True)
    print("\n| module | mutants | killed | survived | timed out | kill rate |\n|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['module']} | {r['mutants']} | {r['killed']} | {r['survived']} | {r['timed_out']} | "
              f"{100 * r['kill_rate']:.1f} % |" if r["kill_rate"] is not None else f"| {r['module']} | - |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("planted", help="one-line bugs that once survived the suite, each must be killed")
    p.add_argument("--only", default="", help="only the bugs whose name contains this text")
    p.add_argument("--timeout", type=float, default=600)
    r = sub.add_parser("run", help="cosmic-ray on core modules")
    r.add_argument("modules", nargs="*", help=f"default: all of {list(SELECTION)}")
    r.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant before it counts as timed out")
    r.add_argument("--jobs", type=int, default=1,
                   help="mutants run at once, each by a cosmic-ray HTTP worker in a copy of the tree of its own "
                        "(on 127.0.0.1); one core each")
    r.add_argument("--tool-venv", default="~/.cache/ecn-mutation/venv")
    r.add_argument("--work-dir", default="~/.cache/ecn-mutation/runs",
                   help="where each module's session lives; an interrupted run resumes from it")
    r.add_argument("--continue", dest="continue_run", action="store_true",
                   help="finish the module's unfinished session on the tree it started with (its own copy), even "
                        "if the code or tests have changed since")
    r.add_argument("--survivors", action="store_true",
                   help="run again only the mutants that the module's last finished run did not kill (after adding "
                        "tests; the module itself must be unchanged)")
    r.add_argument("--all-tests", action="store_true",
                   help="run every mutant against the module's whole selection, not only the tests that execute it")
    r.add_argument("--covering-only", action="store_true",
                   help="do not confirm a mutant that the tests executing it let through with the whole selection "
                        "(faster where the selection is slow; the kill rate is then a lower bound)")
    v = sub.add_parser("save", help="copy unfinished sessions into benchmarks/results/mutation-sessions "
                                    "(run --continue goes on from there, also on another machine)")
    v.add_argument("modules", nargs="*", help=f"default: all of {list(SELECTION)}")
    v.add_argument("--work-dir", default="~/.cache/ecn-mutation/runs")
    f = sub.add_parser("serve", help="(used by run) a session's test server; see serve()")
    f.add_argument("socket")
    f.add_argument("--limit", type=float, default=600.0, help="seconds a request may run at most")
    f.add_argument("--preload", action="append", default=[], help="also import this module once")
    c = sub.add_parser("recount", help="count each module's finished session again into its JSON")
    c.add_argument("modules", nargs="*", help=f"default: all of {list(SELECTION)}")
    c.add_argument("--work-dir", default="~/.cache/ecn-mutation/runs")
    t = sub.add_parser("tests", help="(used by cosmic-ray) the tests that execute the current mutant")
    t.add_argument("work", help="the session folder (its select.json)")
    args = parser.parse_args(argv)
    return {"planted": planted, "run": run, "tests": run_covering_tests, "save": save, "recount": recount,
            "serve": serve}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
