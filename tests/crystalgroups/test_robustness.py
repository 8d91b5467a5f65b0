"""Every bad input is a clear error, fast and in bounded memory.

Random ill-conditioned, tiny, huge, NaN and degenerate inputs go to the public entry points in a
subprocess whose address space is capped (``RLIMIT_AS``): each call either succeeds or raises a
:class:`~crystalgroups.errors.CrystalGroupsError`, within a time limit. A ``MemoryError``, any
other exception, or a slow call fails the test.
"""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import crystalgroups as cg
from crystalgroups.errors import CrystalGroupsError, LatticeError, SizeLimitError

FCC = np.array([[0.0, 1.8, 1.8], [1.8, 0.0, 1.8], [1.8, 1.8, 0.0]])
HEX_SLAB = np.array([[2.46, 0.0, 0.0], [-1.23, 2.46 * 3**0.5 / 2, 0.0], [0.0, 0.0, 300.0]])

# The same checks as a script, for the capped subprocess. Each call gets SECONDS; the address space is
# capped at LIMIT_MB (the interpreter with numpy, scipy and sympy takes about 350 MB of it).
SCRIPT = textwrap.dedent('''
    import resource, sys, time
    LIMIT_MB, SECONDS, EXAMPLES = (int(v) for v in sys.argv[1:4])
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_MB << 20, LIMIT_MB << 20))
    import numpy as np
    from hypothesis import given, settings, strategies as st, HealthCheck
    import crystalgroups as cg
    from crystalgroups.errors import CrystalGroupsError

    def call(fn, *args, **kwargs):
        start = time.perf_counter()
        try:
            fn(*args, **kwargs)
        except CrystalGroupsError:
            pass
        except Exception as exc:  # MemoryError included: a failure
            raise AssertionError(f"{fn.__name__}{args!r:.300} raised {type(exc).__name__}: {exc}") from exc
        took = time.perf_counter() - start
        assert took < SECONDS, f"{fn.__name__}{args!r:.300} took {took:.1f} s"

    special = st.sampled_from([0.0, 1e-300, -1e-300, 1e-12, 1e-9, 1.0, 1e9, 1e300, float("nan"), float("inf"),
                               -float("inf")])
    entry = st.one_of(st.floats(-10, 10, allow_nan=False), special)
    scale = st.sampled_from([1e-12, 1.8e-10, 1e-5, 1.0, 3.6, 1e4, 1e8, 1e150])

    @st.composite
    def bases(draw):
        d = draw(st.sampled_from([2, 3]))
        kind = draw(st.sampled_from(["random", "scaled", "needle", "degenerate", "nearly singular"]))
        if kind == "random":
            B = np.array(draw(st.lists(entry, min_size=d * d, max_size=d * d))).reshape(d, d)
        elif kind == "scaled":
            B = np.eye(d) + draw(st.floats(-0.3, 0.3)) * np.roll(np.eye(d), 1, axis=1)
            B = B * draw(scale)
        elif kind == "needle":
            B = np.diag([1.0] * (d - 1) + [10.0 ** draw(st.integers(-12, 12))])
        elif kind == "degenerate":
            B = np.ones((d, d)) * draw(st.floats(-5, 5, allow_nan=False))
        else:
            B = np.eye(d)
            B[-1] = B[0] + 10.0 ** -draw(st.integers(3, 15)) * np.eye(d)[-1]
        return B

    tols = st.one_of(st.sampled_from([0.0, 1e-5, 1e-3, 0.5, 10.0, 1e10, -1.0, float("nan"), float("inf")]),
                     st.floats(0, 2, allow_nan=False))
    sizes = st.lists(st.sampled_from([-1, 0, 1, 2, 3, 7, 40, 100, 10**6, 10**18, 2**70]), min_size=1, max_size=4)
    groups = st.sampled_from(["cP", "cF", "hp", "P-1", "P1", "S", "hR", "cf", "P 1", "Fm-3m", "", "xyz", 3, None])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(bases(), tols)
    def test_lattices(B, tol):
        call(cg.Lattice, B)
        call(lambda: cg.Lattice(B).point_group(tol))
        call(cg.bravais_type, B, tol)
        call(cg.classify_lattice, B, tol)
        call(lambda: cg.Lattice(B).reduced())
        call(cg.pattern, B, (2,) * len(B))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(groups, sizes, st.booleans())
    def test_patterns(group, size, via_group):
        if via_group:
            call(lambda: cg.pattern_from_group(cg.LatticeGroup(group, tuple(size))))
        else:
            call(cg.pattern, group, tuple(size))
        call(cg.supercell, size)
        call(lambda: cg.Supercell(np.diag(size[:3])))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.integers(1, 3000), st.integers(1, 40), st.integers(-2, 3))
    def test_products_and_hand_made(n, m, low):
        p = cg.symmetric_pattern(n)
        call(p.product, cg.symmetric_pattern(m))
        colours = np.full((n, n), low)
        call(cg.Pattern, np.zeros(n, dtype=int), colours, [np.arange(n)[::-1]])

    small = st.integers(-3, 3)
    huge = st.sampled_from([0, 1, -1, 2, 2**31, 2**62, -(2**62), 10**30])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([2, 3]), st.lists(small, min_size=9, max_size=9), st.lists(huge, min_size=9, max_size=9),
           st.integers(-2, 40))
    def test_integer_inputs(d, entries, big_entries, max_cells):
        M = np.array(entries[: d * d]).reshape(d, d)
        call(cg.PointGroup.from_generators, [M])
        call(cg.Supercell, M)
        call(cg.Supercell, np.array(big_entries[: d * d], dtype=object).reshape(d, d))
        call(lambda: cg.LatticeGroup("P-1" if d == 3 else "hp", M))
        call(cg.compatible_supercells, "cP" if d == 3 else "hp", max_cells)
        call(lambda: cg.classify_point_group(cg.PointGroup.from_generators([M])))
        G = M.T @ M
        call(point_group_of_metric, G)
        call(point_group_of_metric, G.astype(float), 0.1)

    from crystalgroups.lattice import point_group_of_metric

    test_lattices()
    test_patterns()
    test_products_and_hand_made()
    test_integer_inputs()
    print("ok")
''')


