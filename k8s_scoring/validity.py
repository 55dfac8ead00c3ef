"""Validity (k8s_checks.md, "Other scores"): ``yaml_valid``, and ``schema_valid`` = what the API server would accept.

``yaml_valid``: the text parses (duplicate mapping keys are a YAML error, as in ``kubectl``) and every document is a
Kubernetes object (`documents.ParsedInput.valid`).

``schema_valid``: no object is known to be rejected. Every object needs a well-formed ``apiVersion``
(``group/version``, the group a DNS subdomain, the version a DNS-1035 label) and ``kind``. Then:

- built-in kinds validate against the strict (unknown fields rejected) OpenAPI schema of Kubernetes 1.33 shipped by
  `kubernetes-validate`, AND pass the API server's own validation rules that the schema leaves out
  (`api_rules.API_RULES`: required fields, enums, names and labels, ranges, quantities, requests <= limits, ...).
  An apiVersion of a built-in API group that 1.33 does not serve (``extensions/v1beta1`` Deployment) is invalid;
- custom resources validate against the ``openAPIV3Schema`` of their CustomResourceDefinition when the bundled
  catalog (`crd_schemas`) or a CRD in the same input has one;
- other custom resources cannot be verified: they are listed in `Validity.unchecked_kinds` (not an error), and
  `Validity.verified` is false, so `score` gives them no validity credit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .api_rules import api_version_problem, check_object, kind_problem
from .documents import KubeObject, ParsedInput, parse_any
from .schema import KUBERNETES_VERSION, schema_registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ValidityIssue:
    """One reason an object would be rejected.

    Args:
        doc_index: Index of the object's YAML document.
        item_index: Position inside a ``kind: List`` document, or `None`.
        kind: The object's kind.
        name: Its ``metadata.name``.
        path: Where, e.g. ``spec.template.spec.containers[0].ports[0].containerPort`` (``<root>`` for the object).
        message: What is wrong.
        rule: ``schema`` (OpenAPI), ``crd-schema``, ``api-version``, ``not-served`` or an `api_rules` id (``api.*``).
    """

    doc_index: int
    item_index: int | None
    kind: str
    name: str
    path: str
    message: str
    rule: str

    @property
    def where(self) -> str:
        item = f" item {self.item_index}" if self.item_index is not None else ""
        return f"document {self.doc_index}{item} {self.kind}/{self.name}"

    def __str__(self) -> str:
        return f"{self.where}: {self.path}: {self.message}"

    def to_dict(self) -> dict:
        return {
            "doc_index": self.doc_index, "item_index": self.item_index, "kind": self.kind, "name": self.name,
            "path": self.path, "message": self.message, "rule": self.rule,
        }  # fmt: skip


@dataclass(slots=True)
class Validity:
    """Validity of one input.

    Args:
        yaml_valid: Parses (no duplicate keys), and every document is a mapping with apiVersion, kind and
            metadata.name.
        schema_valid: `yaml_valid` and no object is known to be invalid (schemas and API-server rules).
        errors: What is invalid, as text (parse errors, or ``document N Kind/name: path: message``).
        unchecked_kinds: ``apiVersion/kind`` of custom resources without a known schema: not verified.
        issues: The structured form of the object errors (`ValidityIssue`, with the rule that found each).
        objects: Number of objects (``List`` items counted one by one).
        verified_objects: Objects that were checked (built-in kinds, custom resources with a known schema).
    """

    yaml_valid: bool
    schema_valid: bool
    errors: list[str] = field(default_factory=list)
    unchecked_kinds: list[str] = field(default_factory=list)
    issues: list[ValidityIssue] = field(default_factory=list)
    objects: int = 0
    verified_objects: int = 0

    @property
    def verified(self) -> bool:
        """Valid and every object was actually checked (no unverifiable custom resource): the credit `score` gives."""
        return self.schema_valid and not self.unchecked_kinds


def _issue(obj: KubeObject, path: str, message: str, rule: str) -> ValidityIssue:
    return ValidityIssue(obj.doc_index, obj.item_index, obj.kind, obj.name, path or "<root>", message, rule)


def object_issues(obj: KubeObject, crd_schemas: object | None = None) -> tuple[list[ValidityIssue], bool]:
    """The issues of one object and whether it could be checked at all (`False` for an unknown custom resource)."""
    api_version, kind = obj.api_version, obj.kind
    syntax = api_version_problem(api_version) or kind_problem(kind)
    if syntax is not None:
        return [_issue(obj, "apiVersion" if "apiVersion" in syntax else "kind", syntax, "api-version")], True
    registry = schema_registry()
    if not registry.has_schema(api_version, kind):
        if registry.is_builtin_group(api_version):
            message = f"{api_version} {kind} is not served by Kubernetes {KUBERNETES_VERSION}"
            return [_issue(obj, "apiVersion", message, "not-served")], True
        from .crd_schemas import crd_problems  # lazily: the catalog is only loaded when a custom resource is seen

        found = crd_problems(obj.data, crd_schemas)
        if found is None:
            return [], False
        return [_issue(obj, path, message, "crd-schema") for path, message in found], True
    issues: list[ValidityIssue] = []
    if not registry.validator(api_version, kind)(obj.data):
        explained = registry.explain(api_version, kind, obj.data)
        if explained is None:  # the compiled validator is stricter than jsonschema: trust jsonschema, but say so
            logger.warning("compiled check stricter than jsonschema for %s %s; using jsonschema", api_version, kind)
        else:
            issues.append(_issue(obj, explained[0], explained[1], "schema"))
    issues.extend(_issue(obj, path, message, rule) for rule, path, message in check_object(obj.data, kind))
    return issues, True


def validate_parsed(parsed: ParsedInput) -> Validity:
    """`validate` on an already parsed input."""
    if not parsed.valid:
        return Validity(False, False, list(parsed.errors))
    issues: list[ValidityIssue] = []
    unchecked: list[str] = []
    crds = None
    if any(obj.kind == "CustomResourceDefinition" for obj in parsed.objects):
        from .crd_schemas import schemas_from_objects

        crds = schemas_from_objects(obj.data for obj in parsed.objects)
    verified = 0
    for obj in parsed.objects:
        found, checked = object_issues(obj, crds)
        issues.extend(found)
        verified += checked
        if not checked and f"{obj.api_version}/{obj.kind}" not in unchecked:
            unchecked.append(f"{obj.api_version}/{obj.kind}")
    if unchecked:
        logger.debug("no schema (custom resources, YAML-checked only): %s", ", ".join(unchecked))
    errors = [str(issue) for issue in issues]
    return Validity(True, not issues, errors, unchecked, issues, len(parsed.objects), verified)


def validate(text: str) -> Validity:
    """Check that a YAML text is what the Kubernetes API server would accept, as far as static checks go; never raises.

    Args:
        text: One or more YAML documents.

    Returns:
        `Validity` with both levels, the errors (with paths), and the custom resources that could not be verified.

    Example:
        >>> v = validate("apiVersion: v1\\nkind: Service\\nmetadata: {name: web}\\nspec: {ports: [{port: 70000}]}\\n")
        >>> v.schema_valid, v.errors
        (False, ['document 0 Service/web: spec.ports[0].port: must be between 1 and 65535, inclusive (got 70000)'])
    """
    return validate_parsed(parse_any(text))
