"""The layered package: import-linter's contracts hold, docs/architecture.md's map
matches the package, and the flat package's import paths still work."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "reportkit"


def _map_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index("## Package map")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _modules_in_map() -> set[str]:
    """Paths such as ``domain/engine.py`` the map's code block lists: a line ``domain/``
    opens a folder, its modules are indented below it; unindented ``x.py`` are top level."""
    block = _map_section().split("```")[1]
    folder, listed = "", set()
    for line in block.splitlines():
        if m := re.match(r"(\w+)/\s", line + " "):
            folder = m.group(1) + "/"
        elif m := re.match(r"  (\w+\.py)\s", line + " "):
            listed.add(folder + m.group(1))
        elif m := re.match(r"(\w+\.py)\s", line + " "):
            folder = ""
            listed.add(m.group(1))
    return listed


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_module_of_the_domain_is_part_of_an_import_cycle():
    graph = grimp.build_graph("reportkit")
    domain = sorted(m for m in graph.modules if m.startswith("reportkit.domain."))
    cycles = [
        (module, *graph.find_shortest_chain(importer=imported, imported=module))
        for module in domain
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert domain and not cycles, "import cycles (each chain returns to its first module): " + "; ".join(
        " -> ".join(chain) for chain in cycles)


def test_architecture_map_lists_every_module_of_the_package():
    on_disk = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    missing = sorted(on_disk - _modules_in_map())
    assert not missing, f"docs/architecture.md, 'Package map', does not list: {missing}"


def test_every_module_the_architecture_map_lists_exists():
    gone = sorted(m for m in _modules_in_map() if not (PACKAGE / m).is_file())
    assert not gone, f"docs/architecture.md, 'Package map', lists modules that do not exist: {gone}"


# The flat package's modules that shipped notebooks, users' templates and pickles name.
ALIASES = {
    "reportkit.charts": "reportkit.render.charts",
    "reportkit.api": "reportkit.analysis.api",
    "reportkit.explorer": "reportkit.analysis.explorer",
    "reportkit.crediting": "reportkit.domain.crediting",
    "reportkit.periods": "reportkit.core.periods",
    "reportkit.mapping": "reportkit.data.mapping",
    "reportkit.backtest": "reportkit.domain.backtest",
    "reportkit.forecast": "reportkit.domain.forecast",
}


@pytest.mark.parametrize("old, new", sorted(ALIASES.items()))
def test_old_module_path_is_the_new_module(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


def test_old_module_paths_are_written_in_the_architecture_map():
    section = _map_section()
    for old in [*ALIASES, "reportkit.render", "reportkit.reports"]:
        assert f"`{old}`" in section, old


def test_flat_package_imports_of_user_templates_still_work():
    # what the flat package's templates and notebooks wrote
    from reportkit import charts
    from reportkit.render import figure, heading, load_report, notes, summary_table, table
    from reportkit.reports import REPORT_KINDS, AccountManagerReport, build_account_manager_report
    from reportkit.render import notebook
    from reportkit.reports import builders

    assert charts.to_png is importlib.import_module("reportkit.render.charts").to_png
    assert (figure, heading, load_report, notes, summary_table, table) == (
        notebook.figure, notebook.heading, notebook.load_report, notebook.notes, notebook.summary_table, notebook.table,
    )
    assert (REPORT_KINDS, AccountManagerReport, build_account_manager_report) == (
        builders.REPORT_KINDS, builders.AccountManagerReport, builders.build_account_manager_report,
    )


def test_an_unknown_name_of_an_old_path_is_an_attribute_error_naming_it():
    import reportkit.render
    import reportkit.reports

    with pytest.raises(AttributeError, match="reportkit.render.*no_such_helper"):
        reportkit.render.no_such_helper  # noqa: B018
    with pytest.raises(AttributeError, match="reportkit.reports.*no_such_builder"):
        reportkit.reports.no_such_builder  # noqa: B018


def test_public_api_names_resolve_from_their_layers():
    import reportkit as rk

    for name in rk.__all__:
        value = getattr(rk, name)
        assert value.__module__.startswith(("reportkit.analysis.", "reportkit.core.")), (name, value.__module__)
