"""tools/mutation.py: which mutants count as equivalent by construction (inside annotations), and how a session's
outcomes are counted. The mutation runs themselves are too slow for the suite (see docs/contributing.md)."""

from __future__ import annotations

import ast
import doctest
import importlib.util
import sqlite3
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_tool", REPO / "tools" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)


def _segment(source: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    lines = source.splitlines()
    if start[0] == end[0]:
        return lines[start[0] - 1][start[1]:end[1]]
    return "\n".join([lines[start[0] - 1][start[1]:], *lines[start[0]:end[0] - 1], lines[end[0] - 1][:end[1]]])


def test_docstring_examples():
    failed, tried = doctest.testmod(mutation)
    assert tried >= 3 and failed == 0


@pytest.mark.parametrize("module", ["ecn/nn/layers.py", "crystalgroups/patterns.py", "ecn/train.py"])
def test_annotation_spans_of_a_core_module_are_its_annotations(module):
    source = (REPO / module).read_text()
    spans = mutation.annotation_spans(source)
    texts = [_segment(source, start, end) for start, end in spans]
    # independently: every annotation string that Python stores (PEP 563) for the module's top-level functions,
    # classes' methods and class attributes appears among the spans' texts as often as it is stored
    stored = []
    for node in ast.parse(source).body:
        for item in [node, *(node.body if isinstance(node, ast.ClassDef) else [])]:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = item.args
                stored += [ast.unparse(x.annotation) for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]
                           if x.annotation is not None]
                stored += [ast.unparse(item.returns)] if item.returns is not None else []
    assert len(stored) > 10
    unparsed = [ast.unparse(ast.parse(t, mode="eval").body) for t in texts]  # each span is a whole expression
    for text in set(stored):
        assert unparsed.count(text) >= stored.count(text), text


def test_annotation_spans_need_postponed_annotations():
    assert mutation.annotation_spans("def f(x: int | None = None) -> int:\n    return 1\n") == []
    assert mutation.annotation_spans("from __future__ import annotations\ndef f(x: 'é', y: int | None): pass\n") \
        == [((2, 9), (2, 12)), ((2, 17), (2, 27))]  # columns in characters, not UTF-8 bytes


def _session(path: Path, specs: list[tuple[int, int, int, int]]) -> Path:
    """A database with cosmic-ray's tables (the columns tools/mutation.py reads), one mutant per span."""
    db = path / "session.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE work_items (job_id VARCHAR PRIMARY KEY)")
    con.execute("CREATE TABLE mutation_specs (start_pos_row INTEGER, start_pos_col INTEGER, end_pos_row INTEGER, "
                "end_pos_col INTEGER, job_id VARCHAR PRIMARY KEY)")
    con.execute("CREATE TABLE work_results (worker_outcome VARCHAR, output TEXT, test_outcome VARCHAR, diff TEXT, "
                "job_id VARCHAR PRIMARY KEY)")
    for i, (r0, c0, r1, c1) in enumerate(specs):
        con.execute("INSERT INTO work_items VALUES (?)", (f"job{i}",))
        con.execute("INSERT INTO mutation_specs VALUES (?, ?, ?, ?, ?)", (r0, c0, r1, c1, f"job{i}"))
    con.commit()
    con.close()
    return db


def test_only_mutants_wholly_inside_an_annotation_are_skipped(tmp_path):
    source = "from __future__ import annotations\ndef f(x: int | None = 1 + 2) -> int:\n    return x\n"
    assert mutation.annotation_spans(source) == [((2, 9), (2, 19)), ((2, 32), (2, 35))]
    db = _session(tmp_path, [
        (2, 13, 2, 14),  # the | of the annotation: skipped
        (2, 9, 2, 19),   # the whole annotation: skipped
        (2, 24, 2, 25),  # the + of the default value, evaluated: kept
        (2, 17, 2, 23),  # from inside the annotation into the default: kept
        (2, 32, 2, 35),  # the return annotation: skipped
        (3, 11, 3, 12),  # the body: kept
    ])
    assert mutation.skip_annotation_mutants(db, source) == 3
    con = sqlite3.connect(db)
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '', 'KILLED', '', 'job2')")
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '', 'SURVIVED', 'the diff', 'job3')")
    con.commit()
    skipped = {job for (job,) in con.execute("SELECT job_id FROM work_results WHERE worker_outcome = 'SKIPPED'")}
    con.close()
    assert skipped == {"job0", "job1", "job4"}
    counts = mutation._outcomes(db)
    assert counts["skipped"] == 3 and counts["killed"] == 1 and counts["survived"] == 1
    assert counts["not_run"] == 1 and counts["mutants"] == 6
    assert counts["kill_rate"] == 0.5 and counts["survivors"] == ["the diff"]  # skipped mutants are not in the rate


