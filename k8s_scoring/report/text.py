"""Text and JSON renderings of a `RunReport` (the formats `k8s-lint` had before SARIF and JUnit)."""

from __future__ import annotations

import json

from .model import FAIL, NA, PASS, SUPPRESSED, FileReport, ObjectReport, RunReport

_LABELS = {"error": ("CRITICAL", "31"), "warning": ("WARNING", "33"), "note": ("NOTE", "36")}


class Style:
    """ANSI colours, or none."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text


def _object_lines(name: str, obj: ObjectReport, style: Style) -> list[str]:
    failed = [f for f in obj.findings if f.outcome == FAIL]
    mark = style("FAIL", "1;31") if any(f.failing for f in failed) else style("OK", "1;32")
    where = f":{obj.position.line}" if obj.position else ""
    lines = [f"{name}{where}: {obj.title}  {mark}"]
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
    analysis = report.analysis
    suppressed = report.count(SUPPRESSED)
    extra = f", {suppressed} suppressed" if suppressed else ""
    lines.append(
        f"{report.name}: BP {analysis.bp:.1f}%, security {analysis.security:.2f} "
        f"({len(report.objects)} objects, {report.count(FAIL)} failed checks{extra})"
    )
    return lines


def render_text(run: RunReport, style: Style, summary: bool = False) -> str:
    """All files, then a total line when more than one file was checked (or ``summary``: a folder was given)."""
    lines = [line for report in run.files for line in file_lines(report, style)]
    if len(run.files) > 1 or summary:
        s = run.summary()
        lines.append(
            f"Summary: {s['files']} files, {s['objects']} objects, {s['failed_checks']} failed checks, "
            f"{s['suppressed_checks']} suppressed, {len(s['invalid_files'])} invalid or unreadable files, "
            f"BP {s['bp']:.1f}%, security {s['security']:.2f}"
        )
    return "\n".join(lines)


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
