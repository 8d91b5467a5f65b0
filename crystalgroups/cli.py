"""The ``crystalgroups`` command line: ``list``, ``pattern`` and ``classify``.

Every subcommand returns an exit code; bad input prints one readable line to stderr and exits 2.

>>> main(["pattern", "P-1", "--supercell", "2", "2", "--json"])  # doctest: +ELLIPSIS
{"type": "P-1", "bravais_type": "mp", "dim": 2, "supercell": [2, 2], ...}
0
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .errors import CrystalGroupsError, ExcessSymmetryWarning

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and exit 2), like the other errors of the CLI."""

    def error(self, message):  # pragma: no cover - exercised through main()
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crystalgroups",
        description="Exact Bravais groups, supercell actions and parameter-sharing patterns.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"crystalgroups {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="the Bravais types and their holohedry orders")
    p_list.add_argument("--dim", type=int, choices=(2, 3), help="only this dimension")
    p_list.add_argument("--json", action="store_true", help="print JSON")

    p_pat = sub.add_parser("pattern", help="the parameter-sharing pattern of a group on a supercell")
    p_pat.add_argument("type", metavar="TYPE",
                       help="a Bravais type (e.g. cF, 'Fm-3m', hp), P-1, P1 (translations only), "
                            "or S (the symmetric group)")
    size = p_pat.add_mutually_exclusive_group(required=True)
    size.add_argument("--supercell", type=int, nargs="+", metavar="N",
                      help="supercell sizes N1 N2 [N3]; two sizes mean 2D")
    size.add_argument("--supercell-matrix", type=int, nargs="+", metavar="M",
                      help="the supercell matrix M row by row (4 or 9 integers); its COLUMNS are the supercell vectors "
                           "in the lattice basis (this package's convention)")
    size.add_argument("--supercell-rows", type=int, nargs="+", metavar="P",
                      help="the supercell matrix row by row with the supercell vectors as ROWS "
                           "(pymatgen's and ASE's make_supercell convention)")
    p_pat.add_argument("--sites", type=int, default=None, metavar="N",
                       help="N sites per cell: the product pattern with the symmetric group S_N on the sites")
    p_pat.add_argument("--excess-check", action=argparse.BooleanOptionalAction, default=None,
                       help="look for excess symmetry (default: only on supercells of at most 64 cells)")
    p_pat.add_argument("--json", action="store_true", help="print one JSON object")
    p_pat.add_argument("--plot", metavar="FILE", help="save the coloured matrix picture (.png, .svg, .pdf) into an "
                       "existing folder")

    p_cls = sub.add_parser("classify", help="Bravais type and point-group order of a CIF's lattice")
    p_cls.add_argument("cif", metavar="FILE.cif")
    p_cls.add_argument("--tol", type=float, default=None, help="length tolerance in Angstrom (default 1e-5)")
    p_cls.add_argument("--cell", choices=("primitive", "given"), default="primitive",
                       help="classify the crystal's primitive lattice (default) or the lattice of the cell as given")
    p_cls.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _cmd_list(args) -> int:
    from .bravais import bravais_types

    rows = [
        {"symbol": t.symbol, "dim": t.dim, "name": t.name, "symmetry_group": t.symmetry_group,
         "point_group": t.abstract_point_group, "point_group_order": t.order}
        for t in bravais_types(args.dim)
    ]
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"{'type':<5} {'dim':<3} {'order':>5}  {'symmetry group':<14} name")
        for r in rows:
            print(f"{r['symbol']:<5} {r['dim']:<3} {r['point_group_order']:>5}  {r['symmetry_group']:<14} {r['name']}")
    return 0


def _square(values, option: str):
    import math

    k = math.isqrt(len(values))
    if k * k != len(values) or k not in (2, 3):
        raise CrystalGroupsError(f"expected {option} as 4 or 9 integers (a 2x2 or 3x3 matrix row by row), "
                                 f"got {len(values)}: {values}")
    return [values[i * k:(i + 1) * k] for i in range(k)]