def test_each_mutant_runs_the_tests_that_execute_it(tmp_path):
    """A tiny project: the coverage map of its selection, then mutants run through the session's test command."""
    copy, work = tmp_path / "tree", tmp_path / "work"
    (copy / "pkg").mkdir(parents=True)
    (copy / "tools").mkdir()
    work.mkdir()
    (copy / "tools" / "_mutation_coverage.py").write_text((REPO / "tools" / "_mutation_coverage.py").read_text())
    (copy / "pkg" / "__init__.py").write_text("")
    module = "pkg/m.py"
    source = ("from __future__ import annotations\nLIMIT = 3\n\n\ndef small(x: int) -> bool:\n"
              "    return x < LIMIT\n\n\ndef double(x):\n    y = [x,\n         x]\n    return sum(y)\n\n\n"
              "def triple(x):\n    return 3 * x\n")
    (copy / module).write_text(source)
    (copy / "test_m.py").write_text("from pkg.m import double, small\n\n\ndef test_small():\n    assert small(2)\n"
                                    "    assert not small(3)\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n"
                                    "def test_other():\n    assert True\n\n\n"
                                    "def test_cli():  # triple runs only in a process the test starts\n"
                                    "    import subprocess, sys\n"
                                    "    subprocess.run([sys.executable, '-c', 'from pkg.m import triple; triple(1)'],"
                                    " check=True)\n")
    lines, seconds = mutation._coverage_map(work, copy, module, "test_m.py")
    assert sorted(seconds) == ["test_m.py::test_cli", "test_m.py::test_double", "test_m.py::test_other",
                               "test_m.py::test_small"]
    assert all(isinstance(t, float) and t >= 0 for t in seconds.values())
    assert "" in lines["2"] and "" in lines["5"]  # import time: the constant and the def line
    assert lines["6"] == ["test_m.py::test_small"]
    assert lines["10"] == lines["12"] == ["test_m.py::test_double"] and "11" not in lines  # one statement, two lines
    assert lines["16"] == ["test_m.py::test_cli"]  # measured in the process test_cli started
    (work / "select.json").write_text(mutation.json.dumps(
        {"module": module, "selection": "test_m.py", "pristine": source, "lines": lines}))

    def run(mutated: str):
        (copy / module).write_text(mutated)
        proc = mutation.subprocess.run([mutation.sys.executable, str(REPO / "tools" / "mutation.py"), "tests",
                                        str(work)], cwd=copy, capture_output=True, text=True,
                                       env={**mutation.os.environ, "PYTHONPATH": str(copy)})
        return proc.returncode, [line.split(" in ")[0] for line in proc.stdout.splitlines() if " in " in line
                                 and ("passed" in line or "failed" in line)]

    assert run(source.replace("x < LIMIT", "x <= LIMIT")) == (1, ["1 failed"])  # killed by test_small alone
    # not killed by the test that executes it: confirmed by the whole selection
    assert run(source.replace("x < LIMIT", "x < LIMIT  # same")) == (0, ["1 passed", "4 passed"])
    assert run(source.replace("         x]", "         -x]")) == (1, ["1 failed"])  # second line of a statement
    assert run(source.replace("LIMIT = 3", "LIMIT = 3  # same")) == (0, ["4 passed"])  # import time: every test

    # the same verdicts and output through the session's test server (one import, a fork per mutant)
    server, address = mutation._start_server(work, copy, module, 60.0)
    try:
        plain = run
        calls = []

        def run(mutated: str):  # noqa: F811 -- the same check, with the server's address in the environment
            mutation.os.environ["MUTATION_SERVER"] = address
            try:
                calls.append(1)
                return plain(mutated)
            finally:
                del mutation.os.environ["MUTATION_SERVER"]

        assert run(source.replace("x < LIMIT", "x <= LIMIT")) == (1, ["1 failed"])
        assert run(source.replace("x < LIMIT", "x < LIMIT  # same")) == (0, ["1 passed", "4 passed"])
        assert run(source.replace("LIMIT = 3", "LIMIT = 4")) == (1, ["1 failed"])  # the fork reads the mutant
        assert run(source) == (0, ["4 passed"]) and len(calls) == 4
        # a test that leaves a process running (holding the output pipe): the fork's group ends with it, so
        # the caller's output ends at once instead of when that process would (a stalled session before)
        tests = (copy / "test_m.py").read_text()
        (copy / "test_m.py").write_text(tests + (
            "\n\ndef test_leaves_a_process():  # forked without exec: it keeps the saved output descriptors\n"
            "    import multiprocessing, time\n"
            "    multiprocessing.get_context('fork').Process(target=time.sleep, args=(300,)).start()\n"))
        started = mutation.time.perf_counter()
        assert run(source.replace("LIMIT = 3", "LIMIT = 3  # same")) == (0, ["5 passed"])
        assert mutation.time.perf_counter() - started < 120  # far below the 300 s the process would take
        assert len(calls) == 5
        (copy / "test_m.py").write_text(tests)
    finally:
        server.terminate()
        server.wait()
    run = plain

    # --covering-only: the covering tests' verdict stands, unless no covering test is known
    (work / "select.json").write_text(mutation.json.dumps(
        {"module": module, "selection": "test_m.py", "pristine": source, "lines": lines, "covering_only": True}))
    assert run(source.replace("x < LIMIT", "x <= LIMIT")) == (1, ["1 failed"])
    assert run(source.replace("x < LIMIT", "x < LIMIT  # same")) == (0, ["1 passed"])
    assert run(source.replace("LIMIT = 3", "LIMIT = 3  # same")) == (0, ["4 passed"])


