"""The layered package: import-linter's contracts hold, docs/architecture.md's map
matches the package, and the flat package's import paths still work."""

import ast
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
    """Paths such as ``domain/engine/ledger.py`` the map's code block lists: a line ``domain/``
    opens a folder, ``  engine/`` (two more spaces per level) a folder inside it, and each
    folder's modules are indented one level below it; unindented ``x.py`` are top level."""
    block = _map_section().split("```")[1]
    folders: list[str] = []
    listed = set()
    for line in block.splitlines():
        m = re.match(r"( *)(\w+)(/|\.py)\s", line + " ")
        if not m or len(m.group(1)) % 2 or len(m.group(1)) // 2 > len(folders):
            continue  # a description's continuation line
        depth, name, kind = len(m.group(1)) // 2, m.group(2), m.group(3)
        del folders[depth:]
        if kind == "/":
            folders.append(name)
        else:
            listed.add("/".join([*folders, name + ".py"]))
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
        " -> ".join(chain) for chain in cycles
    )


def test_architecture_map_lists_every_module_of_the_package():
    on_disk = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    missing = sorted(on_disk - _modules_in_map())
    assert not missing, f"docs/architecture.md, 'Package map', does not list: {missing}"


def test_every_module_the_architecture_map_lists_exists():
    gone = sorted(m for m in _modules_in_map() if not (PACKAGE / m).is_file())
    assert not gone, f"docs/architecture.md, 'Package map', lists modules that do not exist: {gone}"


# The flat package's public modules (before the layers) and what they are now: the
# contract users' own templates and notebooks rely on (reportkit/_flat_paths.py).
FLAT_MODULES = {
    "accounts": "domain.accounts",
    "api": "analysis.api",
    "backtest": "domain.backtest",
    "batch": "run.batch",
    "charts": "render.charts",
    "commission": "domain.commission",
    "crediting": "domain.crediting",
    "currency": "core.currency",
    "demo": "data.demo",
    "engine": "domain.engine",
    "errors": "core.errors",
    "excel": "render.excel",
    "explorer": "analysis.explorer",
    "forecast": "domain.forecast",
    "kernels": "run.kernels",
    "loading": "domain.loading",
    "mapping": "data.mapping",
    "model": "data.model",
    "money": "core.money",
    "params": "config.params",
    "performance": "domain.performance",
    "periods": "core.periods",
    "plans": "config.plans",
    "quota": "domain.quota",
    "sources": "data.sources",
    "statement": "render.statement",
}


@pytest.mark.parametrize("old, new", sorted(FLAT_MODULES.items()))
def test_old_module_path_is_the_new_module(old, new):
    assert importlib.import_module(f"reportkit.{old}") is importlib.import_module(f"reportkit.{new}")


