#!/usr/bin/env python3
"""Writes agent_progress_gateway/events.py from schema/schema.graphql (standard library only).

The gateway's schema is printed from src/events/variants.ts, the one table of event variants; this script turns the
schema's `AgentEventInput` into one Python function per variant an agent may publish, so the Python client never
keeps a hand-made copy of the variants. Run it after `npm run print-schema`:

    python3 clients/python/scripts/generate_events.py           # rewrite events.py
    python3 clients/python/scripts/generate_events.py --check   # exit 1 when events.py is stale

clients/python/tests/test_events_schema.py fails when events.py no longer matches the schema.
"""
from __future__ import annotations

import argparse
import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCHEMA = HERE.parents[2] / "schema" / "schema.graphql"
TARGET = HERE.parent / "agent_progress_gateway" / "events.py"

PYTHON_TYPES = {"String": "str", "ID": "str", "Int": "int", "Float": "float", "Boolean": "bool", "JSON": "Any"}


@dataclass(frozen=True)
class Field:
    name: str
    graphql_type: str  # e.g. "ID!", "JSON"
    description: str

    @property
    def required(self) -> bool:
        return self.graphql_type.endswith("!")

    @property
    def python_name(self) -> str:
        name = snake(self.name)
        return f"{name}_" if keyword.iskeyword(name) else name

    @property
    def python_type(self) -> str:
        base = self.graphql_type.rstrip("!")
        if base not in PYTHON_TYPES:
            raise SystemExit(f"generate_events: no Python type for GraphQL type {base!r}")
        return PYTHON_TYPES[base]


@dataclass(frozen=True)
class Variant:
    input_field: str  # runStarted
    input_type: str  # RunStartedInput
    event_type: str  # RUN_STARTED
    description: str
    fields: tuple[Field, ...]

    @property
    def function(self) -> str:
        return snake(self.input_field)


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _strip_strings(sdl: str) -> tuple[str, list[str]]:
    """The SDL with every string literal replaced by a placeholder `\\x00<n>\\x00`, and the strings' texts."""
    out, strings, i = [], [], 0
    while i < len(sdl):
        if sdl.startswith('"""', i):
            end = i + 3
            while not sdl.startswith('"""', end) or sdl[end - 1] == "\\":
                end += 1
                if end >= len(sdl):
                    raise SystemExit("generate_events: unterminated block string in the schema")
            text = sdl[i + 3 : end].replace('\\"""', '"""')
            i = end + 3
        elif sdl[i] == '"':
            end = i + 1
            while sdl[end] != '"' or sdl[end - 1] == "\\":
                end += 1
            text = sdl[i + 1 : end]
            i = end + 1
        else:
            out.append(sdl[i])
            i += 1
            continue
        out.append(f"\x00{len(strings)}\x00")
        strings.append(" ".join(text.split()))
    return "".join(out), strings


def parse(sdl: str) -> list[Variant]:
    """The variants of `input AgentEventInput @oneOf`, in schema order, with their input types' fields."""
    text, strings = _strip_strings(sdl)
    description = r"(?:\x00(\d+)\x00\s*)?"
    inputs: dict[str, list[tuple[str, str, str]]] = {}
    for match in re.finditer(r"\binput\s+(\w+)(?:\s+@\w+)?\s*\{([^}]*)\}", text):
        fields = []
        for field in re.finditer(description + r"(\w+)\s*:\s*([\w!\[\]]+)", match.group(2)):
            fields.append((field.group(2), field.group(3), strings[int(field.group(1))] if field.group(1) else ""))
        inputs[match.group(1)] = fields
    enum = re.search(r"\benum\s+AgentEventType\s*\{([^}]*)\}", text)
    if "AgentEventInput" not in inputs or not enum:
        raise SystemExit("generate_events: the schema has no AgentEventInput or AgentEventType")
    event_types = set(re.sub(r"\x00\d+\x00", " ", enum.group(1)).split())
    variants = []
    for input_field, input_type, variant_description in inputs["AgentEventInput"]:
        event_type = snake(input_field).upper()
        if event_type not in event_types:
            raise SystemExit(f"generate_events: {input_field} maps to {event_type}, which AgentEventType lacks")
        if input_type not in inputs:
            raise SystemExit(f"generate_events: the schema lacks input {input_type}")
        fields = tuple(Field(name, graphql_type, desc) for name, graphql_type, desc in inputs[input_type])
        variants.append(Variant(input_field, input_type, event_type, variant_description, fields))
    return variants


