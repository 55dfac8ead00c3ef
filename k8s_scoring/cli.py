"""``k8s-lint``: check Kubernetes manifests against the best-practice and security rules of `k8s_scoring`.

Usage::

    k8s-lint deploy.yaml service.yaml          # kube-score-like text, grouped per object (colour on a TTY)
    cat deploy.yaml | k8s-lint -                # read standard input
    k8s-lint --format json manifests/*.yaml     # machine-readable results + summary
    k8s-lint --fix deploy.yaml                  # repair in place (safe level), report what is left failing
    k8s-lint --fix --fix-level strict a.yaml    # also the hardening that may break some images
    k8s-lint --diff deploy.yaml                 # show the repair as a unified diff, write nothing
    cat deploy.yaml | k8s-lint --fix -          # repaired YAML on stdout, the changes on stderr

Validity errors (what the API server would reject: schema and `k8s_scoring.api_rules`, with the field path) are
shown per object and count as failures. Custom resources whose schema is unknown are reported as unchecked.

Exit status: 0 when every check passes (or ``--exit-zero``), 1 when a check fails or an object is invalid, 2 when an
input cannot be read or is not valid Kubernetes YAML (unparsable, duplicate keys, Helm template, no objects, ...).
With ``--fix`` / ``--diff`` the status is that of linting the repaired text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .analysis import Analysis, ObjectResult, analyze, bp_percent, security_score
from .rules import CHECKS, CHECKS_BY_ID, CheckResult
from .validity import Validity, ValidityIssue, validate

EXIT_OK, EXIT_FAILED_CHECKS, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class _Input:
    name: str
    text: str | None
    error: str | None = None


def _read(name: str) -> _Input:
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as handle:
                data = handle.read()
        return _Input(name, data.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        return _Input(name, None, f"cannot read: {err}")


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text


def _object_title(result: ObjectResult) -> str:
    namespace = f" in namespace {result.namespace}" if result.namespace else ""
    item = f", item {result.item_index}" if result.item_index is not None else ""
    return f"{result.api_version}/{result.kind} {result.name}{namespace} (document {result.doc_index}{item})"


def _fmt(value: float, spec: str) -> str:
    return "n/a" if value != value else format(value, spec)  # NaN: no check of the category applies


def _issues_of(validity: Validity | None, result: ObjectResult) -> list[ValidityIssue]:
    if validity is None:
        return []
    return [i for i in validity.issues if (i.doc_index, i.item_index) == (result.doc_index, result.item_index)]


def _validity_lines(issues: list[ValidityIssue], style: _Style) -> list[str]:
    """The validity errors of one object, one line each: ``[INVALID] path: message (rule)``."""
    return [f"    [{style('INVALID', '1;31')}] {i.path}: {i.message} ({i.rule})" for i in issues]


def _render_text(name: str, analysis: Analysis, style: _Style, validity: Validity | None = None) -> list[str]:
    if not analysis.valid:
        lines = [f"{name}: {style('INVALID', '1;31')} - not valid Kubernetes YAML, every score is 0"]
        lines += [f"    {error}" for error in analysis.errors]
        return lines
    lines = []
    for result in analysis.objects:
        failed = result.failed
        issues = _issues_of(validity, result)
        counts = {outcome: list(result.checks.values()).count(outcome) for outcome in CheckResult}
        mark = style("INVALID", "1;31") if issues else style("FAIL", "1;31") if failed else style("OK", "1;32")
        lines.append(f"{name}: {_object_title(result)}  {mark}")
        lines += _validity_lines(issues, style)
        for check_id in failed:
            check = CHECKS_BY_ID[check_id]
            severity = "CRITICAL" if check.category == "sec" and check.weight >= 2 else "WARNING"
            colour = "31" if severity == "CRITICAL" else "33"
            lines.append(f"    [{style(severity, colour)}] {check_id}: {check.title}")
            lines += [f"        · {detail}" for detail in result.details.get(check_id, ())]
            lines.append(f"          why: {check.why}")
            lines.append(f"          fix: {check.fix}")
        lines.append(
            f"    {counts[CheckResult.PASS]} passed, {counts[CheckResult.FAIL]} failed, {counts[CheckResult.NA]} n/a"
        )
    if validity is not None and validity.unchecked_kinds:
        kinds = ", ".join(validity.unchecked_kinds)
        lines.append(f"{name}: unchecked (no schema known, not verified): {kinds}")
    lines.append(f"{name}: BP {_fmt(analysis.bp, '.1f')}%, security {_fmt(analysis.security, '.2f')}")
    return lines


def _json_record(name: str, result: ObjectResult, validity: Validity | None = None) -> dict:
    return {
        "validity_errors": [issue.to_dict() for issue in _issues_of(validity, result)],
        "file": name,
        "doc_index": result.doc_index,
        "kind": result.kind,
        "name": result.name,
        "namespace": result.namespace,
        "checks": {check_id: str(outcome) for check_id, outcome in result.checks.items()},
        "failures": {check_id: list(details) for check_id, details in result.details.items()},
    }


def _lint_status(analysis: Analysis, validity: Validity) -> int:
    """Exit status of one input: 2 not Kubernetes YAML, 1 a failed check or an invalid object, else 0."""
    if not analysis.valid:
        return EXIT_BAD_INPUT
    if validity.issues or any(result.failed for result in analysis.objects):
        return EXIT_FAILED_CHECKS
    return EXIT_OK


def _failing_counts(results: Sequence[ObjectResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        for check_id in result.failed:
            counts[check_id] = counts.get(check_id, 0) + 1
    return dict(sorted(counts.items()))


def _fix(inputs: list[_Input], args: argparse.Namespace) -> int:
    """``--fix`` / ``--diff``: repair each input at ``--fix-level`` and report what is left failing.

    Files are edited in place (``--fix``) or shown as a unified diff (``--diff``, nothing written); standard input
    is repaired to standard output. Inputs that are not Kubernetes YAML are reported with the lint exit status (2)
    and never written. The status is that of linting the repaired text.
    """
    import difflib

    from .repair import RepairConfig, repair  # lazily: ruamel.yaml is only needed here

    config = RepairConfig(level=args.fix_level)
    status = EXIT_OK
    records: list[dict] = []
    remaining: list[ObjectResult] = []
    for item in inputs:
        if item.text is None:
            print(f"k8s-lint: {item.name}: {item.error}", file=sys.stderr)
            records.append({"file": item.name, "error": item.error})
            status = EXIT_BAD_INPUT
            continue
        fixed, changes = repair(item.text, config)
        analysis, validity = analyze(fixed), validate(fixed)
        file_status = _lint_status(analysis, validity)
        status = max(status, file_status)
        remaining.extend(analysis.objects)
        record: dict = {
            "file": item.name, "level": config.level, "changed": fixed != item.text,
            "changes": [change.to_dict() for change in changes], "errors": list(analysis.errors),
            "validity_errors": [issue.to_dict() for issue in validity.issues],
            "unchecked_kinds": list(validity.unchecked_kinds), "failing": _failing_counts(analysis.objects),
        }  # fmt: skip
        if not analysis.valid:  # Helm template, unparsable, duplicate keys ...: nothing was (or can be) fixed
            print(f"{item.name}: INVALID - not valid Kubernetes YAML, not fixed", file=sys.stderr)
            for error in analysis.errors:
                print(f"    {error}", file=sys.stderr)
        if args.diff:
            diff = "".join(difflib.unified_diff(
                item.text.splitlines(keepends=True), fixed.splitlines(keepends=True),
                fromfile=f"a/{item.name}", tofile=f"b/{item.name}",
            ))  # fmt: skip
            record["diff"] = diff
            if args.format == "text":
                sys.stdout.write(diff)
        elif item.name == "-":
            record["fixed"] = fixed
            if args.format == "text":
                sys.stdout.write(fixed)
        elif fixed != item.text:
            with open(item.name, "w", encoding="utf-8", newline="") as handle:
                handle.write(fixed)
        records.append(record)
        if args.format == "text":
            _print_fix_report(record, item.name, args)
    summary = {
        "files": len(inputs), "level": config.level, "changes": sum(len(r.get("changes", ())) for r in records),
        "failing_checks": _failing_counts(remaining),
        "validity_errors": sum(len(r.get("validity_errors", ())) for r in records),
    }  # fmt: skip
    if args.format == "json":
        print(json.dumps({"fixes": records, "summary": summary}, indent=2))
    else:
        print(_fix_summary(summary, args), file=sys.stderr)
    if args.exit_zero and status == EXIT_FAILED_CHECKS:
        return EXIT_OK
    return status


def _print_fix_report(record: dict, name: str, args: argparse.Namespace) -> None:
    verb = "would fix" if args.diff else "fixed"
    for change in record["changes"]:
        print(f"{name}: {verb} {change['check_id']} {change['object']} {change['path']}: {change['description']}",
              file=sys.stderr)  # fmt: skip
    if not record["changes"] and not record["errors"]:
        print(f"{name}: nothing to fix at level {record['level']}", file=sys.stderr)
    for issue in record["validity_errors"]:
        print(f"{name}: INVALID document {issue['doc_index']} {issue['kind']}/{issue['name']}: {issue['path']}: "
              f"{issue['message']}", file=sys.stderr)  # fmt: skip


def _fix_summary(summary: dict, args: argparse.Namespace) -> str:
    verb = "would make" if args.diff else "made"
    line = f"k8s-lint --fix ({summary['level']}): {verb} {summary['changes']} change(s) in {summary['files']} file(s)"
    if summary["validity_errors"]:
        line += f"; {summary['validity_errors']} validity error(s) left"
    if summary["failing_checks"]:
        left = ", ".join(f"{check_id} ({n})" for check_id, n in summary["failing_checks"].items())
        line += f"; still failing: {left}"
        if summary["level"] == "safe":
            line += " (--fix-level strict repairs more)"
    return line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-lint",
        description="Check Kubernetes manifests against best-practice and security rules (k8s_scoring).",
        epilog="Exit status: 0 all checks pass, 1 a check fails, 2 an input is unreadable or not Kubernetes YAML.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files to check; '-' reads standard input")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when checks fail")
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text output (auto: on a TTY)"
    )
    parser.add_argument(
        "--fix", action="store_true",
        help="repair the files in place (k8s_scoring.repair; '-' repairs stdin to stdout), report what is left",
    )  # fmt: skip
    parser.add_argument("--diff", action="store_true", help="show the --fix edits as a unified diff, write nothing")
    parser.add_argument(
        "--fix-level", choices=("safe", "strict"), default="safe",
        help="safe (default): edits that cannot stop a working pod; strict: also hardening that may break images",
    )  # fmt: skip
    parser.add_argument("--list-checks", action="store_true", help="list the check ids and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``k8s-lint`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "--list-checks" in args_list:
        for check in CHECKS:
            print(f"{check.id:34} {check.category:3} w={check.weight} {check.title}")
        return EXIT_OK
    args = build_parser().parse_args(args_list)
    try:
        return _run(args)
    except BrokenPipeError:  # `k8s-lint ... | head`: stop quietly, as other Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter from failing on exit flush
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    inputs = [_read(name) for name in args.files]
    if args.fix or args.diff:
        return _fix(inputs, args)

    use_colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    style = _Style(use_colour)
    status = EXIT_OK
    all_results: list[ObjectResult] = []
    records: list[dict] = []
    errors: list[dict] = []
    text_lines: list[str] = []
    validity_errors = 0
    unchecked: set[str] = set()
    for item in inputs:
        if item.text is None:
            status = EXIT_BAD_INPUT
            errors.append({"file": item.name, "errors": [item.error]})
            text_lines.append(f"{item.name}: {style('UNREADABLE', '1;31')} - {item.error}")
            continue
        analysis, validity = analyze(item.text), validate(item.text)
        status = max(status, _lint_status(analysis, validity))
        if not analysis.valid:
            errors.append({"file": item.name, "errors": analysis.errors})
        all_results.extend(analysis.objects)
        validity_errors += len(validity.issues)
        unchecked.update(validity.unchecked_kinds)
        records.extend(_json_record(item.name, result, validity) for result in analysis.objects)
        text_lines.extend(_render_text(item.name, analysis, style, validity))

    failed_checks = sum(len(result.failed) for result in all_results)
    bp, security = bp_percent(all_results), security_score(all_results)
    summary = {
        "files": len(inputs),
        "objects": len(all_results),
        "failed_checks": failed_checks,
        "failing_checks": _failing_counts(all_results),
        "validity_errors": validity_errors,
        "unchecked_kinds": sorted(unchecked),
        "bp": round(bp, 2) if all_results and bp == bp else (None if all_results else 0.0),
        "security": round(security, 4) if all_results and security == security else (None if all_results else 0.0),
        "invalid_files": errors,
    }
    if args.format == "json":
        print(json.dumps({"results": records, "summary": summary}, indent=2))
    else:
        print("\n".join(text_lines))
        if len(inputs) > 1 or summary["failing_checks"] or validity_errors:
            print(_lint_summary(summary))
    if args.exit_zero and status == EXIT_FAILED_CHECKS:
        return EXIT_OK
    return status


def _lint_summary(summary: dict) -> str:
    bp = "n/a" if summary["bp"] is None else f"{summary['bp']:.1f}%"
    security = "n/a" if summary["security"] is None else f"{summary['security']:.2f}"
    line = (
        f"Summary: {summary['files']} files, {summary['objects']} objects, {summary['validity_errors']} validity "
        f"errors, {summary['failed_checks']} failed checks, BP {bp}, security {security}"
    )
    if summary["failing_checks"]:
        line += "\nFailing: " + ", ".join(f"{check_id} ({n})" for check_id, n in summary["failing_checks"].items())
    return line


if __name__ == "__main__":
    raise SystemExit(main())
