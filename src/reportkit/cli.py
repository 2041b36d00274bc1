"""Command-line interface: a thin face over :mod:`reportkit.run.batch`.

::

    reportkit batch params/demo.yaml                  # -> reports/demo/index.html
    reportkit batch params/demo.yaml --output-dir out --quiet
    reportkit batch params/demo.yaml -p account_managers=00731,00812 -p commission.rate=0.07
    reportkit batch params/demo.yaml --timeout 120 --resume     # skip unchanged reports
    reportkit batch params/demo.yaml --only-failed              # re-run what failed last time
    reportkit batch params/demo.yaml --dask-scheduler tcp://scheduler:8786  # on a Dask cluster
    reportkit close reports/demo --by "Ana Díaz"                 # freeze a batch (docs/close.md)
    reportkit close --verify reports/demo                       # what changed since close
    reportkit diff reports/old reports/new --xlsx diff.xlsx     # which figures changed, and why
    reportkit deliver reports/demo --roster roster.csv --dry-run  # who gets what, with sizes
    reportkit cache info                                        # the cache of model fits: folder, records, size
    reportkit --version

Exit codes: 0 all reports ok; 1 one or more reports (or the company workbook) failed, or ``close --verify``
found a changed output; 2 bad input (params, mapping, data, plan, period, a closed period, a tampered close
record); 3 environment (kernel, template, output folder).
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
from .core.words import counted

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
    _add_close(sub)
    _add_diff(sub)
    _add_deliver(sub)
    _add_new_template(sub)
    _add_cache(sub)
    return parser


def _batch_overrides(args: Any, parse_overrides: Any) -> dict[str, Any]:
    """``reportkit batch``'s ``-p KEY=VALUE`` overrides, with ``--timeout`` as ``timeout_s``.

    Raises
    ------
    ParamsError
        A malformed override, or a ``--timeout`` that is not a positive number of seconds.
    """
    overrides = parse_overrides(args.param)
    if args.timeout is not None:
        if args.timeout <= 0:
            raise ParamsError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
        overrides["timeout_s"] = repr(args.timeout)
    return overrides


def _add_batch(sub: Any) -> None:
    """``reportkit batch``: run every planned report of a params file."""
    batch = sub.add_parser(
        "batch",
        help="run every account-manager, team and company report of a params file",
        description=(
            "Run every planned report of PARAMS.yaml: an executed notebook, an HTML page "
            "(code hidden) and an Excel workbook per report, plus index.html and manifest.json. "
            "Your own report kinds declared under report_kinds: in PARAMS.yaml and listed in its reports: run too "
            "(docs/templates.md, 'Your own report kinds'; 'reportkit new-template' writes a starter)."
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
    batch.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="neither read nor keep forecast model fits in the cache folder (params cache_dir, REPORTKIT_CACHE_DIR, "
        "else the user cache folder); the figures are the same, a cold run is slower",
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
            "Write one commission statement per account manager for the period (--period, else the params "
            "file's period) as CSV and xlsx, with exactly "
            "the lines and total the account manager's report shows."
        ),
    )
    statement.add_argument("params", metavar="PARAMS.yaml", help="batch params file (source, as_of, plan)")
    statement.add_argument("--period", metavar="LABEL", help="period label, e.g. FY2025-Q4 (default: the params file's period)")
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


def _add_close(sub: Any) -> None:
    """``reportkit close``: freeze a batch folder (or verify a closed one)."""
    close = sub.add_parser(
        "close",
        help="freeze a batch folder: a signed close record of its inputs, outputs and paid statements",
        description=(
            "Write DIR/close.json (sha256 of every input and output, who and when, each account manager's paid "
            "statement; signed by a sha256 over the record) and copy it into the registry of closes when the params "
            "name one (close.registry). A closed period's outputs are never overwritten; later periods' statements "
            "restate it through the registry (docs/close.md)."
        ),
    )
    close.add_argument("folder", metavar="DIR", help="batch output folder (holds manifest.json)")
    close.add_argument("--by", metavar="NAME", help="who signs the close off (required unless --verify)")
    close.add_argument("--allow-failed", action="store_true", help="close a batch that has failed reports")
    close.add_argument(
        "--verify",
        action="store_true",
        help="check the close record's signature and list every file changed, missing or added since close (exit 1 if any)",
    )
    close.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_diff(sub: Any) -> None:
    """``reportkit diff``: what changed between two batch folders."""
    diff = sub.add_parser(
        "diff",
        help="which figures changed between two batch folders, by how much, and why",
        description=(
            "Compare every report's headline figures (revenue, quota, attainment, commission, forecast) of two batch "
            "folders and say why they changed: deals added, removed or changed (by deal id), params, plan or quota changed."
        ),
    )
    diff.add_argument("old", metavar="OLD", help="the earlier batch folder")
    diff.add_argument("new", metavar="NEW", help="the later batch folder")
    diff.add_argument("--xlsx", metavar="FILE", help="also write the diff as a workbook")
    diff.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_deliver(sub: Any) -> None:
    """``reportkit deliver``: each recipient gets their own pack of a batch's outputs."""
    deliver = sub.add_parser(
        "deliver",
        help="send each recipient their own reports of a batch (e-mail or a folder per recipient)",
        description=(
            "Send each recipient of the roster the outputs of DIR meant for them: an account manager their own "
            "report and statement, a sales manager their team's and members' reports, management the company "
            "pack. Everything is checked before anything is sent; DIR/delivery.json logs each delivery, and a "
            "re-run skips recipients whose files are unchanged. SMTP settings come from REPORTKIT_SMTP_HOST, "
            "_PORT, _TLS, _USER, _PASSWORD, _FROM (docs/delivery.md)."
        ),
    )
    deliver.add_argument("dir", metavar="DIR", help="a batch's output folder (with manifest.json)")
    deliver.add_argument("--roster", metavar="FILE", help="recipients: CSV or YAML with id, role, name, email (team)")
    deliver.add_argument(
        "--channel", choices=("email", "folder"), default="email", help="e-mail over SMTP (default) or a folder per recipient"
    )
    deliver.add_argument("--to", metavar="OUT", help="--channel folder: write one folder per recipient into OUT")
    deliver.add_argument("--zip", dest="as_zip", action="store_true", help="--channel email: attach one zip instead of each file")
    deliver.add_argument("--dry-run", action="store_true", help="list who gets what, with sizes; send nothing")
    deliver.add_argument("--force", action="store_true", help="send again to recipients whose files are unchanged")
    deliver.add_argument(
        "--allow-domain",
        dest="allow_domains",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="an e-mail domain recipients may have, repeatable; adds to params delivery.allowed_domains",
    )
    deliver.add_argument(
        "--params",
        dest="params_path",
        metavar="PARAMS.yaml",
        help="params file with delivery.allowed_domains (default: the batch's own)",
    )
    deliver.add_argument("--statements", metavar="SDIR", help="folder of reportkit statement's files (default: DIR/statements)")
    deliver.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_new_template(sub: Any) -> None:
    """``reportkit new-template``: a starter template for your own report kind (logic: :mod:`reportkit.run.new_template`)."""
    new = sub.add_parser(
        "new-template",
        help="write a starter template for your own report kind and print the params snippet that declares it",
        description=(
            "Write NAME.ipynb, a template with a checked parameters cell and reportkit display helpers that runs on "
            "the demo data, then print the report_kinds entry to add to the params file (docs/templates.md)."
        ),
    )
    new.add_argument("name", metavar="NAME", help="the kind's name, e.g. pipeline_review (lower-case letters, digits, _)")
    new.add_argument(
        "--per",
        required=True,
        choices=("account_manager", "team", "account", "company"),
        help="one report per account manager, team, client account, or one for the company",
    )
    new.add_argument(
        "--params",
        default="params/demo.yaml",
        metavar="PARAMS.yaml",
        help="the params file the kind will be declared in (default params/demo.yaml); the template goes beside it",
    )
    new.add_argument(
        "--output", "-o", metavar="FILE", help="where to write it (default: templates/NAME.ipynb beside the params file)"
    )
    new.add_argument("--title", help="the report in words (default: NAME with spaces)")
    new.add_argument("--workbook", action="store_true", help="the template writes an Excel workbook too (formats: [html, xlsx])")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _add_cache(sub: Any) -> None:
    """``reportkit cache``: see, prune or empty the cache of model fits (logic: :mod:`reportkit.core.cache`)."""
    cache = sub.add_parser(
        "cache",
        help="show, prune or empty the cache of forecast model fits",
        description=(
            "The folder where batches keep the forecast's model fits between runs (params cache_dir, else "
            "REPORTKIT_CACHE_DIR, else the user cache folder). info: records, disk use, last use; prune: remove the "
            "records not used for --max-age-days, then the least recently used beyond --max-mb (what every batch "
            "does when it ends, with params cache_max_age_days / cache_max_mb); clear: remove every record. "
            "Safe while batches run: a record removed under one is computed again (docs/forecasting.md)."
        ),
    )
    cache.add_argument("action", choices=("info", "prune", "clear"), help="what to do with the cache folder")
    cache.add_argument("--params", metavar="PARAMS.yaml", help="a params file: its cache_dir and limits (default: neither)")
    cache.add_argument("--dir", dest="folder", metavar="DIR", help="the cache folder itself (overrides --params)")
    cache.add_argument("--max-age-days", type=int, metavar="N", help="prune: days without use (default: params, else 120)")
    cache.add_argument("--max-mb", type=int, metavar="N", help="prune: megabytes on disk (default: params, else 512)")
    cache.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _cache_command(args: Any, debug: bool) -> int:
    """``reportkit cache``: the folder and limits from the options, the params file or their defaults."""
    try:
        return _cache_action(args)
    except ReportkitError as exc:
        return _fail(exc, debug)


