"""Read the console's hand-typed API shapes (frontend/src/types/api.ts) for the tests.

The file keeps to a small, regular subset of TypeScript: `export type X = ...;` aliases
and `export interface X [extends Y] { field?: type; }` blocks, each model-backed interface
annotated with `/** @model dotted.path.Model */`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_TS = ROOT / "frontend" / "src" / "types" / "api.ts"
CATALOG_TS = ROOT / "frontend" / "src" / "features" / "commands" / "catalog.ts"

_INTERFACE = re.compile(r"(?:/\*\*(?P<doc>[^*]*(?:\*(?!/)[^*]*)*)\*/\s*)?export interface (?P<name>\w+)"
                        r"(?: extends (?P<base>\w+))? \{(?P<body>.*?)\n\}", re.S)
_ALIAS = re.compile(r"export type (?P<name>\w+) = (?P<value>[^;]+);")
_FIELD = re.compile(r"^\s*(?P<name>\w+)(?P<optional>\?)?: (?P<type>.+);\s*$")


@dataclass
class TsField:
    name: str
    optional: bool
    type: str

    @property
    def nullable(self) -> bool:
        return self.type.endswith(" | null")  # at the top level; `Record<K, V | null>` ends in `>`

    def bare_type(self) -> str:
        return self.type.removesuffix(" | null").strip()


@dataclass
class TsInterface:
    name: str
    model: str | None
    base: str | None
    openapi: str | None
    fields: dict[str, TsField] = field(default_factory=dict)


def read_api_types() -> tuple[dict[str, TsInterface], dict[str, str]]:
    """Interfaces (with inherited fields) and type aliases of api.ts."""
    text = API_TS.read_text()
    aliases = {m["name"]: m["value"].strip() for m in _ALIAS.finditer(text)}
    interfaces: dict[str, TsInterface] = {}
    for m in _INTERFACE.finditer(text):
        model = re.search(r"@model ([\w.]+)", m["doc"] or "")
        component = re.search(r"@openapi (\w+)", m["doc"] or "")
        iface = TsInterface(m["name"], model[1] if model else None, m["base"], component[1] if component else None)
        for line in m["body"].splitlines():
            f = _FIELD.match(line)
            if f:
                iface.fields[f["name"]] = TsField(f["name"], bool(f["optional"]), f["type"].strip())
        interfaces[iface.name] = iface
    for iface in interfaces.values():
        base = interfaces.get(iface.base or "")
        if base:
            iface.fields = {**base.fields, **iface.fields}
    return interfaces, aliases


def string_literals(ts_type: str, aliases: dict[str, str]) -> set[str] | None:
    """The literals of a string-literal union (through one alias), or None if it is not one."""
    resolved = aliases.get(ts_type, ts_type)
    parts = [p.strip() for p in resolved.split("|")]
    if all(re.fullmatch(r'"[^"]*"', p) for p in parts):
        return {p.strip('"') for p in parts}
    return None


def read_command_catalog() -> dict[str, dict[str, bool]]:
    """{command_type: {param: required}} of the console's command catalog."""
    text = CATALOG_TS.read_text()
    body = text.split("COMMAND_CATALOG", 1)[1].split("\n};", 1)[0]
    catalog: dict[str, dict[str, bool]] = {}
    for chunk in re.split(r"\n  (?=\w+: \[)", body)[1:]:
        command_type = chunk.split(":", 1)[0].strip()
        params: dict[str, bool] = {}
        for spec in chunk.split('name: "')[1:]:
            name, rest = spec.split('"', 1)
            params[name] = "required: true" in rest
        catalog[command_type] = params
    return catalog