def _signature(variant: Variant, self: bool) -> str:
    # Required fields first (as the schema lists them), then the optional ones with a None default.
    ordered = [f for f in variant.fields if f.required] + [f for f in variant.fields if not f.required]
    params = ["self"] if self else []
    for field in ordered:
        optional = " = None" if field.python_type == "Any" else " | None = None"
        params.append(f"{field.python_name}: {field.python_type}" + ("" if field.required else optional))
    return ", ".join(params), ", ".join(f.python_name for f in ordered)


def _docstring(variant: Variant, indent: str, returns: str) -> list[str]:
    lines = [f'{indent}"""{variant.description} (`{variant.event_type}`)', ""]
    for field in variant.fields:
        required = "" if field.required else ", optional"
        lines.append(f"{indent}{field.python_name} ({field.graphql_type}{required}): {field.description}")
    lines += ["", f"{indent}{returns}", f'{indent}"""']
    return lines


def render(variants: list[Variant]) -> str:
    lines = [
        "# GENERATED by clients/python/scripts/generate_events.py from schema/schema.graphql. Do not edit:",
        "# run `python3 clients/python/scripts/generate_events.py` after a schema change.",
        '"""One function per event variant an agent may publish, as `AgentEventInput` values.',
        "",
        "Each function returns the `@oneOf` input of `publishAgentEvent`, e.g.",
        "`progress(40, 'Searching')` is `{'progress': {'percent': 40, 'message': 'Searching'}}`; absent (None) fields are left",
        "out. `VariantMethods` offers the same functions as methods that publish the event at once.",
        '"""',
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "from typing import Any, Dict",
        "",
        "AgentEventInput = Dict[str, Dict[str, Any]]",
        '"""One event as `publishAgentEvent` takes it: `{inputField: {field: value}}`."""',
        "",
        "",
        "@dataclass(frozen=True)",
        "class Field:",
        "    name: str",
        '    """The GraphQL (and raw Redis format) name, e.g. `toolCallId`."""',
        "    python_name: str",
        "    graphql_type: str",
        "    required: bool",
        "",
        "",
        "@dataclass(frozen=True)",
        "class Variant:",
        "    input_field: str",
        '    """The `AgentEventInput` field, e.g. `toolCallStarted`."""',
        "    event_type: str",
        '    """The `type` of the event, e.g. `TOOL_CALL_STARTED`."""',
        "    fields: tuple[Field, ...]",
        "",
        "",
        "VARIANTS: dict[str, Variant] = {",
    ]
    for v in variants:
        lines.append(f"    {v.input_field!r}: Variant({v.input_field!r}, {v.event_type!r}, (")
        for f in v.fields:
            lines.append(f"        Field({f.name!r}, {f.python_name!r}, {f.graphql_type!r}, {f.required!r}),")
        lines.append("    )),")
    lines += [
        "}",
        '"""Every variant an agent may publish, by its `AgentEventInput` field, in schema order."""',
        "",
        "VARIANT_BY_TYPE: dict[str, Variant] = {variant.event_type: variant for variant in VARIANTS.values()}",
        "",
        "",
        "def _event(input_field: str, fields: dict[str, Any]) -> AgentEventInput:",
        "    return {input_field: {name: value for name, value in fields.items() if value is not None}}",
    ]
    for v in variants:
        params, _ = _signature(v, self=False)
        lines += ["", "", f"def {v.function}({params}) -> AgentEventInput:"]
        lines += _docstring(v, "    ", f"Returns `{{{v.input_field!r}: {{...}}}}`.")
        body = ", ".join(f"{f.name!r}: {f.python_name}" for f in v.fields)
        lines.append(f"    return _event({v.input_field!r}, {{{body}}})")
    lines += [
        "",
        "",
        "class VariantMethods:",
        '    """One method per variant: `self.<variant>(...)` is `self.publish(<variant>(...))`."""',
        "",
        "    def publish(self, event: AgentEventInput) -> Any:",
        "        raise NotImplementedError",
    ]
    for v in variants:
        params, args = _signature(v, self=True)
        lines += ["", f"    def {v.function}({params}) -> Any:"]
        lines += _docstring(v, "        ", "Publishes the event; returns what `publish` returns.")
        lines.append(f"        return self.publish({v.function}({args}))")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when events.py differs from what the schema gives")
    parser.add_argument("--schema", type=Path, default=SCHEMA)
    args = parser.parse_args(argv)
    wanted = render(parse(args.schema.read_text(encoding="utf-8")))
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if args.check:
        if current != wanted:
            print(f"{TARGET} is stale: run python3 {Path(__file__).relative_to(HERE.parents[2])}", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        TARGET.write_text(wanted, encoding="utf-8")
        print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
