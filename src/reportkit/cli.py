"""Command-line interface: a thin face over :mod:`reportkit.run.batch`.

::

    reportkit batch params/demo.yaml                  # -> reports/demo/index.html
    reportkit batch params/demo.yaml --output-dir out --quiet
    reportkit batch params/demo.yaml -p account_managers=00731,00812 -p commission.rate=0.07
    reportkit batch params/demo.yaml --timeout 120 --resume     # skip unchanged reports
    reportkit batch params/demo.yaml --only-failed              # re-run what failed last time
    reportkit batch params/demo.yaml --dask-scheduler tcp://scheduler:8786  # on a Dask cluster
    reportkit --version

Exit codes: 0 all reports ok; 1 one or more reports (or the company workbook) failed; 2 bad input (params,
mapping, data, plan, period); 3 environment (kernel, template, output folder).
Errors print one line plus a hint on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .core.errors import ParamsError, ReportkitError

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
    _add_batch(sub)
    _add_backtest(sub)
    _add_statement(sub)
    return parser


def _add_batch(sub: Any) -> None:
    """``reportkit batch``: run every planned report of a params file."""
    batch = sub.add_parser(
        "batch",
        help="run every account-manager, team and company report of a params file",
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
        help="reports executed at once, each in its own kernel (default: number of CPU cores); not with --dask-scheduler",
    )
    batch.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="execute the reports on a Dask cluster, e.g. tcp://HOST:8786 (needs reportkit[dask]); every "
        "worker needs reportkit and must see the output folder and templates at the same paths (shared "
        "filesystem); how many reports run at once is set by the workers ('dask worker --nthreads N')",
    )
    batch.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a params key, repeatable; values stay text ('00731' keeps its zero); dotted keys "
        "reach into sections (commission.rate=0.07); lists are comma-separated (account_managers=A,B)",
    )
    batch.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="per-report execution timeout; a report running longer fails (default: params timeout_s, 600)",
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="skip reports whose data, parameters, template and reportkit code are unchanged since the "
        "previous run into the same folder and whose files still exist",
    )
    batch.add_argument(
        "--only-failed",
        action="store_true",
        help="re-run only the reports that failed (or did not run) in the folder's previous manifest.json",
    )
    batch.add_argument(
        "--keep-work",
        action="store_true",
        help="keep every .work/*.pkl report pickle (default: kept only for failed reports)",
    )
    batch.add_argument(
        "--no-warm-kernels",
        dest="warm_kernels",
        action="store_false",
        help="start every kernel the ordinary way instead of forking it from a warm process that "
        "imported pandas and reportkit once (each report still gets its own fresh kernel either way)",
    )
    batch.add_argument("--quiet", "-q", action="store_true", help="no progress bar; print only the summary")
    batch.add_argument("--debug", action="store_true", help="show tracebacks and debug logging on errors")


def _add_backtest(sub: Any) -> None:
    """``reportkit backtest``: replay history and score the forecast methods."""
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
        help="folder to write backtest_summary.csv, backtest_detail.csv and the chart backtest_wape.png into (default: reports/<params file stem>-backtest)",
    )
    backtest.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_statement(sub: Any) -> None:
    """``reportkit statement``: commission statements as CSV and xlsx."""
    statement = sub.add_parser(
        "statement",
        help="write commission statements (CSV and Excel) for a period",
        description=(
            "Write one commission statement per account manager for PERIOD as CSV and xlsx, with exactly "
            "the lines and total the account manager's report shows."
        ),
    )
    statement.add_argument("params", metavar="PARAMS.yaml", help="batch params file (source, as_of, plan)")
    statement.add_argument("--period", required=True, metavar="LABEL", help="period label, e.g. FY2025-Q4")
    statement.add_argument("--account-manager", metavar="ID", help="one account manager id (default: every active one)")
    statement.add_argument("--output-dir", "-o", metavar="DIR", help="folder for the files (default: reports/statements)")
    statement.add_argument(
        "--splits",
        metavar="FILE",
        help="deal splits (CSV, xlsx or parquet: deal_id, account_manager_id, share, optional kind) replacing the "
        "source mapping's splits table; every bad row is listed with its file and row",
    )
    statement.add_argument(
        "--trace",
        metavar="AM_ID",
        help="print this account manager's trace as text instead of writing files: each line's deals, credit "
        "share, tier, rate, cap or gate and plan version (docs/commission.md, Trace)",
    )
    statement.add_argument("--debug", action="store_true", help="show tracebacks on errors")


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
        # lazy (here and below): `reportkit --help` and argument errors import no layer
        from .config.params import parse_overrides
        from .run.batch import run_batch

        out = Path(args.output_dir) if args.output_dir else Path("reports") / Path(args.params).stem
        try:
            overrides = parse_overrides(args.param)
            if args.timeout is not None:
                if args.timeout <= 0:
                    raise ParamsError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
                overrides["timeout_s"] = repr(args.timeout)
            result = run_batch(
                args.params,
                out,
                progress=not args.quiet,
                jobs=args.jobs,
                overrides=overrides,
                resume=args.resume,
                only_failed=args.only_failed,
                keep_work=args.keep_work,
                warm_kernels=args.warm_kernels,
                dask_scheduler=args.dask_scheduler,
            )
        except ReportkitError as exc:
            return _fail(exc, debug)
        except KeyboardInterrupt:
            print("reportkit: interrupted before any report ran", file=sys.stderr)
            return 130
        index = result.index_path
        with contextlib.suppress(ValueError):
            index = index.relative_to(Path.cwd().resolve())
        print(result.counts_line())
        if result.removed:
            print(
                f"removed {len(result.removed)} file(s) an earlier run wrote for reports this run does not "
                f"produce (listed in manifest.json under batch.removed_stale)",
                file=sys.stderr,
            )
        for r in result.reports:
            if r.status != "ok":
                print(f"  failed: {r.kind} {r.id} ({r.name}): {r.error}", file=sys.stderr)
        if result.company_error:
            print(f"  failed: {result.company_error}", file=sys.stderr)
        print(f"Reports: {index}")
        return 0 if result.succeeded else 1
    if args.command == "backtest":
        from .render.backtest import backtest_cli

        out = Path(args.output_dir) if args.output_dir else Path("reports") / f"{Path(args.params).stem}-backtest"
        try:
            return backtest_cli(args.params, out)
        except ReportkitError as exc:
            return _fail(exc, debug)
    if args.command == "statement":
        from .render.statement import statement_cli

        try:
            return statement_cli(
                args.params,
                args.period,
                args.account_manager,
                output_dir=args.output_dir or "reports/statements",
                splits=args.splits,
                trace=args.trace,
            )
        except ReportkitError as exc:
            return _fail(exc, debug)
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects first
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