def _cache_action(args: Any) -> int:
    from .config.params import BatchParams, load_params
    from .core import cache

    params = load_params(args.params) if args.params else None
    defaults = params or BatchParams.model_construct()  # no params file: REPORTKIT_CACHE_DIR, else the user cache folder
    folder = Path(args.folder) if args.folder else defaults.cache_folder()
    if folder is None:
        print(f"no cache: {args.params} says cache_dir: null")
        return 0
    if args.action == "info":
        print(cache.cache_usage(folder).text())
        return 0
    if args.action == "clear":
        print(cache.clear_cache(folder).text(cleared=True))
        return 0
    age = args.max_age_days if args.max_age_days is not None else defaults.cache_max_age_days
    size = args.max_mb if args.max_mb is not None else defaults.cache_max_mb
    for option, value in (("--max-age-days", args.max_age_days), ("--max-mb", args.max_mb)):
        if value is not None and value <= 0:
            raise ParamsError(f"{option} must be a positive whole number, got {value}")
    print(cache.prune_cache(folder, age, size).text(limits=(age, size)))
    return 0


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


def _exit_quickly() -> None:
    """Spare the batch command's interpreter exit the collection of every object it still holds.

    When a batch is done, its manifest, index and outputs are written and closed, its
    pool and workers are gone; what is left is the interpreter's teardown, whose garbage
    collection walks the data set, the report context and every imported module (0.25-0.3 s
    of a 1-report batch over 200,000 deals, measured; up to 2 s on a loaded machine).
    ``gc.freeze()`` moves them out of the collector's reach; the exit itself stays Python's
    own (standard streams flushed, ``atexit`` handlers run, multiprocessing's temporary
    folder removed), unlike ``os._exit``.
    """
    import gc

    gc.freeze()


