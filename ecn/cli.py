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
    t.add_argument("--out", help="run folder (required unless --resume); refused if it holds a run")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a killed or interrupted run from its last.pt")
    t.add_argument("--overwrite", action="store_true", help="with --out: replace the run the folder holds")

    e = sub.add_parser("evaluate", help="metrics of a checkpoint on a split, as one JSON object")
    e.add_argument("checkpoint")
    e.add_argument("--data")
    e.add_argument("--split", default="test")
    e.add_argument("--limit", type=int, default=0, help="the first N structures of the split (0: all)")

    p = sub.add_parser(
        "predict", help="predictions for structure files, folders and CSV files",
        description="Predict with one checkpoint or an ensemble. CHECKPOINT is a .pt file or a published name "
                    "(see --list); the words before the first input are checkpoints. INPUT is a CIF, POSCAR/CONTCAR "
                    "or extended XYZ file, a folder (searched recursively for those), a CSV file with a cif column, "
                    "or - for a list of paths on stdin. Exit status: 0 when every structure was predicted, 1 when "
                    "some could not be, 2 for usage errors.")
    p.add_argument("args", nargs="*", metavar="CHECKPOINT... INPUT...")
    p.add_argument("-c", "--checkpoint", action="append", default=[],
                   help="a checkpoint or published name (repeat for an ensemble); then every word is an input")
    p.add_argument("--out", metavar="FILE.csv", help="write id, source, the targets and error to this CSV, row by row")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--batch-size", type=int, default=256, help="structures per forward pass (default 256)")
    p.add_argument("--workers", type=int, help="graph-building processes (default: every core; 0: none)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--quiet", action="store_true", help="no header line, summary or progress bar on stderr")
    p.add_argument("--list", action="store_true", help="list the published model names and exit")
    return parser


def _train(args) -> int:
    from .config import load_config  # light: settings errors are answered before torch loads

    if args.resume:
        given = [name for name in ("config", "preset", "data", "target", "model", "epochs", "limit_train", "device",
                                   "seed", "out") if getattr(args, name) is not None] + (["set"] if args.set else [])
        given += ["overwrite"] if args.overwrite else []
        if given:
            raise ValueError(f"expected --resume alone (a run continues with its saved settings), got also "
                             f"{', '.join('--' + g.replace('_', '-') for g in given)}")
        from .train import train

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
        from .train import train

        metrics = train(config, args.out, overwrite=args.overwrite)
    if metrics:
        print(
            json.dumps({k: metrics[k] for k in metrics if k.startswith("test_") or k in ("best_epoch", "epochs_run")})
        )
    return 0


def _evaluate(args) -> int:
    from .train import evaluate_checkpoint

    print(json.dumps(evaluate_checkpoint(args.checkpoint, args.data, args.split, args.limit)))
    return 0


def _predict(args) -> int:
    from .pretrained import is_checkpoint, list_models  # light: usage errors are answered before torch loads

    if args.list:
        print("\n".join(list_models()))
        return 0
    words = list(args.args)
    checkpoints = list(args.checkpoint)
    if not checkpoints:
        while words and is_checkpoint(words[0]):
            checkpoints.append(words.pop(0))
    if not checkpoints:
        first = f" ({words[0]!r} is neither a .pt file nor a published name among {list_models()})" if words else ""
        raise ValueError(f"expected a checkpoint (a .pt file or a published name) before the inputs, got none{first}")
    if not words:
        raise ValueError("expected at least one INPUT (a structure file, a folder, a CSV file or -), got none")
    if args.batch_size < 1 or (args.workers is not None and args.workers < 0):
        raise ValueError(f"expected --batch-size >= 1 and --workers >= 0, got {args.batch_size} and {args.workers}")
    from .predict import run

    return run(
        checkpoints,
        words,
        out=args.out,
        device=args.device,
        batch_size=args.batch_size,
        workers=args.workers,
        progress=args.progress,
        quiet=args.quiet,
    )


#: Exit statuses: success, a run or build that failed (or some structures not predicted), a usage error
#: (settings, files, data or checkpoints that cannot be used), Ctrl-C.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


#: The errors that mean a run, a build or a download failed (exit 1), by module and name: looked up only in
#: modules already imported, since no other module can have raised them, so that a usage error found before
#: torch is imported is reported without importing it.
FAILURES = (("ecn.train", "RunFailed"), ("ecn.data.build", "BuildError"), ("ecn.data.sources", "DownloadError"))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"train": _train, "evaluate": _evaluate, "predict": _predict}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt as exc:
        print(f"ecn: interrupted{': ' + _one_line(exc) if str(exc) else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:
        failures = tuple(getattr(sys.modules[module], name) for module, name in FAILURES if module in sys.modules)
        if isinstance(exc, failures):
            print(f"ecn: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_FAILED
        if isinstance(exc, (ValueError, RuntimeError, OSError)):
            print(f"ecn: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
