"""Dataset builds: bad rows are skipped and reported, parallel = serial, the cache is safe."""

import re

import numpy as np
import pytest
from conftest import read_cifs

from ecn.data import BuildLimits, GraphCache, GraphSettings, build_graphs, iter_csv_rows, load_dataset

CUBIC = """data_x
_cell_length_a {a}
_cell_length_b {a}
_cell_length_c {a}
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_type_symbol
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
{atoms}
"""


def cif(a, *atoms):
    return CUBIC.format(a=a, atoms="\n".join(f"{el} {el}{k} {x} {y} {z} 1" for k, (el, x, y, z) in enumerate(atoms)))


BAD_IDS = {"garbage", "overlap", "big", "einsteinium", "gas", "noble", "nan", "missing"}


@pytest.fixture()
def rows(data_dir):
    good = [
        {"id": mid, "cif": text, "e": "0.5"} for mid, text in read_cifs(data_dir / "perov_5" / "val.csv.gz", limit=6)
    ]
    bad = [
        {"id": "garbage", "cif": "this is not a CIF", "e": "1"},
        {"id": "overlap", "cif": cif(4.0, ("Na", 0, 0, 0), ("Cl", 0.01, 0, 0)), "e": "1"},
        {
            "id": "big",
            "cif": cif(9.0, *[("C", x / 4, y / 4, z / 4) for x in range(4) for y in range(4) for z in range(4)]),
            "e": "1",
        },
        {"id": "einsteinium", "cif": cif(4.0, ("Es", 0, 0, 0)), "e": "1"},
        {
            "id": "gas",
            "cif": cif(5.0, ("N", 0, 0, 0), ("N", 0.22, 0, 0)),
            "e": "1",
        },  # N2 molecules: bonded, not connected
        {"id": "noble", "cif": cif(5.0, ("He", 0, 0, 0), ("Ne", 0.5, 0.5, 0.5)), "e": "1"},  # no bond at all
        {"id": "nan", "cif": good[0]["cif"], "e": "nan"},
        {"id": "missing", "cif": good[0]["cif"], "e": ""},
    ]
    return good[:3] + bad + good[3:]


def _good(rows):
    """The rows of the fixture that build (the real Perov-5 structures), without the bad ones."""
    return [r for r in rows if r["id"] not in BAD_IDS]


def test_bad_rows_are_skipped_with_their_reason(rows):
    from ecn.data import crystal_from_cif, crystal_graph

    graphs, report = build_graphs(rows, target_names=["e"], workers=1, progress=False)
    reasons = dict(report.skipped)
    good = [r["id"] for r in rows if r["id"].isdigit()]
    connected = [
        i for i in good if crystal_graph(crystal_from_cif(next(r["cif"] for r in rows if r["id"] == i))).is_connected()
    ]
    assert 0 < len(connected) < len(good)  # the sample has both kinds
    assert [g.id for g in graphs] == connected
    assert report.rows == len(rows) and report.built == len(connected)
    for i in set(good) - set(connected):
        assert reasons[i].startswith("disconnected graph")
    assert reasons["garbage"].startswith("unparsable CIF")
    assert reasons["overlap"].startswith("overlapping atoms")
    assert reasons["big"].startswith("cell too large")
    assert reasons["einsteinium"].startswith("unknown element")
    assert reasons["gas"].startswith("disconnected graph")
    assert reasons["noble"] == "disconnected graph: no bonds at all"
    assert reasons["nan"].startswith("missing target") and reasons["missing"].startswith("missing target")
    assert f"{len(rows) - len(connected)} skipped" in report.summary()


def test_disconnected_graphs_can_be_kept_and_counted(rows):
    graphs, report = build_graphs(
        rows, target_names=["e"], limits=BuildLimits(require_connected=False), workers=1, progress=False
    )
    ids = [g.id for g in graphs]
    assert "gas" in ids and "noble" not in ids
    disconnected = [g.id for g in graphs if not g.is_connected()]
    assert report.notes == {"disconnected graph": len(disconnected)} and len(disconnected) >= 1
    twice, report = build_graphs([r for r in rows if r["id"] == "gas"] * 3, target_names=["e"],
                                 limits=BuildLimits(require_connected=False), workers=1, progress=False)
    assert report.notes == {"disconnected graph": 3}


