"""SARIF 2.1.0 rendering of a `RunReport`, for GitHub code scanning and other SARIF viewers.

One rule per enabled check (id, name, short/full description from the rules table, help with the fix, level from
the severity; security checks carry the ``security`` tag and a ``security-severity`` from their weight, which
GitHub uses to rank alerts). One result per offending place of a failed or suppressed check, at the line and column
of the field (`positions`); suppressed results carry SARIF ``suppressions`` (kind ``inSource``: an annotation in
the manifest). Inputs that cannot be checked are ``toolExecutionNotifications`` of level ``error``.

Validity errors (what the API server would reject) are results of level ``error`` under rule ``validity.<rule>``
(``validity.schema``, ``validity.api.<id>`` ...; a rule is listed when a result uses it), at the field's position
(its nearest existing parent, else the object). Custom resources without a known schema are notifications of
level ``note`` (unchecked, not an error).
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
import os
import re
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from ..api_rules import API_RULES_BY_ID
from ..lint_config import LintConfig
from ..rules import CHECKS, Check
from ..validity import ValidityIssue
from .model import FAIL, SUPPRESSED, ObjectReport, RunReport

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "k8s-lint"
_LEVELS = {"error": "error", "warning": "warning", "note": "note"}
# security-severity (0-10) by weight: GitHub reads >= 7 as high, 4-6.9 as medium, < 4 as low.
_SECURITY_SEVERITY = {3: "8.0", 2: "6.0", 1: "4.0"}
# Sections of docs/k8s_checks.md that define each category's checks (GitHub's heading anchors).
_DOC_ANCHORS = {"bp": "best-practice-checks-the-11-of-bp", "sec": "security-checks-the-security-score"}


VALIDITY_PREFIX = "validity."
# The validity rules that are not `api_rules` ids (`validity.ValidityIssue.rule`): title and what they mirror.
_VALIDITY_RULES: dict[str, tuple[str, str]] = {
    "schema": ("Object matches the Kubernetes OpenAPI schema of its kind", "the API server's OpenAPI validation"),
    "crd-schema": ("Custom resource matches the schema of its CustomResourceDefinition", "CRD structural schemas"),
    "api-version": ("apiVersion and kind are well formed", "apimachinery group/version parsing"),
    "not-served": ("apiVersion/kind is served by the targeted Kubernetes version", "the API server's discovery"),
}


def _validity_rule(rule_id: str, docs: str | None) -> dict:
    api_rule = API_RULES_BY_ID.get(rule_id)
    title, mirrors = (api_rule.title, api_rule.mirrors) if api_rule else _VALIDITY_RULES.get(rule_id, (rule_id, ""))
    mirrored = f" Mirrors {mirrors}." if mirrors else ""
    rule: dict = {
        "id": VALIDITY_PREFIX + rule_id,
        "name": "Validity" + "".join(part.capitalize() for part in re.split(r"[._-]", rule_id)),
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title}: else the Kubernetes API server rejects the object.{mirrored}"},
        "help": {"text": "Fix the field named in the message; the object cannot be applied as it is."},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["validity", "kubernetes"], "category": "validity"},
    }
    if docs:
        rule["helpUri"] = f"{docs}/validity.md"
    return rule


def _validity_result(issue: ValidityIssue, obj: ObjectReport | None, index: int, uri: str, rule_index: int) -> dict:
    position = obj.validity_position(index) if obj is not None else None
    object_name = f"{issue.kind}/{issue.name}"
    namespace = obj.result.namespace if obj is not None else None
    qualified = f"{namespace}/{object_name}" if namespace else object_name
    location: dict = {
        "physicalLocation": {"artifactLocation": {"uri": uri}},
        "logicalLocations": [{"name": object_name, "fullyQualifiedName": qualified, "kind": "object"}],
    }
    if position is not None:
        location["physicalLocation"]["region"] = {"startLine": position.line, "startColumn": position.column}
    return {
        "ruleId": VALIDITY_PREFIX + issue.rule,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f"{qualified}: {issue.path}: {issue.message}"},
        "locations": [location],
        "partialFingerprints": {"k8sLintObject/v1": f"{qualified}:{VALIDITY_PREFIX}{issue.rule}:{issue.path}"},
    }


def _project_urls() -> dict[str, str]:
    try:
        urls = metadata.metadata("dual-codet5").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return {}
    return {label.strip().lower(): url.strip() for label, _, url in (item.partition(",") for item in urls)}


def docs_base_uri() -> str | None:
    """Where docs/ is published: the ``Documentation`` project URL, else ``Repository`` + ``/blob/main/docs``."""
    urls = _project_urls()
    if "documentation" in urls:
        return urls["documentation"].rstrip("/")
    if "repository" in urls:
        return urls["repository"].rstrip("/") + "/blob/main/docs"
    return None


def _tool_version() -> str:
    try:
        return metadata.version("dual-codet5")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _rule_name(check: Check) -> str:
    """A PascalCase name from the id (``sec.no_host_path`` -> ``NoHostPath``), as SARIF rule names are."""
    return "".join(part.capitalize() for part in check.id.split(".", 1)[1].split("_"))


def _rule(check: Check, config: LintConfig, docs: str | None) -> dict:
    severity = config.severity_of(check)
    rule: dict = {
        "id": check.id,
        "name": _rule_name(check),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": f"{check.title} ({check.kinds}; reads {check.location}). {check.why}"},
        "help": {
            "text": f"{check.why} Fix: {check.fix}",
            "markdown": f"**Why:** {check.why}\n\n**Fix:** {check.fix}\n\nApplies to: {check.kinds}.",
        },
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": {
            "tags": ["security" if check.category == "sec" else "best-practice", "kubernetes"],
            "category": check.category,
            "weight": check.weight,
        },
    }
    if check.category == "sec":
        rule["properties"]["security-severity"] = _SECURITY_SEVERITY.get(check.weight, "4.0")
    if docs:
        rule["helpUri"] = f"{docs}/k8s_checks.md#{_DOC_ANCHORS[check.category]}"
    return rule


def artifact_uri(name: str) -> str:
    """The file as a relative URI from the working folder when inside it (what code scanning maps to the
    repository), else as an absolute ``file://`` URI; standard input is ``stdin``."""
    if name == "-":
        return "stdin"
    path = Path(name)
    absolute = path.resolve()
    try:
        return quote(absolute.relative_to(Path.cwd().resolve()).as_posix())
    except ValueError:
        return absolute.as_uri() if path.is_absolute() or os.sep in name else quote(path.as_posix())


