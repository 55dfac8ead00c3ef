"""Kubernetes OpenAPI schema validation over the strict JSON schemas that `kubernetes-validate` ships.

`kubernetes_validate.validate` re-reads the 1.4 MB definitions file and builds a fresh `jsonschema` validator on every
call (~0.5 ms per Deployment even when cached). Here each definition is compiled once into a closure that checks
exactly the keywords these schemas use (``type``, ``enum``, ``properties``, ``additionalProperties``, ``required``,
``items``, ``oneOf``, ``$ref``; ``format`` is an annotation, as in `jsonschema` without a format checker), with
Draft 2020-12 semantics. The compiled check decides "valid"; when it says "invalid", the `jsonschema` validator of
the same schema (built once per kind, cached) confirms the verdict and produces the error message, so every failure
reported is `jsonschema`'s own. Tests check that both agree on the corpus.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from typing import Any

logger = logging.getLogger(__name__)

KUBERNETES_VERSION = "1.33.0"
_SCHEMA_DIR = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"
_KNOWN_KEYWORDS = frozenset(
    {"type", "enum", "properties", "additionalProperties", "required", "items", "oneOf", "$ref"}
)

Validator = Callable[[Any], bool]
_API_VERSION_RE = re.compile(r"^([^./]*)(?:[.][^/]*)?/")

# Python type -> JSON-schema type names it satisfies (bool is not an integer; int is a number).
_TYPE_NAMES: dict[type, frozenset[str]] = {
    dict: frozenset({"object"}),
    list: frozenset({"array"}),
    str: frozenset({"string"}),
    bool: frozenset({"boolean"}),
    int: frozenset({"integer", "number"}),
    float: frozenset({"number"}),
    type(None): frozenset({"null"}),
}


def _type_ok(value: Any, allowed: frozenset[str]) -> bool:
    names = _TYPE_NAMES.get(type(value))
    if names is None:  # datetime, date, bytes, set, ... never match a JSON type
        return False
    if not names.isdisjoint(allowed):
        return True
    return type(value) is float and "integer" in allowed and value.is_integer()


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality as `jsonschema` defines it for ``enum``: booleans never equal numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _resource(name: str) -> Any:
    ref = files("kubernetes_validate").joinpath(f"{_SCHEMA_DIR}/{name}")
    return json.loads(ref.read_text())


class SchemaRegistry:
    """Compiled validators for the pinned Kubernetes version, built lazily and cached per definition and kind."""

    def __init__(self) -> None:
        self._document: dict = _resource("_definitions.json")
        self._definitions: dict[str, dict] = self._document["$defs"]
        self._compiled: dict[str, Validator] = {}
        self._top_level: dict[tuple[str, str], Validator] = {}
        self._jsonschema: dict[tuple[str, str], Any] = {}
        self.gvk: dict[tuple[str, str, str], str] = {}
        for def_name, definition in self._definitions.items():
            for gvk in definition.get("x-kubernetes-group-version-kind", []):
                self.gvk[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = def_name
        self.groups = frozenset(group for group, _, _ in self.gvk)

    # --- compilation -------------------------------------------------------------------------------------------
    def _ref(self, ref: str) -> Validator:
        name = ref.rsplit("/", 1)[-1]
        if name not in self._compiled:
            cell: list[Validator] = []
            self._compiled[name] = lambda value: cell[0](value)  # placeholder for recursive definitions
            compiled = self.compile(self._definitions[name])
            cell.append(compiled)
            self._compiled[name] = compiled
        return self._compiled[name]

    def compile(self, schema: dict) -> Validator:
        """Compile one schema node into a ``value -> bool`` closure."""
        unknown = set(k for k in schema if not k.startswith("x-")) - _KNOWN_KEYWORDS - {
            "description", "format", "$schema", "$id", "discriminator", "fields-to-discriminateBy", "$defs",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"schema keyword(s) {sorted(unknown)} are not supported by the compiled validator")
        parts: list[Validator] = []
        if "$ref" in schema:
            parts.append(self._ref(schema["$ref"]))
        if "type" in schema:
            allowed = frozenset([schema["type"]] if isinstance(schema["type"], str) else schema["type"])
            parts.append(lambda value, allowed=allowed: _type_ok(value, allowed))
        if "enum" in schema:
            parts.append(self._enum(schema["enum"]))
        if "properties" in schema or "additionalProperties" in schema or "required" in schema:
            parts.append(self._object(schema))
        if "items" in schema:
            item = self.compile(schema["items"]) if isinstance(schema["items"], dict) else None
            if item is not None:
                parts.append(lambda value, item=item: type(value) is not list or all(map(item, value)))
        if "oneOf" in schema:
            options = [self.compile(option) for option in schema["oneOf"]]
            parts.append(lambda value, options=options: sum(1 for option in options if option(value)) == 1)
        if not parts:
            return lambda value: True
        if len(parts) == 1:
            return parts[0]
        return lambda value: all(part(value) for part in parts)

    @staticmethod
    def _enum(options: list) -> Validator:
        if all(isinstance(option, str) for option in options):
            strings = frozenset(options)
            return lambda value: type(value) is str and value in strings
        return lambda value: any(_json_equal(value, option) for option in options)

    def _object(self, schema: dict) -> Validator:
        properties = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        additional = schema.get("additionalProperties", True)
        extra: Validator | None = self.compile(additional) if isinstance(additional, dict) else None
        closed = additional is False
        required = tuple(schema.get("required", ()))

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return True
            for key, item in value.items():
                sub = properties.get(key) if type(key) is str else None
                if sub is not None:
                    if not sub(item):
                        return False
                elif closed:
                    return False
                elif extra is not None and not extra(item):
                    return False
            return all(key in value for key in required)

        return check

    # --- lookup ------------------------------------------------------------------------------------------------
    @staticmethod
    def split_api_version(api_version: str) -> tuple[str, str]:
        group, _, version = api_version.rpartition("/")
        return group, version

    def is_builtin_group(self, api_version: str) -> bool:
        return self.split_api_version(api_version)[0] in self.groups

    def has_schema(self, api_version: str, kind: str) -> bool:
        group, version = self.split_api_version(api_version)
        return (group, version, kind) in self.gvk

    @staticmethod
    def _file_name(api_version: str, kind: str) -> str:
        # kubernetes-validate's own naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1
        return kind.lower() + "-" + _API_VERSION_RE.sub(r"\1-", api_version) + ".json"

    def _top_schema(self, api_version: str, kind: str) -> dict:
        try:
            return _resource(self._file_name(api_version, kind))
        except FileNotFoundError:
            group, version = self.split_api_version(api_version)
            return {"$ref": f"#/$defs/{self.gvk[(group, version, kind)]}"}

    def validator(self, api_version: str, kind: str) -> Validator:
        """The compiled validator of a built-in kind (cached); the kind must have a schema (`has_schema`)."""
        key = (api_version, kind)
        if key not in self._top_level:
            self._top_level[key] = self.compile(self._top_schema(api_version, kind))
        return self._top_level[key]

    def explain(self, api_version: str, kind: str, data: dict) -> tuple[str, str] | None:
        """`jsonschema`'s verdict: `None` when valid, else the most relevant error as ``(path, message)``."""
        key = (api_version, kind)
        if key not in self._jsonschema:
            import jsonschema
            from referencing import Registry, Resource

            schema = self._top_schema(api_version, kind)
            if "$id" not in schema:  # a bare {"$ref": "#/$defs/..."}: resolve against the definitions document
                schema = {"$schema": self._document["$schema"], "$ref": self._document["$id"] + schema["$ref"]}
            registry = Resource.from_contents(self._document) @ (Resource.from_contents(schema) @ Registry())
            self._jsonschema[key] = jsonschema.Draft202012Validator(schema, registry=registry)
        import jsonschema.exceptions

        error = jsonschema.exceptions.best_match(self._jsonschema[key].iter_errors(data))
        if error is None:
            return None
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        return format_path(error.absolute_path) or "<root>", message


def format_path(parts) -> str:
    """``["spec", "ports", 0, "port"]`` -> ``spec.ports[0].port``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@lru_cache(maxsize=1)
def schema_registry() -> SchemaRegistry:
    """The process-wide `SchemaRegistry` (loading the definitions takes ~30 ms, once)."""
    return SchemaRegistry()