def test_random_bad_inputs_fail_cleanly_in_bounded_memory_and_time():
    result = subprocess.run([sys.executable, "-c", SCRIPT, "1800", "10", "40"], capture_output=True, text=True,
                            timeout=600)
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), output


def _fast(fn, *args, seconds=2.0, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    assert time.perf_counter() - start < seconds
    return out


@pytest.mark.parametrize("basis,tol", [
    (1.8e-10 * FCC / 1.8, 1e-5),           # a lattice in metres with a tolerance in Angstrom
    (np.eye(3), 10),                       # a tolerance larger than the cell
    ([[1, 0, 0], [0, 1, 0], [1, 1, 1e-9]], 1e-5),  # nearly singular
    ([[1, 0, 0], [0, 1, 0], [1, 1, 1e-9]], 1e-13),  # nearly singular, tiny tol: the search box is capped
])
def test_issue_examples_are_quick_lattice_errors(basis, tol):
    with pytest.raises(LatticeError, match="expected"):
        _fast(cg.bravais_type, basis, tol)


@pytest.mark.parametrize("basis,expected", [
    (1.8e-10 * FCC / 1.8, "cF"),
    (np.diag([1.0, 1.0, 1e4]), "tP"),      # a needle
    (HEX_SLAB, "hP"),                      # a slab with 300 A of vacuum
    (HEX_SLAB * [[1], [1], [1000 / 300]], "hP"),
    ([[1, 0, 0], [1e6, 1, 0], [0, 0, 1]], "cP"),  # a very oblique basis of the cubic lattice
])
def test_extreme_but_valid_lattices_are_classified_quickly(basis, expected):
    tol = 1e-15 if np.abs(basis).max() < 1e-8 else 1e-3
    assert _fast(cg.bravais_type, basis, tol) == expected


@pytest.mark.parametrize("bad", [[[1, 0], [0, float("nan")]], [[1, 0], [2, 0]], [[1e-120, 0], [0, 1]], "abc",
                                 [[1, 0, 0], [0, 1, 0]], np.zeros((3, 3))])
def test_bad_lattices(bad):
    with pytest.raises(CrystalGroupsError, match="expected"):
        cg.Lattice(bad)


def test_dense_arrays_are_capped_with_the_size_in_the_message():
    with pytest.raises(SizeLimitError, match="64,000 x 64,000"):
        _fast(cg.pattern_from_group, cg.LatticeGroup("cP", (40, 40, 40)))
    assert cg.LatticeGroup("cP", (40, 40, 40)).num_pair_orbits == 1771   # the count needs no matrix
    big = cg.pattern("P-1", (10, 10, 10))
    with pytest.raises(SizeLimitError, match="expected at most"):
        _fast(big.product, cg.symmetric_pattern(9))
    with pytest.raises(SizeLimitError):
        _fast(cg.LatticeGroup("cP", (20, 20, 20)).all_permutations)
    with pytest.raises(CrystalGroupsError, match="1,000,000,000,000,000,000 cells"):
        cg.pattern("cP", (10**6, 10**6, 10**6))