def render_sarif(run: RunReport, config: LintConfig | None = None) -> str:
    """The SARIF 2.1.0 log of ``run`` as JSON text.

    Args:
        run: The findings (computed with positions).
        config: Disabled checks and severities, for the rules list.
    """
    config = config or LintConfig()
    docs = docs_base_uri()
    checks = [check for check in CHECKS if check.id not in config.disabled]
    index = {check.id: i for i, check in enumerate(checks)}
    results: list[dict] = []
    notifications: list[dict] = []
    validity_rules: list[str] = []  # rule ids in order of first use; their rules follow the checks' in `rules`

    def validity_index(rule_id: str) -> int:
        if rule_id not in validity_rules:
            validity_rules.append(rule_id)
        return len(checks) + validity_rules.index(rule_id)

    for report in run.files:
        uri = artifact_uri(report.name)
        if report.errors:
            for error in report.errors:
                notifications.append(
                    {
                        "level": "error",
                        "message": {"text": f"{report.name}: {error}"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                    }
                )
            continue
        if report.unchecked_kinds:
            notifications.append(
                {
                    "level": "note",
                    "message": {
                        "text": f"{report.name}: unchecked (no schema known, not verified): "
                        + ", ".join(report.unchecked_kinds)
                    },
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                }
            )
        for issue in report.other_validity_errors:
            results.append(_validity_result(issue, None, 0, uri, validity_index(issue.rule)))
        for obj in report.objects:
            for i, issue in enumerate(obj.validity_errors):
                results.append(_validity_result(issue, obj, i, uri, validity_index(issue.rule)))
            result_ = obj.result
            object_name = f"{result_.kind}/{result_.name}"
            qualified = f"{result_.namespace}/{object_name}" if result_.namespace else object_name
            for finding in obj.findings:
                if finding.outcome not in (FAIL, SUPPRESSED):
                    continue
                details = finding.details or (finding.check.title + " fails",)
                for i, detail in enumerate(details):
                    position = finding.positions[i] if i < len(finding.positions) else obj.position
                    location: dict = {
                        "physicalLocation": {"artifactLocation": {"uri": uri}},
                        "logicalLocations": [{"name": object_name, "fullyQualifiedName": qualified, "kind": "object"}],
                    }
                    if position is not None:
                        location["physicalLocation"]["region"] = {
                            "startLine": position.line,
                            "startColumn": position.column,
                        }
                    result: dict = {
                        "ruleId": finding.check.id,
                        "ruleIndex": index[finding.check.id],
                        "level": _LEVELS[finding.severity],
                        "message": {"text": f"{qualified}: {detail}. Fix: {finding.check.fix}"},
                        "locations": [location],
                        "partialFingerprints": {"k8sLintObject/v1": f"{qualified}:{finding.check.id}:{detail}"},
                    }
                    if finding.outcome == SUPPRESSED and finding.suppression is not None:
                        suppression = {"kind": "inSource", "status": "accepted"}
                        justification = finding.suppression.reason or f"annotation {finding.suppression.annotation}"
                        suppression["justification"] = justification
                        result["suppressions"] = [suppression]
                    results.append(result)
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": _tool_version(),
                        "rules": [_rule(check, config, docs) for check in checks]
                        + [_validity_rule(rule_id, docs) for rule_id in validity_rules],
                        **({"informationUri": f"{docs}/lint-in-ci.md"} if docs else {}),
                    }
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2)
