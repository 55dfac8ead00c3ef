"""Text and JSON renderings of a `RunReport` (the formats `k8s-lint` had before SARIF and JUnit).

Validity errors come first in an object's block (``[INVALID] path: message (rule, line N)``) and mark the object
INVALID; custom resources without a known schema are named as unchecked; a score over no applicable check is n/a.
"""

from __future__ import annotations

import json

from ..validity import ValidityIssue
from .model import FAIL, NA, PASS, SUPPRESSED, FileReport, ObjectReport, RunReport

_LABELS = {"error": ("CRITICAL", "31"), "warning": ("WARNING", "33"), "note": ("NOTE", "36")}


class Style:
    """ANSI colours, or none."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text


def fmt_score(value: float | None, spec: str) -> str:
    """A score, or ``n/a`` when no check of its category applies (NaN, or `None` in a summary)."""
    return "n/a" if value is None or value != value else format(value, spec)


def validity_line(issue: ValidityIssue, style: Style, line: int | None = None) -> str:
    """One validity error of an object: ``[INVALID] path: message (rule, line N)``."""
    at = f", line {line}" if line is not None else ""
    return f"    [{style('INVALID', '1;31')}] {issue.path}: {issue.message} ({issue.rule}{at})"


def _object_lines(name: str, obj: ObjectReport, style: Style) -> list[str]:
    failed = [f for f in obj.findings if f.outcome == FAIL]
    if obj.invalid:
        mark = style("INVALID", "1;31")
    else:
        mark = style("FAIL", "1;31") if any(f.failing for f in failed) else style("OK", "1;32")
    if obj.unchecked:
        mark += " (unchecked: no schema known for this custom resource, not verified)"
    where = f":{obj.position.line}" if obj.position else ""
    lines = [f"{name}{where}: {obj.title}  {mark}"]
    for index, issue in enumerate(obj.validity_errors):
        position = obj.validity_position(index)
        lines.append(validity_line(issue, style, position.line if position else None))
    for finding in failed:
        label, colour = _LABELS[finding.severity]
        lines.append(f"    [{style(label, colour)}] {finding.check.id}: {finding.check.title}")
        for index, detail in enumerate(finding.details):
            at = f" (line {finding.positions[index].line})" if index < len(finding.positions) else ""
            lines.append(f"        · {detail}{at}")
        lines.append(f"          why: {finding.check.why}")
        lines.append(f"          fix: {finding.check.fix}")
    for finding in obj.findings:
        if finding.outcome == SUPPRESSED:
            by = finding.suppression.text if finding.suppression else "annotation"
            lines.append(f"    [{style('SUPPRESSED', '2')}] {finding.check.id}: {finding.check.title} - by {by}")
    for name_ in obj.unknown_suppressions:
        lines.append(f"    [{style('NOTICE', '36')}] suppression names no check of k8s-lint: {name_}")
    counts = [f"{obj.count(PASS)} passed", f"{obj.count(FAIL)} failed"]
    if obj.count(SUPPRESSED):
        counts.append(f"{obj.count(SUPPRESSED)} suppressed")
    counts.append(f"{obj.count(NA)} n/a")
    lines.append("    " + ", ".join(counts))
    return lines


def file_lines(report: FileReport, style: Style) -> list[str]:
    """The text block of one file: each object's failures with why/fix, then the file's scores."""
    if report.unreadable:
        return [f"{report.name}: {style('UNREADABLE', '1;31')} - {report.errors[0]}"]
    if report.errors:
        lines = [f"{report.name}: {style('INVALID', '1;31')} - not valid Kubernetes YAML, every score is 0"]
        return lines + [f"    {error}" for error in report.errors]
    lines = []
    for obj in report.objects:
        lines += _object_lines(report.name, obj, style)
    for issue in report.other_validity_errors:
        lines.append(f"{report.name}: {issue.where}  {style('INVALID', '1;31')}")
        lines.append(validity_line(issue, style))
    if report.unchecked_kinds:
        lines.append(f"{report.name}: unchecked (no schema known, not verified): {', '.join(report.unchecked_kinds)}")
    analysis = report.analysis
    suppressed = report.count(SUPPRESSED)
    extra = f", {suppressed} suppressed" if suppressed else ""
    invalid = len(report.validity_errors)
    validity = f", {invalid} validity errors" if invalid else ""
    lines.append(
        f"{report.name}: BP {fmt_score(analysis.bp, '.1f')}%, security {fmt_score(analysis.security, '.2f')} "
        f"({len(report.objects)} objects{validity}, {report.count(FAIL)} failed checks{extra})"
    )
    return lines


def failing_line(failing: dict[str, int]) -> str:
    """``Failing: check (objects), ...``: the checks left failing, for the summary."""
    return "Failing: " + ", ".join(f"{check_id} ({n})" for check_id, n in failing.items())


def render_text(run: RunReport, style: Style, summary: bool = False) -> str:
    """All files, then a total line (and the checks left failing) when more than one file was checked, when
    ``summary`` (a folder was given), or when anything fails or is invalid."""
    lines = [line for report in run.files for line in file_lines(report, style)]
    s = run.summary()
    if len(run.files) > 1 or summary or s["failing_checks"] or s["validity_errors"]:
        bp, security = "n/a" if s["bp"] is None else f"{s['bp']:.1f}%", fmt_score(s["security"], ".2f")
        lines.append(
            f"Summary: {s['files']} files, {s['objects']} objects, {s['validity_errors']} validity errors, "
            f"{s['failed_checks']} failed checks, {s['suppressed_checks']} suppressed, "
            f"{len(s['invalid_files'])} invalid or unreadable files, BP {bp}, security {security}"
        )
        if s["failing_checks"]:
            lines.append(failing_line(s["failing_checks"]))
    return "\n".join(lines)


def validity_records(obj: ObjectReport) -> list[dict]:
    """The object's validity errors as JSON records (`ValidityIssue.to_dict` plus the line when known)."""
    records = []
    for index, issue in enumerate(obj.validity_errors):
        position = obj.validity_position(index)
        records.append({**issue.to_dict(), "line": position.line if position else None})
    return records


def _record(name: str, obj: ObjectReport) -> dict:
    result = obj.result
    return {
        "file": name,
        "doc_index": result.doc_index,
        "item_index": result.item_index,
        "line": obj.position.line if obj.position else None,
        "kind": result.kind,
        "name": result.name,
        "namespace": result.namespace,
        "validity_errors": validity_records(obj),
        "unchecked": obj.unchecked,
        "checks": {f.check.id: f.outcome for f in obj.findings},
        "failures": {f.check.id: list(f.details) for f in obj.findings if f.outcome == FAIL},
        "failure_lines": {f.check.id: [p.line for p in f.positions] for f in obj.findings if f.outcome == FAIL},
        "severity": {f.check.id: f.severity for f in obj.findings if f.outcome == FAIL},
        "suppressed": {
            f.check.id: {
                "by": f.suppression.annotation if f.suppression else None,
                "tool": f.suppression.tool if f.suppression else None,
                "reason": f.suppression.reason if f.suppression else "",
                "details": list(f.details),
            }
            for f in obj.findings
            if f.outcome == SUPPRESSED
        },
    }


def render_json(run: RunReport) -> str:
    """``{"results": [one record per object], "summary": {...}}``."""
    records = [_record(report.name, obj) for report in run.files for obj in report.objects]
    return json.dumps({"results": records, "summary": run.summary()}, indent=2)