def _cmd_pattern(args) -> int:
    from pathlib import Path

    from .patterns import EXCESS_CHECK_MAX_CELLS, pattern, symmetric_pattern
    from .supercell import Supercell

    if args.plot:
        parent = Path(args.plot).expanduser().resolve().parent
        if not parent.is_dir():
            raise CrystalGroupsError(
                f"expected --plot in an existing folder, got {args.plot!r} (no folder {str(parent)!r})")
    if args.sites is not None and args.sites < 1:
        raise CrystalGroupsError(f"expected a positive number of --sites, got {args.sites}")
    if args.supercell is not None:
        spec = tuple(args.supercell)
    elif args.supercell_matrix is not None:
        spec = Supercell(_square(args.supercell_matrix, "--supercell-matrix"))
    else:
        spec = Supercell.from_rows(_square(args.supercell_rows, "--supercell-rows"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcessSymmetryWarning)
        p = pattern(args.type, spec, warn=args.excess_check)
    checked = args.excess_check if args.excess_check is not None else p.num_nodes <= EXCESS_CHECK_MAX_CELLS
    excess = bool(caught) if checked else None
    for w in caught:
        print(f"crystalgroups: note: {w.message}", file=sys.stderr)
    m = p.metadata
    cells = p.num_nodes
    if args.sites is not None:
        p = p.product(symmetric_pattern(args.sites))
    out = {
        "type": args.type,
        "bravais_type": m["bravais_type"],
        "dim": m["dim"],
        "supercell": m["supercell"],
        "supercell_convention": "sizes" if isinstance(m["supercell"][0], int) else "columns",
        "num_cells": cells,
        "num_sites": args.sites if args.sites is not None else 1,
        "num_nodes": p.num_nodes,
        "point_group_order": m["point_group_order"],
        "group_order": p.group_order,
        "permutation_group_order": p.permutation_group_order,
        "num_node_colors": p.num_node_colors,
        "num_edge_colors": p.num_edge_colors,
        "excess_symmetry": excess,
        "node_colors": p.node_colors.tolist(),
        "edge_colors": p.edge_colors.tolist(),
    }
    if args.plot:
        p.save(args.plot)
    if args.json:
        print(json.dumps(out))
    else:
        sites = f" x S{args.sites} on the sites" if args.sites is not None else ""
        print(f"{p.group_name}: {cells} cells{sites}, point group order {out['point_group_order']}, "
              f"group order {out['group_order']} ({out['permutation_group_order']} distinct permutations)")
        print(f"node colours: {p.num_node_colors}, edge colours: {p.num_edge_colors}")
        if excess is None:
            print("excess symmetry: not checked (use --excess-check)")
        if p.num_nodes <= 27:
            width = len(str(p.num_edge_colors - 1))
            for row in p.edge_colors.tolist():
                print(" ".join(f"{c:>{width}}" for c in row))
        if args.plot:
            print(f"picture written to {args.plot}")
    return 0


def read_cif_lattice(path: str, primitive: bool = True):
    """The lattice (rows, Angstrom) of the first structure in a CIF file, read with pymatgen.

    With ``primitive=True`` the lattice of the crystal's primitive cell (pymatgen's
    ``get_primitive_structure``, default tolerance 0.25 Angstrom on atom positions), so that a
    conventional face-centred cell gives the face-centred lattice; else the cell's own lattice.
    Returns ``(basis, number_of_sites)``.
    """
    try:
        from pymatgen.core import Structure
    except ImportError as exc:
        raise CrystalGroupsError("expected pymatgen to read CIF files (pip install pymatgen), got ImportError") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structure = Structure.from_file(path)
    except FileNotFoundError as exc:
        raise CrystalGroupsError(f"expected a readable CIF file, got no file at {path!r}") from exc
    except Exception as exc:
        raise CrystalGroupsError(
            f"expected a valid CIF file, got {path!r}, which pymatgen cannot parse: {exc}") from exc
    if primitive:
        structure = structure.get_primitive_structure()
    return structure.lattice.matrix, len(structure)


def _cmd_classify(args) -> int:
    from .bravais import classify_point_group
    from .lattice import DEFAULT_TOL, Lattice

    tol = DEFAULT_TOL if args.tol is None else args.tol
    basis, num_sites = read_cif_lattice(args.cif, primitive=args.cell == "primitive")
    lattice = Lattice(basis)
    pg = lattice.point_group(tol)
    t = classify_point_group(pg)
    out = {
        "file": args.cif,
        "bravais_type": t.symbol,
        "name": t.name,
        "symmetry_group": t.symmetry_group,
        "point_group_order": pg.order,
        "tol": tol,
        "cell": args.cell,
        "num_sites": num_sites,
        "lattice": lattice.basis.tolist(),
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.cif}: {t.symbol} ({t.name}, {t.symmetry_group}), point group order {pg.order}")
    return 0


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"list": _cmd_list, "pattern": _cmd_pattern, "classify": _cmd_classify}
    try:
        code = handlers[args.command](args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `crystalgroups pattern ... | head`: the reader left; not an error
        _silence_stdout()
        return 0
    except CrystalGroupsError as exc:
        print(f"crystalgroups: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --plot into a file that cannot be written
        print(f"crystalgroups: error: expected a writable file, got {exc}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout without a descriptor
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