def test_old_module_paths_work_in_a_fresh_interpreter_as_a_user_writes_them():
    code = (
        "from reportkit import engine; from reportkit.plans import load_plan; import reportkit.mapping as m; "
        "import reportkit.domain.engine as e, reportkit.config.plans as p, reportkit.data.mapping as dm; "
        "assert engine is e and load_plan is p.load_plan and m is dm; "
        "assert e.__spec__.name == 'reportkit.domain.engine'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_package_itself_never_imports_an_old_path():
    old = {f"reportkit.{name}" for name in FLAT_MODULES}
    found = []
    for p in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [f"{p.relative_to(PACKAGE)}: {n}" for n in names if n in old]
    assert not found, found


def test_old_module_paths_are_written_in_the_architecture_docs():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for old in ["reportkit.render", "reportkit.reports", "reportkit.engine", "reportkit.plans", "reportkit.mapping"]:
        assert f"`{old}`" in text, old


def test_flat_package_imports_of_user_templates_still_work():
    # what the flat package's templates and notebooks wrote
    from reportkit import charts
    from reportkit.render import figure, heading, load_report, notebook, notes, summary_table, table
    from reportkit.reports import REPORT_KINDS, AccountManagerReport, build_account_manager_report, builders

    assert charts.to_png is importlib.import_module("reportkit.render.charts").to_png
    assert (figure, heading, load_report, notes, summary_table, table) == (
        notebook.figure,
        notebook.heading,
        notebook.load_report,
        notebook.notes,
        notebook.summary_table,
        notebook.table,
    )
    assert (REPORT_KINDS, AccountManagerReport, build_account_manager_report) == (
        builders.REPORT_KINDS,
        builders.AccountManagerReport,
        builders.build_account_manager_report,
    )


def test_an_unknown_name_of_an_old_path_is_an_attribute_error_naming_it():
    import reportkit.render
    import reportkit.reports

    with pytest.raises(AttributeError, match=r"reportkit.render.*no_such_helper"):
        reportkit.render.no_such_helper  # noqa: B018
    with pytest.raises(AttributeError, match=r"reportkit.reports.*no_such_builder"):
        reportkit.reports.no_such_builder  # noqa: B018


def test_public_api_names_resolve_from_their_layers():
    import reportkit as rk

    for name in rk.__all__:
        value = getattr(rk, name)
        assert value.__module__.startswith(("reportkit.analysis.", "reportkit.core.")), (name, value.__module__)


# Private names: a name with a leading underscore is private to the package directory
# that defines it (its modules may import it from each other, nothing outside may); a
# module whose own name starts with ``_`` is private to its parent package and that
# package's subpackages. docs/architecture.md, "Private names".


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_package(dotted: str) -> bool:
    return (PACKAGE.parent.joinpath(*dotted.split(".")) / "__init__.py").is_file()


def _module_privacy(importer_pkg: str, module: str) -> str | None:
    """Why importing ``module`` from package ``importer_pkg`` breaks the rule, or None."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        owner = ".".join(parts[:i])
        if _is_private(part) and not (importer_pkg == owner or importer_pkg.startswith(owner + ".")):
            return f"module {module} is private to {owner}"
    return None


def _name_privacy(importer_pkg: str, module: str, name: str) -> str | None:
    """Why using ``module.name`` from package ``importer_pkg`` breaks the rule, or None."""
    home = module if _is_package(module) else module.rpartition(".")[0]
    if _is_private(name) and importer_pkg != home:
        return f"{name} of {module} is private to {home}/"
    return None


def _private_name_violations() -> list[str]:
    """Every import (and attribute use of an imported module) in src that breaks the rule."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        package = ".".join(parts[:-1])  # the directory the importer sits in
        where = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(), str(path))
        modules_bound: dict[str, str] = {}  # local name -> reportkit module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "reportkit":
                        modules_bound[alias.asname or alias.name] = alias.name
                        if why := _module_privacy(package, alias.name):
                            found.append(f"{where}:{node.lineno}: {why}")
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join([*base, *([node.module] if node.module else [])])
                if target.split(".")[0] != "reportkit":
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    if _is_module(full):
                        modules_bound[alias.asname or alias.name] = full
                        why = _module_privacy(package, full)
                    else:
                        why = _module_privacy(package, target) or _name_privacy(package, target, alias.name)
                    if why:
                        found.append(f"{where}:{node.lineno}: {why}")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules_bound):
                continue
            if why := _name_privacy(package, modules_bound[node.value.id], node.attr):
                found.append(f"{where}:{node.lineno}: {why}")
    return found


def test_private_names_are_used_only_inside_the_package_that_defines_them():
    found = _private_name_violations()
    assert not found, "private names used outside their package (give the name a public name in its one home):\n" + "\n".join(
        found
    )


def test_the_private_name_rule_tells_its_own_package_from_another():
    # the rule's own cases, on the real package: an engine module reaching the crediting
    # core's private helper breaks it, the same name inside its own directory does not
    assert _name_privacy("reportkit.domain.engine", "reportkit.domain._credit_core", "_isnull")
    assert _name_privacy("reportkit.domain", "reportkit.domain._credit_core", "_isnull") is None
    assert _name_privacy("reportkit.render.excel", "reportkit.render.excel", "_Book") is None
    assert _module_privacy("reportkit.domain.engine", "reportkit.domain._credit_core") is None
    assert _module_privacy("reportkit.config", "reportkit.domain._credit_core")
    assert _module_privacy("reportkit.run", "reportkit.run._warm") is None


def test_no_module_of_a_package_is_named_after_a_name_its_init_defines():
    # importing reportkit.domain.engine.statements would rebind engine.statements (the
    # function callers use) to the module, depending on import order
    clashes = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        modules = {p.stem for p in init.parent.glob("*.py")} | {
            p.name for p in init.parent.iterdir() if (p / "__init__.py").is_file()
        }
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = {node.name}
            elif isinstance(node, ast.Assign):
                names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.ImportFrom) and node.module:  # not `from . import module` itself
                names = {a.asname or a.name for a in node.names}
            else:
                continue
            clashes += [f"{init.parent.relative_to(ROOT).as_posix()}/{n}.py" for n in sorted(names & modules)]
    assert not clashes, f"modules named after a name their package's __init__.py defines: {clashes}"


# Sizes a reader can hold in their head (issue #16): "no module over about 800 lines, no
# function over about 120". Lines as `ruff format` lays them out; a function's docstring
# does not count against it (a long docstring is a virtue), a module's does.
MAX_MODULE_LINES = 850
MAX_FUNCTION_LINES = 120


def _function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def test_no_module_is_longer_than_about_800_lines():
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by concern (lines > {MAX_MODULE_LINES}): {long}"


def test_no_function_is_longer_than_about_120_lines():
    long = {}
    for p in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _function_lines(node) > MAX_FUNCTION_LINES:
                long[f"{p.relative_to(PACKAGE).as_posix()}:{node.name}"] = _function_lines(node)
    assert not long, f"make these functions named steps (lines without docstring > {MAX_FUNCTION_LINES}): {long}"