def test_an_unfinished_session_is_saved_and_restored_from_its_commit(tmp_path):
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "m.py").write_text("x = 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "one"]):
        mutation.subprocess.run(git + command, cwd=repo, check=True)
    commit = mutation.subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                     check=True).stdout.strip()
    (repo / "pkg" / "m.py").write_text("x = 2\n")  # changed since: the restored tree is the commit's
    work = tmp_path / "runs" / "pkg_m-0123456789abcdef"
    work.mkdir(parents=True)
    db = _session(work, [(1, 4, 1, 5), (1, 0, 1, 1)])
    con = sqlite3.connect(db)
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '', 'KILLED', '', 'job0')")
    con.commit()
    con.close()
    (work / "commit").write_text(commit + "\n")
    (work / "initialised").write_text("fingerprint\n")
    (work / "select.json").write_text('{"lines": {}}')
    mutation._write_toml(work, "pkg/m.py", 60.0, "old command")
    saved = mutation.save_session(work, tmp_path / "saved")
    assert saved.name == work.name and not (saved / "tree").exists()
    restored = mutation.restore_session(saved, tmp_path / "elsewhere", repo=repo)
    assert (restored / "tree" / "pkg" / "m.py").read_text() == "x = 1\n"
    assert mutation._outcomes(restored / "session.sqlite")["killed"] == 1
    assert mutation._outcomes(restored / "session.sqlite")["not_run"] == 1
    toml = (restored / "cosmic-ray.toml").read_text()
    assert 'module-path = "pkg/m.py"' in toml and "timeout = 60.0" in toml
    assert f"tools/mutation.py tests {restored}" in toml  # this machine's paths
    # a finished session, saved, is where a --survivors run on another machine takes its kills from
    assert mutation._finished_run(tmp_path / "other", "pkg/m.py", saved=tmp_path / "saved") is None  # unfinished
    (work / "finished").write_text("2026-12-07T23:00:00\n")
    mutation.save_session(work, tmp_path / "saved")
    found = mutation._finished_run(tmp_path / "other", "pkg/m.py", saved=tmp_path / "saved")
    assert found == tmp_path / "other" / work.name and (found / "finished").exists()
    assert mutation._outcomes(found / "session.sqlite")["killed"] == 1
    assert mutation._finished_run(tmp_path / "other", "pkg/m.py", saved=tmp_path / "none") == found  # kept there
    (work / "commit").write_text(commit + " plus uncommitted changes\n")
    with pytest.raises(SystemExit, match="expected a session started on a committed tree to save"):
        mutation.save_session(work, tmp_path / "saved")


def test_a_run_stopped_during_a_mutant_gets_its_module_back_on_resume(tmp_path):
    work, copy = tmp_path / "work", tmp_path / "work" / "tree"
    (copy / "pkg").mkdir(parents=True)
    (work / "select.json").write_text(mutation.json.dumps({"pristine": "x = 1\n"}))
    (copy / "pkg" / "m.py").write_text("x = 2\n")  # the mutant cosmic-ray had on disk when it was stopped
    assert mutation._restore_pristine(work, copy, "pkg/m.py") is True
    assert (copy / "pkg" / "m.py").read_text() == "x = 1\n"
    assert mutation._restore_pristine(work, copy, "pkg/m.py") is False


