"""Imports run one way, features -> core: the core names no feature, no feature imports the composition root.

An AST walk over every module of chalicelib/ (imports inside functions and under TYPE_CHECKING
count too, and importlib.import_module / __import__ of a name the source spells out: a lazy
import back is still an arrow back).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.features import all_features

PACKAGE = Path(__file__).resolve().parents[2] / "chalicelib"
# The composition root: it may know every feature; nothing below it may import it.
ROOT_MODULES = frozenset({"chalicelib.container", "chalicelib.features", "chalicelib.wiring"})


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, module: str | None = None) -> set[str]:
    """Every module an `import` or `from ... import` in the file names (relative ones resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    here = (module or _module(path)).split(".")
    names: set[str] = set()
    constants = _constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = here if path.name == "__init__.py" else here[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and _imports_by_name(node) and node.args
              and (name := _text(node.args[0], constants)) is not None):
            names.add(name)
    return names


def _imports_by_name(call: ast.Call) -> bool:
    """importlib.import_module(...), import_module(...) or __import__(...)."""
    func = call.func
    return (isinstance(func, ast.Name) and func.id in {"import_module", "__import__"}) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module")


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments: a name imported through a constant is still named."""
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def _text(arg: ast.expr, constants: dict[str, str]) -> str | None:
    """The module name an argument spells out, when it can be read without running the code."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Name):
        return constants.get(arg.id)
    return None


def _feature_packages() -> set[str]:
    """Every folder of chalicelib/ but the core: each is a feature."""
    return {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "core"}


def _modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _violations(modules: list[Path], forbidden: set[str], name_of: dict[Path, str] | None = None) -> list[str]:
    named = {p: (name_of or {}).get(p) or _module(p) for p in modules}
    return sorted(f"{named[p]} imports {name}" for p in modules for name in _imports(p, named[p])
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


# The one arrow back, by name and on purpose: a schedule or handler imported without app.py (the
# bridge, the tests) has the core's lookup import the root that installs it (core/feature.py lookup()).
LOOKUP_FALLBACK = "chalicelib.core.feature imports chalicelib.container"


def test_the_core_imports_no_feature_and_not_the_composition_root() -> None:
    features = {f"chalicelib.{name}" for name in _feature_packages()}
    assert _violations(_modules_under("core"), features | ROOT_MODULES) == [LOOKUP_FALLBACK]


@pytest.mark.parametrize("feature", sorted(_feature_packages()))
def test_a_feature_does_not_import_the_composition_root(feature: str) -> None:
    assert _violations(_modules_under(feature), set(ROOT_MODULES)) == []


def test_the_walk_sees_what_the_rules_forbid(tmp_path: Path) -> None:
    # The checker itself: a lazy import inside a function, a relative import and a TYPE_CHECKING one all count.
    module = tmp_path / "probe.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..jobs import store\n"
                      "def f() -> None:\n    import chalicelib.container\n    from chalicelib.sites.store import X\n")
    found = _violations([module], {"chalicelib.jobs", "chalicelib.sites", "chalicelib.container"},
                        {module: "chalicelib.core._probe_for_import_rules"})
    assert found == ["chalicelib.core._probe_for_import_rules imports chalicelib.container",
                     "chalicelib.core._probe_for_import_rules imports chalicelib.jobs",
                     "chalicelib.core._probe_for_import_rules imports chalicelib.jobs.store",
                     "chalicelib.core._probe_for_import_rules imports chalicelib.sites.store",
                     "chalicelib.core._probe_for_import_rules imports chalicelib.sites.store.X"]


def test_the_walk_sees_imports_by_name(tmp_path: Path) -> None:
    # importlib.import_module and __import__ of a literal name, or of a module-level constant, are imports too.
    module = tmp_path / "probe.py"
    module.write_text("import importlib\nfrom importlib import import_module\nROOT = 'chalicelib.features'\n"
                      "def f() -> None:\n    importlib.import_module('chalicelib.wiring')\n"
                      "    __import__('chalicelib.jobs.store')\n    import_module(ROOT)\n"
                      "    importlib.import_module(f'chalicelib.{ROOT}')\n")
    found = _violations([module], {"chalicelib.jobs", "chalicelib.features", "chalicelib.wiring"},
                        {module: "chalicelib.devices._probe"})
    assert found == ["chalicelib.devices._probe imports chalicelib.features",
                     "chalicelib.devices._probe imports chalicelib.jobs.store",
                     "chalicelib.devices._probe imports chalicelib.wiring"]


def test_every_feature_folder_is_in_the_features_list() -> None:
    # A feature folder left out of chalicelib/features.py would have routes nobody registers.
    listed = {f.name for f in all_features()} - {"core"}
    assert listed == _feature_packages()


def test_service_names_are_unique_across_features() -> None:
    # `container().<name>` finds a service by name in whichever feature has it: two would be ambiguous.
    seen: dict[str, str] = {}
    clashes = []
    for feature in all_features():
        if feature.services is None:
            continue
        for name in (n for n in vars(feature.services) if not n.startswith("_")):
            if name in seen:
                clashes.append(f"{name}: {seen[name]} and {feature.name}")
            seen[name] = feature.name
    assert clashes == []
