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
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="the Bravais types and their holohedry orders")
    p_list.add_argument("--dim", type=int, choices=(2, 3), help="only this dimension")
    p_list.add_argument("--json", action="store_true", help="print JSON")

    p_pat = sub.add_parser("pattern", help="the parameter-sharing pattern of a group on a supercell")
    p_pat.add_argument("type", metavar="TYPE", help="a Bravais type (e.g. cF, 'Fm-3m', hp), P-1, or S (the symmetric group)")
    p_pat.add_argument("--supercell", type=int, nargs="+", required=True, metavar="N",
                       help="supercell sizes N1 N2 [N3]; two sizes mean 2D")
    p_pat.add_argument("--json", action="store_true", help="print one JSON object")
    p_pat.add_argument("--plot", metavar="FILE", help="save the coloured matrix picture (.png, .svg, .pdf)")

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


def _cmd_pattern(args) -> int:
    from .patterns import pattern

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcessSymmetryWarning)
        p = pattern(args.type, tuple(args.supercell))
    excess = bool(caught)
    for w in caught:
        print(f"crystalgroups: note: {w.message}", file=sys.stderr)
    m = p.metadata
    out = {
        "type": args.type,
        "bravais_type": m["bravais_type"],
        "dim": m["dim"],
        "supercell": m["supercell"],
        "num_cells": p.num_nodes,
        "point_group_order": m["point_group_order"],
        "group_order": m["group_order"],
        "permutation_group_order": m["permutation_group_order"],
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
        print(f"{p.group_name}: {p.num_nodes} cells, point group order {out['point_group_order']}, "
              f"group order {out['group_order']} ({out['permutation_group_order']} distinct permutations)")
        print(f"node colours: {p.num_node_colors}, edge colours: {p.num_edge_colors}")
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
        raise CrystalGroupsError(f"expected a valid CIF file, got {path!r}, which pymatgen cannot parse: {exc}") from exc
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
    out = {"file": args.cif, "bravais_type": t.symbol, "name": t.name, "symmetry_group": t.symmetry_group,
           "point_group_order": pg.order, "tol": tol, "cell": args.cell, "num_sites": num_sites,
           "lattice": lattice.basis.tolist()}
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
        return handlers[args.command](args)
    except CrystalGroupsError as exc:
        print(f"crystalgroups: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --plot into a folder that cannot exist
        print(f"crystalgroups: error: expected a writable file, got {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `crystalgroups pattern ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
