"""SARIF 2.1.0 rendering of a `RunReport`, for GitHub code scanning and other SARIF viewers.

One rule per enabled check (id, name, short/full description from the rules table, help with the fix, level from
the severity; security checks carry the ``security`` tag and a ``security-severity`` from their weight, which
GitHub uses to rank alerts). One result per offending place of a failed or suppressed check, at the line and column
of the field (`positions`); suppressed results carry SARIF ``suppressions`` (kind ``inSource``: an annotation in
the manifest). Inputs that cannot be checked are ``toolExecutionNotifications`` of level ``error``.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from ..lint_config import LintConfig
from ..rules import CHECKS, Check
from .model import FAIL, SUPPRESSED, RunReport

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "k8s-lint"
_LEVELS = {"error": "error", "warning": "warning", "note": "note"}
# security-severity (0-10) by weight: GitHub reads >= 7 as high, 4-6.9 as medium, < 4 as low.
_SECURITY_SEVERITY = {3: "8.0", 2: "6.0", 1: "4.0"}
# Sections of docs/k8s_checks.md that define each category's checks (GitHub's heading anchors).
_DOC_ANCHORS = {"bp": "best-practice-checks-the-11-of-bp", "sec": "security-checks-the-security-score"}


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
        for obj in report.objects:
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
                        "rules": [_rule(check, config, docs) for check in checks],
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
