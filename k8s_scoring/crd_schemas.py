"""Schemas of custom resources: the ``openAPIV3Schema`` of CustomResourceDefinitions, per group/version/kind.

Two sources, looked up in this order:

1. CustomResourceDefinitions in the same input (a chart that ships its CRDs next to its resources);
2. the bundled catalog ``k8s_scoring/data/crd_schemas.json.gz``, built from the CRD documents of our own licensed
   corpus by ``python -m k8s_scoring._build_crd_schemas`` (each schema records its source repository, path, commit
   and licence).

A custom resource is validated the way the API server validates it against a structural schema, minus pruning:
types (``nullable`` and ``x-kubernetes-int-or-string`` honoured), ``required``, ``enum``, ``pattern``, bounds and
the other JSON-schema keywords. Unknown fields are NOT rejected: the catalog's CRD version may be older than the
one the manifest was written for, and a field it does not know is more likely new than wrong. ``format`` is an
annotation (not checked). A custom resource whose kind is in neither source is "unchecked".
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files
from typing import Any

from .schema import format_path

logger = logging.getLogger(__name__)

CATALOG = "crd_schemas.json.gz"


def crd_entries(crd: Any) -> list[tuple[str, dict]]:
    """``("group/version/Kind", openAPIV3Schema)`` of every served version of a CRD object (v1 or v1beta1)."""
    if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
        return []
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return []
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind") if isinstance(spec.get("names"), dict) \
        else None
    if not isinstance(group, str) or not isinstance(kind, str):
        return []
    shared = (spec.get("validation") or {}).get("openAPIV3Schema") if isinstance(spec.get("validation"), dict) \
        else None  # v1beta1: one schema for every version
    versions = spec.get("versions")
    names = []
    if isinstance(versions, list):
        for version in versions:
            if isinstance(version, dict) and isinstance(version.get("name"), str):
                schema = version.get("schema")
                own = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
                names.append((version["name"], own if isinstance(own, dict) else shared))
    elif isinstance(spec.get("version"), str):
        names.append((spec["version"], shared))
    return [(f"{group}/{name}/{kind}", schema) for name, schema in names if isinstance(schema, dict)]


def _structural(schema: Any) -> Any:
    """An OpenAPI v3 (Kubernetes dialect) schema as plain JSON schema: ``nullable`` -> a ``null`` type,
    ``x-kubernetes-int-or-string`` -> integer or string, ``x-kubernetes-*`` and annotations dropped."""
    if isinstance(schema, list):
        return [_structural(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("description", "example", "externalDocs", "default", "format"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: _structural(v) for k, v in value.items()} if isinstance(value, dict) else value
        else:
            out[key] = _structural(value)
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.pop("anyOf", None)
        out["type"] = ["integer", "string"]
    if schema.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    out.pop("nullable", None)
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-embedded-resource"):
        out.pop("additionalProperties", None)
    return out


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict]:
    """The bundled catalog: ``"group/version/Kind"`` -> ``{"schema", "source", "path", "commit", "license"}``."""
    resource = files("k8s_scoring").joinpath("data", CATALOG)
    try:
        payload = json.loads(gzip.decompress(resource.read_bytes()))
    except FileNotFoundError:
        logger.info("no bundled CRD schema catalog (%s): custom resources stay unchecked", CATALOG)
        return {}
    return payload.get("schemas", {})


def schemas_from_objects(objects: Iterable[dict]) -> dict[str, dict]:
    """``"group/version/Kind"`` -> schema of the CRDs among ``objects`` (an input's own CRDs)."""
    found: dict[str, dict] = {}
    for obj in objects:
        for key, schema in crd_entries(obj):
            found[key] = schema
    return found


_VALIDATORS: dict[tuple[str, str], Any] = {}


def _validator_for(key: str, text: str, raw: dict) -> Any:
    """The `jsonschema` validator of a CRD schema, cached by ``(key, text)`` (at most 512 entries)."""
    cached = _VALIDATORS.get((key, text))
    if cached is not None:
        return cached
    import jsonschema

    schema = _structural(raw)
    schema.setdefault("type", "object")
    if isinstance(schema.get("properties"), dict):
        schema["properties"].pop("metadata", None)
    if len(_VALIDATORS) >= 512:
        _VALIDATORS.clear()
    validator = _VALIDATORS[(key, text)] = jsonschema.Draft7Validator(schema)
    return validator


def crd_problems(data: dict, local: dict[str, dict] | None = None) -> list[tuple[str, str]] | None:
    """``(path, message)`` problems of a custom resource against its CRD schema, or `None` when none is known.

    Args:
        data: The custom resource.
        local: Schemas of the CRDs in the same input (`schemas_from_objects`), checked before the catalog.
    """
    key = f"{data.get('apiVersion')}/{data.get('kind')}"
    schema = (local or {}).get(key)
    from_catalog = schema is None
    if from_catalog:
        entry = catalog().get(key)
        schema = entry.get("schema") if entry else None
    if not isinstance(schema, dict):
        return None
    try:
        # catalog schemas never change: cache their validator by key; an input's own CRD by its text
        validator = _validator_for(key, "" if from_catalog else json.dumps(schema, sort_keys=True), schema)
        body = {k: v for k, v in data.items() if k != "metadata"}  # metadata is the API server's ObjectMeta
        errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    except Exception as err:  # noqa: BLE001 - a malformed CRD schema must not crash validation: say unchecked
        logger.warning("CRD schema of %s is not usable (%s); left unchecked", key, err)
        return None
    problems = []
    for error in errors[:5]:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        problems.append((format_path(error.absolute_path) or "<root>", message))
    return problems
