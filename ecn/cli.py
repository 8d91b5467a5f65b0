"""The ``ecn`` command line: ``train``, ``evaluate`` and ``predict`` (also ``python -m ecn``)."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line (exit 2), like the other errors of the CLI."""

    def error(self, message):  # pragma: no cover - exercised through main()
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ecn", description="Equivariant Crystal Networks: train, evaluate, predict.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model; writes a run folder")
    t.add_argument("--config", help="YAML file of settings (see ecn.config.TrainConfig)")
    t.add_argument("--preset", help="named settings: paper (default protocol), smoke (seconds)")
    t.add_argument("--data", help="perov5, carbon24, a CSV file with a cif column, or a folder of CIFs")
    t.add_argument("--target", action="append", help="target column (repeat for several)")
    t.add_argument("--model", help="ecn-s, ecn-p1, ecn-g, mpnn, cgcnn, megnet, egnn")
    t.add_argument("--epochs", type=int)
    t.add_argument("--limit-train", type=int)
    t.add_argument("--device", help="cpu or cuda")
    t.add_argument("--seed", type=int)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override any setting")
    t.add_argument("--out", help="run folder (required unless --resume)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run from its last.pt")

    e = sub.add_parser("evaluate", help="metrics of a checkpoint on a split, as one JSON object")
    e.add_argument("checkpoint")
    e.add_argument("--data")
    e.add_argument("--split", default="test")
    e.add_argument("--limit", type=int, default=0)

    p = sub.add_parser("predict", help="one prediction per CIF file")
    p.add_argument("checkpoint")
    p.add_argument("files", nargs="+", metavar="FILE.cif")
    return parser


def _train(args) -> int:
    from .config import load_config
    from .train import train

    if args.resume:
        given = [name for name in ("config", "preset", "data", "target", "model", "epochs", "limit_train", "device",
                                   "seed", "out") if getattr(args, name) is not None] + (["set"] if args.set else [])
        if given:
            raise ValueError(f"expected --resume alone (a run continues with its saved settings), got also "
                             f"{', '.join('--' + g.replace('_', '-') for g in given)}")
        metrics = train(None, args.resume, resume=True)
    else:
        if not args.out:
            raise ValueError("expected --out RUN_DIR (or --resume RUN_DIR), got neither")
        overrides = list(args.set)
        for name, value in (("data", args.data), ("model", args.model), ("epochs", args.epochs),
                            ("limit_train", args.limit_train), ("device", args.device), ("seed", args.seed)):
            if value is not None:
                overrides.append(f"{name}={value}")
        if args.target:
            overrides.append("targets=" + ",".join(args.target))
        if args.quiet:
            overrides.append("quiet=true")
        config = load_config(args.config, args.preset, overrides)
        metrics = train(config, args.out)
    if metrics:
        print(json.dumps({k: metrics[k] for k in metrics if k.startswith("test_") or k in ("best_epoch", "epochs_run")}))
    return 0


def _evaluate(args) -> int:
    from .train import evaluate_checkpoint

    print(json.dumps(evaluate_checkpoint(args.checkpoint, args.data, args.split, args.limit)))
    return 0


def _predict(args) -> int:
    from .train import predict_files

    for file, values in predict_files(args.checkpoint, args.files):
        print(file, *[f"{v:.6g}" for v in values], sep="\t")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"train": _train, "evaluate": _evaluate, "predict": _predict}
    try:
        return handlers[args.command](args)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"ecn: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
