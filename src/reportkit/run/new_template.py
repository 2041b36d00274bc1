"""``reportkit new-template NAME --per account_manager``: a starter template for your own report kind.

:func:`new_template` writes a notebook with no outputs whose ``parameters`` cell is the one
the batch checks (``name: type = default  # help``, :func:`reportkit.run.preflight.check_parameters_cell`),
one call loading the report object, and display cells using :mod:`reportkit.render.notebook`;
it never calls ``today()``. Its defaults run on the demo data. It returns the params
snippet that declares the kind (``report_kinds:`` and ``reports:``), which the CLI prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..config.params import KIND_NAME, KIND_PER, RESERVED_KIND_NAMES, STANDARD_PARAMETERS
from ..core.errors import OutputError, ParamsError

__all__ = ["StarterTemplate", "new_template"]

_DEMO_IDS = {"account_manager": "AM-001", "team": "team-north", "company": "company", "account": "ACC-0021"}
"""Each ``per``'s default report id: one the demo data has."""

_ID_HELP = {
    "account_manager": 'account manager id (text: "00731" stays "00731")',
    "team": "team id (slug), e.g. team-north",
    "company": "the company report's id (always company)",
    "account": "client account id (one of a reported account manager's accounts)",
}

_DEALS = (
    'display(Heading(f"Deals of at least {format_money(Decimal(min_amount), report.currency)}", 3))\n'
    'deals = report.deals[report.deals["amount"] >= Decimal(min_amount)]\n'
    "table(deals, currency=report.currency, max_rows=report.table_rows)"
)
"""Deals of at least ``min_amount`` (a display filter: the amounts are the report's own)."""

_BODY = {  # per -> (markdown in the reader's words, never a parameter name; display code)
    "account_manager": (
        "## Deals\n\nThe account manager's deals of the period, those of at least the amount named below.",
        _DEALS,
    ),
    "account": (
        "## Deals\n\nThe account's status, then its deals of the period, those of at least the amount named below.",
        'display(summary_table(report, keys=["revenue_period", "revenue_ytd", "status", "status_reason", "open_pipeline"]))\n'
        + _DEALS,
    ),
    "team": (
        "## Leaderboard\n\nEach member's revenue, quota and attainment.",
        "table(report.leaderboard, currency=report.currency, miss_below=report.miss_below, max_rows=report.table_rows)",
    ),
    "company": (
        "## Teams\n\nEach team's revenue, quota and attainment.",
        "table(report.teams, currency=report.currency, miss_below=report.miss_below)",
    ),
}


@dataclass(frozen=True)
class StarterTemplate:
    """What :func:`new_template` wrote: the notebook's path and the params snippet to add."""

    path: Path
    snippet: str


def _check_name(name: str, per: str) -> None:
    if per not in KIND_PER:
        raise ParamsError(f"--per {per!r} is not one of {', '.join(KIND_PER)}", hint="e.g. --per account_manager")
    if name in RESERVED_KIND_NAMES:
        raise ParamsError(
            f"{name!r} is a built-in report kind (or its output folder)", hint=f"choose another name, e.g. {name}_custom"
        )
    if not KIND_NAME.fullmatch(name):
        raise ParamsError(
            f"report kind name {name!r} must be lower-case letters, digits and _ starting with a letter",
            hint="e.g. pipeline_review",
        )


