"""Two-level validity (k8s_checks.md, "Other scores"): ``yaml_valid`` and ``schema_valid``.

``yaml_valid``: the text parses and every document is a Kubernetes object (`documents.ParsedInput.valid`).
``schema_valid``: every object of a built-in kind validates against the strict (unknown fields rejected) OpenAPI
schema of Kubernetes 1.33 shipped by `kubernetes-validate`. An apiVersion of a built-in API group that 1.33 does not
serve (``extensions/v1beta1`` Deployment) is schema-invalid. Objects of other API groups (custom resources) have no
schema: only ``yaml_valid`` is checked for them, and they are listed in `Validity.unchecked_kinds`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .documents import ParsedInput, parse_any
from .schema import KUBERNETES_VERSION, schema_registry

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Validity:
    """Validity of one input.

    Args:
        yaml_valid: Parses, and every document is a mapping with apiVersion, kind and metadata.name.
        schema_valid: `yaml_valid` and every built-in object validates against the pinned Kubernetes schema.
        errors: What is invalid (parse errors, or ``document N Kind/name: path: message``).
        unchecked_kinds: ``apiVersion/kind`` of objects without a schema (custom resources): only YAML-checked.
    """

    yaml_valid: bool
    schema_valid: bool
    errors: list[str] = field(default_factory=list)
    unchecked_kinds: list[str] = field(default_factory=list)


def validate_parsed(parsed: ParsedInput) -> Validity:
    """`validate` on an already parsed input."""
    if not parsed.valid:
        return Validity(False, False, list(parsed.errors))
    registry = schema_registry()
    errors: list[str] = []
    unchecked: list[str] = []
    for obj in parsed.objects:
        api_version, kind = obj.api_version, obj.kind
        where = f"document {obj.doc_index}" + (f" item {obj.item_index}" if obj.item_index is not None else "")
        if not registry.has_schema(api_version, kind):
            if registry.is_builtin_group(api_version):
                errors.append(f"{where} {kind}/{obj.name}: {api_version} {kind} is not served by Kubernetes "
                              f"{KUBERNETES_VERSION}")
            elif f"{api_version}/{kind}" not in unchecked:
                unchecked.append(f"{api_version}/{kind}")
            continue
        if registry.validator(api_version, kind)(obj.data):
            continue
        message = registry.explain(api_version, kind, obj.data)
        if message is None:  # the compiled validator is stricter than jsonschema: trust jsonschema, but say so
            logger.warning("compiled check stricter than jsonschema for %s %s; using jsonschema", api_version, kind)
            continue
        errors.append(f"{where} {kind}/{obj.name}: {message}")
    if unchecked:
        logger.debug("no schema (custom resources, YAML-checked only): %s", ", ".join(unchecked))
    return Validity(True, not errors, errors, unchecked)


def validate(text: str) -> Validity:
    """Check that a YAML text is valid Kubernetes YAML and valid against the Kubernetes 1.33 schemas; never raises.

    Args:
        text: One or more YAML documents.

    Returns:
        `Validity` with both levels, the errors, and the kinds that had no schema to check against.
    """
    return validate_parsed(parse_any(text))
