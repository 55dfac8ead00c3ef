"""JUnit XML rendering of a `RunReport`, for CI test reports (GitLab, Jenkins, Azure DevOps, GitHub test actions).

One ``<testsuite>`` per file, one ``<testcase>`` per object x enabled check: ``classname`` is the file and object,
``name`` the check id. A failure is a ``<failure>`` (type = severity); a note-level failure and a suppressed one are
``<skipped>`` with the reason, as is a check that does not apply (n/a). A file that cannot be checked is one
``<testcase name="parse">`` with an ``<error>``. Each object also has a ``<testcase name="validity">``: a
``<failure type="validity">`` listing what the API server would reject (path, message, rule), ``<skipped>`` for a
custom resource whose schema is unknown (unchecked), else passing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .model import FAIL, NA, SUPPRESSED, FileReport, RunReport


def _suite(report: FileReport) -> ET.Element:
    suite = ET.Element("testsuite", name=report.name)
    tests = failures = errors = skipped = 0
    if report.errors:
        case = ET.SubElement(suite, "testcase", classname=report.name, name="parse", file=report.name)
        error = ET.SubElement(case, "error", message=report.errors[0], type="invalid" if report.analysis else "io")
        error.text = "\n".join(report.errors)
        tests, errors = 1, 1
    if report.other_validity_errors:
        tests += 1
        failures += 1
        case = ET.SubElement(suite, "testcase", classname=report.name, name="validity", file=report.name)
        lines = [str(issue) for issue in report.other_validity_errors]
        failure = ET.SubElement(case, "failure", message="; ".join(lines), type="validity")
        failure.text = "\n".join(lines)
    for obj in report.objects:
        result = obj.result
        classname = f"{report.name}.{result.kind}/{result.name}"
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=classname, name="validity", file=report.name)
        position = obj.validity_position(0) if obj.validity_errors else obj.position
        if position is not None:
            case.set("line", str(position.line))
        if obj.validity_errors:
            failures += 1
            lines = [f"{issue.path}: {issue.message} ({issue.rule})" for issue in obj.validity_errors]
            failure = ET.SubElement(case, "failure", message="; ".join(lines), type="validity")
            failure.text = "\n".join(lines)
        elif obj.unchecked:
            skipped += 1
            ET.SubElement(case, "skipped", message="unchecked: no schema known for this custom resource")
        for finding in obj.findings:
            tests += 1
            case = ET.SubElement(suite, "testcase", classname=classname, name=finding.check.id, file=report.name)
            position = finding.positions[0] if finding.positions else obj.position
            if position is not None:
                case.set("line", str(position.line))
            if finding.outcome == FAIL and finding.severity != "note":
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=f"{finding.check.title}: {'; '.join(finding.details)}",
                    type=finding.severity,
                )
                failure.text = "\n".join([*finding.details, f"why: {finding.check.why}", f"fix: {finding.check.fix}"])
            elif finding.outcome == FAIL:
                skipped += 1
                ET.SubElement(case, "skipped", message=f"note: {'; '.join(finding.details)}")
            elif finding.outcome == SUPPRESSED:
                skipped += 1
                by = finding.suppression.text if finding.suppression else "annotation"
                ET.SubElement(case, "skipped", message=f"suppressed by {by}")
            elif finding.outcome == NA:
                skipped += 1
                ET.SubElement(case, "skipped", message="n/a: the check does not apply to this object")
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors), ("skipped", skipped)):
        suite.set(key, str(value))
    return suite


def render_junit(run: RunReport) -> str:
    """The JUnit XML document of ``run`` (``<testsuites>`` with totals)."""
    root = ET.Element("testsuites", name="k8s-lint")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for report in run.files:
        suite = _suite(report)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