def new_template(
    name: str,
    per: str,
    *,
    params_file: str | Path = "params/demo.yaml",
    output: str | Path | None = None,
    title: str | None = None,
    workbook: bool = False,
    force: bool = False,
) -> StarterTemplate:
    """Write a starter template for a report kind ``name``, one report per ``per``.

    Parameters
    ----------
    name : str
        The kind's name (``pipeline_review``): lower-case letters, digits and ``_``, not a built-in kind.
    per : {"account_manager", "team", "account", "company"}
    params_file : str or Path, default "params/demo.yaml"
        The params file the kind will be declared in: the template's ``params_file``
        default points to it, and the snippet's ``template`` is relative to it.
    output : str or Path, optional
        Where to write the notebook; default ``templates/NAME.ipynb`` beside the params file
        (the project: a declared template must lie in the params file's folder).
    title : str, optional
        The report in words (default: ``name`` with spaces, capitalised).
    workbook : bool, default False
        The template writes a workbook too (``formats: [html, xlsx]``, a ``workbook_file``
        parameter and a :func:`reportkit.render.notebook.save_workbook` cell).
    force : bool, default False
        Overwrite an existing file.

    Returns
    -------
    StarterTemplate

    Raises
    ------
    ParamsError
        Bad name or ``per``, the name of a built-in kind, a params file that does not
        exist (exit code 2); nothing is written.
    OutputError
        The file exists (without ``force``) or cannot be written (exit code 3).
    """
    import nbformat  # lazy: the CLI refuses a bad name before importing it

    _check_name(name, per)
    if workbook and per == "account":
        raise ParamsError("an account report has no workbook layout", hint="drop --workbook for --per account")
    params_path = Path(params_file)
    if not params_path.is_file():  # its default params_file and the snippet's path would point nowhere
        raise ParamsError(
            f"params file {str(params_path)!r} does not exist; nothing was written",
            hint="name the params file the kind will be declared in, e.g. --params params/demo.yaml",
        )
    path = Path(output) if output else params_path.parent / "templates" / f"{name}.ipynb"
    if path.exists() and not force:
        raise OutputError(f"{str(path)!r} exists", hint="choose another --output, or --force to overwrite it")
    title = title or name.replace("_", " ").capitalize()
    deals = per in ("account_manager", "account")
    id_param = STANDARD_PARAMETERS[per][1]
    to_params = Path(os.path.relpath(params_path.resolve(), path.resolve().parent)).as_posix()
    lines = [
        "# Parameters. `reportkit batch` injects these with Papermill (checked against params report_kinds",
        "# before any kernel starts). Run by hand, the defaults build the report from params_file.",
        f'params_file: str = "{to_params}"  # batch params YAML, relative to this notebook\'s folder',
        f'{id_param}: str = "{_DEMO_IDS[per]}"  # {_ID_HELP[per]}',
        'period: str = "FY2025-Q4"  # fiscal period label: FY2025, FY2025-Q4 or FY2025-M06',
        'as_of: str = "2025-12-31"  # ISO date the report is as of (never today())',
        'report_data: str = ""  # pickle written by reportkit batch; empty: compute from params_file',
    ]
    if workbook:
        lines.append('workbook_file: str = ""  # where the batch wants the workbook; empty: none')
    if deals:
        lines.append('min_amount: str = "0"  # show deals of at least this amount (exact decimal text)')
    parameters = nbformat.v4.new_code_cell("\n".join(lines))
    parameters.metadata["tags"] = ["parameters"]
    imports = ["heading", "load_report", "notes", "summary_table", "table"] + (["save_workbook"] if workbook else [])
    if deals:
        imports += ["Heading", "format_money"]
    load = nbformat.v4.new_code_cell(
        ("from decimal import Decimal\n\nfrom IPython.display import display\n" if deals else "")
        + f"from reportkit.render.notebook import {', '.join(imports)}\n\n"
        + f"report = load_report(\n    report_data, kind={per!r}, report_id={id_param},\n"
        + "    params_file=params_file, period=period, as_of=as_of,\n)\n"
        + f"heading(report, title={title!r})"
    )
    heading_md, body = _BODY[per]
    cells = [parameters, load, nbformat.v4.new_markdown_cell(heading_md), nbformat.v4.new_code_cell(body)]
    if workbook:
        cells.append(nbformat.v4.new_code_cell("save_workbook(report, workbook_file)"))
    cells += [nbformat.v4.new_markdown_cell("## Notes"), nbformat.v4.new_code_cell("notes(report)")]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python (reportkit)", "language": "python", "name": "reportkit"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.pop("id", None)  # stable bytes: nbformat would give every cell a random id
    nb.nbformat_minor = 4
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nbformat.writes(nb), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc}", hint="choose a writable --output") from None
    try:
        template = path.resolve().relative_to(params_path.resolve().parent).as_posix()
    except ValueError:
        template = str(path)  # the batch will refuse it: say where it must go
    declared = (
        '\n    parameters: {min_amount: {type: decimal, default: "0", help: "show deals of at least this amount"}}'
        if deals
        else ""
    )
    snippet = (
        "report_kinds:\n"
        f"  {name}:\n"
        f"    template: {template}   # relative to {params_path.as_posix()}, inside its folder\n"
        f"    per: {per}\n"
        f"    title: {title}\n"
        f"    formats: [html{', xlsx' if workbook else ''}]   # add pdf for a PDF too"
        f"{declared}\n"
        f"reports: [account_manager, team, company, {name}]\n"
    )
    return StarterTemplate(path, snippet)