def test_parallel_build_equals_serial_and_ends_its_workers(data_dir):
    import multiprocessing

    path = data_dir / "carbon_24" / "val.csv.gz"
    a, ra = build_graphs(iter_csv_rows(path), target_names=["energy_per_atom"], workers=1, limit=40, progress=False)
    before = set(multiprocessing.active_children())
    b, rb = build_graphs(
        iter_csv_rows(path), target_names=["energy_per_atom"], workers=2, limit=40, progress=False, chunk=7
    )
    assert [p for p in multiprocessing.active_children() if p not in before and p.is_alive()] == []
    assert [g.id for g in a] == [g.id for g in b] and ra.skipped == rb.skipped
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.edge_index, y.edge_index)
        np.testing.assert_array_equal(x.edge_length, y.edge_length)


def test_cache_round_trip_staleness_and_corruption(rows, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="ecn.data")
    graphs, report = build_graphs(rows, target_names=["e"], workers=1, progress=False)
    cache = GraphCache(tmp_path)
    key = cache.key("a" * 64, GraphSettings(), ["e"])
    path = cache.save("demo", key, graphs, report)
    loaded, loaded_report = cache.load("demo", key)
    assert [g.id for g in loaded] == [g.id for g in graphs] and loaded_report.skipped == report.skipped
    for x, y in zip(graphs, loaded):
        for name in ("edge_index", "edge_length", "edge_vector", "cell_offset", "atomic_number", "positions"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        assert x.targets == y.targets and x.supercell == y.supercell
    assert "using graph cache" in caplog.text
    # another setting is another key; a corrupt file is ignored (and rebuilt by the caller)
    assert cache.key("a" * 64, GraphSettings(supercell=(1, 1, 1)), ["e"]) != key
    path.write_bytes(path.read_bytes()[:100])
    assert cache.load("demo", key) is None
    assert not list(tmp_path.glob("*.tmp"))


def test_load_dataset_named_with_cache(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("ECN_DATA_DIR", str(data_dir))
    first, report = load_dataset("perov5", "val", limit=30, cache=tmp_path, progress=False)
    assert len(first) == 30 and report.rows == 30 and all("heat_all" in g.targets for g in first)
    assert len(list(tmp_path.glob("perov5-val-*.npz"))) == 1
    again, _ = load_dataset("perov5", "val", limit=30, cache=tmp_path, progress=False)
    assert [g.id for g in again] == [g.id for g in first]


def test_load_dataset_from_a_cif_folder_and_bad_sources(tmp_path, data_dir):
    for mid, text in read_cifs(data_dir / "carbon_24" / "val.csv.gz", limit=4):
        (tmp_path / f"{mid}.cif").write_text(text)
    graphs, report = load_dataset(tmp_path, cache=False, progress=False, limits=BuildLimits(require_connected=False))
    assert len(graphs) == 4 and sorted(g.id for g in graphs) == sorted(p.stem for p in tmp_path.glob("*.cif"))
    with pytest.raises(FileNotFoundError, match="named dataset"):
        load_dataset(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="split"):
        load_dataset("perov5")


def test_cache_key_covers_how_rows_are_read_and_empty_builds_are_saved(tmp_path):
    cache = GraphCache(tmp_path)
    a = cache.key("0" * 64, GraphSettings(), [], id_column="material_id")
    assert a != cache.key("0" * 64, GraphSettings(), [], id_column="alt_id")
    graphs, report = build_graphs([{"id": "x", "cif": "nonsense"}], workers=1, progress=False)
    assert graphs == [] and report.skipped
    cache.save("empty", a, graphs, report)
    loaded, loaded_report = cache.load("empty", a)
    assert loaded == [] and loaded_report.skipped == report.skipped


def test_an_error_in_the_input_stops_a_parallel_build_at_once(rows):
    def broken():
        yield from rows[:3]
        raise RuntimeError("the input broke")

    import time

    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="the input broke"):
        build_graphs(broken(), target_names=["e"], workers=2, progress=False, chunk=2)
    assert time.perf_counter() - start < 60


def test_a_cache_file_written_for_another_key_is_stale(rows, tmp_path, caplog):
    """Two keys that share the file name (its first 20 hex digits) but not the rest: the file written for one
    is stale for the other, whichever way the two keys compare."""
    import logging

    graphs, report = build_graphs(rows[:3], target_names=["e"], workers=1, progress=False)
    cache = GraphCache(tmp_path)
    key = "8" * 64
    cache.save("demo", key, graphs, report)
    caplog.set_level(logging.WARNING, logger="ecn.data")
    for other in ("8" * 63 + "0", "8" * 63 + "f"):
        assert cache.path("demo", other) == cache.path("demo", key) and cache.load("demo", other) is None
    assert caplog.text.count("is stale; rebuilding") == 2
    assert [g.id for g in cache.load("demo", key)[0]] == [g.id for g in graphs]


def test_duplicate_ids_are_listed_once_each_and_recounted_from_an_older_cache(rows, tmp_path):
    """An id built three times and one built twice: each listed once, in the order in which its second copy
    came. A cache written before reports kept the list gets it back from the graphs themselves."""
    good = _good(rows)
    a, b, c = good[:3]
    graphs, report = build_graphs([a, b, a, c, b, a], target_names=["e"], limits=BuildLimits(require_connected=False),
                                  workers=1, progress=False)
    assert report.built == 6 and report.duplicates == [a["id"], b["id"]]
    cache = GraphCache(tmp_path)
    report.duplicates = []  # as an older cache has it
    cache.save("old", "1" * 64, graphs, report)
    assert cache.load("old", "1" * 64)[1].duplicates == [a["id"], b["id"]]


def test_orphaned_temporary_files_are_removed_once_old_enough(tmp_path):
    """Temporary files of interrupted writes go once older than ``older_than`` seconds; fresh ones (a write
    that may still be going on) and finished caches stay. The count removed is returned."""
    import os
    import time

    cache = GraphCache(tmp_path)
    old, fresh, done = tmp_path / "d-1.npzab12.tmp", tmp_path / "d-2.npzcd34.tmp", tmp_path / "d-3.npz"
    for path in (old, fresh, done):
        path.write_bytes(b"")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    assert cache.clean_orphans() == 1 and not old.exists() and fresh.exists() and done.exists()
    assert cache.clean_orphans() == 0
    assert cache.clean_orphans(older_than=-1.0) == 1 and not fresh.exists() and done.exists()


@pytest.mark.parametrize(("argument", "value", "message"), [
    ("workers", -1, "expected workers as an integer >= 0 or None, got -1"),
    ("workers", True, "expected workers as an integer >= 0 or None, got True"),
    ("limit", -2, "expected limit as an integer >= 0 or None, got -2"),
    ("limit", 1.5, "expected limit as an integer >= 0 or None, got 1.5"),
    ("chunk", 0, "expected chunk as an integer >= 1, got 0"),
    ("chunk", None, "expected chunk as an integer >= 1, got None"),
])
def test_bad_build_arguments_are_refused_by_name(argument, value, message):
    with pytest.raises(ValueError) as info:
        build_graphs([], progress=False, **{argument: value})
    assert str(info.value) == message


def test_the_cache_gives_back_each_graph_as_it_was_built(rows, tmp_path):
    """Graphs with tied gauges beside graphs without (``gauge="as_given"``), and a column that some rows give
    per site (one value per site, one of them missing) and another row as one number: each comes back from the
    cache with its own gauges and its own kind of target."""
    good = _good(rows)
    site_or_number = ["[1, 2, 3, null, 5]", "7", "[0.5, 0.5, 0.5, 0.5, 0.5]", "8"]
    built = []
    for gauge, chunk in (("tree", good[:3]), ("as_given", good[3:4])):
        part = [dict(row, s=site_or_number[len(built) + k]) for k, row in enumerate(chunk)]
        graphs, report = build_graphs(part, GraphSettings(gauge=gauge), ["e", "s"],
                                      limits=BuildLimits(require_connected=False), workers=1, progress=False)
        assert report.built == len(part)
        built += graphs
    assert [g.gauge_shifts is None for g in built] == [False, False, False, True]
    cache = GraphCache(tmp_path)
    cache.save("mixed", "2" * 64, built, report)
    loaded, _ = cache.load("mixed", "2" * 64)
    for before, after in zip(built, loaded, strict=True):
        assert after.id == before.id and sorted(after.targets) == ["e", "s"]
        if before.gauge_shifts is None:
            assert after.gauge_shifts is None
        else:
            np.testing.assert_array_equal(after.gauge_shifts, before.gauge_shifts)
        assert np.ndim(after.targets["s"]) == np.ndim(before.targets["s"])
        np.testing.assert_array_equal(after.targets["s"], before.targets["s"])
    assert np.isnan(loaded[0].targets["s"][3]) and loaded[1].targets["s"] == 7.0


def test_build_report_counts_and_summary_by_value():
    from ecn.data import BuildReport

    report = BuildReport(rows=12, built=3, duplicates=["x1"])
    report.skipped = [(f"c{k}", f"unparsable CIF: bad {k}") for k in range(7)] + [
        ("o1", "overlapping atoms: two atoms 0.1 A apart"), ("o2", "overlapping atoms: two atoms 0.2 A apart")]
    report.notes = {"disconnected graph": 2}
    assert report.counts() == {"unparsable CIF": 7, "overlapping atoms": 2}
    assert report.first_ids("overlapping atoms") == ["o1", "o2"] and report.first_ids("unparsable CIF", 2) == [
        "c0", "c1"]
    assert report.summary("train").splitlines() == [
        "train: 12 rows read, 3 graphs kept, 9 skipped",
        "       2 skipped: overlapping atoms (first: o1, o2)",
        "       7 skipped: unparsable CIF (first: c0, c1, c2, c3, c4, ...)",
        "       2 kept: disconnected graph",
        "       1 duplicate ids (kept, told apart by their row): x1",
    ]
    again = BuildReport.from_json(report.to_json())
    assert (again.rows, again.built, again.skipped, again.notes, again.duplicates) == (
        12, 3, report.skipped, report.notes, ["x1"])


def test_a_long_bad_per_site_value_is_shortened_in_the_error():
    from ecn.data.build import site_values

    raw = "[" + ", ".join(["1.5"] * 30) + ", oops]"
    with pytest.raises(ValueError) as info:
        site_values(raw, "charge")
    shown = raw[:77] + "..."
    assert str(info.value) == f"missing target: charge is {shown!r}, expected a JSON list of numbers (one per site)"
    exactly_80 = "[" + "1" * 78 + "x"  # 80 characters: shown whole
    with pytest.raises(ValueError, match=re.escape(repr(exactly_80))):
        site_values(exactly_80, "charge")


def test_orphans_go_after_one_hour_by_default(tmp_path):
    import os
    import time

    cache = GraphCache(tmp_path)
    older, younger = tmp_path / "d-1.npz1.tmp", tmp_path / "d-2.npz2.tmp"
    for path, age in ((older, 3600.5), (younger, 3500.0)):
        path.write_bytes(b"")
        os.utime(path, (time.time() - age, time.time() - age))
    assert cache.clean_orphans() == 1 and not older.exists() and younger.exists()


def test_one_worker_builds_in_this_process_and_two_in_others(rows, monkeypatch):
    """``workers=1`` (and 0) build in the calling process; ``workers=2`` (and ``None``, every core, on a machine
    with more than one) in worker processes: each row's reason names the process that built it."""
    import os

    import ecn.data.build as build

    def which_process(*_):
        raise ValueError(f"built in {os.getpid()}")

    monkeypatch.setattr(build, "graph_from_row", which_process)
    cases = ((0, True), (1, True), (2, False)) + (((None, False),) if (os.cpu_count() or 1) > 1 else ())
    for workers, here in cases:  # None: every core
        _, report = build_graphs(rows[:40] * 4, workers=workers, progress=False, chunk=64)
        pids = {reason.split()[-1] for _, reason in report.skipped}
        assert (pids == {str(os.getpid())}) == here and (here or str(os.getpid()) not in pids)


def test_a_cache_is_written_into_a_new_nested_folder_and_read_back_read_only(rows, tmp_path):
    five = [dict(r, q="[1, 2, 3, 4, 5]") for r in rows[:3]]  # Perov-5: five sites each, a value per site
    graphs, report = build_graphs(five, target_names=["e", "q"], workers=1, progress=False)
    cache = GraphCache(tmp_path / "a" / "b" / "c")
    path = cache.save("nested", "3" * 64, graphs, report)
    assert path.name == "nested-" + "3" * 20 + ".npz"  # <name>-<first 20 hex digits of the key>.npz
    assert path.stat().st_mode & 0o777 == 0o644  # readable by others, like any file the user writes
    loaded, _ = cache.load("nested", "3" * 64)
    assert [g.id for g in loaded] == [g.id for g in graphs]
    assert any(g.gauge_shifts is not None for g in loaded)
    for g in loaded:
        gauges = () if g.gauge_shifts is None else (g.gauge_shifts,)
        np.testing.assert_array_equal(g.targets["q"], [1, 2, 3, 4, 5])
        for array in (g.frac, g.numbers, g.lattice, g.unit_edge_index, g.unit_edge_image, g.unit_edge_length,
                      g.targets["q"], *gauges):
            assert not array.flags.writeable


def test_a_cache_write_that_fails_leaves_no_file_behind(rows, tmp_path, monkeypatch):
    """Whatever stops a write (an error, Ctrl-C), neither the cache file nor its temporary file is left."""
    import ecn.data.build as build

    graphs, report = build_graphs(rows[:1], target_names=["e"], workers=1, progress=False)

    def broken(_):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "_pack", broken)
    with pytest.raises(KeyboardInterrupt):
        GraphCache(tmp_path).save("broken", "4" * 64, graphs, report)
    assert list(tmp_path.iterdir()) == []


