"""The findings of a `k8s-lint` run, independent of the output format.

One `FileReport` per input; per object one `Finding` per enabled check (registry order) with its outcome
(``pass`` | ``fail`` | ``n/a`` | ``suppressed``), severity (configuration, else `lint_config.default_severity`),
details and, when asked for, the line/column of each offending place (`positions.ObjectLocator`). Each object also
carries its validity errors (`validity.ValidityIssue`: what the API server would reject, with the field path and
the rule that found it, at the field's position when known); they count as failures. Custom resources without a
known schema are listed as unchecked, not as errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..analysis import Analysis, ObjectResult, analyze_parsed, bp_percent, security_score
from ..documents import parse_any
from ..lint_config import LintConfig
from ..positions import Position, locate_objects
from ..rules import CHECKS, Check, CheckResult
from ..suppressions import Suppression, suppressions
from ..validity import Validity, ValidityIssue, validate_parsed

logger = logging.getLogger(__name__)

PASS, FAIL, NA, SUPPRESSED = "pass", "fail", "n/a", "suppressed"
EXIT_OK, EXIT_FAILED_CHECKS, EXIT_BAD_INPUT = 0, 1, 2


@dataclass(slots=True)
class Finding:
    """One check on one object.

    Args:
        check: The check.
        outcome: ``pass`` | ``fail`` | ``n/a`` | ``suppressed`` (a failure that an annotation suppresses).
        severity: ``error`` | ``warning`` | ``note``.
        details: What is wrong, one entry per offending place (failures and suppressed failures only).
        positions: Line/column per detail (or one, the object's, when there are no details); empty when
            positions were not computed.
        suppression: Which annotation suppresses it, for ``suppressed``.
    """

    check: Check
    outcome: str
    severity: str
    details: tuple[str, ...] = ()
    positions: tuple[Position, ...] = ()
    suppression: Suppression | None = None

    @property
    def failing(self) -> bool:
        """A failure that counts for the exit status (not suppressed, not a note)."""
        return self.outcome == FAIL and self.severity != "note"


@dataclass(slots=True)
class ObjectReport:
    """The findings of one object."""

    result: ObjectResult
    findings: list[Finding]
    position: Position | None = None
    unknown_suppressions: list[str] = field(default_factory=list)
    validity_errors: list[ValidityIssue] = field(default_factory=list)
    validity_positions: list[Position | None] = field(default_factory=list)
    unchecked: bool = False

    @property
    def invalid(self) -> bool:
        """The API server would reject the object (a schema or API-server rule fails)."""
        return bool(self.validity_errors)

    @property
    def failing(self) -> bool:
        """Invalid, or a check fails that counts for the exit status."""
        return self.invalid or any(finding.failing for finding in self.findings)

    def validity_position(self, index: int) -> Position | None:
        """Where validity error ``index`` is: its field (or nearest existing parent), else the object."""
        if index < len(self.validity_positions) and self.validity_positions[index] is not None:
            return self.validity_positions[index]
        return self.position

    @property
    def title(self) -> str:
        result = self.result
        namespace = f" in namespace {result.namespace}" if result.namespace else ""
        item = f", item {result.item_index}" if result.item_index is not None else ""
        return f"{result.api_version}/{result.kind} {result.name}{namespace} (document {result.doc_index}{item})"

    def count(self, outcome: str) -> int:
        return sum(finding.outcome == outcome for finding in self.findings)


@dataclass(slots=True)
class FileReport:
    """One input: its objects' findings, or why it could not be checked.

    Args:
        name: The path as given (``-`` for standard input).
        objects: One `ObjectReport` per object.
        errors: Why the input is unreadable or not valid Kubernetes YAML (then `objects` is empty).
        unreadable: The input could not be read at all (as opposed to read but invalid).
        analysis: The judge's `Analysis` of the text (`None` when unreadable).
        validity: The judge's `Validity` of the text (`None` when unreadable or not Kubernetes YAML).
        other_validity_errors: Validity errors that name no object of `objects` (none expected; kept, not dropped).
    """

    name: str
    objects: list[ObjectReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unreadable: bool = False
    analysis: Analysis | None = None
    validity: Validity | None = None
    other_validity_errors: list[ValidityIssue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def unchecked_kinds(self) -> list[str]:
        """``apiVersion/kind`` of custom resources whose schema is unknown (not verified)."""
        return list(self.validity.unchecked_kinds) if self.validity is not None else []

    @property
    def validity_errors(self) -> list[ValidityIssue]:
        return [issue for obj in self.objects for issue in obj.validity_errors] + self.other_validity_errors

    def count(self, outcome: str) -> int:
        return sum(obj.count(outcome) for obj in self.objects)

    def failing_counts(self) -> dict[str, int]:
        """``check id -> objects`` where the check fails and counts (not suppressed, not a note), sorted by id."""
        return _failing_counts([self])


def _failing_counts(reports: list[FileReport]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        for obj in report.objects:
            for finding in obj.findings:
                if finding.failing:
                    counts[finding.check.id] = counts.get(finding.check.id, 0) + 1
    return dict(sorted(counts.items()))


def _score(value: float, digits: int, any_objects: bool) -> float | None:
    """A summary score: 0.0 without objects, `None` (shown as n/a) when no check of the category applies (NaN)."""
    if not any_objects:
        return 0.0
    return None if value != value else round(value, digits)


@dataclass(slots=True)
class RunReport:
    """A whole run: the file reports in order, and the notices of file discovery."""

    files: list[FileReport]
    notices: list[str] = field(default_factory=list)

    @property
    def results(self) -> list[ObjectResult]:
        return [obj.result for report in self.files for obj in report.objects]

    def summary(self) -> dict:
        """Totals over all files; ``bp``/``security`` are the judge's scores over every check and object (`None`
        when no check of the category applies), ``failing_checks`` names the checks left failing (objects each)."""
        results = self.results
        unchecked = sorted({kind for report in self.files for kind in report.unchecked_kinds})
        return {
            "files": len(self.files),
            "objects": len(results),
            "failed_checks": sum(report.count(FAIL) for report in self.files),
            "suppressed_checks": sum(report.count(SUPPRESSED) for report in self.files),
            "failing_checks": _failing_counts(self.files),
            "validity_errors": sum(len(report.validity_errors) for report in self.files),
            "invalid_objects": sum(obj.invalid for report in self.files for obj in report.objects),
            "unchecked_kinds": unchecked,
            "bp": _score(bp_percent(results), 2, bool(results)),
            "security": _score(security_score(results), 4, bool(results)),
            "invalid_files": [{"file": r.name, "errors": r.errors} for r in self.files if r.errors],
        }


def _finding(
    check: Check,
    result: ObjectResult,
    config: LintConfig,
    suppressed: dict[str, Suppression],
) -> Finding:
    outcome = result.checks[check.id]
    severity = config.severity_of(check)
    if outcome is not CheckResult.FAIL:
        return Finding(check, PASS if outcome is CheckResult.PASS else NA, severity)
    details = result.details.get(check.id, ())
    suppression = suppressed.get(check.id)
    return Finding(check, SUPPRESSED if suppression else FAIL, severity, details, suppression=suppression)


def build_file_report(
    name: str,
    text: str | None,
    config: LintConfig | None = None,
    *,
    apply_suppressions: bool = True,
    with_positions: bool = False,
    read_error: str | None = None,
) -> FileReport:
    """Check one input and collect its findings.

    Args:
        name: The path as given.
        text: The file's text; `None` when it could not be read.
        config: Disabled checks and severities (defaults when `None`).
        apply_suppressions: Honour suppression annotations (``--no-suppress`` turns this off).
        with_positions: Compute line/column of objects and findings (SARIF, JUnit, text).
        read_error: Why the file could not be read (with ``text=None``).
    """
    config = config or LintConfig()
    if text is None:
        return FileReport(name, errors=[read_error or "cannot read"], unreadable=True)
    parsed = parse_any(text)
    analysis = analyze_parsed(parsed)
    if not analysis.valid:
        return FileReport(name, errors=list(analysis.errors), analysis=analysis)
    validity = validate_parsed(parsed)
    if not validity.yaml_valid:  # not expected once `analyze` accepted the text; never report it as clean
        return FileReport(name, errors=list(validity.errors), analysis=analysis, validity=validity)
    by_object: dict[tuple[int, int | None], list[ValidityIssue]] = {}
    for issue in validity.issues:
        by_object.setdefault((issue.doc_index, issue.item_index), []).append(issue)
    unchecked_kinds = set(validity.unchecked_kinds)
    locators = locate_objects(text) if with_positions else {}
    checks = [check for check in CHECKS if check.id not in config.disabled]
    objects = []
    for obj, result in zip(parsed.objects, analysis.objects):
        suppressed, unknown = suppressions(obj.data) if apply_suppressions else ({}, [])
        findings = [_finding(check, result, config, suppressed) for check in checks]
        issues = by_object.pop((obj.doc_index, obj.item_index), [])
        locator = locators.get((obj.doc_index, obj.item_index))
        position = None
        issue_positions: list[Position | None] = []
        if locator is not None:
            locator.data = obj.data
            position = locator.position
            for finding in findings:
                if finding.outcome in (FAIL, SUPPRESSED):
                    places = finding.details or (None,)
                    finding.positions = tuple(locator.locate(finding.check.id, detail) for detail in places)
            issue_positions = [locator.locate_path(issue.path) for issue in issues]
        unchecked = f"{obj.api_version}/{obj.kind}" in unchecked_kinds
        objects.append(ObjectReport(result, findings, position, unknown, issues, issue_positions, unchecked))
    other = [issue for issues in by_object.values() for issue in issues]
    return FileReport(name, objects, analysis=analysis, validity=validity, other_validity_errors=other)


def exit_status(run: RunReport, exit_zero: bool = False) -> int:
    """0 clean, 1 an object is invalid or a check fails (not suppressed, not a note; 0 with ``exit_zero``),
    2 an input is bad (wins)."""
    if any(report.errors for report in run.files):
        return EXIT_BAD_INPUT
    failed = any(obj.failing for report in run.files for obj in report.objects) or any(
        report.other_validity_errors for report in run.files
    )
    return EXIT_FAILED_CHECKS if failed and not exit_zero else EXIT_OK
