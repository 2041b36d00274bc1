"""Command-line interface: a thin face over :mod:`reportkit.batch`.

::

    reportkit batch params/demo.yaml                  # -> reports/demo/index.html
    reportkit batch params/demo.yaml --output-dir out --quiet
    reportkit --version

Exit codes: 0 all reports ok; 1 one or more reports failed; 2 bad input (params,
mapping, data, plan, period); 3 environment (kernel, template, output folder).
Errors print one line plus a hint on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path
from typing import Sequence

from .errors import ReportkitError

__all__ = ["main", "build_parser", "version"]


def version() -> str:
    """Installed reportkit version (``0.0.0+unknown`` when not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _v

    try:
        return _v("reportkit")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``reportkit`` argument parser (every command and option has help text)."""
    parser = argparse.ArgumentParser(
        prog="reportkit",
        description="Reproducible sales, quota, commission and forecast reports from parameterized notebooks.",
    )
    parser.add_argument("--version", action="version", version=f"reportkit {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    batch = sub.add_parser(
        "batch",
        help="run every account-manager and team report of a params file",
        description=(
            "Run every planned report of PARAMS.yaml: an executed notebook, an HTML page "
            "(code hidden) and an Excel workbook per report, plus index.html and manifest.json."
        ),
    )
    batch.add_argument("params", metavar="PARAMS.yaml", help="batch params file, e.g. params/demo.yaml")
    batch.add_argument(
        "--output-dir",
        "-o",
        metavar="DIR",
        help="folder to write the reports into (default: reports/<params file stem>)",
    )
    batch.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help="reports executed at once, each in its own kernel (default: number of CPU cores)",
    )
    batch.add_argument("--quiet", "-q", action="store_true", help="no progress bar; print only the summary")
    batch.add_argument("--debug", action="store_true", help="show tracebacks and debug logging on errors")

    backtest = sub.add_parser(
        "backtest",
        help="replay history: forecast the rest of each fiscal year at every quarter end and score it (WAPE, bias)",
        description=(
            "At each fiscal quarter end, forecast the rest of the fiscal year from the data up to that date "
            "only, compare with what happened, and write WAPE and bias per method and level next to a "
            "seasonal-naive baseline (CSV + PNG chart)."
        ),
    )
    backtest.add_argument("params", metavar="PARAMS.yaml", help="batch params file naming the source")
    backtest.add_argument(
        "--output-dir",
        "-o",
        metavar="DIR",
        help="folder to write backtest.csv and the chart into (default: reports/<params file stem>-backtest)",
    )
    backtest.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def _fail(exc: ReportkitError, debug: bool) -> int:
    if debug:
        traceback.print_exc(file=sys.stderr)
    lines = str(exc.message).splitlines() or [type(exc).__name__]
    print(f"reportkit: error: {lines[0]}", file=sys.stderr)
    for extra in lines[1:]:
        print(f"  {extra}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reportkit`` command; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    debug = bool(getattr(args, "debug", False))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        # papermill logs every cell at INFO and warns about things we already check
        logging.getLogger("papermill").setLevel(logging.ERROR)
    if args.command == "batch":
        from .batch import run_batch

        out = Path(args.output_dir) if args.output_dir else Path("reports") / Path(args.params).stem
        try:
            result = run_batch(args.params, out, progress=not args.quiet, jobs=args.jobs)
        except ReportkitError as exc:
            return _fail(exc, debug)
        except KeyboardInterrupt:
            print("reportkit: interrupted before any report ran", file=sys.stderr)
            return 130
        index = result.index_path
        try:
            index = index.relative_to(Path.cwd().resolve())
        except ValueError:
            pass
        print(
            f"{result.count('account_manager')} account-manager and {result.count('team')} team reports: "
            f"{result.ok} ok, {result.failed} failed"
        )
        for r in result.reports:
            if r.status != "ok":
                print(f"  failed: {r.kind} {r.id} ({r.name}): {r.error}", file=sys.stderr)
        print(f"Reports: {index}")
        return 1 if result.failed else 0
    if args.command == "backtest":
        from .backtest import backtest_cli

        out = Path(args.output_dir) if args.output_dir else Path("reports") / f"{Path(args.params).stem}-backtest"
        try:
            return backtest_cli(args.params, out)
        except ReportkitError as exc:
            return _fail(exc, debug)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects first
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