def _batch_command(args: argparse.Namespace, debug: bool, program: bool) -> int:
    """``reportkit batch``: run the batch, print its summary and the index's path; the exit code.

    ``program`` is True when this is the program itself (``reportkit``, ``python -m
    reportkit``), not a caller's ``main([...])``: only then are process-wide settings made
    (the allocators, the quick exit).
    """
    out = Path(args.output_dir) if args.output_dir else Path("reports") / Path(args.params).stem
    try:  # a ^C while it imports gets the same one line as one during the load
        result = _run_batch(args, out, program)
    except ReportkitError as exc:
        return _fail(exc, debug)
    except KeyboardInterrupt:
        print("reportkit: interrupted before any report ran", file=sys.stderr)
        return 130
    index = result.index_path
    with contextlib.suppress(ValueError):
        index = index.relative_to(Path.cwd().resolve())
    print(result.counts_line())
    for w in result.warnings:
        print(f"reportkit: warning: {w}", file=sys.stderr)
    if result.removed:
        print(
            f"removed {counted(len(result.removed), 'file')} an earlier run wrote for reports this run does not "
            f"produce (listed in manifest.json under batch.removed_stale)",
            file=sys.stderr,
        )
    for r in result.reports:
        if r.status != "ok":
            print(f"  failed: {r.who}: {r.error}", file=sys.stderr)
    if result.company_error:
        print(f"  failed: {result.company_error}", file=sys.stderr)
    print(f"Reports: {index}")
    if program:
        _exit_quickly()
    return 0 if result.succeeded else 1


