"""Imports run one way, features -> core: the core names no feature, no feature imports the composition root.

An AST walk over every module of chalicelib/ (imports inside functions and under TYPE_CHECKING
count too: a lazy import back is still an arrow back).
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
    return names


def _feature_packages() -> set[str]:
    """Every folder of chalicelib/ but the core: each is a feature."""
    return {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "core"}


def _modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _violations(modules: list[Path], forbidden: set[str], name_of: dict[Path, str] | None = None) -> list[str]:
    named = {p: (name_of or {}).get(p) or _module(p) for p in modules}
    return sorted(f"{named[p]} imports {name}" for p in modules for name in _imports(p, named[p])
                  if any(name == f or name.startswith(f + ".") for f in forbidden))


def test_the_core_imports_no_feature_and_not_the_composition_root() -> None:
    features = {f"chalicelib.{name}" for name in _feature_packages()}
    assert _violations(_modules_under("core"), features | ROOT_MODULES) == []


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