def test_a_survivors_rerun_lists_its_own_kills_with_the_tests_that_made_them(tmp_path):
    """Kills kept from the finished run are marked as kept; a kill of the rerun is listed with the failed tests."""
    previous, work = tmp_path / "finished", tmp_path / "rerun"
    previous.mkdir()
    work.mkdir()
    old = _session(previous, [(1, 0, 1, 1)] * 3)
    con = sqlite3.connect(old)
    con.execute("INSERT INTO work_results VALUES ('NORMAL', 'FAILED tests/t.py::test_old', 'KILLED', 'a', 'job0')")
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '3 passed', 'SURVIVED', 'b', 'job1')")
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '3 passed', 'SURVIVED', 'c', 'job2')")
    con.commit()
    con.close()
    assert "killed_in_this_run" not in mutation._outcomes(old)  # a full run: no such list
    (previous / "module.sha256").write_text(mutation._module_sha256("ecn/metrics.py") + "\n")
    db = work / "session.sqlite"
    assert mutation._start_from_survivors(previous, "ecn/metrics.py", db) == 1
    con = sqlite3.connect(db)
    con.execute("INSERT INTO work_results VALUES ('NORMAL', 'x\nFAILED tests/t.py::test_new - E\n1 failed', "
                "'KILLED', 'b', 'job1')")
    con.execute("INSERT INTO work_results VALUES ('NORMAL', '3 passed', 'SURVIVED', 'c', 'job2')")
    con.commit()
    con.close()
    counts = mutation._outcomes(db)
    assert counts["killed"] == 2 and counts["survivors"] == ["c"]
    assert counts["killed_in_this_run"] == [{"diff": "b", "failed": ["tests/t.py::test_new"]}]
    (work / "module.sha256").write_text((previous / "module.sha256").read_text())  # a rerun of the rerun
    third = tmp_path / "third.sqlite"
    assert mutation._start_from_survivors(work, "ecn/metrics.py", third) == 2
    con = sqlite3.connect(third)
    outputs = dict(con.execute("SELECT job_id, output FROM work_results").fetchall())
    con.close()
    assert outputs == {"job0": mutation.KEPT + "finished\nFAILED tests/t.py::test_old",  # marked once only
                       "job1": mutation.KEPT + "rerun\nx\nFAILED tests/t.py::test_new - E\n1 failed"}
    assert mutation._outcomes(third)["killed_in_this_run"] == []


def test_a_mutant_past_the_timeout_is_counted_as_timed_out_not_killed(tmp_path):
    """cosmic-ray records a mutant whose tests ran past the timeout as killed with the output ``timeout``
    (cosmic_ray/testing.py); a ``--survivors`` rerun keeps it with the name of the run it came from."""
    db = _session(tmp_path, [(1, 0, 1, 1)] * 5)
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO work_results VALUES (?, ?, ?, ?, ?)", [
        ("NORMAL", "timeout", "KILLED", "", "job0"),
        ("NORMAL", mutation.KEPT + "m-1\ntimeout", "KILLED", "", "job1"),
        ("NORMAL", mutation.KEPT + "m-1\n1 failed in 2.0s", "KILLED", "", "job2"),
        ("NORMAL", "FAILED test_m.py::test_timeout_message - assert 0\n1 failed in 2.0s", "KILLED", "", "job3"),
        ("NORMAL", "4 passed", "SURVIVED", "d", "job4"),
    ])
    con.commit()
    con.close()
    counts = mutation._outcomes(db)
    assert (counts["killed"], counts["timed_out"], counts["survived"]) == (2, 2, 1)
    assert counts["kill_rate"] == 0.8  # a timed-out mutant is detected: (2 + 2) / 5
    assert [k["failed"] for k in counts["killed_in_this_run"]] == [["test_m.py::test_timeout_message"]]


def test_the_processes_below_a_worker_are_found_to_be_ended():
    """A process that started a child in a session of its own (as a cosmic-ray worker starts a mutant's tests): the
    child is found below it, and stopping the worker ends the child too (it would otherwise sleep on)."""
    proc = mutation.subprocess.Popen([mutation.sys.executable, "-c",
                                      "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                                      "'import time; time.sleep(60)'], start_new_session=True); time.sleep(60)"])
    try:
        deadline = mutation.time.monotonic() + 30
        while len(mutation.descendants(proc.pid)) < 1 and mutation.time.monotonic() < deadline:
            mutation.time.sleep(0.1)
        below = mutation.descendants(proc.pid)
        assert len(below) == 1
        mutation._stop_workers([(proc, "http://127.0.0.1:1")])
        proc.wait(timeout=30)
        mutation.time.sleep(0.5)
        assert not Path(f"/proc/{below[0]}").exists() or "Z" in Path(f"/proc/{below[0]}/stat").read_text().split()[2]
    finally:
        proc.kill()