def _run_batch(args: argparse.Namespace, out: Path, program: bool) -> Any:
    """``reportkit batch``: its imports (lazy: ``reportkit --help`` and argument errors import no layer), then the batch."""
    from .config.params import parse_overrides
    from .run.batch import run_batch

    if program:
        from .run.memory import return_large_blocks_promptly

        # the program's own process: its frames of the whole data set go back when freed (docs/batch.md,
        # memory); a process-wide allocator setting, so neither the library's run_batch nor a caller's
        # main([...]) (a notebook's kernel, a test session) changes it
        return_large_blocks_promptly()
    return run_batch(
        args.params,
        out,
        progress=not args.quiet,
        jobs=args.jobs,
        overrides=_batch_overrides(args, parse_overrides),
        resume=args.resume,
        only_failed=args.only_failed,
        keep_work=args.keep_work,
        warm_kernels=args.warm_kernels,
        dask_scheduler=args.dask_scheduler,
        cache=args.cache,
    )


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
    from .run.startup import skip_unused_format_checkers  # this process is the reportkit command's own

    skip_unused_format_checkers()
    debug = bool(getattr(args, "debug", False))
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        # papermill logs every cell at INFO and warns about things we already check
        logging.getLogger("papermill").setLevel(logging.ERROR)
    if args.command == "batch":
        return _batch_command(args, debug, program=argv is None)
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
    if args.command in ("close", "diff"):
        try:
            if args.command == "close":
                from .run.close import close_cli

                return close_cli(args.folder, args.by, allow_failed=args.allow_failed, verify=args.verify)
            from .run.diff import diff_cli

            return diff_cli(args.old, args.new, args.xlsx)
        except ReportkitError as exc:
            return _fail(exc, debug)
    if args.command == "deliver":
        from .run.deliver import deliver_cli  # standard library only until the roster is checked

        try:
            options = {k: v for k, v in vars(args).items() if k not in ("command", "debug", "dir")}
            return deliver_cli(args.dir, **options)  # the options' dests are deliver_cli's parameters
        except ReportkitError as exc:
            return _fail(exc, debug)
    if args.command == "cache":
        return _cache_command(args, debug)
    if args.command == "new-template":
        from .run.new_template import new_template

        try:
            made = new_template(
                args.name,
                args.per,
                params_file=args.params,
                output=args.output,
                title=args.title,
                workbook=args.workbook,
                force=args.force,
            )
        except ReportkitError as exc:
            return _fail(exc, debug)
        print(f"wrote {made.path}; add to {args.params}:\n\n{made.snippet}")
        return 0
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects first
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