def test_settings_and_limits_at_their_edges():
    """cutoff must be above 0 A; one neighbour is a valid limit; the limits are frozen (they are part of the
    cache key)."""
    import dataclasses
    from types import SimpleNamespace

    from ecn.data.build import check_settings

    with pytest.raises(ValueError, match="expected cutoff > 0"):
        GraphSettings(neighbors="radius", cutoff=0)
    for cutoff in (0, -1.0):  # settings made some other way are checked again before a build
        with pytest.raises(ValueError) as info:
            check_settings(SimpleNamespace(max_neighbors=None, cutoff=cutoff))
        assert str(info.value) == f"expected cutoff > 0 A, got {cutoff}"
    check_settings(GraphSettings(neighbors="radius", cutoff=0.1, max_neighbors=1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        BuildLimits().max_sites = 10


def test_the_summary_shortens_a_long_duplicate_list():
    from ecn.data import BuildReport

    for count, shortened in ((5, False), (6, True)):
        report = BuildReport(rows=2 * count, built=2 * count, duplicates=[f"d{k}" for k in range(count)])
        last = report.summary().splitlines()[-1]
        assert last.endswith(", ...") == shortened and "d0, d1, d2, d3, d4" in last and "d5" not in last


def test_dead_workers_are_named_by_signal_or_exit_status():
    from types import SimpleNamespace

    from ecn.data.build import _dead_workers

    workers = [SimpleNamespace(exitcode=code, join=lambda timeout: None) for code in (-9, 0, None, 3, -999)]
    assert _dead_workers(workers) == "killed by SIGKILL; exit status 3; exit status -999"
    assert _dead_workers([SimpleNamespace(exitcode=0, join=lambda timeout: None)]) == "killed"

    class Dying:  # not yet reaped: its exit code is known once joined
        exitcode = None

        def join(self, timeout):
            self.exitcode = -15

    class Reaped:
        exitcode = -9

        def join(self, timeout):
            raise AssertionError("a reaped worker is not waited for")

    assert _dead_workers([Dying(), Reaped()]) == "killed by SIGTERM; killed by SIGKILL"
    assert _dead_workers([SimpleNamespace(exitcode=-1, join=lambda timeout: None)]) == "killed by SIGHUP"


def test_orphans_go_once_older_than_one_hour_to_the_quarter_second(tmp_path, monkeypatch):
    """The default age limit is one hour: an orphan 3600.25 s old goes, one 3599.75 s old stays (the clock is
    fixed here, so nothing depends on how long the test takes)."""
    import os
    from types import SimpleNamespace

    import ecn.data.build as build

    orphan = tmp_path / "d-1.npz1.tmp"
    orphan.write_bytes(b"")
    written = os.stat(orphan).st_mtime
    cache = GraphCache(tmp_path)
    monkeypatch.setattr(build, "time", SimpleNamespace(time=lambda: written + 3599.75))
    assert cache.clean_orphans() == 0 and orphan.exists()
    monkeypatch.setattr(build, "time", SimpleNamespace(time=lambda: written + 3600.0))
    assert cache.clean_orphans() == 0 and orphan.exists()  # exactly one hour old: not older than the limit
    monkeypatch.setattr(build, "time", SimpleNamespace(time=lambda: written + 3600.25))
    assert cache.clean_orphans() == 1 and not orphan.exists()


def test_an_internal_error_on_one_row_is_a_skip_that_names_it(rows, monkeypatch):
    import ecn.data.build as build

    real = build.graph_from_row

    def flaky(row, *args):
        if row["id"] == rows[1]["id"]:
            raise RuntimeError("a library failed")
        return real(row, *args)

    monkeypatch.setattr(build, "graph_from_row", flaky)
    graphs, report = build_graphs(rows[:3], target_names=["e"], limits=BuildLimits(require_connected=False),
                                  workers=1, progress=False)
    assert [g.id for g in graphs] == [rows[0]["id"], rows[2]["id"]]
    assert report.skipped == [(rows[1]["id"], "error: RuntimeError: a library failed")]


def test_a_build_shows_its_progress_unless_told_not_to(rows, capsys):
    build_graphs(rows[:2], target_names=["e"], workers=1)
    err = capsys.readouterr().err
    assert "building graphs" in err and "2graph" in err  # one step per row read
    build_graphs(rows[:2], target_names=["e"], workers=1, progress=False)
    assert "building graphs" not in capsys.readouterr().err


def test_a_cache_file_holding_pickled_objects_is_not_loaded(rows, tmp_path, caplog):
    """The cache is plain arrays: a cache file whose report was replaced by a pickled object (which could run
    code when loaded) is treated as unreadable and rebuilt, never unpickled."""
    import logging

    graphs, report = build_graphs(rows[:3], target_names=["e"], workers=1, progress=False)
    cache = GraphCache(tmp_path)
    key = "4" * 64
    path = cache.save("evil", key, graphs, report)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["report"] = np.array([report.to_json()], dtype=object)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    caplog.set_level(logging.WARNING, logger="ecn.data")
    assert cache.load("evil", key) is None
    assert "unreadable" in caplog.text and "pickle" in caplog.text.lower()


def test_rows_refused_for_their_per_site_values_or_elements_name_them():
    from ecn.data.build import graph_from_row

    row = {"id": "p", "cif": cif(4.0, ("Na", 0, 0, 0), ("Cl", 0.5, 0.5, 0.5)), "b": "[1, 2]", "a": "[3, 4]"}
    with pytest.raises(ValueError) as info:
        graph_from_row(row, GraphSettings(primitive=True), ["b", "a"])
    assert str(info.value).startswith("per-site target a needs the cell as written, got primitive=true")
    with pytest.raises(ValueError, match=re.escape("per-site target a has 3 values, expected one per site (2)")):
        graph_from_row(dict(row, a="[3, 4, 5]"), GraphSettings(), ["a"])
    for symbol, z in (("Rf", 104), ("Db", 105)):  # the first two past the table of radii
        with pytest.raises(ValueError, match=re.escape(f"unknown element: no covalent radius for Z = [{z}]")):
            graph_from_row({"id": symbol, "cif": cif(4.0, (symbol, 0, 0, 0))}, GraphSettings())


def test_max_neighbors_must_be_a_whole_number_of_neighbours():
    from ecn.data.build import check_settings

    for bad in (True, 2.5, 0):
        with pytest.raises(ValueError, match="max_neighbors as an integer >= 1 or None"):
            check_settings(GraphSettings(neighbors="radius", max_neighbors=bad))


def test_a_connected_build_notes_nothing_and_a_vanished_orphan_is_passed_over(rows, tmp_path):
    good = _good(rows)
    graphs, report = build_graphs(good, target_names=["e"], workers=1, progress=False)
    assert graphs and report.notes == {}  # disconnected rows are skipped, not noted, when they must connect
    (tmp_path / "d-1.npz1.tmp").symlink_to(tmp_path / "gone")  # a name whose file is gone when looked at
    assert GraphCache(tmp_path).clean_orphans(older_than=-1.0) == 0


def test_row_limits_hold_at_their_exact_values():
    """A cell with exactly max_sites sites, or atoms exactly min_distance apart, is kept; one site or a hair
    more is refused. A neighbourhood too sparse to tessellate is a named skip."""
    from ecn.data import crystal_from_cif
    from ecn.data.build import graph_from_row

    row = {"id": "nacl", "cif": cif(4.0, ("Na", 0, 0, 0), ("Cl", 0.5, 0.5, 0.5))}
    d = crystal_from_cif(row["cif"]).min_distance()
    radius = GraphSettings(neighbors="radius")
    assert graph_from_row(row, radius, limits=BuildLimits(max_sites=2, min_distance=d)).num_sites == 2
    with pytest.raises(ValueError, match="cell too large: 2 sites, limit 1"):
        graph_from_row(row, radius, limits=BuildLimits(max_sites=1))
    with pytest.raises(ValueError, match="overlapping atoms"):
        graph_from_row(row, radius, limits=BuildLimits(min_distance=d * (1 + 1e-12)))
    with pytest.raises(ValueError, match="^no graph: expected at least 5 atoms within 1.0 A"):
        graph_from_row(row, GraphSettings(cutoff=1.0))


def test_per_site_values_are_read_only_and_shown_whole_up_to_80_characters():
    from ecn.data.build import site_values

    assert not site_values("[1, 2, null]").flags.writeable
    for length, shortened in ((80, False), (81, True)):
        raw = "[" + "1" * (length - 2) + "x"
        with pytest.raises(ValueError) as info:
            site_values(raw)
        assert (repr(raw[:77] + "...") in str(info.value)) == shortened
        assert (repr(raw) in str(info.value)) != shortened


def test_the_smallest_valid_build_arguments_are_accepted():
    graphs, report = build_graphs([], workers=0, limit=0, chunk=1, progress=False)
    assert graphs == [] and report.rows == 0


def test_a_large_cell_with_per_site_values_meets_the_site_limit_not_a_count_mismatch():
    """300 sites with 300 per-site values: the counts agree (numbers past CPython's small-int cache compare by
    value), so the row goes on to the site limit."""
    from ecn.data.build import graph_from_row

    atoms = [("C", x / 10, y / 10, z / 3) for x in range(10) for y in range(10) for z in range(3)]
    row = {"id": "big", "cif": cif(30.0, *atoms), "charge": str([0.5] * len(atoms))}
    with pytest.raises(ValueError, match=re.escape("cell too large: 300 sites, limit 299")):
        graph_from_row(row, GraphSettings(), ["charge"], limits=BuildLimits(max_sites=299))


def test_a_parallel_build_stopped_by_an_error_leaves_no_worker_running(rows, monkeypatch):
    """An exception in the calling process while the workers are busy (here raised by a signal handler that
    a worker triggers, as Ctrl-C would raise KeyboardInterrupt): the build stops the workers before it passes
    the exception on, so none goes on running. Forty times: the pool's own thread reaps the workers too, and a
    build that joined them without waiting for that thread left one looking alive about one time in twenty."""
    import multiprocessing
    import os
    import signal
    import time

    import ecn.data.build as build

    class Stop(Exception):
        pass

    def busy(*_):
        os.kill(os.getppid(), signal.SIGUSR1)
        time.sleep(120)

    def stop(*_):
        raise Stop

    class Waited(Exception):
        pass

    def waited(*_):
        raise Waited("the build waited for its busy workers instead of stopping them")

    monkeypatch.setattr(build, "graph_from_row", busy)  # the forked workers inherit it
    previous = signal.signal(signal.SIGUSR1, stop), signal.signal(signal.SIGALRM, waited)
    try:
        signal.setitimer(signal.ITIMER_REAL, 60)  # a watchdog: the workers would sleep for two minutes
        for _ in range(40):
            with pytest.raises(Stop):
                build_graphs(rows[:2], workers=2, progress=False, chunk=2)
            assert [p for p in multiprocessing.active_children() if p.is_alive()] == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for p in multiprocessing.active_children():
            p.kill()
            p.join()
        signal.signal(signal.SIGUSR1, previous[0])  # only now: no worker is left to send the signal
        signal.signal(signal.SIGALRM, previous[1])
