"""Reports of ``k8s-lint --fix`` / ``--diff``: per file what was repaired and what is left, as text or JSON.

A fix record is built from the `FileReport` of the repaired text, so what is "left" is exactly what plain
``k8s-lint`` would report on the result (configuration, suppressions and validity errors included).
"""

from __future__ import annotations

import json

from .model import FileReport
from .text import failing_line, validity_records


def fix_record(report: FileReport, level: str, original: str | None, fixed: str | None, changes: list[dict]) -> dict:
    """One file's fix record.

    Args:
        report: The lint report of the repaired text (of the unreadable input when ``fixed`` is `None`).
        level: The repair level (``safe`` | ``strict``).
        original: The input text (`None` when unreadable).
        fixed: The repaired text (`None` when unreadable).
        changes: The repairs made (`repair.Change.to_dict`).
    """
    if report.unreadable:
        return {"file": report.name, "error": report.errors[0]}
    return {
        "file": report.name,
        "level": level,
        "changed": fixed != original,
        "changes": changes,
        "errors": list(report.errors),
        "validity_errors": [record for obj in report.objects for record in validity_records(obj)]
        + [issue.to_dict() for issue in report.other_validity_errors],
        "unchecked_kinds": report.unchecked_kinds,
        "failing": report.failing_counts(),
    }


def fix_text_lines(record: dict, diff: bool) -> list[str]:
    """What ``--fix`` says about one file on standard error: the changes, or why nothing was fixed, and the
    validity errors left."""
    name = record["file"]
    if "error" in record:
        return [f"k8s-lint: {name}: {record['error']}"]
    lines = []
    if record["errors"]:  # Helm template, unparsable, duplicate keys ...: nothing was (or can be) fixed
        lines.append(f"{name}: INVALID - not valid Kubernetes YAML, not fixed")
        lines += [f"    {error}" for error in record["errors"]]
    verb = "would fix" if diff else "fixed"
    for change in record["changes"]:
        where = f"{change['check_id']} {change['object']} {change['path']}"
        lines.append(f"{name}: {verb} {where}: {change['description']}")
    if not record["changes"] and not record["errors"]:
        lines.append(f"{name}: nothing to fix at level {record['level']}")
    for issue in record["validity_errors"]:
        at = f" (line {issue['line']})" if issue.get("line") is not None else ""
        lines.append(
            f"{name}: INVALID document {issue['doc_index']} {issue['kind']}/{issue['name']}: {issue['path']}: "
            f"{issue['message']}{at}"
        )
    return lines


def fix_summary(records: list[dict], level: str) -> dict:
    """Totals of a ``--fix`` run: files, changes, validity errors left and the checks left failing."""
    failing: dict[str, int] = {}
    for record in records:
        for check_id, n in record.get("failing", {}).items():
            failing[check_id] = failing.get(check_id, 0) + n
    return {
        "files": len(records),
        "level": level,
        "changes": sum(len(record.get("changes", ())) for record in records),
        "failing_checks": dict(sorted(failing.items())),
        "validity_errors": sum(len(record.get("validity_errors", ())) for record in records),
    }


def fix_summary_line(summary: dict, diff: bool) -> str:
    """``k8s-lint --fix (safe): made N change(s) in M file(s); ...; still failing: ...``."""
    verb = "would make" if diff else "made"
    line = f"k8s-lint --fix ({summary['level']}): {verb} {summary['changes']} change(s) in {summary['files']} file(s)"
    if summary["validity_errors"]:
        line += f"; {summary['validity_errors']} validity error(s) left"
    if summary["failing_checks"]:
        line += "; still failing: " + failing_line(summary["failing_checks"]).removeprefix("Failing: ")
        if summary["level"] == "safe":
            line += " (--fix-level strict repairs more)"
    return line


def render_fix_json(records: list[dict], summary: dict) -> str:
    """``{"fixes": [one record per file], "summary": {...}}``."""
    return json.dumps({"fixes": records, "summary": summary}, indent=2)
